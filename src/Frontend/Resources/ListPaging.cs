namespace GeminiParty.Frontend.Resources;

/// <summary>
/// How a native list spells its paging: the page size and token parameters and the answer's next-page field. The
/// voices list speaks snake_case like the Interactions API; the older collections camelCase.
/// </summary>
public sealed record ListPaging(string Size, string Token, string Next)
{
    private static readonly ListPaging CamelCase = new("pageSize", "pageToken", "nextPageToken");
    private static readonly ListPaging SnakeCase = new("page_size", "page_token", "next_page_token");

    public static ListPaging Of(string collection) => collection == "voices" ? SnakeCase : CamelCase;
}
