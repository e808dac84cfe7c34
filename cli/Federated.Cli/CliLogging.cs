using Microsoft.Extensions.Logging;

namespace Federated.Cli;

/// <summary>The console log format of the verbs that log (serve, join): one line per entry with a time stamp, every
/// level on stderr, so that stdout carries only the verb's result (e.g. the one JSON object of `--json`).</summary>
internal static class CliLogging
{
    public static ILoggingBuilder AddCliConsole(this ILoggingBuilder builder) => builder
        .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; })
        .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
}
