using System.Globalization;
using System.Net;
using System.Text;
using Federated.Privacy.Audit;
using ScottPlot;
using Spectre.Console;

namespace Federated.Cli.Reports;

/// <summary>
/// The people-facing side of `federated audit`: one row per measured number with a plain-language reading, rendered
/// as a Spectre table (console) and as report.html (self-contained: the ROC plot is embedded as a PNG data URI and also
/// written next to it as roc.png/roc.svg, plus the example reconstruction next to the true text).
/// </summary>
internal static class AuditHtml
{
    /// <summary>One measured number: probe, metric, value, what it means.</summary>
    public sealed record Row(string Probe, string Metric, string Value, string Reading);

    public static IReadOnlyList<Row> Rows(AuditReport r)
    {
        var rows = new List<Row>();
        if (r.TokenSet is { } t)
        {
            rows.Add(new Row("token-set", "recall", F(t.Recall), $"The server recovered {t.Recall:P0} of the distinct tokens in the client's batch ({t.TrueCount} tokens) from one update; guessing {t.Recovered} tokens at random would find {t.ChanceRecall:P1}."));
            rows.Add(new Row("token-set", "precision", F(t.Precision), $"{t.Precision:P0} of the {t.Recovered} tokens it named were really in the batch."));
        }
        if (r.Inversion is { } i)
        {
            rows.Add(new Row("inversion", "Rouge-L", F(i.RougeL), (i.KnownPrompt ? "Given the prompt, the server rebuilt the private response from the update: it" : "The reconstructed text") + $" shares {i.RougeL:P0} of its longest common subsequence with the true text (1 = verbatim); token accuracy {i.TokenAccuracy:P0}{(i.Truncated ? ", search stopped by its budget" : "")}."));
        }
        if (r.ZoGradient is { } z)
        {
            rows.Add(new Row("inversion (ZO)", "gradient cosine", F(z.Cosine), $"From {z.Pairs} (seed, scalar) pairs the server's best gradient guess points {z.Cosine:F4} of the way towards the true gradient; chance is √(K/d) = {z.ChanceCosine:F4} over d = {z.Dimension:N0} parameters: the text cannot be rebuilt from it."));
        }
        if (r.ZoMembership is { } zm)
        {
            rows.Add(new Row("zo-membership", "AUC", F(zm.Roc.Auc), $"Recomputing a candidate text's scalar under the same seed tells the examples the client used apart from others with AUC {zm.Roc.Auc:F3} (0.5 = coin flip, 1 = always); TPR at 1 % FPR {zm.Roc.TprAt1PctFpr:P0}."));
        }
        if (r.Mia is { } m)
        {
            rows.Add(new Row("mia", "loss AUC", F(m.LossAttack.Auc), $"Ranking {m.MemberSource} vs never-seen records by the final model's loss separates them with AUC {m.LossAttack.Auc:F3} (0.5 = no signal); TPR at 1 % FPR {m.LossAttack.TprAt1PctFpr:P0}." +
                (m.MemberSource == "canaries" ? $" The canaries were drawn {m.CanaryDraws} time(s) in local training over the whole run." : "")));
            if (m.ReferenceAttack is { } ra)
                rows.Add(new Row("mia", "reference AUC", F(ra.Auc), $"Calibrated by the base model's loss (how hard each record is anyway): AUC {ra.Auc:F3}, TPR at 1 % FPR {ra.TprAt1PctFpr:P0}."));
        }
        if (r.Dp is { } dp)
        {
            rows.Add(dp.Epsilon is double e
                ? new Row("dp", "ε (δ = " + dp.Delta.ToString("G2", CultureInfo.InvariantCulture) + ")", F(e),
                    $"Differential privacy bound for {dp.Client}: σ = {dp.NoiseMultiplier:G3}, q = {dp.SamplingRate:G3}, T = {dp.Steps} steps; smaller is more private (ε ≈ 1 strong, ε ≈ 8 common, ε ≫ 10 weak). {dp.Note}.")
                : new Row("dp", "ε", "∞", dp.Note));
        }
        else rows.Add(new Row("dp", "ε", "–", "No differential privacy in this run."));
        if (r.Quality is { } q)
            rows.Add(new Row("task", "eval loss / Rouge-L", $"{F(q.EvalLoss)} / {F(q.RougeL)}", "Quality of the final global model on the evaluation data (lower loss is better)."));
        return rows;
    }

    public static Table SummaryTable(AuditReport r)
    {
        var table = new Table().AddColumn("probe").AddColumn("metric").AddColumn(new TableColumn("value").RightAligned()).AddColumn("reading");
        foreach (var row in Rows(r)) table.AddRow(Markup.Escape(row.Probe), Markup.Escape(row.Metric), Markup.Escape(row.Value), Markup.Escape(row.Reading));
        return table;
    }

