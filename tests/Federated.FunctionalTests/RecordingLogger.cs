using Microsoft.Extensions.Logging;

namespace Federated.FunctionalTests;

/// <summary>A logger provider that keeps every entry (category, level, event id, formatted message, structured values),
/// so a test can check what a component logged: <c>LoggerFactory.Create(b => b.AddProvider(recorder))</c>.</summary>
internal sealed class RecordingLogger : ILoggerProvider
{
    public sealed record Entry(string Category, LogLevel Level, EventId EventId, string Message, IReadOnlyDictionary<string, object?> Values);

    private readonly Lock _gate = new();
    private readonly List<Entry> _entries = [];

    public IReadOnlyList<Entry> Entries
    {
        get { lock (_gate) return [.. _entries]; }
    }

    /// <summary>Entries of the logger named <paramref name="category"/> (a type's full name) with event id <paramref name="eventId"/>.</summary>
    public IReadOnlyList<Entry> Of(string category, int eventId) => [.. Entries.Where(e => e.Category == category && e.EventId.Id == eventId)];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose() { }

    private sealed class Logger(RecordingLogger owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state as IEnumerable<KeyValuePair<string, object?>> ?? [];
            var entry = new Entry(category, logLevel, eventId, formatter(state, exception), values.ToDictionary(kv => kv.Key, kv => kv.Value));
            lock (owner._gate) owner._entries.Add(entry);
        }
    }
}
