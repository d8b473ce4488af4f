using System.Text;

namespace UsageSlices.Tests.Support;

/// <summary>HTTP as bytes on a socket, for requests an HTTP client would refuse to send or would send too well.</summary>
public static class RawHttp
{
    /// <summary>Everything the server sends until it closes the connection (or the deadline cancels the read).</summary>
    public static async Task<string> ReadToEndAsync(Stream stream, CancellationToken cancellation)
    {
        var received = new MemoryStream();
        var buffer = new byte[4_096];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellation)) > 0)
                received.Write(buffer, 0, read);
        }
        catch (IOException)
        {
            // A reset after the answer: what arrived before it is the answer.
        }

        return Encoding.ASCII.GetString(received.ToArray());
    }
}
