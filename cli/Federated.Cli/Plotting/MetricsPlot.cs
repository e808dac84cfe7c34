using Federated.Simulation;
using ScottPlot;

namespace Federated.Cli.Plotting;

/// <summary>Loss over rounds of a simulation (train loss of the round's clients, eval loss of the global model), PNG and SVG.</summary>
internal static class MetricsPlot
{
    public static (string Png, string Svg) Write(IReadOnlyList<RoundMetrics> rounds, string title, string pathWithoutExtension)
    {
        var plot = new Plot();
        var train = rounds.Where(r => r.TrainLoss is double v && double.IsFinite(v)).ToArray();
        var eval = rounds.Where(r => r.EvalLoss is double v && double.IsFinite(v)).ToArray();
        if (train.Length > 0)
        {
            var line = plot.Add.Scatter(train.Select(r => (double)r.Round).ToArray(), train.Select(r => r.TrainLoss!.Value).ToArray());
            line.LegendText = "train loss (clients of the round)";
        }
        if (eval.Length > 0)
        {
            var line = plot.Add.Scatter(eval.Select(r => (double)r.Round).ToArray(), eval.Select(r => r.EvalLoss!.Value).ToArray());
            line.LegendText = "eval loss (global model)";
        }
        plot.Title(title);
        plot.XLabel("round");
        plot.YLabel("next-token cross-entropy (response tokens)");
        plot.ShowLegend();
        string png = pathWithoutExtension + ".png", svg = pathWithoutExtension + ".svg";
        plot.SavePng(png, 900, 560);
        plot.SaveSvg(svg, 900, 560);
        return (png, svg);
    }
}
