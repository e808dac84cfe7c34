using Federated.Server.Domain;
using Microsoft.Data.Sqlite;

namespace Federated.FunctionalTests;

/// <summary>Reads a server's federation.db directly (read-only, beside a running server: SQLite WAL allows readers).</summary>
internal static class FederationDb
{
    public sealed record RoundRow(long RoundId, RoundPhase Phase, RoundOutcome Outcome, DateTimeOffset Deadline, DateTimeOffset? ClosedAt);

    /// <summary>The round's row, or null when it does not exist (yet; or the server is still creating the schema).</summary>
    public static RoundRow? ReadRound(string path, long roundId)
    {
        if (!File.Exists(path)) return null;
        try
        {
            return Read(path, roundId);
        }
        catch (SqliteException)
        {
            return null;   // no such table yet, or busy: ask again
        }
    }

    private static RoundRow? Read(string path, long roundId)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false,
        }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT phase, outcome, deadline, closed_at FROM rounds WHERE round_id = $id";
        command.Parameters.AddWithValue("$id", roundId);
        using var reader = command.ExecuteReader();
        if (!reader.Read()) return null;
        return new RoundRow(roundId, (RoundPhase)reader.GetInt32(0), (RoundOutcome)reader.GetInt32(1),
            DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)),
            reader.IsDBNull(3) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)));
    }
}
