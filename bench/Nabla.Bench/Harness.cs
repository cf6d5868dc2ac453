using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Nabla.Bench;

/// <summary>The timings of one workload on one library.</summary>
/// <param name="SecondsPerIter">Seconds per iteration of each timed run (one entry per run).</param>
/// <param name="ItersPerRun">Iterations in each timed run.</param>
/// <param name="AllocBytesPerIter">Managed bytes allocated on the timing thread per iteration (all timed runs).</param>
/// <param name="Gen2">Gen-2 collections during the timed runs.</param>
public sealed record Result(double[] SecondsPerIter, long ItersPerRun, double AllocBytesPerIter, int Gen2)
{
    public double Median => Stats.Median(SecondsPerIter);
    public double Min => SecondsPerIter.Min();
    public double Max => SecondsPerIter.Max();
}

public static class Stats
{
    public static double Median(IReadOnlyList<double> xs)
    {
        var s = xs.OrderBy(x => x).ToArray();
        int n = s.Length;
        return n % 2 == 1 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    }
}

/// <summary>Warm-up, calibration and timing.</summary>
public static class Harness
{
    /// <summary>
    /// Warms <paramref name="step"/> up (at least 3 iterations and <paramref name="warmupSeconds"/>), picks an iteration
    /// count so that one timed run lasts about <paramref name="targetRunSeconds"/>, then times <paramref name="runs"/> runs.
    /// </summary>
    public static Result Measure(Action step, int runs, double targetRunSeconds, double warmupSeconds)
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect();

        // Warm-up: JIT tiers, caches, allocator pools. The fastest warm-up iteration estimates the cost.
        var sw = new Stopwatch();
        double best = double.MaxValue;
        var total = Stopwatch.StartNew();
        int warm = 0;
        while (warm < 3 || total.Elapsed.TotalSeconds < warmupSeconds)
        {
            sw.Restart();
            step();
            sw.Stop();
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
            warm++;
            if (warm >= 1_000_000) break;
        }
        long iters = (long)Math.Clamp(Math.Round(targetRunSeconds / Math.Max(best, 1e-9)), 1, 50_000_000);

        var times = new double[runs];
        int gen2Before = GC.CollectionCount(2);
        long allocBefore = GC.GetAllocatedBytesForCurrentThread();
        for (int r = 0; r < runs; r++)
        {
            long t0 = Stopwatch.GetTimestamp();
            for (long i = 0; i < iters; i++) step();
            long t1 = Stopwatch.GetTimestamp();
            times[r] = (t1 - t0) / (double)Stopwatch.Frequency / iters;
        }
        long allocAfter = GC.GetAllocatedBytesForCurrentThread();
        int gen2 = GC.CollectionCount(2) - gen2Before;
        return new Result(times, iters, (allocAfter - allocBefore) / (double)(iters * runs), gen2);
    }
}

/// <summary>One table row's results: either library may be missing.</summary>
/// <param name="LimitGBps">For memory-bound rows: the bandwidth limit measured right before the row, in GB/s.</param>
public sealed record Row(Spec Spec, Result? Nabla, Result? Peer, string? NablaError = null, string? PeerError = null,
    double? LimitGBps = null);

/// <summary>Formats the Markdown table.</summary>
public static class Table
{
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The shown value of a time per iteration: µs, µs/op, ms, GFLOP/s or GB/s.</summary>
    public static double Value(Spec s, double secondsPerIter) => s.Unit switch
    {
        Unit.MicrosPerIter => secondsPerIter * 1e6,
        Unit.MicrosPerOp => secondsPerIter * 1e6 / s.Work,
        Unit.Millis => secondsPerIter * 1e3,
        Unit.GFlops => s.Work / secondsPerIter / 1e9,
        Unit.GBps => s.Work / secondsPerIter / 1e9,
        _ => throw new ArgumentOutOfRangeException(nameof(s)),
    };

    static bool IsRate(Spec s) => s.Unit is Unit.GFlops or Unit.GBps;

    public static string Num(double v) =>
        v >= 100 ? v.ToString("F0", Inv) : v >= 10 ? v.ToString("F1", Inv) : v >= 1 ? v.ToString("F2", Inv) : v.ToString("G3", Inv);

