namespace GeminiParty.FakeGemini;

/// <summary>Writes whole JSON bodies and Google errors.</summary>
internal static class ResponseWriter
{
    public const string JsonContentType = "application/json; charset=UTF-8";

    public static Task WriteJsonAsync(HttpContext context, int status, byte[] body)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = JsonContentType;
        response.ContentLength = body.Length;
        return response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    public static Task WriteErrorAsync(HttpContext context, GoogleError error, bool wrapInArray = false) =>
        WriteJsonAsync(context, error.Code, error.ToJson(wrapInArray));
}
