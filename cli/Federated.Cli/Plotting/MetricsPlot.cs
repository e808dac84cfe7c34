using Federated.Simulation;
using ScottPlot;

namespace Federated.Cli.Plotting;

/// <summary>Loss over rounds of a simulation (train loss of the round's clients, eval loss of the global model), PNG and SVG.</summary>
internal static class MetricsPlot
{
    /// <remarks>Train and eval loss get their own y axes (left and right, coloured like their lines): they differ by
    /// whole nats while a round changes the eval loss by thousandths, which one shared axis would flatten.</remarks>
    public static (string Png, string Svg) Write(IReadOnlyList<RoundMetrics> rounds, string title, string pathWithoutExtension)
    {
        var plot = new Plot();
        var train = rounds.Where(r => r.TrainLoss is double v && double.IsFinite(v)).ToArray();
        var eval = rounds.Where(r => r.EvalLoss is double v && double.IsFinite(v)).ToArray();
        if (train.Length > 0)
        {
            var line = plot.Add.Scatter(train.Select(r => (double)r.Round).ToArray(), train.Select(r => r.TrainLoss!.Value).ToArray());
            line.LegendText = "train loss (clients of the round)";
            plot.Axes.Left.Label.Text = "train loss (nats per response token)";
            plot.Axes.Left.Label.ForeColor = line.Color;
        }
        if (eval.Length > 0)
        {
            var line = plot.Add.Scatter(eval.Select(r => (double)r.Round).ToArray(), eval.Select(r => r.EvalLoss!.Value).ToArray());
            line.LegendText = "eval loss (global model)";
            line.Axes.YAxis = plot.Axes.Right;
            plot.Axes.Right.Label.Text = "eval loss (nats per response token)";
            plot.Axes.Right.Label.ForeColor = line.Color;
        }
        plot.Title(title);
        plot.XLabel("round");
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        if (rounds.Count > 0) // both series' rounds (autoscale would fit the x range to the left-axis series only)
            plot.Axes.SetLimitsX(rounds.Min(r => r.Round) - 0.25, rounds.Max(r => r.Round) + 0.25);
        plot.ShowLegend(Edge.Bottom);
        string png = pathWithoutExtension + ".png", svg = pathWithoutExtension + ".svg";
        plot.SavePng(png, 900, 560);
        plot.SaveSvg(svg, 900, 560);
        return (png, svg);
    }
}
