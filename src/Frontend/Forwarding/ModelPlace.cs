namespace GeminiParty.Frontend.Forwarding;

/// <summary>Where a request names its model, for <see cref="ModelFallbacks"/>.</summary>
public enum ModelPlace
{
    /// <summary>Nowhere the gateway may change it: the call is never moved to another model.</summary>
    None,

    /// <summary>In the upstream path (<c>models/{model}:method</c>): native calls.</summary>
    Path,

    /// <summary>In the JSON body's <c>model</c> field: OpenAI calls.</summary>
    Body,
}
