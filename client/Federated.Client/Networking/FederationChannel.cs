using System.Globalization;
using System.Security.Cryptography;
using Federated.Protocol.V1;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace Federated.Client.Networking;

/// <summary>
/// The client's gRPC connection to a federation server with exactly one retry layer: a Polly pipeline of retry
/// (exponential backoff, decorrelated jitter) → circuit breaker → per-attempt timeout. gRPC's own retry policy is not
/// configured. Transient failures (UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED, INTERNAL transport errors, attempt
/// timeouts, an open circuit) are retried; so is RESOURCE_EXHAUSTED carrying the server's `grpc-retry-pushback-ms`
/// trailer (a rate-limit refusal), after at least the pushback. Every other status is final and surfaces as
/// <see cref="RpcException"/>, RESOURCE_EXHAUSTED without pushback (a message above the server's size limit) included.
/// PushUpdate is safe to retry because the server is idempotent by (client, round).
/// </summary>
public sealed class FederationChannel : IDisposable
{
    private static readonly ResiliencePropertyKey<TimeSpan> TimeoutKey = new("federated.attempt-timeout");
    /// <summary>Largest extra fraction of a rate-limit wait added as jitter, so refused clients do not return together.</summary>
    internal const double PushbackJitter = 0.2;
    private readonly GrpcChannel _channel;
    private readonly Federation.FederationClient _client;
    private readonly ResiliencePipeline _pipeline;
    private readonly FederationChannelOptions _options;
    private readonly ILogger _logger;

    public FederationChannel(GrpcChannel channel, FederationChannelOptions options, TimeProvider time, ILogger<FederationChannel>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        options.Validate();
        _channel = channel;
        _client = new Federation.FederationClient(channel);
        _options = options;
        _logger = logger ?? NullLogger<FederationChannel>.Instance;
        _pipeline = BuildPipeline(options, time, _logger);
    }

