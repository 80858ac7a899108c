namespace GeminiParty.Frontend.Forwarding;

/// <summary>One client request, ready to send upstream with whichever key the pool leases.</summary>
/// <param name="Surface">Which API the client called: decides the auth header and error shape.</param>
/// <param name="Method">GET or POST.</param>
/// <param name="PathAndQuery">The upstream path relative to GEMINI_BASE_URL, built only from validated parts.</param>
/// <param name="Model">The model rotation and cooldowns are counted for.</param>
/// <param name="Body">The request body as received (or with safety settings merged in).</param>
/// <param name="Streaming">Whether the answer is a stream (idle timeout instead of a total one).</param>
public sealed record UpstreamCall(
    ApiSurface Surface,
    HttpMethod Method,
    string PathAndQuery,
    string Model,
    ReadOnlyMemory<byte> Body,
    bool Streaming);
