using GeminiParty.Frontend.Resources;

namespace GeminiParty.Frontend.Forwarding;

/// <summary>One client request, ready to send upstream with whichever key the pool leases.</summary>
/// <param name="Surface">Which API the client called: decides the auth header and error shape.</param>
/// <param name="Method">The client's method, sent upstream as it came.</param>
/// <param name="PathAndQuery">The upstream path relative to GEMINI_BASE_URL, built only from validated parts.</param>
/// <param name="Model">The model (or path bucket) rotation and cooldowns are counted for.</param>
/// <param name="Body">The request body as received (or with safety settings merged in); sent again on every attempt.</param>
/// <param name="Streaming">Whether the answer is a stream (idle timeout instead of a total one).</param>
/// <param name="BodyRewritten">
/// The gateway rewrote a compressed body (safety settings): it goes upstream decoded, without the client's Content-Encoding.
/// </param>
public sealed record UpstreamCall(
    ApiSurface Surface,
    HttpMethod Method,
    string PathAndQuery,
    string Model,
    ReadOnlyMemory<byte> Body,
    bool Streaming,
    bool BodyRewritten = false)
{
    /// <summary>The resources the request names and the key that owns them; none for most requests.</summary>
    public ResourceOwner Resources { get; init; } = ResourceOwner.None;

    /// <summary>Where the request names its model, so MODEL_FALLBACKS may send it for another; none for most routes.</summary>
    public ModelPlace ModelIn { get; init; }

    /// <summary>Read the success answer for resources it names (a create, a resource's metadata) and bind them to the key.</summary>
    public AnswerRecord RecordAnswer { get; init; }

    /// <summary>
    /// The body streams from the client as it arrives (an upload chunk), not read into <see cref="Body"/>: one attempt only.
    /// </summary>
    public bool StreamRequestBody { get; init; }

    /// <summary>Rewrites upstream's <c>x-goog-upload-url</c> answer header to point at this gateway.</summary>
    public Func<string, string?>? UploadUrl { get; init; }

    /// <summary>The call is of the Interactions API: a stream of its that breaks off ends with its own <c>error</c> event.</summary>
    public bool Interaction { get; init; }

    /// <summary>A resource the request deletes: its binding goes once upstream confirms.</summary>
    public string? Deletes { get; init; }

    /// <summary>Whether a body goes upstream: any bytes, or a method whose requests carry one (even empty).</summary>
    public bool HasBody => !Body.IsEmpty || Method == HttpMethod.Post || Method == HttpMethod.Put || Method == HttpMethod.Patch;
}
