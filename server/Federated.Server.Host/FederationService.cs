using System.Security.Cryptography;
using Federated.Protocol.V1;
using Federated.Server.Coordination;
using Federated.Server.Domain;
using Federated.Server.Strategies;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace Federated.Server.Host;

/// <summary>
/// The Federation gRPC service: a thin adapter. It checks what only the wire knows (format version, base-model
/// fingerprint, that client_id is the caller's, oneof payload case and size), converts messages to domain values,
/// calls <see cref="FederationCoordinator"/> and converts back. Errors are <see cref="FederationException"/>s, which
/// <see cref="AuthInterceptor"/> maps to status codes. Bound through <see cref="FederationServiceBinder"/> (undecodable
/// requests are INVALID_ARGUMENT).
/// </summary>
[BindServiceMethod(typeof(FederationServiceBinder), nameof(FederationServiceBinder.BindService))]
internal sealed class FederationService(FederationCoordinator coordinator, FederationServerOptions options, FullCheckpointCacheHolder checkpoints)
    : Federation.FederationBase
{
    public const uint FormatVersion = 1;

    public override Task<Enrollment> Enroll(EnrollmentRequest request, ServerCallContext context)
    {
        CheckFormat(request.FormatVersion);
        CheckBaseModel(request.BaseModel, required: false);
        var info = request.Client ?? new ClientInfo();
        var methods = info.SupportedMethods.Where(m => m != TrainingMethod.Unspecified).Select(m => (TrainingMethodKind)(int)m).ToArray();
        var result = coordinator.Enroll(request.EnrollmentToken,
            new ClientDescription(info.Name, info.Platform, info.SoftwareVersion, info.SampleCount, methods),
            request.BearerToken.Length == 0 ? null : request.BearerToken);
        return Task.FromResult(new Enrollment
        {
            FormatVersion = FormatVersion,
            ClientId = result.ClientId,
            BearerToken = result.BearerToken,
            Federation = new FederationInfo
            {
                FederationId = coordinator.FederationId,
                Name = coordinator.Options.Name,
                Method = ToWire(coordinator.Method),
                BaseModel = Fingerprint(),
                FormatVersion = FormatVersion,
                MaxMessageBytes = (ulong)options.MaxMessageBytes,
                ModelChunkBytes = (uint)options.ModelChunkBytes,
            },
        });
    }

    public override Task<RoundTask> GetTask(TaskRequest request, ServerCallContext context)
    {
        CheckFormat(request.FormatVersion);
        CheckBaseModel(request.BaseModel, required: false);
        var assignment = coordinator.GetTask(CallerId(request.ClientId, context));
        var task = new RoundTask { FormatVersion = FormatVersion, Method = ToWire(coordinator.Method), BaseModel = Fingerprint() };
        switch (assignment.Availability)
        {
            case TaskAvailabilityKind.Assigned:
                task.Availability = TaskAvailability.Assigned;
                task.RoundId = (ulong)assignment.RoundId;
                task.ModelVersion = (ulong)assignment.ModelVersion;
                task.Deadline = Timestamp.FromDateTimeOffset(assignment.Deadline);
                if (assignment.Parameters is FedKSeedRoundParameters p)
                {
                    task.Fedkseed = new FedKSeedParameters
                    {
                        SeedCount = (uint)p.SeedCount, SeedPoolMasterSeed = p.SeedPoolMasterSeed, LocalSteps = (uint)p.LocalSteps,
                        Epsilon = p.Epsilon, LearningRate = p.LearningRate, BatchSize = (uint)p.BatchSize, StepSeed = assignment.ClientRoundSeed,
                        Trainable = p.Trainable ?? "",
                        MaxAbsScalar = p.MaxAbsScalar,
                    };
                    task.Fedkseed.SeedProbabilities.Add(p.SeedProbabilities);
                }
                else if (assignment.Parameters is ComPeftRoundParameters c)
                {
                    task.Compeft = new ComPeftParameters
                    {
                        Rank = (uint)c.Rank, Alpha = c.Alpha, Density = c.Density, ScaleFactor = c.ScaleFactor, LearningRate = c.LearningRate,
                        LocalSteps = (uint)c.LocalSteps, BatchSize = (uint)c.BatchSize, FreezeA = c.FreezeA, LoraASeed = c.LoraASeed,
                        LeastSquaresScale = c.LeastSquaresScale, ErrorFeedback = c.ErrorFeedback, StepSeed = assignment.ClientRoundSeed,
                        MaxUpdateElement = c.MaxUpdateElement,
                    };
                    task.Compeft.TargetModules.Add(c.TargetModules);
                }
                break;
            case TaskAvailabilityKind.Finished:
                task.Availability = TaskAvailability.Finished;
                break;
            default:
                task.Availability = TaskAvailability.Wait;
                task.RetryAfter = Duration.FromTimeSpan(assignment.RetryAfter);
                break;
        }
        return Task.FromResult(task);
    }

    public override async Task GetModel(ModelRequest request, IServerStreamWriter<ModelChunk> responseStream, ServerCallContext context)
    {
        CheckFormat(request.FormatVersion);
        CheckBaseModel(request.BaseModel, required: false);
        string caller = CallerId(request.ClientId, context);
        if (request.FullCheckpoint)
        {
            var cache = checkpoints.Cache
                ?? throw FederationException.Precondition("full_checkpoint is not served by this server; distribute the model files out of band.");
            var (version, bytes, sha) = cache.Get(coordinator.GetModel(caller, 0));
            await StreamPayloadAsync(ModelPayloadKind.FullCheckpoint, version, bytes, sha, request.ResumeOffset, responseStream, context).ConfigureAwait(false);
            return;
        }
        var delta = coordinator.GetModel(caller, (long)request.SinceVersion);
        if (delta.Kind == ModelDeltaKind.SeedDelta)
        {
            var seedDelta = SeedScalarDelta.Create(delta.FromVersion, options.FedKSeed.SeedCount, delta.SeedIndices, delta.ScalarDeltas);
            await responseStream.WriteAsync(new ModelChunk
            {
                FormatVersion = FormatVersion, ModelVersion = (ulong)delta.ToVersion, Kind = ModelPayloadKind.SeedDelta,
                Last = true, SeedDelta = seedDelta, BaseModel = Fingerprint(),
            }, context.CancellationToken).ConfigureAwait(false);
            return;
        }
        await StreamPayloadAsync(ModelPayloadKind.CompressedAdapter, delta.ToVersion, delta.Payload, SHA256.HashData(delta.Payload),
            request.ResumeOffset, responseStream, context).ConfigureAwait(false);
    }

    /// <summary>Byte payloads: contiguous chunks of ≤ ModelChunkBytes from resume_offset; SHA-256 of the whole payload on each.</summary>
    private async Task StreamPayloadAsync(ModelPayloadKind kind, long version, byte[] payload, byte[] sha256, ulong resumeOffset,
        IServerStreamWriter<ModelChunk> responseStream, ServerCallContext context)
    {
        if (resumeOffset > (ulong)payload.Length)
            throw FederationException.Invalid($"resume_offset {resumeOffset} is beyond the payload's {payload.Length} bytes.");
        var sha = ByteString.CopyFrom(sha256);
        int offset = (int)resumeOffset;
        do
        {
            int length = Math.Min(options.ModelChunkBytes, payload.Length - offset);
            await responseStream.WriteAsync(new ModelChunk
            {
                FormatVersion = FormatVersion, ModelVersion = (ulong)version, Kind = kind,
                TotalBytes = (ulong)payload.Length, Sha256 = sha, Offset = (ulong)offset,
                Data = ByteString.CopyFrom(payload, offset, length), Last = offset + length == payload.Length, BaseModel = Fingerprint(),
            }, context.CancellationToken).ConfigureAwait(false);
            offset += length;
        }
        while (offset < payload.Length);
    }

    public override Task<UpdateReceipt> PushUpdate(ClientUpdate request, ServerCallContext context)
    {
        CheckFormat(request.FormatVersion);
        CheckBaseModel(request.BaseModel, required: true);
        string clientId = CallerId(request.ClientId, context);
        byte[] payload = request.PayloadCase switch
        {
            ClientUpdate.PayloadOneofCase.SeedScalars when coordinator.Method == TrainingMethodKind.FedKSeed => request.SeedScalars.ToByteArray(),
            ClientUpdate.PayloadOneofCase.Compressed when coordinator.Method == TrainingMethodKind.ComPeft => request.Compressed.Payload.ToByteArray(),
            ClientUpdate.PayloadOneofCase.None => throw FederationException.Invalid("The update has no payload; set seed_scalars or compressed."),
            _ => throw FederationException.Invalid($"The payload {request.PayloadCase} does not match the federation's method {coordinator.Method}."),
        };
        if (payload.Length > options.MaxMessageBytes)
            throw new FederationException(FederationError.ResourceExhausted, $"The payload has {payload.Length} bytes; the limit is {options.MaxMessageBytes}.");
        var receipt = coordinator.PushUpdate(new UpdateSubmission(clientId, (long)request.RoundId, (long)request.ModelVersion,
            request.SampleCount, payload, request.Metrics));
        return Task.FromResult(new UpdateReceipt
        {
            FormatVersion = FormatVersion, RoundId = (ulong)receipt.RoundId, Duplicate = receipt.Duplicate,
            UpdateSha256 = ByteString.CopyFrom(receipt.UpdateSha256), AcceptedAt = Timestamp.FromDateTimeOffset(receipt.AcceptedAt),
        });
    }

    public override Task<DeclineReceipt> DeclineTask(TaskDecline request, ServerCallContext context)
    {
        CheckFormat(request.FormatVersion);
        coordinator.DeclineTask(CallerId(request.ClientId, context), (long)request.RoundId, request.Reason);
        return Task.FromResult(new DeclineReceipt { FormatVersion = FormatVersion, RoundId = request.RoundId });
    }

    public override Task<FederationStatus> GetStatus(StatusRequest request, ServerCallContext context)
    {
        CheckFormat(request.FormatVersion);
        var s = coordinator.GetStatus();
        var status = new FederationStatus
        {
            FormatVersion = FormatVersion,
            Method = s.Method == TrainingMethodKind.FedKSeed ? "fedkseed" : "compeft",
            Round = (ulong)s.Round, ModelVersion = (ulong)s.ModelVersion,
            State = s.Finished ? RoundState.Finished : s.WaitingForClients ? RoundState.WaitingForClients
                : s.Phase == RoundPhase.Aggregating ? RoundState.Aggregating : RoundState.Open,
            EnrolledClients = (uint)s.EnrolledClients, UpdatesReceived = (uint)s.UpdatesReceived, UpdatesRequired = (uint)s.UpdatesRequired,
            BaseModel = Fingerprint(), FederationId = s.FederationId,
        };
        if (s.RoundDeadline is { } deadline) status.RoundDeadline = Timestamp.FromDateTimeOffset(deadline);
        return Task.FromResult(status);
    }

    // ---- edge checks ---------------------------------------------------------------------------------------------

    private static void CheckFormat(uint version)
    {
        if (version != FormatVersion)
            throw FederationException.Invalid($"format_version {version} is not supported; this server speaks {FormatVersion}.");
    }

    private void CheckBaseModel(BaseModelFingerprint? fingerprint, bool required)
    {
        if (options.BaseModel is not { } expected) return;
        if (fingerprint is null || fingerprint.Sha256.IsEmpty)
        {
            if (required) throw FederationException.Invalid("base_model is unset; updates must name the base model they were trained on.");
            return;
        }
        if (!fingerprint.Sha256.Span.SequenceEqual(expected.Sha256))
            throw FederationException.Precondition(
                $"base model sha256 {Convert.ToHexStringLower(fingerprint.Sha256.Span)} differs from the federation's {Convert.ToHexStringLower(expected.Sha256)}.");
    }

    private static string CallerId(string claimed, ServerCallContext context)
    {
        string caller = (string)context.UserState[AuthInterceptor.ClientIdKey];
        if (claimed.Length > 0 && claimed != caller)
            throw new FederationException(FederationError.PermissionDenied, $"client_id {claimed} is not the authenticated client.");
        return caller;
    }

    private BaseModelFingerprint? Fingerprint() => options.BaseModel is not { } m ? null : new BaseModelFingerprint
    {
        Sha256 = ByteString.CopyFrom(m.Sha256), ConfigSha256 = ByteString.CopyFrom(m.ConfigSha256),
        WeightsSha256 = ByteString.CopyFrom(m.WeightsSha256), Name = m.Name, ParameterCount = m.ParameterCount,
    };

    private static TrainingMethod ToWire(TrainingMethodKind method) => (TrainingMethod)(int)method;
}
