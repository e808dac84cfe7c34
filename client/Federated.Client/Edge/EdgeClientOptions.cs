namespace Federated.Client.Edge;

/// <summary>Settings of an <see cref="EdgeClient"/>.</summary>
public sealed class EdgeClientOptions
{
    /// <summary>Server address, e.g. http://127.0.0.1:5080 (h2c) or https://fl.example.org:5080.</summary>
    public required Uri Server { get; init; }

    /// <summary>Enrollment token from the operator (used once; the credential is then kept in <see cref="StateDirectory"/>).</summary>
    public required string EnrollmentToken { get; init; }

    /// <summary>Directory of the client's durable state (identity, credential, pending update). Created if missing.</summary>
    public required string StateDirectory { get; init; }

    /// <summary>The trainer's part of the state (e.g. FedKSeed's exact global weights): <c>StateDirectory/model</c>. The
    /// edge client deletes it when it enrolls into another federation.</summary>
    public string TrainerStateDirectory => Path.Combine(StateDirectory, "model");

    /// <summary>The trainer's scratch files (e.g. FedKSeed's held-weights file; never resumed from): <c>StateDirectory/scratch</c>.</summary>
    public string ScratchDirectory => Path.Combine(StateDirectory, "scratch");

    /// <summary>Base-model SHA-256 (32 bytes) sent with every call; empty = not sent.</summary>
    public byte[] BaseModelSha256 { get; init; } = [];

    /// <summary>Upper bound of one wait between GetTask polls (the server's retry_after is used when shorter). Default 30 s.</summary>
    public TimeSpan MaxPollDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Random extra wait added to each poll, uniformly in [0, PollJitter], so clients do not poll in lockstep. Default 2 s.</summary>
    public TimeSpan PollJitter { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Local training examples reported at enrollment (informative; 0 = unknown).</summary>
    public ulong SampleCount { get; init; }

    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Server);
        if (!Server.IsAbsoluteUri || (Server.Scheme != Uri.UriSchemeHttp && Server.Scheme != Uri.UriSchemeHttps))
            throw new ArgumentException($"The server address {Server} must be an absolute http:// or https:// URL.", nameof(Server));
        if (string.IsNullOrWhiteSpace(EnrollmentToken)) throw new ArgumentException("The enrollment token is empty.", nameof(EnrollmentToken));
        if (string.IsNullOrWhiteSpace(StateDirectory)) throw new ArgumentException("The state directory is empty.", nameof(StateDirectory));
        if (BaseModelSha256.Length is not (0 or 32)) throw new ArgumentException("BaseModelSha256 must be 32 bytes or empty.", nameof(BaseModelSha256));
        if (MaxPollDelay < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(MaxPollDelay), MaxPollDelay, "MaxPollDelay must not be negative.");
        if (PollJitter < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(PollJitter), PollJitter, "PollJitter must not be negative.");
    }
}

/// <summary>What a finished <see cref="EdgeClient.RunAsync"/> did (cumulative over restarts of the same state directory).</summary>
public sealed record EdgeRunSummary(string ClientId, long RoundsPushed, long RoundsMissed, long ModelVersion);
