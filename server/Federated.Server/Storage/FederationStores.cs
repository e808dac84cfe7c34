namespace Federated.Server.Storage;

/// <summary>
/// Opens a federation store from a location string, so hosts and tools choose a store without naming its type:
/// <c>memory</c> (<see cref="InMemoryFederationStore"/>, nothing survives the process) or <c>sqlite:PATH</c>
/// (<see cref="SqliteFederationStore"/> on PATH, created with its directory if missing). A new store kind adds one
/// prefix here.
/// </summary>
public static class FederationStores
{
    public const string Memory = "memory";
    public const string SqlitePrefix = "sqlite:";

    /// <summary>The SQLite location of a server data directory: <c>sqlite:DIR/federation.db</c>.</summary>
    public static string InDataDirectory(string dataDirectory) =>
        SqlitePrefix + Path.Combine(dataDirectory, "federation.db");

    /// <exception cref="ArgumentException">The location names no known store kind.</exception>
    /// <exception cref="FederationStoreException">The store could not be opened.</exception>
    public static IFederationStore Open(string location)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(location);
        if (location == Memory) return new InMemoryFederationStore();
        if (location.StartsWith(SqlitePrefix, StringComparison.Ordinal) && location.Length > SqlitePrefix.Length)
        {
            string path = location[SqlitePrefix.Length..];
            try
            {
                if (path != ":memory:" && Path.GetDirectoryName(Path.GetFullPath(path)) is { } directory)
                    Directory.CreateDirectory(directory);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new FederationStoreException($"The federation store's directory for {path} cannot be created: {ex.Message}", ex);
            }
            return new SqliteFederationStore(path);
        }
        throw new ArgumentException($"Store location \"{location}\" is neither \"{Memory}\" nor \"{SqlitePrefix}PATH\".", nameof(location));
    }
}
