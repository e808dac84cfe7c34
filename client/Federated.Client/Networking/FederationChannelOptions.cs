namespace Federated.Client.Networking;

/// <summary>
/// The one retry layer of the client (Polly): retry with exponential backoff and jitter → circuit breaker → per-attempt
/// timeout. Durations are measured by the injected TimeProvider. Defaults suit a phone or laptop on a flaky network.
/// </summary>
public sealed class FederationChannelOptions
{
    /// <summary>Time limit of one attempt of a unary call. Default 30 seconds.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Time limit of one attempt of a model download (GetModel stream). Default 10 minutes.</summary>
    public TimeSpan DownloadAttemptTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Retries after the first attempt of one call. Default 20 (about 15 minutes at the delay cap).</summary>
    public int MaxRetryAttempts { get; set; } = 20;

    /// <summary>First backoff delay; doubles per retry, with decorrelated jitter. Default 1 second. 0 = retry at once (tests).</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Cap of one backoff delay. Default 60 seconds.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Failure ratio over <see cref="BreakerSamplingDuration"/> that opens the circuit. Default 0.5.</summary>
    public double BreakerFailureRatio { get; set; } = 0.5;

    /// <summary>Calls needed in the sampling window before the breaker may open. Default 8.</summary>
    public int BreakerMinimumThroughput { get; set; } = 8;

    /// <summary>Window over which the failure ratio is measured. Default 30 seconds.</summary>
    public TimeSpan BreakerSamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the circuit stays open (calls fail fast, the retry waits) before a trial call. Default 15 seconds.</summary>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Largest message the client accepts from the server, bytes. Default 64 MiB.</summary>
    public int MaxReceiveMessageBytes { get; set; } = 64 << 20;

    public void Validate()
    {
        if (AttemptTimeout < TimeSpan.FromMilliseconds(10)) throw new ArgumentOutOfRangeException(nameof(AttemptTimeout), AttemptTimeout, "AttemptTimeout must be at least 10 ms.");
        if (DownloadAttemptTimeout < TimeSpan.FromMilliseconds(10)) throw new ArgumentOutOfRangeException(nameof(DownloadAttemptTimeout), DownloadAttemptTimeout, "DownloadAttemptTimeout must be at least 10 ms.");
        if (MaxRetryAttempts < 0) throw new ArgumentOutOfRangeException(nameof(MaxRetryAttempts), MaxRetryAttempts, "MaxRetryAttempts must not be negative.");
        if (BaseDelay < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(BaseDelay), BaseDelay, "BaseDelay must not be negative.");
        if (MaxDelay < BaseDelay) throw new ArgumentOutOfRangeException(nameof(MaxDelay), MaxDelay, "MaxDelay must be at least BaseDelay.");
        if (BreakerFailureRatio is <= 0 or > 1) throw new ArgumentOutOfRangeException(nameof(BreakerFailureRatio), BreakerFailureRatio, "BreakerFailureRatio must be in (0, 1].");
        if (BreakerMinimumThroughput < 2) throw new ArgumentOutOfRangeException(nameof(BreakerMinimumThroughput), BreakerMinimumThroughput, "BreakerMinimumThroughput must be at least 2.");
        if (BreakerSamplingDuration < TimeSpan.FromMilliseconds(500)) throw new ArgumentOutOfRangeException(nameof(BreakerSamplingDuration), BreakerSamplingDuration, "BreakerSamplingDuration must be at least 500 ms.");
        if (BreakDuration < TimeSpan.FromMilliseconds(500)) throw new ArgumentOutOfRangeException(nameof(BreakDuration), BreakDuration, "BreakDuration must be at least 500 ms.");
        if (MaxReceiveMessageBytes < 1024) throw new ArgumentOutOfRangeException(nameof(MaxReceiveMessageBytes), MaxReceiveMessageBytes, "MaxReceiveMessageBytes must be at least 1024.");
    }
}
