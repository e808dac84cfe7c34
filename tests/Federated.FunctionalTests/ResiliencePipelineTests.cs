using Federated.Protocol.V1;
using Federated.Client.Networking;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Federated.FunctionalTests;

/// <summary>The client's single retry layer on a FakeTimeProvider: backoff waits on the clock, attempt timeouts fire
/// on the clock, the breaker opens and closes on the clock, and final statuses are not retried.</summary>
public sealed class ResiliencePipelineTests
{
    private static readonly RpcException Unavailable = new(new Status(StatusCode.Unavailable, "down"));

    private static Polly.ResiliencePipeline Pipeline(FakeTimeProvider time, Action<FederationChannelOptions>? configure = null, ILogger? logger = null)
    {
        var options = new FederationChannelOptions { BaseDelay = TimeSpan.FromSeconds(1), MaxDelay = TimeSpan.FromSeconds(10), MaxRetryAttempts = 3 };
        configure?.Invoke(options);
        return FederationChannel.BuildPipeline(options, time, logger ?? NullLogger.Instance);
    }

    /// <summary>What the server's rate limiter answers (FederationRateLimiting): RESOURCE_EXHAUSTED + pushback trailer.</summary>
    private static RpcException RateLimited(string? pushbackMs) =>
        new(new Status(StatusCode.ResourceExhausted, "Too many PushUpdate calls from this client."),
            pushbackMs is null ? Metadata.Empty : new Metadata { { FederationMetadata.RetryPushbackTrailer, pushbackMs } });

    [Fact]
    public async Task Execute_FinalStatus_NotRetried()
    {
        // Arrange
        var pipeline = Pipeline(new FakeTimeProvider());
        int attempts = 0;

        // Act
        var ex = await Assert.ThrowsAsync<RpcException>(async () => await pipeline.ExecuteAsync<int>(_ =>
        {
            attempts++;
            throw new RpcException(new Status(StatusCode.InvalidArgument, "bad"));
        }));

        // Assert
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Equal(1, attempts);
    }

    [Fact]
    public async Task Execute_TransientThenSuccess_WaitsForBackoffOnTheClock()
    {
        // Arrange
        var time = new FakeTimeProvider();
        var pipeline = Pipeline(time);
        int attempts = 0;

        // Act
        var task = pipeline.ExecuteAsync(_ => ++attempts == 1 ? throw Unavailable : ValueTask.FromResult(42)).AsTask();
        bool completedBeforeClockMoved = task.IsCompleted;
        time.Advance(TimeSpan.FromSeconds(10));   // ≥ the capped first backoff delay
        int result = await task;

        // Assert
        Assert.False(completedBeforeClockMoved);
        Assert.Equal(42, result);
        Assert.Equal(2, attempts);
    }

    [Fact]
    public async Task Execute_AttemptHangs_TimesOutOnTheClockAndRetries()
    {
        // Arrange: the first attempt never answers (a silent network); the second answers at once.
        var time = new FakeTimeProvider();
        var pipeline = Pipeline(time, o => { o.BaseDelay = TimeSpan.Zero; o.MaxDelay = TimeSpan.Zero; o.AttemptTimeout = TimeSpan.FromSeconds(30); });
        int attempts = 0;

        // Act
        var task = pipeline.ExecuteAsync(async ct =>
        {
            if (++attempts == 1) await Task.Delay(Timeout.InfiniteTimeSpan, ct);
            return 7;
        }).AsTask();
        time.Advance(TimeSpan.FromSeconds(30));
        int result = await task;

        // Assert
        Assert.Equal(7, result);
        Assert.Equal(2, attempts);
    }

    [Fact]
    public async Task Execute_NoRetriesLeftAndHanging_TimeoutRejected()
    {
        // Arrange
        var time = new FakeTimeProvider();
        var pipeline = Pipeline(time, o => { o.MaxRetryAttempts = 0; o.AttemptTimeout = TimeSpan.FromSeconds(5); });

        // Act
        var task = pipeline.ExecuteAsync(async ct => { await Task.Delay(Timeout.InfiniteTimeSpan, ct); return 0; }).AsTask();
        time.Advance(TimeSpan.FromSeconds(5));

        // Assert
        await Assert.ThrowsAsync<TimeoutRejectedException>(() => task);
    }

