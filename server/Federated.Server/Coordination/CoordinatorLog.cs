using Microsoft.Extensions.Logging;

namespace Federated.Server.Coordination;

/// <summary>Structured logs of the coordinator (event ids 100-199).</summary>
internal static partial class CoordinatorLog
{
    [LoggerMessage(100, LogLevel.Information, "Federation {FederationId} resumed: round {Round}, model version {Version}, {Clients} enrolled clients")]
    public static partial void Resumed(ILogger logger, string federationId, long round, long version, int clients);

    [LoggerMessage(101, LogLevel.Information, "Client {ClientId} enrolled as {Name}")]
    public static partial void Enrolled(ILogger logger, string clientId, string name);

    [LoggerMessage(102, LogLevel.Information, "Round {Round} opened from version {Version}: {Selected} clients selected of {Connected} connected, deadline {Deadline:O}")]
    public static partial void RoundOpened(ILogger logger, long round, long version, int selected, int connected, DateTimeOffset deadline);

    [LoggerMessage(103, LogLevel.Information, "Round {Round}: update from {ClientId} accepted ({Count}/{Quorum}, {SampleCount} samples)")]
    public static partial void UpdateAccepted(ILogger logger, long round, string clientId, int count, int quorum, ulong sampleCount);

    [LoggerMessage(104, LogLevel.Information, "Round {Round} aggregated from {Count} updates ({Failures} selected clients missing): model version {Version}")]
    public static partial void RoundAggregated(ILogger logger, long round, int count, int failures, long version);

    [LoggerMessage(105, LogLevel.Warning, "Round {Round} abandoned at its deadline with {Count} of {Quorum} updates")]
    public static partial void RoundAbandoned(ILogger logger, long round, int count, int quorum);

    [LoggerMessage(106, LogLevel.Information, "Round {Round}: duplicate update from {ClientId} answered with the original receipt")]
    public static partial void DuplicateUpdate(ILogger logger, long round, string clientId);

    [LoggerMessage(107, LogLevel.Warning, "Update from {ClientId} for round {Round} refused: {Reason}")]
    public static partial void UpdateRefused(ILogger logger, string clientId, long round, string reason);

    [LoggerMessage(108, LogLevel.Error, "Round {Round} could not be aggregated and is abandoned")]
    public static partial void AggregationFailed(ILogger logger, long round, Exception exception);

    [LoggerMessage(120, LogLevel.Warning, "Round {Round}: client {ClientId} declined its task: {Reason}")]
    public static partial void TaskDeclined(ILogger logger, long round, string clientId, string reason);

    [LoggerMessage(121, LogLevel.Warning, "Round {Round} abandoned before its deadline: {Count} updates and {Undecided} selected clients still training cannot reach the quorum of {Quorum}")]
    public static partial void RoundAbandonedEarly(ILogger logger, long round, int count, int undecided, int quorum);

    [LoggerMessage(109, LogLevel.Information, "Federation finished after {Rounds} aggregated rounds")]
    public static partial void Finished(ILogger logger, int rounds);
}
