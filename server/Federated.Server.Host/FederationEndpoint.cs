using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Federated.Server.Host;

/// <summary>
/// Where Kestrel listens: HTTP/2 only. Without a certificate, cleartext h2c on loopback (a laptop or an SSH tunnel);
/// with PEM <see cref="CertificatePath"/>/<see cref="KeyPath"/>, TLS on every interface (ALPN h2).
/// </summary>
public sealed class FederationEndpoint
{
    /// <summary>TCP port. Default 5080.</summary>
    public int Port { get; set; } = 5080;
    /// <summary>PEM certificate chain; with <see cref="KeyPath"/> enables TLS.</summary>
    public string? CertificatePath { get; set; }
    /// <summary>PEM private key of <see cref="CertificatePath"/>.</summary>
    public string? KeyPath { get; set; }
    /// <summary>Listen on all interfaces even without TLS (bearer tokens then cross the network in clear). Default false.</summary>
    public bool ListenOnAnyAddressWithoutTls { get; set; }

    public void Validate()
    {
        if (Port is < 0 or > 65535) throw new ArgumentOutOfRangeException(nameof(Port), Port, "Port must be 0..65535.");
        if ((CertificatePath is null) != (KeyPath is null))
            throw new ArgumentException("--cert and --key must be given together.", nameof(CertificatePath));
        if (CertificatePath is not null && !File.Exists(CertificatePath))
            throw new FileNotFoundException($"The certificate file {CertificatePath} does not exist.", CertificatePath);
        if (KeyPath is not null && !File.Exists(KeyPath))
            throw new FileNotFoundException($"The key file {KeyPath} does not exist.", KeyPath);
    }

    /// <summary>Applies this endpoint to Kestrel.</summary>
    public void Apply(KestrelServerOptions kestrel)
    {
        ArgumentNullException.ThrowIfNull(kestrel);
        Validate();
        if (CertificatePath is not null)
        {
            var certificate = X509Certificate2.CreateFromPemFile(CertificatePath, KeyPath);
            kestrel.Listen(IPAddress.Any, Port, l =>
            {
                l.Protocols = HttpProtocols.Http1AndHttp2;
                l.UseHttps(certificate);
            });
            return;
        }
        kestrel.Listen(ListenOnAnyAddressWithoutTls ? IPAddress.Any : IPAddress.Loopback, Port, l => l.Protocols = HttpProtocols.Http2);
    }
}
