using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy.Forwarder;

namespace GeminiParty.Frontend.Tests;

/// <summary>
/// The gateway with a client of one concurrency slot, and a forwarding engine that fails for one model the way a bug
/// would: an exception after the request was admitted, which no route completes.
/// </summary>
public sealed class FailingForwarderFixture : FrontendFixture
{
    public const string FailingModel = "gemini-forwarder-bug";

    public const string OlgaToken = "olga-secret-token";

    private readonly string _clientsPath = Path.Combine(Path.GetTempPath(), $"gemini-party-clients-{Guid.NewGuid():N}.txt");

    protected override IReadOnlyDictionary<string, string> ExtraSettings
    {
        get
        {
            File.WriteAllText(_clientsPath, $"olga {OlgaToken} concurrency=1\n");
            return new Dictionary<string, string> { ["CLIENTS_FILE"] = _clientsPath };
        }
    }

    protected override void ConfigureServices(IServiceCollection services)
    {
        var yarp = services.Last(descriptor => descriptor.ServiceType == typeof(IHttpForwarder)).ImplementationType!;
        services.AddSingleton<IHttpForwarder>(provider =>
            new FailingForwarder((IHttpForwarder)ActivatorUtilities.CreateInstance(provider, yarp)));
    }

    private sealed class FailingForwarder(IHttpForwarder inner) : IHttpForwarder
    {
        public ValueTask<ForwarderError> SendAsync(HttpContext context, string destinationPrefix, HttpMessageInvoker httpClient,
            ForwarderRequestConfig requestConfig, HttpTransformer transformer) =>
            SendAsync(context, destinationPrefix, httpClient, requestConfig, transformer, CancellationToken.None);

        public ValueTask<ForwarderError> SendAsync(HttpContext context, string destinationPrefix, HttpMessageInvoker httpClient,
            ForwarderRequestConfig requestConfig, HttpTransformer transformer, CancellationToken cancellationToken) =>
            context.Request.Path.Value?.Contains(FailingModel, StringComparison.Ordinal) == true
                ? throw new InvalidOperationException("a bug in the forwarding engine")
                : inner.SendAsync(context, destinationPrefix, httpClient, requestConfig, transformer, cancellationToken);
    }
}

public sealed class ClientSlotSafetyNetTests(FailingForwarderFixture gateway) : IClassFixture<FailingForwarderFixture>
{
    [Fact]
    public async Task A_request_that_fails_unexpectedly_after_admission_still_frees_its_concurrency_slot()
    {
        using (var failed = await gateway.PostJsonAsync($"/v1beta/models/{FailingForwarderFixture.FailingModel}:generateContent",
                   FrontendAssertions.Prompt, FailingForwarderFixture.OlgaToken))
        {
            await failed.AssertGoogleErrorAsync(500);
        }

        // olga's one slot comes back: the failed request does not hold it, renewed, for as long as the process lives
        var model = FrontendFixture.NewModel();
        await ClientsFrontendFixture.EventuallyAsync(async () =>
        {
            using var next = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt,
                FailingForwarderFixture.OlgaToken);
            return next.IsSuccessStatusCode;
        }, "olga's slot is free again");
        await ClientsFrontendFixture.EventuallyAsync(
            () => Task.FromResult(gateway.Logs.Lines.Any(line => line.Contains("Unhandled InvalidOperationException"))),
            "the failure is logged with its exception");
    }
}
