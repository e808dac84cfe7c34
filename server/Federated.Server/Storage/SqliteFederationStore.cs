using System.Text.Json;
using Federated.Server.Domain;
using Microsoft.Data.Sqlite;

namespace Federated.Server.Storage;

/// <summary>
/// <see cref="IFederationStore"/> on one SQLite file in WAL mode with synchronous=FULL (a committed transaction
/// survives a process kill and a power loss). One connection, used by one caller at a time (the coordinator's lock).
/// Times are stored as Unix milliseconds (UTC). SQLite's own errors surface as <see cref="FederationStoreException"/>.
/// </summary>
public sealed class SqliteFederationStore : IFederationStore
{
    private const int SchemaVersion = 1;
    private readonly SqliteConnection _connection;

    /// <summary>Opens (creating if needed) the store at <paramref name="path"/>; ":memory:" keeps it in memory.</summary>
    public SqliteFederationStore(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        try
        {
            _connection = Connect(path);
            CreateSchema();
            FederationId = ReadMeta("federation_id") ?? CreateFederationId();
        }
        catch (SqliteException ex)
        {
            // A file that is not a SQLite database (or a damaged one): bad input naming the file, not a stack trace.
            _connection?.Dispose();
            throw new InvalidDataException($"The federation store {Path.GetFullPath(path)} is not a readable SQLite database " +
                $"({ex.Message.TrimEnd('.')}); restore it from a backup or start with an empty --data-dir.", ex);
        }
    }

