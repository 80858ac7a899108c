using System.Text.Json.Serialization;

namespace GeminiParty.FakeGemini;

/// <summary>The ways the fake's Live API endpoint refuses a key, each modelled on a way Google's does.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<LiveFaultKind>))]
public enum LiveFaultKind
{
    /// <summary>The handshake is answered 403 PERMISSION_DENIED instead of 101.</summary>
    Handshake403,
    /// <summary>The handshake is answered 429 RESOURCE_EXHAUSTED instead of 101.</summary>
    Handshake429,
    /// <summary>The upgrade is accepted; after the setup the session is closed with 1008 "API key not valid".</summary>
    Close1008InvalidKey,
    /// <summary>The upgrade is accepted; after the setup the session is closed with 1011 "You exceeded your current quota".</summary>
    Close1011Quota,
    /// <summary>The upgrade is accepted; after the setup the session is closed with 1008 "model not found" (the client's fault).</summary>
    Close1008ModelNotFound,

    /// <summary>The upgrade is accepted; after the setup the session is closed with 1011 "Internal error encountered." (transient).</summary>
    Close1011Internal,
}
