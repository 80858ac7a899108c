using System.Net;
using System.Net.Sockets;

namespace GeminiParty.FakeGemini;

/// <summary>
/// Ports for the processes a test starts (a frontend's HTTP port, a silo's ports, Redis). Taken below the kernel's
/// ephemeral range (32768 and up on Linux), where no outgoing connection of the test run can take one between this
/// check and the process binding it, which a port the kernel handed out for <c>:0</c> did not guarantee; and checked
/// free on every address, since Kestrel binds <c>[::]</c>.
/// </summary>
public static class FreeTcpPort
{
    private const int First = 20_000;
    private const int Count = 12_000; // up to 31,999

    // each test process starts at its own place in the range: two test runs on one machine rarely meet
    private static int _next = Random.Shared.Next(Count);

    public static int Next()
    {
        for (var tries = 0; tries < Count; tries++)
        {
            var port = First + (int)((uint)Interlocked.Increment(ref _next) % Count);
            if (IsFree(port))
            {
                return port;
            }
        }
        throw new InvalidOperationException($"No free TCP port between {First} and {First + Count - 1}.");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { DualMode = true };
            socket.Bind(new IPEndPoint(IPAddress.IPv6Any, port));
            return true;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressFamilyNotSupported)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Bind(new IPEndPoint(IPAddress.Any, port));
                return true;
            }
            catch (SocketException)
            {
                return false;
            }
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
