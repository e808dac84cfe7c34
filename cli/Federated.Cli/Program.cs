using System.CommandLine;
using Federated.Cli;
using Federated.Cli.Commands;

// `federated <verb>`: the composition root. Each verb is one file in Commands/ with a static Create().
var root = new RootCommand("Federated: federated fine-tuning of language models (FedKSeed and ComPEFT rounds).");
root.Subcommands.Add(VersionCommand.Create());
root.Subcommands.Add(TokenizeCommand.Create());
root.Subcommands.Add(DataCommand.Create());
root.Subcommands.Add(PartitionCommand.Create());
root.Subcommands.Add(GenerateCommand.Create());
root.Subcommands.Add(ScoreCommand.Create());
root.Subcommands.Add(SimulateCommand.Create());
root.Subcommands.Add(AuditCommand.Create());
root.Subcommands.Add(PretrainCommand.Create());
root.Subcommands.Add(FineTuneCommand.Create());
root.Subcommands.Add(EvalCommand.Create());
root.Subcommands.Add(ServeCommand.Create());
root.Subcommands.Add(JoinCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
return CliRunner.Run(root, args);
