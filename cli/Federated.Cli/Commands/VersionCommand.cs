using System.CommandLine;
using System.Reflection;

namespace Federated.Cli.Commands;

/// <summary>`federated version`: prints the tool and runtime versions.</summary>
internal static class VersionCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object." };
        var command = new Command("version", "Print the Federated and .NET versions.\n\nExample:\n  federated version --json") { json };
        command.SetAction(parse =>
        {
            var version = Assembly.GetExecutingAssembly().GetName().Version?.ToString() ?? "0.0.0";
            if (parse.GetValue(json)) JsonOutput.Write(new { Version = version, Runtime = Environment.Version.ToString() });
            else Console.WriteLine($"federated {version} (.NET {Environment.Version})");
            return CliRunner.Ok;
        });
        return command;
    }
}
