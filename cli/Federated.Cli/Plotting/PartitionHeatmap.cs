using ScottPlot;

namespace Federated.Cli.Plotting;

/// <summary>
/// Heat map of a partition: one row per client (client 0 at the top), one column per category, cell = share of that
/// client's records in that category (0..1, colour bar on the right). Written as PNG and SVG with ScottPlot.
/// </summary>
internal static class PartitionHeatmap
{
    /// <param name="shares">[client, category] shares, rows summing to 1 (or 0 for an empty client).</param>
    /// <param name="categories">Column labels.</param>
    /// <param name="sizes">Records per client (shown in the row labels).</param>
    /// <param name="title">Plot title.</param>
    /// <param name="pathWithoutExtension">Output path; ".png" and ".svg" are appended.</param>
    public static (string Png, string Svg) Write(double[,] shares, IReadOnlyList<string> categories, IReadOnlyList<int> sizes,
        string title, string pathWithoutExtension)
    {
        int clients = shares.GetLength(0), columns = shares.GetLength(1);
        var plot = new Plot();
        var heatmap = plot.Add.Heatmap(shares);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        heatmap.ManualRange = new ScottPlot.Range(0, 1);
        // Cell (r, c) is centred on x = c, y = clients-1-r (row 0 of the array is drawn at the top).
        heatmap.Rectangle = new CoordinateRect(-0.5, columns - 0.5, -0.5, clients - 0.5);
        var colorBar = plot.Add.ColorBar(heatmap);
        colorBar.Label = "share of the client's records";
        colorBar.LabelStyle.FontSize = 14;

        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, columns).Select(c => (double)c).ToArray(), categories.ToArray());
        plot.Axes.Bottom.TickLabelStyle.Rotation = 90;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        plot.Axes.Bottom.TickLabelStyle.FontSize = 12;
        int longest = categories.Count == 0 ? 4 : categories.Max(c => c.Length);
        plot.Axes.Bottom.MinimumSize = 20 + 7.5f * longest;

        int step = Math.Max(1, (int)Math.Ceiling(clients / 40.0)); // at most ~40 row labels
        var rows = Enumerable.Range(0, clients).Where(r => r % step == 0).ToArray();
        plot.Axes.Left.SetTicks(rows.Select(r => (double)(clients - 1 - r)).ToArray(), rows.Select(r => $"client {r} ({sizes[r]})").ToArray());
        plot.Axes.Left.TickLabelStyle.FontSize = 12;
        plot.Axes.SetLimits(-0.5, columns - 0.5, -0.5, clients - 0.5);
        plot.Title(title, size: 16);
        plot.XLabel("category");
        plot.YLabel("client (records)");

        int width = Math.Clamp(320 + 22 * columns, 700, 2400);
        int height = Math.Clamp(260 + (int)(7.5 * longest) + 20 * Math.Min(clients, 40), 450, 1600);
        var png = pathWithoutExtension + ".png";
        var svg = pathWithoutExtension + ".svg";
        plot.SavePng(png, width, height);
        plot.SaveSvg(svg, width, height);
        return (png, svg);
    }
}
