using System.CommandLine;

namespace Federated.Cli;

/// <summary>
/// Runs a parsed command line with the project's exit-code contract (README §Commands):
/// 0 ok, 1 failure, 2 bad usage or bad input. Bad input is reported as one line on stderr, never a stack trace.
/// </summary>
internal static class CliRunner
{
    public const int Ok = 0;
    public const int Failure = 1;
    public const int BadInput = 2;

    public static int Run(RootCommand root, string[] args)
    {
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors) Console.Error.WriteLine($"error: {error.Message}");
            Console.Error.WriteLine("Run with --help for usage.");
            return BadInput;
        }
        try
        {
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception ex) when (IsBadInput(ex))
        {
            Console.Error.WriteLine($"error: {UserMessage(ex)}");
            return BadInput;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Console.Error.WriteLine($"error: {ex.GetType().Name}: {ex.Message}");
            return Failure;
        }
    }

    /// <summary>The message without .NET's " (Parameter 'x')" suffix and "Actual value was" line.</summary>
    public static string UserMessage(Exception ex)
    {
        var message = ex.Message;
        if (ex is ArgumentException { ParamName: { } name })
            message = message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal);
        int actual = message.IndexOf("\nActual value was", StringComparison.Ordinal);
        return (actual >= 0 ? message[..actual] : message).Trim();
    }

    /// <summary>Errors caused by what the user gave us (files, formats, arguments), as opposed to our own bugs.</summary>
    public static bool IsBadInput(Exception ex) => ex is FileNotFoundException or DirectoryNotFoundException
        or InvalidDataException or FormatException or ArgumentException or NotSupportedException
        or System.Text.Json.JsonException or EndOfStreamException;
}
