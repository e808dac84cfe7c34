using Federated.Protocol.V1;
using Federated.Server.Coordination;
using Federated.Server.Domain;
using Federated.Server.Storage;
using Federated.Server.Strategies;
using Google.Protobuf;
using Microsoft.Extensions.Time.Testing;

namespace Federated.Server.Tests;

/// <summary>A coordinator over a SQLite file in a fresh temp directory, a FedKSeed strategy (K = 16, τ = 4) and a fake
/// clock (or over the store <c>openStore</c> opens on that directory). <see cref="Reopen"/> simulates a restart: new
/// store, strategy and coordinator on the same file.</summary>
internal sealed class TestFederation : IDisposable
{
    public const string Token = "enroll-secret";
    private readonly Action<FederationCoordinatorOptions>? _configure;
    private readonly Func<string, IFederationStore> _openStore;

    public TestFederation(Action<FederationCoordinatorOptions>? configure = null, Func<string, IFederationStore>? openStore = null)
    {
        _configure = configure;
        _openStore = openStore ?? (directory => new SqliteFederationStore(Path.Combine(directory, "federation.db")));
        Directory = Path.Combine(Path.GetTempPath(), "federated-server-tests", Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
        Time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        Open();
    }

    public string Directory { get; }
    public FakeTimeProvider Time { get; }
    public IFederationStore Store { get; private set; } = null!;
    public FedKSeedStrategy Strategy { get; private set; } = null!;
    public FederationCoordinator Coordinator { get; private set; } = null!;

    public static FedKSeedStrategyOptions StrategyOptions => new() { SeedCount = 16, LocalSteps = 4 };

    private void Open()
    {
        var options = new FederationCoordinatorOptions
        {
            Rounds = 3, ClientsPerRound = 3, MinClients = 2, RoundTimeout = TimeSpan.FromMinutes(10),
            SelectionWindow = TimeSpan.FromSeconds(10), ClientLivenessWindow = TimeSpan.FromMinutes(30), SelectionSeed = 7,
        };
        options.EnrollmentTokens.Add(Token);
        _configure?.Invoke(options);
        Store = _openStore(Directory);
        Strategy = new FedKSeedStrategy(StrategyOptions);
        Coordinator = new FederationCoordinator(Store, Strategy, options, Time);
    }

    public void Reopen()
    {
        Store.Dispose();
        Open();
    }

    public string Enroll(string name) =>
        Coordinator.Enroll(Token, new ClientDescription(name, "linux-x64", "test", 10, [TrainingMethodKind.FedKSeed])).ClientId;

    public static byte[] Scalars(uint[] seeds, float[] scalars)
    {
        var message = new SeedScalars();
        message.SeedIndices.Add(seeds);
        message.Scalars.Add(scalars);
        return message.ToByteArray();
    }

    public UpdateReceiptInfo Push(string clientId, long round, byte[] payload, ulong samples = 1, long version = -1) =>
        Coordinator.PushUpdate(new UpdateSubmission(clientId, round, version >= 0 ? version : Store.LatestVersion(), samples,
            payload, new Dictionary<string, double> { ["train_loss"] = 1.5 }));

    public void Dispose()
    {
        Store.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { System.IO.Directory.Delete(Directory, true); } catch (IOException) { }
    }
}