    /// <summary>Opens a channel to <paramref name="server"/> (http:// = h2c, https:// = TLS). <paramref name="handler"/>
    /// replaces the socket handler (tests: a TestServer handler, optionally wrapped in a fault injector).</summary>
    public static FederationChannel Create(Uri server, FederationChannelOptions options, TimeProvider? time = null,
        HttpMessageHandler? handler = null, ILoggerFactory? loggers = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(options);
        var channel = GrpcChannel.ForAddress(server, new GrpcChannelOptions
        {
            HttpHandler = handler ?? new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = true,
                KeepAlivePingDelay = TimeSpan.FromSeconds(30),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(15),
                KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
                ConnectTimeout = TimeSpan.FromSeconds(15),
            },
            MaxReceiveMessageSize = options.MaxReceiveMessageBytes,
            ThrowOperationCanceledOnCancellation = true,   // so Polly's timeout sees an OperationCanceledException
            LoggerFactory = loggers,
        });
        return new FederationChannel(channel, options, time ?? TimeProvider.System, loggers?.CreateLogger<FederationChannel>());
    }

    /// <summary>The credential sent as `authorization: Bearer …` on every call except Enroll.</summary>
    public string? BearerToken { get; set; }

    public Task<Enrollment> EnrollAsync(EnrollmentRequest request, CancellationToken cancellationToken) =>
        UnaryAsync(request, static (c, r, o) => c.EnrollAsync(r, o), authenticate: false, cancellationToken);

    public Task<RoundTask> GetTaskAsync(TaskRequest request, CancellationToken cancellationToken) =>
        UnaryAsync(request, static (c, r, o) => c.GetTaskAsync(r, o), authenticate: true, cancellationToken);

    public Task<UpdateReceipt> PushUpdateAsync(ClientUpdate request, CancellationToken cancellationToken) =>
        UnaryAsync(request, static (c, r, o) => c.PushUpdateAsync(r, o), authenticate: true, cancellationToken);

    public Task<DeclineReceipt> DeclineTaskAsync(TaskDecline request, CancellationToken cancellationToken) =>
        UnaryAsync(request, static (c, r, o) => c.DeclineTaskAsync(r, o), authenticate: true, cancellationToken);

    public Task<FederationStatus> GetStatusAsync(CancellationToken cancellationToken) =>
        UnaryAsync(new StatusRequest { FormatVersion = 1 }, static (c, r, o) => c.GetStatusAsync(r, o), authenticate: true, cancellationToken);

    /// <summary>Downloads a model change. Byte payloads resume from the bytes already received when an attempt fails
    /// (resume_offset), then are checked: contiguous offsets, total size, SHA-256.</summary>
    /// <exception cref="InvalidDataException">The server sent an inconsistent stream.</exception>
    public async Task<ModelDownload> GetModelAsync(ModelRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var received = new MemoryStream();
        ModelChunk? first = null;
        ModelChunk? last = null;
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(TimeoutKey, _options.DownloadAttemptTimeout);
        try
        {
            await _pipeline.ExecuteAsync(async ctx =>
            {
                var attempt = request.Clone();
                attempt.ResumeOffset = request.ResumeOffset + (ulong)received.Length;
                using var call = _client.GetModel(attempt, Options(true, ctx.CancellationToken));
                await foreach (var chunk in WithPeerCancellation(call.ResponseStream.ReadAllAsync(ctx.CancellationToken), ctx.CancellationToken).ConfigureAwait(false))
                {
                    first ??= chunk;
                    if (chunk.Kind == ModelPayloadKind.SeedDelta)
                    {
                        last = chunk;
                        break;
                    }
                    if (chunk.Offset != request.ResumeOffset + (ulong)received.Length)
                        throw new InvalidDataException($"Model chunk at offset {chunk.Offset} does not follow the {received.Length} bytes received.");
                    chunk.Data.WriteTo(received);
                    last = chunk;
                    if (chunk.Last) break;
                }
            }, context).ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
        if (first is null || last is null) throw new InvalidDataException("The server sent an empty model stream.");
        if (last.Kind == ModelPayloadKind.SeedDelta)
        {
            if (last.SeedDelta is null) throw new InvalidDataException("A SEED_DELTA chunk has no seed_delta.");
            if (last.SeedDelta.SeedIndices.Count != last.SeedDelta.ScalarDeltas.Count)
                throw new InvalidDataException("seed_delta has different numbers of seed_indices and scalar_deltas.");
            return new ModelDownload(last, []);
        }
        byte[] payload = received.ToArray();
        if (!last.Last || (ulong)payload.Length + request.ResumeOffset != last.TotalBytes)
            throw new InvalidDataException($"The model stream ended after {payload.Length} of {last.TotalBytes} bytes.");
        if (request.ResumeOffset == 0 && !first.Sha256.IsEmpty && !SHA256.HashData(payload).AsSpan().SequenceEqual(first.Sha256.Span))
            throw new InvalidDataException("The downloaded model payload does not match its SHA-256.");
        return new ModelDownload(last, payload);
    }

    private async Task<TResponse> UnaryAsync<TRequest, TResponse>(TRequest request,
        Func<Federation.FederationClient, TRequest, CallOptions, AsyncUnaryCall<TResponse>> call, bool authenticate, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(TimeoutKey, _options.AttemptTimeout);
        try
        {
            return await _pipeline.ExecuteAsync(async ctx =>
            {
                using var pending = call(_client, request, Options(authenticate, ctx.CancellationToken));
                try
                {
                    return await pending.ResponseAsync.ConfigureAwait(false);
                }
                catch (OperationCanceledException ex) when (!ctx.CancellationToken.IsCancellationRequested)
                {
                    throw PeerCancelled(ex);
                }
            }, context).ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>A call cancelled while neither the caller nor the attempt timeout cancelled it was reset by the peer or
    /// a proxy (HTTP/2 RST_STREAM CANCEL): a transport failure, retried as UNAVAILABLE.</summary>
    private static RpcException PeerCancelled(OperationCanceledException ex) =>
        new(new Status(StatusCode.Unavailable, "The call was reset by the server or a proxy.", ex));

    private static async IAsyncEnumerable<T> WithPeerCancellation<T>(IAsyncEnumerable<T> source,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var e = source.GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            try
            {
                if (!await e.MoveNextAsync().ConfigureAwait(false)) yield break;
            }
            catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw PeerCancelled(ex);
            }
            yield return e.Current;
        }
    }

    private CallOptions Options(bool authenticate, CancellationToken cancellationToken)
    {
        Metadata? headers = null;
        if (authenticate && BearerToken is { } token) headers = new Metadata { { "authorization", "Bearer " + token } };
        return new CallOptions(headers, cancellationToken: cancellationToken);
    }

    /// <summary>Failures worth another attempt: the network, the server restarting, an attempt timeout, an open circuit.</summary>
    internal static bool IsTransient(Exception ex) => ex switch
    {
        RpcException rpc => rpc.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Aborted
            || (rpc.StatusCode is StatusCode.Internal or StatusCode.Unknown && rpc.InnerException is HttpRequestException or IOException),
        TimeoutRejectedException or BrokenCircuitException or HttpRequestException or IOException => true,
        _ => false,
    };

    /// <summary>The server's pushback of a rate-limit refusal: RESOURCE_EXHAUSTED with a `grpc-retry-pushback-ms` trailer
    /// holding a non-negative int32 count of milliseconds. Null otherwise (no trailer: the message was too large, a final
    /// refusal; a negative or unparsable value: A6's "do not retry").</summary>
    internal static TimeSpan? RetryPushback(Exception? ex) =>
        ex is RpcException { StatusCode: StatusCode.ResourceExhausted } rpc
        && rpc.Trailers.GetValue(FederationMetadata.RetryPushbackTrailer) is { } value
        && int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int ms)
            ? TimeSpan.FromMilliseconds(ms) : null;

    /// <summary>Wait before retry <paramref name="attempt"/> (0-based) after a pushback p: w = max(p, b) with the
    /// un-jittered backoff b = min(BaseDelay·2^attempt, MaxDelay), plus jitter w·<see cref="PushbackJitter"/>·u for u in
    /// [0, 1). Never below p (the server would refuse again) and not capped by MaxDelay (the server knows its window).</summary>
    internal static TimeSpan RateLimitDelay(TimeSpan pushback, int attempt, FederationChannelOptions options, double unit)
    {
        double backoffTicks = Math.Min(options.BaseDelay.Ticks * Math.Pow(2, Math.Min(attempt, 62)), options.MaxDelay.Ticks);
        double waitTicks = Math.Max(pushback.Ticks, backoffTicks);
        return TimeSpan.FromTicks((long)(waitTicks * (1 + PushbackJitter * unit)));
    }

    internal static ResiliencePipeline BuildPipeline(FederationChannelOptions options, TimeProvider time, ILogger logger)
    {
        // Retried: transport failures and rate-limit refusals. Only transport failures count towards the breaker: a
        // server that refuses by rate is up, and opening the circuit would not make it admit the call any sooner.
        var transient = new PredicateBuilder().Handle<Exception>(ex => IsTransient(ex) || RetryPushback(ex) is not null);
        var builder = new ResiliencePipelineBuilder { TimeProvider = time };
        if (options.MaxRetryAttempts > 0)   // Polly requires ≥ 1; 0 = no retry strategy at all
            builder.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = transient,
                MaxRetryAttempts = options.MaxRetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.BaseDelay,
                MaxDelay = options.MaxDelay,
                DelayGenerator = args => ValueTask.FromResult(RetryPushback(args.Outcome.Exception) is { } pushback
                    ? RateLimitDelay(pushback, args.AttemptNumber, options, Random.Shared.NextDouble())
                    : (TimeSpan?)null),   // null: Polly's exponential backoff with jitter
                OnRetry = args =>
                {
                    if (RetryPushback(args.Outcome.Exception) is not null)
                        ChannelLog.RateLimited(logger, args.RetryDelay.TotalSeconds);
                    else
                        ChannelLog.Retrying(logger, args.AttemptNumber + 1, args.RetryDelay, args.Outcome.Exception?.Message ?? "");
                    return default;
                },
            });
        return builder
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(ex => ex is not BrokenCircuitException && IsTransient(ex)),
                FailureRatio = options.BreakerFailureRatio,
                MinimumThroughput = options.BreakerMinimumThroughput,
                SamplingDuration = options.BreakerSamplingDuration,
                BreakDuration = options.BreakDuration,
                OnOpened = args =>
                {
                    ChannelLog.CircuitOpened(logger, args.BreakDuration);
                    return default;
                },
            })
            .AddTimeout(new TimeoutStrategyOptions
            {
                TimeoutGenerator = args => ValueTask.FromResult(
                    args.Context.Properties.TryGetValue(TimeoutKey, out var t) ? t : options.AttemptTimeout),
            })
            .Build();
    }

    public void Dispose() => _channel.Dispose();
}

/// <summary>A verified GetModel result: the last chunk (model_version, kind, seed_delta, layout) and, for byte
/// payloads, the reassembled bytes.</summary>
public sealed record ModelDownload(ModelChunk Last, byte[] Payload);

/// <summary>Structured logs of the client channel (event ids 300-349).</summary>
internal static partial class ChannelLog
{
    [LoggerMessage(300, LogLevel.Warning, "Call failed ({Reason}); attempt {Attempt} in {Delay}")]
    public static partial void Retrying(ILogger logger, int attempt, TimeSpan delay, string reason);

    [LoggerMessage(301, LogLevel.Warning, "Circuit opened for {Duration}: the server looks unreachable")]
    public static partial void CircuitOpened(ILogger logger, TimeSpan duration);

    [LoggerMessage(302, LogLevel.Information, "rate limited by the server; retrying in {Seconds:0.#} s")]
    public static partial void RateLimited(ILogger logger, double seconds);
}