    [Fact]
    public async Task Execute_RepeatedFailures_BreakerOpensFailsFastThenClosesAfterBreakDuration()
    {
        // Arrange: no retries, so each call is one attempt; breaker opens at ratio 0.5 over ≥ 2 calls.
        var time = new FakeTimeProvider();
        var pipeline = Pipeline(time, o =>
        {
            o.MaxRetryAttempts = 0; o.BreakerMinimumThroughput = 2; o.BreakerFailureRatio = 0.5; o.BreakDuration = TimeSpan.FromSeconds(15);
        });
        int attempts = 0;
        ValueTask<int> Failing(CancellationToken _) { attempts++; throw Unavailable; }
        await Assert.ThrowsAsync<RpcException>(async () => await pipeline.ExecuteAsync(Failing));
        await Assert.ThrowsAsync<RpcException>(async () => await pipeline.ExecuteAsync(Failing));

        // Act
        var whileOpen = await Record.ExceptionAsync(async () => await pipeline.ExecuteAsync(Failing));
        int attemptsWhileOpen = attempts;
        time.Advance(TimeSpan.FromSeconds(15));
        int afterBreak = await pipeline.ExecuteAsync(_ => { attempts++; return ValueTask.FromResult(1); });

        // Assert
        Assert.IsType<BrokenCircuitException>(whileOpen);
        Assert.Equal(2, attemptsWhileOpen);   // the open circuit did not call the server
        Assert.Equal(1, afterBreak);
        Assert.Equal(3, attempts);
    }

    [Theory]
    [InlineData(StatusCode.Unavailable, true)]
    [InlineData(StatusCode.DeadlineExceeded, true)]
    [InlineData(StatusCode.FailedPrecondition, false)]
    [InlineData(StatusCode.AlreadyExists, false)]
    [InlineData(StatusCode.Unauthenticated, false)]
    [InlineData(StatusCode.ResourceExhausted, false)]
    public void IsTransient_Status_RetriedOnlyForTransportFailures(StatusCode code, bool expected)
    {
        // Act
        bool transient = FederationChannel.IsTransient(new RpcException(new Status(code, "")));

        // Assert
        Assert.Equal(expected, transient);
    }

    [Theory]
    [InlineData(StatusCode.ResourceExhausted, "1500", 1500)]
    [InlineData(StatusCode.ResourceExhausted, "0", 0)]
    [InlineData(StatusCode.ResourceExhausted, null, null)]      // message too large: no pushback, final
    [InlineData(StatusCode.ResourceExhausted, "-1", null)]      // gRPC A6: a negative pushback means "do not retry"
    [InlineData(StatusCode.ResourceExhausted, "soon", null)]
    [InlineData(StatusCode.ResourceExhausted, "99999999999", null)]   // beyond int32 milliseconds
    [InlineData(StatusCode.Unavailable, "1500", null)]
    public void RetryPushback_Trailer_OnlyAValidPushbackOnResourceExhausted(StatusCode code, string? trailer, int? expectedMs)
    {
        // Arrange
        var ex = new RpcException(new Status(code, ""), trailer is null ? Metadata.Empty : new Metadata { { FederationMetadata.RetryPushbackTrailer, trailer } });

        // Act
        var pushback = FederationChannel.RetryPushback(ex);

        // Assert
        Assert.Equal(expectedMs is { } ms ? TimeSpan.FromMilliseconds(ms) : null, pushback);
    }

