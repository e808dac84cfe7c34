using System.Text.Json;
using Federated.Protocol.V1;
using Google.Protobuf;

namespace Federated.Client.Edge;

/// <summary>
/// What an edge client keeps in its state directory so a crash or restart neither redoes nor loses a round:
/// <c>client.json</c> (identity, credential, last finished round) and <c>pending-update.pb</c> (the trained but not yet
/// acknowledged update, a serialized ClientUpdate). Every write is atomic: a temp file, flushed to disk, renamed over.
/// The directory holds a bearer secret: files are created owner-only (0600) on Unix.
/// </summary>
internal sealed class EdgeClientState
{
    private const string StateFile = "client.json";
    private const string PendingFile = "pending-update.pb";
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    private readonly string _directory;

    private EdgeClientState(string directory, Snapshot snapshot)
    {
        _directory = directory;
        Current = snapshot;
    }

    public Snapshot Current { get; private set; }

    /// <summary>Persisted fields. <see cref="LastFinishedRound"/>: highest round pushed (acknowledged) or given up.</summary>
    internal sealed record Snapshot
    {
        public string? Server { get; init; }
        public string ClientName { get; init; } = "";
        public string? ClientId { get; init; }
        public string? BearerToken { get; init; }
        public string? FederationId { get; init; }
        public long LastFinishedRound { get; init; }
        public long RoundsPushed { get; init; }
        public long RoundsMissed { get; init; }
        public long ModelVersion { get; init; }
    }

    public static EdgeClientState Open(string directory)
    {
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, StateFile);
        Snapshot snapshot;
        if (File.Exists(path))
        {
            try
            {
                snapshot = JsonSerializer.Deserialize<Snapshot>(File.ReadAllBytes(path), Json)
                    ?? throw new InvalidDataException($"The client state file {path} is empty.");
            }
            catch (JsonException ex)
            {
                throw new InvalidDataException($"The client state file {path} is not valid JSON: {ex.Message}", ex);
            }
        }
        else
        {
            snapshot = new Snapshot { ClientName = NewClientName() };
        }
        var state = new EdgeClientState(directory, snapshot);
        if (!File.Exists(path)) state.Save(snapshot);
        return state;
    }

    /// <summary>A random client name, "edge-" + 12 hex digits (the server enrolls a name once).</summary>
    public static string NewClientName() => "edge-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6));

    /// <summary>A fresh bearer credential the client proposes at enrollment: 64 hex digits from a CSPRNG (256 bits).</summary>
    public static string NewCredential() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    /// <summary>Path of the identity file (for messages).</summary>
    public string StatePath => Path.Combine(_directory, StateFile);

    public void Save(Snapshot snapshot)
    {
        WriteAtomically(Path.Combine(_directory, StateFile), JsonSerializer.SerializeToUtf8Bytes(snapshot, Json));
        Current = snapshot;
    }

    /// <summary>The persisted pending update, if it belongs to <paramref name="roundId"/>.</summary>
    public ClientUpdate? LoadPending(long roundId)
    {
        string path = Path.Combine(_directory, PendingFile);
        if (!File.Exists(path)) return null;
        ClientUpdate update;
        try
        {
            update = ClientUpdate.Parser.ParseFrom(File.ReadAllBytes(path));
        }
        catch (InvalidProtocolBufferException)
        {
            File.Delete(path);   // a torn file cannot exist (atomic rename), but never trust disk contents blindly
            return null;
        }
        return (long)update.RoundId == roundId ? update : null;
    }

    public void SavePending(ClientUpdate update) => WriteAtomically(Path.Combine(_directory, PendingFile), update.ToByteArray());

    public void ClearPending() => File.Delete(Path.Combine(_directory, PendingFile));

    private static void WriteAtomically(string path, byte[] bytes)
    {
        string temp = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(temp, options))
        {
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }
}
