using System.CommandLine;

namespace Federated.Cli.Tests.Commands;

/// <summary>
/// Runs verbs in-process through <see cref="CliRunner"/> (the real exit-code and error-line contract) with stdout and
/// stderr captured. Tests using it belong to the "Console" collection, which keeps them serial.
/// </summary>
internal static class CliHarness
{
    public static (int ExitCode, string Out, string Error) Run(Command verb, params string[] args)
    {
        var root = new RootCommand("test");
        root.Subcommands.Add(verb);
        var (oldOut, oldError) = (Console.Out, Console.Error);
        using var output = new StringWriter();
        using var error = new StringWriter();
        Console.SetOut(output);
        Console.SetError(error);
        try { return (CliRunner.Run(root, args), output.ToString(), error.ToString()); }
        finally { Console.SetOut(oldOut); Console.SetError(oldError); }
    }
}
