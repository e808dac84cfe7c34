using Federated.Server.Domain;

namespace Federated.Server.Strategies;

/// <summary>
/// The method seam of the coordinator, in Flower's words. The coordinator owns rounds, clients, deadlines, idempotency
/// and durability; a strategy owns the update format and the maths. Calls arrive one at a time (the coordinator
/// serialises them), so implementations need no locking.
/// <list type="number">
/// <item><see cref="Restore"/> once at start with every committed version, oldest first.</item>
/// <item>Per round: <see cref="ConfigureRound"/> → <see cref="ValidateUpdate"/> per push → <see cref="Aggregate"/>
/// (pure: returns the new version's payload) → the coordinator commits it durably → <see cref="Apply"/>.</item>
/// <item><see cref="GetModelDelta"/> whenever a client syncs.</item>
/// </list>
/// </summary>
public interface IFederationStrategy
{
    /// <summary>The method this strategy runs.</summary>
    TrainingMethodKind Method { get; }

    /// <summary>Rebuilds in-memory state from the durable version history (ascending versions 1..n).</summary>
    void Restore(IReadOnlyList<ModelVersionRecord> history);

    /// <summary>Hyper-parameters of round <paramref name="roundId"/>, which trains from <paramref name="modelVersion"/>.
    /// Must be a pure function of (round, version, restored state): it is recomputed after a restart, not stored.</summary>
    RoundParameters ConfigureRound(long roundId, long modelVersion);

    /// <summary>Checks a pushed payload before it is accepted.</summary>
    /// <exception cref="FederationException">INVALID_ARGUMENT with one sentence naming the offending field and value.</exception>
    void ValidateUpdate(RoundParameters parameters, ReadOnlySpan<byte> payload);

    /// <summary>Merges the accepted updates of a round (ordered by client id) into the payload of the next model version.
    /// Pure: must not change the strategy's state (the commit may still fail); <see cref="Apply"/> follows a commit.</summary>
    byte[] Aggregate(RoundRecord round, IReadOnlyList<AcceptedUpdate> results, IReadOnlyList<RoundFailure> failures);

    /// <summary>Makes a committed version current.</summary>
    void Apply(ModelVersionRecord version);

    /// <summary>The current version: the last one restored or applied (0 = the base model).</summary>
    long LatestVersion { get; }

    /// <summary>The change from <paramref name="sinceVersion"/> to the latest version.</summary>
    /// <exception cref="FederationException">FAILED_PRECONDITION when <paramref name="sinceVersion"/> is unknown.</exception>
    ModelDelta GetModelDelta(long sinceVersion);
}
