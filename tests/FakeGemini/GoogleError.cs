using System.Text.Json;

namespace GeminiParty.FakeGemini;

/// <summary>An error in Google's shape: <c>{"error":{"code","message","status","details":[...]}}</c>.</summary>
internal sealed record GoogleError(int Code, string Status, string Message, IReadOnlyList<Action<Utf8JsonWriter>> Details)
{
    public byte[] ToJson(bool wrapInArray = false) => JsonBytes.Write(json =>
    {
        if (wrapInArray)
        {
            json.WriteStartArray();
        }

        json.WriteStartObject();
        json.WriteStartObject("error");
        json.WriteNumber("code", Code);
        json.WriteString("message", Message);
        json.WriteString("status", Status);
        if (Details.Count > 0)
        {
            json.WriteStartArray("details");
            foreach (var writeDetail in Details)
            {
                json.WriteStartObject();
                writeDetail(json);
                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        json.WriteEndObject();
        json.WriteEndObject();
        if (wrapInArray)
        {
            json.WriteEndArray();
        }
    });
}
