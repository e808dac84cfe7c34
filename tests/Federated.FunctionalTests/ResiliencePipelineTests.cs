using Federated.Client.Networking;
using Grpc.Core;
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

    private static Polly.ResiliencePipeline Pipeline(FakeTimeProvider time, Action<FederationChannelOptions>? configure = null)
    {
        var options = new FederationChannelOptions { BaseDelay = TimeSpan.FromSeconds(1), MaxDelay = TimeSpan.FromSeconds(10), MaxRetryAttempts = 3 };
        configure?.Invoke(options);
        return FederationChannel.BuildPipeline(options, time, NullLogger.Instance);
    }

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
}
