using Federated.Client.Networking;
using Federated.Client.Training;
using Federated.Core;
using Federated.Protocol.V1;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Federated.Client.Edge;

/// <summary>
/// An edge participant: enroll once (credential kept in the state directory), then loop GetTask → sync the model
/// (GetModel ΔH since the version it holds) → train with the injected <see cref="ILocalTrainer"/> → persist the update
/// → PushUpdate → record the round, until the server says FINISHED or the token is cancelled (Ctrl-C: the loop stops
/// between steps; whatever was persisted is resumed next run).
/// <para>Crash safety: the trained update is written to disk before the push and removed only after a receipt, so a
/// restart pushes the same bytes again (the server answers duplicate = true) instead of retraining; a finished round
/// is recorded, so it is never trained again. Retries live only in <see cref="FederationChannel"/>.</para>
/// <para>A task the client cannot train — an unusable shard (missing, unreadable, not UTF-8, no examples) or
/// hyper-parameters beyond <see cref="TrainingLimits"/> — is declined (DeclineTask, with the reason) so the server need
/// not wait for the round's deadline; the round counts as missed and the client keeps polling.</para>
/// </summary>
public sealed class EdgeClient
{
    private const uint FormatVersion = 1;
    /// <summary>Longest decline reason sent (UTF-16 chars; ≤ 900 UTF-8 bytes, under the server's 1024).</summary>
    private const int MaxDeclineReasonChars = 300;
    private readonly FederationChannel _channel;
    private readonly ILocalTrainer _trainer;
    private readonly DataShard _shard;
    private readonly EdgeClientOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public EdgeClient(FederationChannel channel, ILocalTrainer trainer, DataShard shard, EdgeClientOptions options,
        TimeProvider time, ILogger<EdgeClient>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(trainer);
        ArgumentNullException.ThrowIfNull(shard);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        options.Validate();
        _channel = channel;
        _trainer = trainer;
        _shard = shard;
        _options = options;
        _time = time;
        _logger = logger ?? NullLogger<EdgeClient>.Instance;
    }

