using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using GeminiParty.FakeGemini;

namespace GeminiParty.Frontend.Tests;

/// <summary>
/// TLS on the gateway itself, for a deployment without a TLS-terminating ingress: an HTTPS endpoint and its PEM
/// certificate from configuration (Kestrel's <c>Kestrel__Endpoints__*</c> variables), as ASP.NET Core documents them.
/// </summary>
public sealed class HttpsEndpointTests
{
    [Fact]
    public async Task An_https_endpoint_from_configuration_serves_with_its_certificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=gateway.test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        var folder = Directory.CreateTempSubdirectory("gp-https-");
        var certificatePath = Path.Combine(folder.FullName, "tls.crt");
        var keyPath = Path.Combine(folder.FullName, "tls.key");
        await File.WriteAllTextAsync(certificatePath, certificate.ExportCertificatePem(), TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(keyPath, key.ExportPkcs8PrivateKeyPem(), TestContext.Current.CancellationToken);

        var port = FreeTcpPort.Next();
        try
        {
            await using var frontend = await FrontendProcess.StartAsync(new()
            {
                ["GEMINI_API_KEY"] = "AIzaHttpsTest01-0123456789abcdefghijklm",
                ["AUTH_TOKEN"] = "https-token",
                ["GEMINI_BASE_URL"] = "http://127.0.0.1:9", // never called
                ["REDIS_CONNECTION_STRING"] = null,
                ["ORLEANS_SILO_PORT"] = FreeTcpPort.Next().ToString(),
                ["ORLEANS_GATEWAY_PORT"] = FreeTcpPort.Next().ToString(),
                ["Kestrel__Endpoints__Https__Url"] = $"https://127.0.0.1:{port}",
                ["Kestrel__Endpoints__Https__Certificate__Path"] = certificatePath,
                ["Kestrel__Endpoints__Https__Certificate__KeyPath"] = keyPath,
            });

            string? presented = null;
            using var handler = new HttpClientHandler
            {
                ServerCertificateCustomValidationCallback = (_, served, _, _) =>
                {
                    presented = served?.Thumbprint;
                    return served?.Thumbprint == certificate.Thumbprint;
                },
            };
            using var http = new HttpClient(handler) { BaseAddress = new Uri($"https://127.0.0.1:{port}") };
            await frontend.WaitUntilReadyAsync(http);
            Assert.Equal(certificate.Thumbprint, presented);

            using var status = new HttpRequestMessage(HttpMethod.Get, "/rotation-status");
            status.Headers.Authorization = new("Bearer", "https-token");
            using var answer = await http.SendAsync(status, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