    private SqliteConnection Connect(string path)
    {
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
        };
        var connection = new SqliteConnection(builder.ToString());
        try
        {
            connection.Open();
            Execute(connection, path == ":memory:" ? "PRAGMA journal_mode=MEMORY;" : "PRAGMA journal_mode=WAL;");
            Execute(connection, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;");
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    public string FederationId { get; }

    public string PinSettings(string settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return Guard(() =>
        {
            using var tx = _connection.BeginTransaction();
            Execute("INSERT INTO meta (key, value) VALUES ('settings', $a) ON CONFLICT (key) DO NOTHING", tx, settings);
            string stored = (string)Scalar("SELECT value FROM meta WHERE key = 'settings'", tx, [])!;
            tx.Commit();
            return stored;
        });
    }

    private void CreateSchema()
    {
        using var tx = _connection.BeginTransaction();
        Execute("""
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS clients (
              client_id TEXT PRIMARY KEY, name TEXT NOT NULL, enrollment_token_hash BLOB NOT NULL,
              credential_hash BLOB NOT NULL UNIQUE, enrolled_at INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
            CREATE INDEX IF NOT EXISTS clients_enrollment ON clients (enrollment_token_hash, name);
            CREATE TABLE IF NOT EXISTS rounds (
              round_id INTEGER PRIMARY KEY, phase INTEGER NOT NULL, outcome INTEGER NOT NULL, base_version INTEGER NOT NULL,
              opened_at INTEGER NOT NULL, deadline INTEGER NOT NULL, closed_at INTEGER, selected TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS updates (
              client_id TEXT NOT NULL REFERENCES clients (client_id), round_id INTEGER NOT NULL REFERENCES rounds (round_id),
              model_version INTEGER NOT NULL, sample_count INTEGER NOT NULL, payload BLOB NOT NULL, sha256 BLOB NOT NULL,
              metrics TEXT NOT NULL, accepted_at INTEGER NOT NULL, PRIMARY KEY (client_id, round_id));
            CREATE TABLE IF NOT EXISTS versions (
              version INTEGER PRIMARY KEY, round_id INTEGER NOT NULL UNIQUE REFERENCES rounds (round_id),
              payload BLOB NOT NULL, created_at INTEGER NOT NULL);
            """, tx);
        var existing = ReadMeta("schema_version", tx);
        if (existing is null) WriteMeta("schema_version", SchemaVersion.ToString(System.Globalization.CultureInfo.InvariantCulture), tx);
        else if (existing != SchemaVersion.ToString(System.Globalization.CultureInfo.InvariantCulture))
            throw new InvalidDataException($"The federation store {_connection.DataSource} has schema version {existing}; this server reads {SchemaVersion}.");
        tx.Commit();
    }

    private string CreateFederationId()
    {
        string id = "fed-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));
        WriteMeta("federation_id", id, null);
        return id;
    }

    // ---- clients -------------------------------------------------------------------------------------------------

    public ClientRecord? FindClient(string clientId) => Guard(() =>
        QueryClient("SELECT * FROM clients WHERE client_id = $a", clientId));

    public ClientRecord? FindClientByCredential(byte[] credentialHash) => Guard(() =>
        QueryClient("SELECT * FROM clients WHERE credential_hash = $a", credentialHash));

    public ClientRecord? FindClientByEnrollment(byte[] enrollmentTokenHash, string name) => Guard(() =>
        QueryClient("SELECT * FROM clients WHERE enrollment_token_hash = $a AND name = $b", enrollmentTokenHash, name));

    public void SaveClient(ClientRecord client) => Guard(() => Execute("""
        INSERT INTO clients (client_id, name, enrollment_token_hash, credential_hash, enrolled_at, revoked)
        VALUES ($a, $b, $c, $d, $e, $f)
        ON CONFLICT (client_id) DO UPDATE SET name = $b, enrollment_token_hash = $c, credential_hash = $d, revoked = $f
        """, null, client.ClientId, client.Name, client.EnrollmentTokenHash, client.CredentialHash,
        client.EnrolledAt.ToUnixTimeMilliseconds(), client.Revoked ? 1 : 0));

    public int CountClients() => Guard(() => Convert.ToInt32(Scalar("SELECT COUNT(*) FROM clients WHERE revoked = 0"), System.Globalization.CultureInfo.InvariantCulture));

    private ClientRecord? QueryClient(string sql, params object[] args)
    {
        using var cmd = Command(sql, null, args);
        using var r = cmd.ExecuteReader();
        if (!r.Read()) return null;
        return new ClientRecord(r.GetString(0), r.GetString(1), (byte[])r[2], (byte[])r[3],
            DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(4)), r.GetInt64(5) != 0);
    }

    // ---- rounds --------------------------------------------------------------------------------------------------

    public RoundRecord? LatestRound() => Guard(() =>
    {
        using var cmd = Command("SELECT * FROM rounds ORDER BY round_id DESC LIMIT 1", null);
        using var r = cmd.ExecuteReader();
        if (!r.Read()) return null;
        return new RoundRecord(r.GetInt64(0), (RoundPhase)r.GetInt32(1), (RoundOutcome)r.GetInt32(2), r.GetInt64(3),
            DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(4)), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(5)),
            r.IsDBNull(6) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(6)),
            JsonSerializer.Deserialize<string[]>(r.GetString(7)) ?? []);
    });

    public void InsertRound(RoundRecord round) => Guard(() => Execute("""
        INSERT INTO rounds (round_id, phase, outcome, base_version, opened_at, deadline, closed_at, selected)
        VALUES ($a, $b, $c, $d, $e, $f, $g, $h)
        """, null, round.RoundId, (int)round.Phase, (int)round.Outcome, round.BaseVersion,
        round.OpenedAt.ToUnixTimeMilliseconds(), round.Deadline.ToUnixTimeMilliseconds(),
        round.ClosedAt is { } c ? c.ToUnixTimeMilliseconds() : DBNull.Value, JsonSerializer.Serialize(round.SelectedClients)));

    public void UpdateRound(long roundId, RoundPhase phase, RoundOutcome outcome, DateTimeOffset? closedAt) => Guard(() =>
        Execute("UPDATE rounds SET phase = $b, outcome = $c, closed_at = $d WHERE round_id = $a", null, roundId, (int)phase,
            (int)outcome, closedAt is { } c ? c.ToUnixTimeMilliseconds() : DBNull.Value));

    public int CountAggregatedRounds() => Guard(() => Convert.ToInt32(
        Scalar("SELECT COUNT(*) FROM rounds WHERE outcome = $a", (int)RoundOutcome.Aggregated), System.Globalization.CultureInfo.InvariantCulture));

    // ---- updates -------------------------------------------------------------------------------------------------

    public AcceptedUpdate? FindUpdate(string clientId, long roundId) => Guard(() =>
    {
        var list = QueryUpdates("SELECT * FROM updates WHERE client_id = $a AND round_id = $b", clientId, roundId);
        return list.Count == 0 ? null : list[0];
    });

    public bool AcceptUpdate(AcceptedUpdate update) => Guard(() =>
    {
        using var tx = _connection.BeginTransaction();
        int inserted = Execute("""
            INSERT INTO updates (client_id, round_id, model_version, sample_count, payload, sha256, metrics, accepted_at)
            VALUES ($a, $b, $c, $d, $e, $f, $g, $h) ON CONFLICT (client_id, round_id) DO NOTHING
            """, tx, update.ClientId, update.RoundId, update.ModelVersion, (long)update.SampleCount, update.Payload,
            update.Sha256, JsonSerializer.Serialize(update.Metrics), update.AcceptedAt.ToUnixTimeMilliseconds());
        if (inserted == 0) return false;
        Execute("UPDATE rounds SET phase = $b WHERE round_id = $a AND phase = $c", tx, update.RoundId,
            (int)RoundPhase.Collecting, (int)RoundPhase.Open);
        tx.Commit();
        return true;
    });

    public IReadOnlyList<AcceptedUpdate> ListUpdates(long roundId) => Guard<IReadOnlyList<AcceptedUpdate>>(() =>
        QueryUpdates("SELECT * FROM updates WHERE round_id = $a ORDER BY client_id COLLATE BINARY", roundId));

    public int CountUpdates(long roundId) => Guard(() => Convert.ToInt32(
        Scalar("SELECT COUNT(*) FROM updates WHERE round_id = $a", roundId), System.Globalization.CultureInfo.InvariantCulture));

    private List<AcceptedUpdate> QueryUpdates(string sql, params object[] args)
    {
        using var cmd = Command(sql, null, args);
        using var r = cmd.ExecuteReader();
        var list = new List<AcceptedUpdate>();
        while (r.Read())
            list.Add(new AcceptedUpdate(r.GetString(0), r.GetInt64(1), r.GetInt64(2), (ulong)r.GetInt64(3), (byte[])r[4],
                (byte[])r[5], JsonSerializer.Deserialize<Dictionary<string, double>>(r.GetString(6)) ?? [],
                DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(7))));
        return list;
    }

    // ---- versions ------------------------------------------------------------------------------------------------

    public IReadOnlyList<ModelVersionRecord> ListVersions() => Guard<IReadOnlyList<ModelVersionRecord>>(() =>
    {
        using var cmd = Command("SELECT version, round_id, payload, created_at FROM versions ORDER BY version", null);
        using var r = cmd.ExecuteReader();
        var list = new List<ModelVersionRecord>();
        while (r.Read())
            list.Add(new ModelVersionRecord(r.GetInt64(0), r.GetInt64(1), (byte[])r[2], DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(3))));
        return list;
    });

    public long LatestVersion() => Guard(() => Convert.ToInt64(Scalar("SELECT COALESCE(MAX(version), 0) FROM versions"), System.Globalization.CultureInfo.InvariantCulture));

    public void CommitAggregation(long roundId, ModelVersionRecord version, DateTimeOffset closedAt) => Guard(() =>
    {
        using var tx = _connection.BeginTransaction();
        long latest = Convert.ToInt64(Scalar("SELECT COALESCE(MAX(version), 0) FROM versions", tx), System.Globalization.CultureInfo.InvariantCulture);
        if (version.Version != latest + 1)
            throw new InvalidOperationException($"Version {version.Version} cannot follow stored version {latest}.");
        // The round first: an unknown or closed round is misuse (InvalidOperationException), not a constraint failure.
        int changed = Execute("UPDATE rounds SET phase = $b, outcome = $c, closed_at = $d WHERE round_id = $a AND phase <> $b", tx,
            roundId, (int)RoundPhase.Closed, (int)RoundOutcome.Aggregated, closedAt.ToUnixTimeMilliseconds());
        if (changed != 1) throw new InvalidOperationException($"Round {roundId} is unknown or already closed.");
        Execute("INSERT INTO versions (version, round_id, payload, created_at) VALUES ($a, $b, $c, $d)", tx,
            version.Version, roundId, version.Payload, version.CreatedAt.ToUnixTimeMilliseconds());
        tx.Commit();
    });

    // ---- plumbing ------------------------------------------------------------------------------------------------

    private T Guard<T>(Func<T> body)
    {
        try
        {
            return body();
        }
        catch (SqliteException ex)
        {
            throw Wrap(ex, _connection.DataSource);
        }
    }

    private void Guard(Action body) => Guard(() =>
    {
        body();
        return true;
    });

    private static FederationStoreException Wrap(SqliteException ex, string path) =>
        new($"The federation store {path} failed: {ex.Message}", ex);

    private string? ReadMeta(string key, SqliteTransaction? tx = null) => Scalar("SELECT value FROM meta WHERE key = $a", tx, key) as string;

    private void WriteMeta(string key, string value, SqliteTransaction? tx) =>
        Execute("INSERT INTO meta (key, value) VALUES ($a, $b) ON CONFLICT (key) DO UPDATE SET value = $b", tx, key, value);

    private SqliteCommand Command(string sql, SqliteTransaction? tx, params object[] args)
    {
        var cmd = _connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        for (int i = 0; i < args.Length; i++) cmd.Parameters.AddWithValue("$" + (char)('a' + i), args[i]);
        return cmd;
    }

    private int Execute(string sql, SqliteTransaction? tx = null, params object[] args)
    {
        using var cmd = Command(sql, tx, args);
        return cmd.ExecuteNonQuery();
    }

    private object? Scalar(string sql, params object[] args) => Scalar(sql, null, args);

    private object? Scalar(string sql, SqliteTransaction? tx, params object[] args)
    {
        using var cmd = Command(sql, tx, args);
        return cmd.ExecuteScalar();
    }

    public void Dispose() => _connection.Dispose();
}
