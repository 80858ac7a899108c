using System.Text;

namespace GeminiParty.Cluster.Tests;

/// <summary>Everything stops and starts again on the same Redis between an upload and its use: the binding holds.</summary>
[Collection(DurabilityCollection.Name)]
public sealed class ResourceRestartTests(DurabilityClusterFixture cluster)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_file_uploaded_before_a_full_restart_is_used_on_its_key_after_it()
    {
        await cluster.EnsureRunningAsync();
        var (name, uploadId) = await cluster.UploadAsync(Encoding.UTF8.GetBytes("kept across restarts"), 4096, start: 0, chunkFrontends: [1], Cancel);
        var owner = Assert.Single(cluster.KeysSeenAt(uploadId).Distinct());

        await cluster.StopAllAsync();
        await cluster.EnsureRunningAsync();

        var model = ClusterFixture.NewModel();
        for (var i = 0; i < 2 * cluster.ConfiguredKeys.Count; i++)
        {
            Assert.Equal(200, await cluster.GenerateWithFileAsync(i % 2, model, name, Cancel));
        }
        Assert.All(cluster.KeysSeenFor(model), key => Assert.Equal(owner, key)); // no record would have rotated them
        var status = await cluster.StatusAsync(1, Cancel);
        Assert.True(status.Key(owner).GetProperty("resources").GetProperty("files").GetInt32() >= 1, status.Key(owner).ToString());
    }
}
