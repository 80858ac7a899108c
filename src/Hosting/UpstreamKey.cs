namespace GeminiParty.Hosting;

/// <summary>One configured upstream key: the secret, and what the key file says about it.</summary>
public sealed record UpstreamKey(string Secret, KeyAttributes Attributes)
{
    public string Fingerprint { get; } = UpstreamKeyList.Fingerprint(Secret);

    /// <summary>Never the secret: records print themselves in logs and debuggers.</summary>
    public override string ToString() => $"{UpstreamKeyList.Mask(Secret)} ({Fingerprint})";
}