    /// <summary>Writes roc.png/svg (when an ROC was measured) and report.html into <paramref name="outDir"/>; returns the HTML path.</summary>
    public static string Write(AuditReport r, string outDir)
    {
        var curves = new List<(string Name, AuditRoc Roc)>();
        if (r.Mia is { } m)
        {
            curves.Add(("MIA loss", m.LossAttack));
            if (m.ReferenceAttack is { } ra) curves.Add(("MIA reference", ra));
        }
        if (r.ZoMembership is { } zm) curves.Add(("ZO scalar matching", zm.Roc));
        string? pngBase64 = null;
        if (curves.Count > 0)
        {
            var plot = new Plot();
            foreach (var (name, roc) in curves)
            {
                var (fpr, tpr) = Curve(roc);
                var line = plot.Add.Scatter(fpr, tpr);
                line.LegendText = $"{name} (AUC {roc.Auc:F3})";
            }
            var chance = plot.Add.Line(0, 0, 1, 1);
            chance.LinePattern = LinePattern.Dashed;
            chance.LegendText = "chance";
            plot.Title($"{r.Method}: membership ROC");
            plot.XLabel("false-positive rate");
            plot.YLabel("true-positive rate");
            plot.ShowLegend();
            string png = Path.Combine(outDir, "roc.png");
            plot.SavePng(png, 640, 480);
            plot.SaveSvg(Path.Combine(outDir, "roc.svg"), 640, 480);
            pngBase64 = Convert.ToBase64String(File.ReadAllBytes(png));
        }

        var html = new StringBuilder();
        html.Append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Federated privacy audit</title><style>")
            .Append("body{font-family:sans-serif;max-width:1000px;margin:2em auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top}")
            .Append("pre{white-space:pre-wrap;background:#f6f6f6;padding:6px}</style></head><body>");
        html.Append($"<h1>Privacy audit: {E(r.Method)}</h1>");
        var d = r.Defences;
        html.Append($"<p>Capture <code>{E(r.Capture)}</code>. Defences: density {E(d.Uncompressed == true ? "dense" : F(d.Density))}, DP clip {F(d.DpClip)}, DP noise σ {F(d.DpNoise)}, secure aggregation {(d.SecureAggregation ? "on" : "off")}. Audit time {r.WallS:F0} s.</p>");
        html.Append("<h2>Results</h2><table><tr><th>probe</th><th>metric</th><th>value</th><th>what it means</th></tr>");
        foreach (var row in Rows(r)) html.Append($"<tr><td>{E(row.Probe)}</td><td>{E(row.Metric)}</td><td>{E(row.Value)}</td><td>{E(row.Reading)}</td></tr>");
        html.Append("</table>");
        if (pngBase64 is not null) html.Append($"<h2>Membership ROC</h2><img alt=\"ROC curve\" src=\"data:image/png;base64,{pngBase64}\"><p>Also in roc.png and roc.svg.</p>");
        if (r.Inversion is { } inv)
        {
            html.Append($"<h2>Example reconstruction ({E(inv.Update)}{(inv.KnownPrompt ? ", prompt known: the private responses" : "")})</h2><table><tr><th>true text (the client's secret)</th><th>reconstructed by the server</th></tr>");
            for (int k = 0; k < Math.Min(inv.TrueTexts.Count, inv.ReconstructedTexts.Count); k++)
                html.Append($"<tr><td><pre>{E(inv.TrueTexts[k])}</pre></td><td><pre>{E(inv.ReconstructedTexts[k])}</pre></td></tr>");
            html.Append("</table>");
        }
        if (r.Skipped.Count > 0)
        {
            html.Append("<h2>Not measured</h2><ul>");
            foreach (var s in r.Skipped) html.Append($"<li>{E(s)}</li>");
            html.Append("</ul>");
        }
        html.Append("<p>Every number is measured on this run by running the attack; the ground truth (which examples a client used) is read from the capture only to score it. Details: docs/privacy-defences.md.</p></body></html>");
        string path = Path.Combine(outDir, "report.html");
        File.WriteAllText(path, html.ToString());
        return path;
    }

    /// <summary>ROC points: for each threshold t over the distinct scores (descending), FPR = share of non-members ≥ t, TPR = share of members ≥ t.</summary>
    internal static (double[] Fpr, double[] Tpr) Curve(AuditRoc roc)
    {
        var thresholds = roc.MemberScores.Concat(roc.NonMemberScores).Distinct().OrderDescending().ToArray();
        var fpr = new List<double> { 0 };
        var tpr = new List<double> { 0 };
        foreach (double t in thresholds)
        {
            fpr.Add(roc.NonMemberScores.Count(s => s >= t) / (double)Math.Max(1, roc.NonMemberScores.Length));
            tpr.Add(roc.MemberScores.Count(s => s >= t) / (double)Math.Max(1, roc.MemberScores.Length));
        }
        return ([.. fpr], [.. tpr]);
    }

    private static string F(double? v) => v is double x && double.IsFinite(x) ? x.ToString("0.####", CultureInfo.InvariantCulture) : "–";

    private static string E(string s) => WebUtility.HtmlEncode(s);
}
