using Federated.Server.Domain;
using Federated.Simulation.Capture;
using Federated.Server.Strategies;

namespace Federated.Simulation;

/// <summary>
/// The server's side of one simulated round, done as the coordinator does it: every pushed payload is validated by
/// the strategy and kept as an accepted update; at the end the updates are aggregated in client-id order (the order
/// the store lists them in, so networked and simulated rounds sum identically) and the new version is applied.
/// With a <see cref="CaptureWriter"/>, what the server received is captured at the same two points.
/// </summary>
internal sealed class InProcessRound(IFederationStrategy strategy, RoundParameters parameters, long round, long baseVersion,
    CaptureWriter? capture = null)
{
    private readonly List<AcceptedUpdate> _accepted = [];

    /// <summary>Validates and accepts one client's payload (the method's canonical wire bytes).</summary>
    /// <param name="secret">The client's ground truth for the capture (ignored without one).</param>
    public void Push(string clientId, ulong sampleCount, byte[] payload, ClientSecret? secret = null)
    {
        strategy.ValidateUpdate(parameters, payload);
        _accepted.Add(new AcceptedUpdate(clientId, round, baseVersion, sampleCount, payload, [], new Dictionary<string, double>(), DateTimeOffset.UnixEpoch));
        capture?.Update(round, baseVersion, clientId, sampleCount, payload, secret ?? new ClientSecret(0, 0, []));
    }

    /// <summary>Aggregates the accepted updates and makes version <c>baseVersion + 1</c> current.</summary>
    public void Commit()
    {
        _accepted.Sort(static (a, b) => string.CompareOrdinal(a.ClientId, b.ClientId));
        var record = new RoundRecord(round, RoundPhase.Aggregating, RoundOutcome.None, baseVersion, DateTimeOffset.UnixEpoch,
            DateTimeOffset.UnixEpoch, null, [.. _accepted.Select(a => a.ClientId)]);
        var next = strategy.Aggregate(record, _accepted, []);
        strategy.Apply(new ModelVersionRecord(baseVersion + 1, round, next, DateTimeOffset.UnixEpoch));
        capture?.Commit(round, baseVersion, _accepted, next);
    }
}
