namespace GeminiParty.FakeGemini;

/// <summary>A multipart form's file part: its bytes as sent, with the file name and type the client gave.</summary>
internal sealed record MultipartFile(string FileName, string? ContentType, byte[] Content);
