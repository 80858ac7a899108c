// Exit code 0 when the URL answers 2xx within the timeout, 1 otherwise: what a Docker HEALTHCHECK expects.
const string DefaultUrl = "http://127.0.0.1:3000/healthz";

var url = args.Length > 0 ? args[0] : DefaultUrl;
using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
try
{
    using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);
    if (response.IsSuccessStatusCode)
    {
        return 0;
    }

    await Console.Error.WriteLineAsync($"{url} answered {(int)response.StatusCode}");
    return 1;
}
catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
{
    await Console.Error.WriteLineAsync($"{url}: {e.Message}");
    return 1;
}
