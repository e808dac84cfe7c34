using Federated.Server.Storage;

namespace Federated.Server.Tests.Storage;

/// <summary>The contract on SQLite files in fresh temp directories, opened through the store factory.</summary>
public sealed class SqliteFederationStoreContractTests : DurableFederationStoreContract
{
    private readonly List<string> _directories = [];

    protected override IFederationStore OpenStore()
    {
        string directory = Path.Combine(Path.GetTempPath(), "federated-store-contract", Guid.NewGuid().ToString("N"));
        _directories.Add(directory);
        return FederationStores.Open(FederationStores.InDataDirectory(directory));
    }

    protected override IFederationStore ReopenStore() => FederationStores.Open(FederationStores.InDataDirectory(_directories[0]));

    public override void Dispose()
    {
        base.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var directory in _directories)
            try { Directory.Delete(directory, true); } catch (IOException) { }
    }
}