    [Theory]
    // Hand-worked with BaseDelay 1 s, MaxDelay 10 s: w = max(p, min(1 s·2^attempt, 10 s)), delay = w·(1 + 0.2·u).
    [InlineData(5000, 0, 0.0, 5000)]     // max(5 s, 1 s)
    [InlineData(5000, 0, 0.5, 5500)]     // 5 s · 1.1
    [InlineData(1000, 3, 0.0, 8000)]     // the backoff 1 s·2³ = 8 s is longer than the pushback
    [InlineData(500, 10, 0.0, 10000)]    // backoff capped at MaxDelay
    [InlineData(30000, 10, 0.0, 30000)]  // a pushback beyond MaxDelay is still honoured
    public void RateLimitDelay_PushbackAndBackoff_LongerOfTheTwoPlusJitter(int pushbackMs, int attempt, double unit, int expectedMs)
    {
        // Arrange
        var options = new FederationChannelOptions { BaseDelay = TimeSpan.FromSeconds(1), MaxDelay = TimeSpan.FromSeconds(10) };

        // Act
        var delay = FederationChannel.RateLimitDelay(TimeSpan.FromMilliseconds(pushbackMs), attempt, options, unit);

        // Assert
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), delay);
    }

    [Fact]
    public async Task Execute_RateLimitedWithPushback_WaitsAtLeastThePushbackOnTheClockThenRetries()
    {
        // Arrange: pushback 5 s ≥ the first backoff (1 s), so the wait is 5 s to 6 s (≤ 20 % jitter).
        var time = new FakeTimeProvider();
        var log = new RecordingLogger();
        var pipeline = Pipeline(time, logger: log.CreateLogger("channel"));
        int attempts = 0;

        // Act
        var task = pipeline.ExecuteAsync(_ => ++attempts == 1 ? throw RateLimited("5000") : ValueTask.FromResult(42)).AsTask();
        time.Advance(TimeSpan.FromMilliseconds(4999));
        bool completedBeforePushback = task.IsCompleted;
        int attemptsBeforePushback = attempts;
        time.Advance(TimeSpan.FromSeconds(2));
        int result = await task;

        // Assert
        Assert.False(completedBeforePushback);
        Assert.Equal(1, attemptsBeforePushback);
        Assert.Equal(42, result);
        Assert.Equal(2, attempts);
        var waits = log.Of("channel", 302);
        var wait = Assert.Single(waits);
        Assert.Equal(LogLevel.Information, wait.Level);
        Assert.InRange((double)wait.Values["Seconds"]!, 5.0, 6.0);
        Assert.StartsWith("rate limited by the server; retrying in 5", wait.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Execute_ResourceExhaustedWithoutPushback_NotRetried()
    {
        // Arrange
        var pipeline = Pipeline(new FakeTimeProvider());
        int attempts = 0;

        // Act
        var ex = await Assert.ThrowsAsync<RpcException>(async () => await pipeline.ExecuteAsync<int>(_ =>
        {
            attempts++;
            throw RateLimited(null);
        }));

        // Assert
        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.Equal(1, attempts);
    }

    [Fact]
    public async Task Execute_RepeatedRateLimits_BreakerStaysClosed()
    {
        // Arrange: no retries; a breaker that would open after 2 failures in 2 calls if rate limits counted as failures.
        var time = new FakeTimeProvider();
        var pipeline = Pipeline(time, o => { o.MaxRetryAttempts = 0; o.BreakerMinimumThroughput = 2; o.BreakerFailureRatio = 0.5; });
        int attempts = 0;
        ValueTask<int> Refused(CancellationToken _) { attempts++; throw RateLimited("1000"); }
        await Assert.ThrowsAsync<RpcException>(async () => await pipeline.ExecuteAsync(Refused));
        await Assert.ThrowsAsync<RpcException>(async () => await pipeline.ExecuteAsync(Refused));

        // Act
        int third = await pipeline.ExecuteAsync(_ => { attempts++; return ValueTask.FromResult(3); });

        // Assert: the third call reached the server (an open circuit would have thrown BrokenCircuitException).
        Assert.Equal(3, third);
        Assert.Equal(3, attempts);
    }
}
