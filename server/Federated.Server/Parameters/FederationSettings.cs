namespace Federated.Server.Parameters;

/// <summary>
/// The settings every federation has whatever its method, and the single home of their defaults: `federated simulate`,
/// `federated serve` and `federated audit` read them through the same options (cli FederationOptions), a model folder's
/// federation.json may recommend other values, and the command line overrides both.
/// </summary>
public sealed record FederationSettings
{
    /// <summary>The defaults.</summary>
    public static FederationSettings Default { get; } = new();

    /// <summary>N, simulated clients (`simulate`, `audit`; a server's population is whoever enrolls).</summary>
    public int Clients { get; init; } = 200;

    /// <summary>M, clients selected per round.</summary>
    public int ClientsPerRound { get; init; } = 10;

    /// <summary>R, rounds.</summary>
    public int Rounds { get; init; } = 5;

    /// <summary>Run seed: the data partition, client selection, each client's per-round step seed, FedKSeed's seed pool
    /// and ComPEFT's shared LoRA A.</summary>
    public ulong Seed { get; init; } = 42;
}
