using System.Net.Http.Headers;

namespace Federated.FunctionalTests;

/// <summary>Faults a real network has, injected between the gRPC client and the server on a seeded schedule:
/// <see cref="Fault.DropRequest"/> (connection lost before the server saw the call), <see cref="Fault.DropResponse"/>
/// (the server handled the call, the answer is lost: the client retries an already-applied PushUpdate), and
/// <see cref="Fault.Duplicate"/> (the request reaches the server twice).</summary>
internal sealed class FaultInjectingHandler(HttpMessageHandler inner, int seed, double faultRate) : DelegatingHandler(inner)
{
    public enum Fault { None, DropRequest, DropResponse, Duplicate }

    private readonly Random _random = new(seed);
    private readonly Lock _gate = new();

    /// <summary>Methods (path suffix, e.g. "PushUpdate") whose calls all fail with a dropped request while set.</summary>
    public HashSet<string> BlackHoled { get; } = [];
    /// <summary>Methods whose calls all reach the server but lose their response while set.</summary>
    public HashSet<string> LoseResponses { get; } = [];
    public int Injected { get; private set; }
    private readonly Dictionary<string, int> _calls = [];

    /// <summary>Calls of <paramref name="method"/> (path suffix) that passed through this handler, faulted or not.</summary>
    public int Calls(string method)
    {
        lock (_gate) return _calls.GetValueOrDefault(method);
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        string method = request.RequestUri!.AbsolutePath.Split('/')[^1];
        Fault fault;
        lock (_gate)
        {
            _calls[method] = _calls.GetValueOrDefault(method) + 1;
            fault = BlackHoled.Contains(method) ? Fault.DropRequest
                : LoseResponses.Contains(method) ? Fault.DropResponse
                : _random.NextDouble() >= faultRate ? Fault.None
                : (Fault)(1 + _random.Next(3));
            if (fault != Fault.None) Injected++;
        }
        switch (fault)
        {
            case Fault.DropRequest:
                throw new HttpRequestException("injected fault: connection dropped before the request was sent");
            case Fault.DropResponse:
            {
                using var response = await base.SendAsync(request, cancellationToken);
                await response.Content.LoadIntoBufferAsync(cancellationToken);
                throw new HttpRequestException("injected fault: connection dropped before the response arrived");
            }
            case Fault.Duplicate:
            {
                byte[] body = await request.Content!.ReadAsByteArrayAsync(cancellationToken);
                using (var first = await base.SendAsync(Clone(request, body), cancellationToken))
                    await first.Content.LoadIntoBufferAsync(cancellationToken);
                return await base.SendAsync(Clone(request, body), cancellationToken);
            }
            default:
                return await base.SendAsync(request, cancellationToken);
        }
    }

    private static HttpRequestMessage Clone(HttpRequestMessage request, byte[] body)
    {
        var clone = new HttpRequestMessage(request.Method, request.RequestUri) { Version = request.Version, VersionPolicy = request.VersionPolicy };
        foreach (var header in request.Headers) clone.Headers.TryAddWithoutValidation(header.Key, header.Value);
        clone.Content = new ByteArrayContent(body);
        foreach (var header in request.Content!.Headers) clone.Content.Headers.TryAddWithoutValidation(header.Key, header.Value);
        return clone;
    }
}