    /// <summary>Runs until the federation finishes. Throws <see cref="OperationCanceledException"/> when cancelled and
    /// <see cref="RpcException"/> for a final refusal (e.g. the enrollment token is unknown) or exhausted retries.</summary>
    public async Task<EdgeRunSummary> RunAsync(CancellationToken cancellationToken)
    {
        var state = EdgeClientState.Open(_options.StateDirectory);
        await EnsureEnrolledAsync(state, force: false, cancellationToken).ConfigureAwait(false);   // before the trainer reads its state
        long modelVersion = await _trainer.InitializeAsync(cancellationToken).ConfigureAwait(false);
        EdgeLog.Started(_logger, state.Current.ClientId!, modelVersion, state.Current.LastFinishedRound);

        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            RoundTask task;
            try
            {
                task = await _channel.GetTaskAsync(new TaskRequest
                {
                    FormatVersion = FormatVersion, ClientId = state.Current.ClientId, ModelVersion = (ulong)modelVersion, BaseModel = Fingerprint(),
                }, cancellationToken).ConfigureAwait(false);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Unauthenticated)
            {
                // The server does not know the saved credential (it lost its state, or this is another server): enroll as a
                // new client. A server that still knows our name refuses that (ALREADY_EXISTS), and the run stops with a
                // clear error: an identity is never recovered by name.
                if (await EnsureEnrolledAsync(state, force: true, cancellationToken).ConfigureAwait(false))
                    modelVersion = await _trainer.InitializeAsync(cancellationToken).ConfigureAwait(false);   // another federation: from its base model
                continue;
            }

            if (task.Availability == TaskAvailability.Finished)
            {
                modelVersion = await SyncAsync(state, modelVersion, cancellationToken).ConfigureAwait(false);   // end on the final global model
                EdgeLog.Finished(_logger, state.Current.RoundsPushed, state.Current.RoundsMissed);
                return new EdgeRunSummary(state.Current.ClientId!, state.Current.RoundsPushed, state.Current.RoundsMissed, modelVersion);
            }
            long roundId = (long)task.RoundId;
            if (task.Availability != TaskAvailability.Assigned || roundId <= state.Current.LastFinishedRound)
            {
                await WaitAsync(task.RetryAfter?.ToTimeSpan() ?? _options.MaxPollDelay, cancellationToken).ConfigureAwait(false);
                continue;
            }

            var pending = state.LoadPending(roundId);
            if (pending is null)
            {
                long target = (long)task.ModelVersion;
                if (modelVersion != target)
                {
                    modelVersion = await SyncAsync(state, modelVersion, cancellationToken).ConfigureAwait(false);
                    if (modelVersion != target) continue;   // the server moved on while we synced: ask again
                }
                LocalTrainingResult result;
                try
                {
                    result = await _trainer.TrainAsync(ToDomain(task), _shard, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException or ArgumentException)
                {
                    await DeclineAsync(state, roundId, ex.Message, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                pending = ToUpdate(state.Current.ClientId!, task, result);
                state.SavePending(pending);
                EdgeLog.Trained(_logger, roundId, result.SampleCount,
                    string.Join(", ", result.Metrics.Select(m => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{m.Key} {m.Value:G5}"))));
            }
            await PushAsync(state, pending, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task PushAsync(EdgeClientState state, ClientUpdate update, CancellationToken cancellationToken)
    {
        long roundId = (long)update.RoundId;
        bool pushed;
        try
        {
            var receipt = await _channel.PushUpdateAsync(update, cancellationToken).ConfigureAwait(false);
            EdgeLog.Pushed(_logger, roundId, receipt.Duplicate);
            pushed = true;
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.AlreadyExists)
        {
            // An earlier run pushed a different payload for this round (trained again after losing its pending file).
            EdgeLog.Pushed(_logger, roundId, true);
            pushed = true;
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.FailedPrecondition or StatusCode.InvalidArgument)
        {
            // Late (deadline or quorum passed), or our update is unacceptable: give the round up, never retry it.
            EdgeLog.RoundLost(_logger, roundId, ex.StatusCode, ex.Status.Detail);
            pushed = false;
        }
        var s = state.Current;
        state.Save(s with
        {
            LastFinishedRound = Math.Max(s.LastFinishedRound, roundId),
            RoundsPushed = s.RoundsPushed + (pushed ? 1 : 0),
            RoundsMissed = s.RoundsMissed + (pushed ? 0 : 1),
        });
        state.ClearPending();
    }

    /// <summary>Tells the server this client cannot train <paramref name="roundId"/> and records the round as missed.</summary>
    private async Task DeclineAsync(EdgeClientState state, long roundId, string reason, CancellationToken cancellationToken)
    {
        if (reason.Length > MaxDeclineReasonChars) reason = reason[..MaxDeclineReasonChars] + "…";
        EdgeLog.Declining(_logger, roundId, reason);
        try
        {
            await _channel.DeclineTaskAsync(new TaskDecline
            {
                FormatVersion = FormatVersion, ClientId = state.Current.ClientId, RoundId = (ulong)roundId, Reason = reason,
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.FailedPrecondition or StatusCode.InvalidArgument or StatusCode.Unimplemented)
        {
            // The round closed meanwhile, or an older server without DeclineTask: its deadline closes the round.
            EdgeLog.RoundLost(_logger, roundId, ex.StatusCode, ex.Status.Detail);
        }
        var s = state.Current;
        state.Save(s with { LastFinishedRound = Math.Max(s.LastFinishedRound, roundId), RoundsMissed = s.RoundsMissed + 1 });
    }

    /// <summary>Brings the local model from <paramref name="from"/> to the server's latest version; returns it.</summary>
    private async Task<long> SyncAsync(EdgeClientState state, long from, CancellationToken cancellationToken)
    {
        var download = await _channel.GetModelAsync(new ModelRequest
        {
            FormatVersion = FormatVersion, ClientId = state.Current.ClientId, SinceVersion = (ulong)from, BaseModel = Fingerprint(),
        }, cancellationToken).ConfigureAwait(false);
        var last = download.Last;
        var entries = last.Kind == ModelPayloadKind.SeedDelta ? last.SeedDelta.Entries().ToArray() : [];
        var delta = last.Kind == ModelPayloadKind.SeedDelta
            ? new GlobalModelDelta(GlobalModelDeltaKind.SeedDelta, (long)last.SeedDelta.FromVersion, (long)last.ModelVersion,
                [.. entries.Select(e => (uint)e.SeedIndex)], [.. entries.Select(e => e.Delta)], [], [])
            : new GlobalModelDelta(GlobalModelDeltaKind.CompressedAdapter, from, (long)last.ModelVersion, [], [], download.Payload,
                last.Layout.Select(e => (e.Name, e.ElementCount)).ToArray());
        if (delta.FromVersion != from)
            throw new InvalidDataException($"The server sent a model change from version {delta.FromVersion}; the client holds {from}.");
        if (delta.ToVersion == from) return from;
        await _trainer.ApplyModelDeltaAsync(delta, cancellationToken).ConfigureAwait(false);
        state.Save(state.Current with { ModelVersion = delta.ToVersion });
        EdgeLog.Synced(_logger, from, delta.ToVersion, delta.SeedIndices.Length, delta.Payload.Length);
        return delta.ToVersion;
    }

    /// <summary>
    /// Makes sure the state directory holds an identity at this server. The client proposes its own credential (random,
    /// saved before the call), so a retried Enroll whose answer was lost — by the channel or after a restart — returns
    /// the same identity instead of leaving a stray one. A name the server already has under another credential is
    /// ALREADY_EXISTS: never an identity recovered by name. A credential only ever goes to the server it was made for.
    /// Returns true when the enrollment is into another federation than the state's (then the trainer's saved model was deleted).
    /// </summary>
    private async Task<bool> EnsureEnrolledAsync(EdgeClientState state, bool force, CancellationToken cancellationToken)
    {
        var s = state.Current;
        string server = _options.Server.ToString();
        if (s.ClientId is not null && s.Server is not null && s.Server != server)
            throw new InvalidDataException($"The state file {state.StatePath} holds client {s.ClientId} of {s.Server}, not {server}. " +
                $"Run join with --server {s.Server} to go on as that client, or with a new --state directory to join {server} as a new client.");
        if (!force && s.ClientId is not null && s.BearerToken is not null)
        {
            _channel.BearerToken = s.BearerToken;
            return false;
        }
        if (s.BearerToken is null || s.Server != server)
        {
            s = s with { Server = server, BearerToken = EdgeClientState.NewCredential() };
            state.Save(s);
        }
        Enrollment enrollment;
        try
        {
            enrollment = await EnrollAsync(s.ClientName, s.BearerToken, cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.AlreadyExists && s.ClientId is null)
        {
            // Never enrolled from this directory, yet the name is taken under another credential (a random name's
            // collision, or someone who saw it): enroll under a new name and credential.
            s = s with { ClientName = EdgeClientState.NewClientName(), BearerToken = EdgeClientState.NewCredential() };
            state.Save(s);
            EdgeLog.Renamed(_logger, s.ClientName);
            enrollment = await EnrollAsync(s.ClientName, s.BearerToken, cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.AlreadyExists)
        {
            throw new InvalidDataException($"{server} does not accept the credential of client {s.ClientId} in {state.StatePath} and refuses " +
                $"to enroll its name again ({ex.Status.Detail}). Use a new --state directory to join as a new client.", ex);
        }
        bool sameFederation = s.FederationId is null || s.FederationId == enrollment.Federation?.FederationId;
        state.Save(s with
        {
            ClientId = enrollment.ClientId, BearerToken = enrollment.BearerToken, FederationId = enrollment.Federation?.FederationId,
            LastFinishedRound = sameFederation ? s.LastFinishedRound : 0,
        });
        if (!sameFederation) state.ClearPending();
        bool otherFederation = s.FederationId != enrollment.Federation?.FederationId;
        if (otherFederation && Directory.Exists(_options.TrainerStateDirectory))
            Directory.Delete(_options.TrainerStateDirectory, recursive: true);   // a model of another federation's versions
        _channel.BearerToken = enrollment.BearerToken;
        EdgeLog.Enrolled(_logger, enrollment.ClientId, s.ClientName);
        return otherFederation;
    }

    private Task<Enrollment> EnrollAsync(string name, string credential, CancellationToken cancellationToken) => _channel.EnrollAsync(new EnrollmentRequest
    {
        FormatVersion = FormatVersion,
        EnrollmentToken = _options.EnrollmentToken,
        BearerToken = credential,
        Client = new ClientInfo
        {
            Name = name, Platform = System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier,
            SoftwareVersion = typeof(EdgeClient).Assembly.GetName().Version?.ToString() ?? "0",
            SampleCount = _options.SampleCount, SupportedMethods = { TrainingMethod.Fedkseed, TrainingMethod.Compeft },
        },
        BaseModel = Fingerprint(),
    }, cancellationToken);

    private async Task WaitAsync(TimeSpan retryAfter, CancellationToken cancellationToken)
    {
        var wait = retryAfter < _options.MaxPollDelay ? retryAfter : _options.MaxPollDelay;
        if (_options.PollJitter > TimeSpan.Zero)
            wait += TimeSpan.FromTicks((long)(Random.Shared.NextDouble() * _options.PollJitter.Ticks));
        if (wait <= TimeSpan.Zero) await Task.Yield();
        else await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
    }

    private BaseModelFingerprint? Fingerprint() =>
        _options.BaseModelSha256.Length == 0 ? null : new BaseModelFingerprint { Sha256 = ByteString.CopyFrom(_options.BaseModelSha256) };

    /// <summary>The task as domain values, after checking its sizes against <see cref="TrainingLimits"/> on the wire's
    /// unsigned values (a uint32 τ of 2,000,000,000 would otherwise run for weeks, and above 2³¹ wrap negative).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is beyond its limit (the task is declined).</exception>
    internal static TrainingTask ToDomain(RoundTask task)
    {
        if (task.Fedkseed is { } fk)
        {
            TrainingLimits.Check(fk.LocalSteps, 1, TrainingLimits.MaxLocalSteps, "fedkseed.local_steps");
            TrainingLimits.Check(fk.SeedCount, 1, TrainingLimits.MaxSeedCount, "fedkseed.seed_count");
            TrainingLimits.Check(fk.BatchSize, 1, TrainingLimits.MaxBatchSize, "fedkseed.batch_size");
        }
        if (task.Compeft is { } cp)
        {
            TrainingLimits.Check(cp.LocalSteps, 1, TrainingLimits.MaxLocalSteps, "compeft.local_steps");
            TrainingLimits.Check(cp.Rank, 1, TrainingLimits.MaxLoraRank, "compeft.rank");
            TrainingLimits.Check(cp.BatchSize, 1, TrainingLimits.MaxBatchSize, "compeft.batch_size");
        }
        FedKSeedTask? fedkseed = task.Fedkseed is { } f
            ? new FedKSeedTask((int)f.SeedCount, f.SeedPoolMasterSeed, (int)f.LocalSteps, f.Epsilon, f.LearningRate, (int)f.BatchSize,
                f.SeedProbabilities.ToArray(), f.StepSeed, f.MaxAbsScalar, f.Trainable.Length == 0 ? null : f.Trainable)
            : null;
        ComPeftTask? compeft = task.Compeft is { } c
            ? new ComPeftTask((int)c.Rank, c.Alpha, c.TargetModules.ToArray(), c.Density, c.ScaleFactor, c.LearningRate, (int)c.LocalSteps,
                (int)c.BatchSize, c.FreezeA, c.LoraASeed, c.LeastSquaresScale, c.ErrorFeedback, c.StepSeed)
            : null;
        return new TrainingTask((long)task.RoundId, (long)task.ModelVersion, task.Deadline?.ToDateTimeOffset() ?? DateTimeOffset.MaxValue,
            fedkseed, compeft);
    }

    private ClientUpdate ToUpdate(string clientId, RoundTask task, LocalTrainingResult result)
    {
        var update = new ClientUpdate
        {
            FormatVersion = FormatVersion, ClientId = clientId, RoundId = task.RoundId, ModelVersion = task.ModelVersion,
            BaseModel = Fingerprint(), SampleCount = result.SampleCount,
        };
        foreach (var (key, value) in result.Metrics) update.Metrics[key] = value;
        switch (result.Payload)
        {
            case SeedScalarsPayload seeds:
                update.SeedScalars = new SeedScalars();
                update.SeedScalars.SeedIndices.Add(seeds.SeedIndices);
                update.SeedScalars.Scalars.Add(seeds.Scalars);
                break;
            case CompressedPayload compressed:
                update.Compressed = new CompressedUpdate { Payload = ByteString.CopyFrom(compressed.TernaryPayload) };
                break;
            default:
                throw new ArgumentException($"The trainer returned an unknown payload type {result.Payload?.GetType().Name}.", nameof(result));
        }
        return update;
    }
}

/// <summary>Structured logs of the edge client (event ids 350-399).</summary>
internal static partial class EdgeLog
{
    [LoggerMessage(350, LogLevel.Information, "Edge client {ClientId} started at model version {Version}, last finished round {Round}")]
    public static partial void Started(ILogger logger, string clientId, long version, long round);

    [LoggerMessage(351, LogLevel.Information, "Enrolled as {ClientId} ({Name})")]
    public static partial void Enrolled(ILogger logger, string clientId, string name);

    [LoggerMessage(352, LogLevel.Information, "Synced model version {From} → {To} ({Seeds} seeds, {PayloadBytes} adapter payload bytes)")]
    public static partial void Synced(ILogger logger, long from, long to, int seeds, int payloadBytes);

    [LoggerMessage(353, LogLevel.Information, "Round {Round} trained on {Samples} samples ({Metrics})")]
    public static partial void Trained(ILogger logger, long round, ulong samples, string metrics);

    [LoggerMessage(354, LogLevel.Information, "Round {Round} pushed (duplicate: {Duplicate})")]
    public static partial void Pushed(ILogger logger, long round, bool duplicate);

    [LoggerMessage(355, LogLevel.Warning, "Round {Round} lost: {Status} {Detail}")]
    public static partial void RoundLost(ILogger logger, long round, StatusCode status, string detail);

    [LoggerMessage(357, LogLevel.Warning, "Round {Round} declined: this client cannot train it: {Reason}")]
    public static partial void Declining(ILogger logger, long round, string reason);

    [LoggerMessage(356, LogLevel.Information, "Federation finished: {Pushed} rounds pushed, {Missed} missed")]
    public static partial void Finished(ILogger logger, long pushed, long missed);

    [LoggerMessage(358, LogLevel.Warning, "The server already has this state directory's client name under another credential; enrolling as {Name}")]
    public static partial void Renamed(ILogger logger, string name);
}