    /// <summary>"median (min–max)" in the row's unit; for rates min–max come from the slowest and fastest runs.</summary>
    static string Cell(Spec s, Result? r, string? error)
    {
        if (r is null) return error ?? "—";
        double med = Value(s, r.Median), a = Value(s, r.Min), b = Value(s, r.Max);
        double lo = Math.Min(a, b), hi = Math.Max(a, b);
        return $"{Num(med)} ({Num(lo)}–{Num(hi)})";
    }

    /// <summary>Seconds per iteration at the machine limit, or null.</summary>
    public static double? LimitSeconds(Row row, MachineLimits m) => row.Spec.Limit switch
    {
        LimitKind.FmaPeak => row.Spec.LimitWork / (m.FmaPeak(row.Spec.Threads) * 1e9),
        LimitKind.StreamAdd or LimitKind.SumRead when row.LimitGBps > 0 => row.Spec.LimitWork / (row.LimitGBps.Value * 1e9),
        _ => null,
    };

    static string LimitCell(Row row, MachineLimits m)
    {
        var s = row.Spec;
        double? l = LimitSeconds(row, m);
        if (l is null) return "—";
        return Num(Value(s, l.Value)) + (s.Limit switch
        {
            LimitKind.FmaPeak => " (FMA peak)",
            LimitKind.StreamAdd => " (STREAM add)",
            LimitKind.SumRead => " (sum read)",
            _ => "",
        });
    }

    static string Frac(Row row, MachineLimits m, Result? r)
    {
        double? l = LimitSeconds(row, m);
        if (l is null || r is null) return "—";
        double f = l.Value / r.Median;
        return f >= 0.01 ? f.ToString("F2", Inv) : f.ToString("G2", Inv);
    }

    static string Alloc(Result? r)
    {
        if (r is null) return "—";
        double b = r.AllocBytesPerIter;
        return b < 10 ? b.ToString("F1", Inv) : b.ToString("F0", Inv);
    }

    public static string Render(IReadOnlyList<Row> rows, MachineLimits m, bool nabla, bool peer,
        IReadOnlyDictionary<string, (string Nabla, string Peer)>? rss = null)
    {
        string who = nabla && peer ? "Nabla / TorchSharp" : nabla ? "Nabla" : "TorchSharp";
        bool both = nabla && peer;
        var sb = new StringBuilder();
        sb.Append("| workload | Nabla | TorchSharp | ratio (TS time ÷ Nabla time) | machine limit | ")
          .Append($"fraction of limit ({who}) | managed B/iter ({who}) | gen-2 GCs ({who}) | peak RSS ({who}) |\n");
        sb.Append("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
        foreach (var row in rows)
        {
            var s = row.Spec;
            string ratio = row.Nabla is not null && row.Peer is not null
                ? (row.Peer.Median / row.Nabla.Median).ToString("F2", Inv) : "—";
            string rssCell = "—";
            if (rss is not null && rss.TryGetValue(RssKey(s), out var rr))
                rssCell = both ? $"{rr.Nabla} / {rr.Peer}" : nabla ? rr.Nabla : rr.Peer;
            sb.Append("| ").Append(s.Label)
              .Append(" | ").Append(nabla ? Cell(s, row.Nabla, row.NablaError) : "—")
              .Append(" | ").Append(peer ? Cell(s, row.Peer, row.PeerError) : "—")
              .Append(" | ").Append(ratio)
              .Append(" | ").Append(LimitCell(row, m))
              .Append(" | ").Append(Sel(Frac(row, m, row.Nabla), Frac(row, m, row.Peer), nabla, peer))
              .Append(" | ").Append(Sel(Alloc(row.Nabla), Alloc(row.Peer), nabla, peer))
              .Append(" | ").Append(Sel(row.Nabla?.Gen2.ToString(Inv) ?? "—", row.Peer?.Gen2.ToString(Inv) ?? "—", nabla, peer))
              .Append(" | ").Append(rssCell)
              .Append(" |\n");
        }
        return sb.ToString();
    }

    /// <summary>The key of a row's peak-RSS cell: the id, plus the batch for W6.</summary>
    public static string RssKey(Spec s) => s.Id == "W6" ? $"W6:{s.Size}" : s.Id;

    static string Sel(string n, string p, bool nabla, bool peer) => nabla && peer ? $"{n} / {p}" : nabla ? n : p;
}
