using System.Globalization;

namespace Federated.Cli;

/// <summary>Durations on the command line: "90s", "10m", "2h", "1d", "500ms", or a TimeSpan ("00:10:00").</summary>
internal static class DurationParser
{
    public static TimeSpan Parse(string text, string optionName)
    {
        string t = text.Trim();
        (string suffix, double seconds)[] units = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)];
        foreach (var (suffix, seconds) in units)
            if (t.EndsWith(suffix, StringComparison.Ordinal) && double.TryParse(t[..^suffix.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out double v)
                && v > 0 && double.IsFinite(v))
                return TimeSpan.FromSeconds(v * seconds);
        if (TimeSpan.TryParse(t, CultureInfo.InvariantCulture, out var span) && span > TimeSpan.Zero) return span;
        throw new ArgumentException($"{optionName} value '{text}' is not a positive duration such as 90s, 10m or 2h.");
    }
}
