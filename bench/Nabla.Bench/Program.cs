using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Nabla.Bench;

// Side-by-side benchmark: every workload of WORKLOADS.md on Nabla and on TorchSharp, in one process, with the same
// thread count, printed as one Markdown table. See bench/README.md.

var opt = Options.Parse(args);
if (opt is null) return 2;

// --no-avx512: the whole run in a child process with AVX-512 switched off in the runtime, so Nabla takes its AVX2
// paths and the FMA peak is measured at 256 bits (TorchSharp's native code is not affected by the switch).
if (opt.NoAvx512 && Vector512.IsHardwareAccelerated)
    return MachineInfo.RerunWithoutAvx512(args);

bool nabla = !opt.PeerOnly && NablaWorkloads.Available;
bool peer = false;
if (!opt.NablaOnly)
{
    peer = PeerWorkloads.TryLoad();
    if (!peer) Console.Error.WriteLine($"TorchSharp did not load ({PeerWorkloads.LoadError}); printing the Nabla column only. " +
        "Run bench/run.sh, or tools/torchsharp-peer/setup.sh and then LD_PRELOAD=/tmp/libiosshim.so.");
}

if (opt.RssProbe is { } probe) return RssProbe.Run(probe, opt);

if (!nabla && !peer)
{
    Console.Error.WriteLine("Nothing to run: neither library is available.");
    return 1;
}

var specs = Workloads.All(opt.Threads).Where(opt.Selected).ToList();
if (specs.Count == 0)
{
    Console.Error.WriteLine("--only matched no workload; ids: " + string.Join(",", Workloads.All(opt.Threads).Select(s => s.Id).Distinct()));
    return 2;
}

Console.Error.WriteLine($"measuring the FMA loop on 1 and {opt.Threads} thread(s)...");
using var limits = MachineLimits.Create(opt.Threads);

var rows = new List<Row>();
foreach (var spec in specs)
{
    // Memory-bound rows: measure the bandwidth limit right before the row, the same way as the workloads.
    double? limitGBps = null;
    if (spec.Limit is LimitKind.StreamAdd or LimitKind.SumRead)
    {
        bool add = spec.Limit == LimitKind.StreamAdd;
        var limitSpec = new Spec(spec.Id, add ? "limit: STREAM add 3 x 64 MiB (GB/s)" : "limit: sum over 64 MiB (GB/s)", spec.Threads,
            Unit.GBps, Work: add ? MachineLimits.AddBytes : MachineLimits.SumBytes);
        var (lr, _) = Run("limit", limitSpec, opt, _ => { }, p => add ? limits.AddCase(p.Threads) : limits.SumCase(p.Threads));
        if (lr is not null)
        {
            limitGBps = limitSpec.Work / lr.Median / 1e9;
            (add ? limits.StreamAddGBps : limits.SumGBps).Add(limitGBps.Value);
        }
    }
    Result? rn = null, rp = null;
    string? en = null, ep = null;
    if (nabla) (rn, en) = Run("Nabla", spec, opt, NablaWorkloads.SetThreads, NablaWorkloads.Create);
    if (peer) (rp, ep) = Run("TorchSharp", spec, opt, PeerWorkloads.SetThreads, PeerWorkloads.Create);
    rows.Add(new Row(spec, rn, rp, en, ep, limitGBps));
}

Dictionary<string, (string, string)>? rss = null;
if (opt.Rss)
{
    rss = new();
    foreach (var s in specs.Where(s => s.Id is "W3" or "W6"))
    {
        Console.Error.WriteLine($"peak RSS of {s.Label}: one child process per library...");
        string key = Table.RssKey(s);
        rss[key] = (nabla ? RssProbe.Spawn("nabla", key, opt) : "—", !peer ? "—" : s.Id == "W6" ? "n/a" : RssProbe.Spawn("peer", key, opt));
    }
}

var inv = CultureInfo.InvariantCulture;
Console.WriteLine($"## Nabla vs TorchSharp, {opt.Threads} thread(s), {DateTime.Now:yyyy-MM-dd HH:mm}");
Console.WriteLine();
Console.WriteLine($"- CPU: {MachineInfo.CpuModel()}; {Environment.ProcessorCount} logical CPUs, {RuntimeInformation.OSDescription.Trim()}, " +
    $".NET {Environment.Version}");
Console.WriteLine($"- instruction sets the runtime reports: {MachineInfo.InstructionSets()}" +
    (opt.NoAvx512 ? " (run with --no-avx512: DOTNET_EnableAVX512=0 DOTNET_EnableAVX512F=0)" : ""));
Console.WriteLine($"- caches as Nabla reads them: {MachineInfo.Caches()}; GEMM: {MachineInfo.GemmConfig()}");
Console.WriteLine($"- Nabla: {(nabla ? typeof(Nabla.torch).Assembly.GetName().Version : "skipped (--peer-only)")}; " +
    $"TorchSharp: {(peer ? PeerWorkloads.Version + " (libtorch 2.10 CPU)" : opt.NablaOnly ? "skipped (--nabla-only)" : "did not load: " + PeerWorkloads.LoadError)}");
Console.WriteLine($"- {opt.Runs} timed runs per cell after warm-up, each about {opt.TargetMs} ms; cells are median (min–max) over the runs");
string Gbps(List<double> xs) => xs.Count == 0 ? "not measured (no such row)" : string.Join(", ", xs.Select(x => x.ToString("F1", inv))) + " GB/s";
Console.WriteLine($"- limits measured in this run (median of the timed runs, right before each memory-bound row, {opt.Threads} thread(s)): " +
    $"STREAM add (3 × 64 MiB) {Gbps(limits.StreamAddGBps)}; sum over 64 MiB {Gbps(limits.SumGBps)}");
Console.WriteLine($"- limits measured at start-up, {opt.Threads} thread(s): STREAM add {limits.StartStreamAddGBps.ToString("F1", inv)} GB/s, " +
    $"sum {limits.StartSumGBps.ToString("F1", inv)} GB/s (best of 7)");
Console.WriteLine($"- FMA peak measured at start-up (float, Vector{MachineLimits.FmaVectorBits}, best of 40 passes): " +
    $"{limits.FmaMeasuredOneThread.ToString("F0", inv)} GFLOP/s on 1 thread, {limits.FmaMeasuredAllThreads.ToString("F0", inv)} on {opt.Threads}; " +
    "every FMA-bound row's limit and fraction use the figure for its own thread count");
Console.WriteLine("- W6 (ResNet-18): TorchSharp has no torchvision package here, so its column is n/a.");
Console.WriteLine();
Console.Write(Table.Render(rows, limits, nabla, peer, rss));
Console.WriteLine();
Console.WriteLine($"Peak RSS of this whole process (all workloads{(nabla && peer ? ", both libraries" : "")}): {RssProbe.VmHwmKb() / 1024} MiB");
return 0;

static (Result?, string?) Run(string lib, Spec spec, Options opt, Action<int> setThreads, Func<Spec, Case?> create)
{
    Console.Error.Write($"{lib,-10} {spec.Label} ... ");
    try
    {
        setThreads(spec.Threads);
        var c = create(spec);
        if (c is null) { Console.Error.WriteLine("n/a"); return (null, "n/a"); }
        try
        {
            var r = Harness.Measure(c.Step, opt.Runs, opt.TargetMs / 1000.0, opt.WarmupMs / 1000.0);
            Console.Error.WriteLine($"{Table.Num(Table.Value(spec, r.Median))} ({r.ItersPerRun} iters/run)");
            return (r, null);
        }
        finally
        {
            c.Cleanup?.Invoke();
        }
    }
    catch (Exception e)
    {
        Console.Error.WriteLine($"failed: {e.GetType().Name}: {e.Message.Split('\n')[0]}");
        return (null, "error: " + e.GetType().Name);
    }
}

/// <summary>Command-line options.</summary>
sealed class Options
{
    public int Runs { get; set; } = 7;
    public int Threads { get; set; } = Environment.ProcessorCount;
    public HashSet<string>? Only { get; set; }
    public bool PeerOnly { get; set; }
    public bool NablaOnly { get; set; }
    public bool Rss { get; set; } = true;
    public bool NoAvx512 { get; set; }
    public string? RssProbe { get; set; }
    public int TargetMs { get; set; } = 250;
    // .NET tiered JIT (with dynamic PGO) settles small-op code after about 1-1.5 s of calls (W2 measured 52 µs at 300 ms
    // and 12 µs once tier 1 was in), so each cell warms up for 2 s: both libraries are measured in steady state.
    public int WarmupMs { get; set; } = 2000;

    public bool Selected(Spec s) => Only is null || Only.Contains(s.Id);

    public static Options? Parse(string[] args)
    {
        var o = new Options();
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{a} needs a value");
            try
            {
                switch (a)
                {
                    case "--runs": o.Runs = Math.Max(1, int.Parse(Next(), CultureInfo.InvariantCulture)); break;
                    case "--threads": o.Threads = Math.Max(1, int.Parse(Next(), CultureInfo.InvariantCulture)); break;
                    case "--only":
                        o.Only = new HashSet<string>(Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                            StringComparer.OrdinalIgnoreCase);
                        break;
                    case "--peer-only": o.PeerOnly = true; break;
                    case "--nabla-only": o.NablaOnly = true; break;
                    case "--no-rss": o.Rss = false; break;
                    case "--no-avx512": o.NoAvx512 = true; break;
                    case "--rss-probe": o.RssProbe = Next(); break;
                    case "--target-ms": o.TargetMs = Math.Max(1, int.Parse(Next(), CultureInfo.InvariantCulture)); break;
                    case "--warmup-ms": o.WarmupMs = Math.Max(0, int.Parse(Next(), CultureInfo.InvariantCulture)); break;
                    case "-h" or "--help": Usage(); return null;
                    default: throw new ArgumentException($"unknown option {a}");
                }
            }
            catch (Exception e) when (e is ArgumentException or FormatException)
            {
                Console.Error.WriteLine(e.Message);
                Usage();
                return null;
            }
        }
        if (o.PeerOnly && o.NablaOnly)
        {
            Console.Error.WriteLine("--peer-only and --nabla-only exclude each other");
            return null;
        }
        return o;
    }

    static void Usage() => Console.Error.WriteLine(
        """
        Nabla.Bench [--runs N] [--threads N] [--only W1,W4,...] [--peer-only | --nabla-only] [--no-rss]
                    [--target-ms MS] [--warmup-ms MS] [--no-avx512]
          --runs N       timed runs per workload (default 7); cells show median (min–max)
          --threads N    intra-op threads for both libraries (default: all logical CPUs); W4 also runs on 1 thread
          --only LIST    workload ids: W1,W1b,W2,W3,W4,W4b,W5,W5b,W6,W7,W8
          --peer-only    TorchSharp column only; --nabla-only: Nabla only (TorchSharp is never loaded)
          --no-rss       skip the child processes that measure W3's and W6's peak RSS per library
          --target-ms    length of one timed run (default 250); --warmup-ms: minimum warm-up (default 2000)
          --no-avx512    rerun in a child process with DOTNET_EnableAVX512=0 (and the older DOTNET_EnableAVX512F=0):
                         Nabla's AVX2 paths, the FMA peak measured at 256 bits
        Run TorchSharp with LD_PRELOAD=/tmp/libiosshim.so after tools/torchsharp-peer/setup.sh (bench/run.sh does both).
        """);
}

/// <summary>Peak RSS (VmHWM) of W3 and W6 per library, each in a process of its own.</summary>
static class RssProbe
{
    /// <summary>VmHWM of this process in kB, from /proc/self/status (0 where unavailable).</summary>
    public static long VmHwmKb()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line.AsSpan(6).Trim().ToString().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (IOException) { }
        return 0;
    }

    /// <summary>Child mode (<c>--rss-probe lib:key</c>): run one workload on one library and print its VmHWM before and after.</summary>
    public static int Run(string probe, Options opt)
    {
        int colon = probe.IndexOf(':');
        string lib = colon < 0 ? probe : probe[..colon];
        string key = colon < 0 ? "W3" : probe[(colon + 1)..];
        var spec = Workloads.All(opt.Threads).First(s => Table.RssKey(s) == key);
        Action<int> setThreads;
        Func<Spec, Case?> create;
        if (lib == "peer")
        {
            if (!PeerWorkloads.TryLoad()) return 1;
            setThreads = PeerWorkloads.SetThreads;
            create = PeerWorkloads.Create;
        }
        else
        {
            if (!NablaWorkloads.Available) return 1;
            setThreads = NablaWorkloads.SetThreads;
            create = NablaWorkloads.Create;
        }
        setThreads(spec.Threads);
        long baseline = VmHwmKb();
        var c = create(spec);
        if (c is null) return 1;
        Harness.Measure(c.Step, 3, opt.TargetMs / 1000.0, opt.WarmupMs / 1000.0);
        Console.WriteLine($"RSS_PROBE baseline_kB={baseline} peak_kB={VmHwmKb()}");
        return 0;
    }

    /// <summary>Runs this program again as <c>--rss-probe lib:key</c> and returns "peak MiB (baseline MiB)".</summary>
    public static string Spawn(string lib, string key, Options opt)
    {
        try
        {
            string exe = Environment.ProcessPath ?? "dotnet";
            var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            if (Path.GetFileNameWithoutExtension(exe) == "dotnet")
                psi.ArgumentList.Add(typeof(RssProbe).Assembly.Location);
            foreach (var a in new[] { "--rss-probe", lib + ":" + key, "--threads", opt.Threads.ToString(CultureInfo.InvariantCulture),
                         "--target-ms", opt.TargetMs.ToString(CultureInfo.InvariantCulture),
                         "--warmup-ms", opt.WarmupMs.ToString(CultureInfo.InvariantCulture) })
                psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var stderr = p.StandardError.ReadToEndAsync();
            string output = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            _ = stderr.Result;
            foreach (var line in output.Split('\n'))
            {
                if (!line.StartsWith("RSS_PROBE", StringComparison.Ordinal)) continue;
                var kv = line.Split(' ').Skip(1).Select(x => x.Split('=')).ToDictionary(x => x[0], x => long.Parse(x[1], CultureInfo.InvariantCulture));
                return $"{kv["peak_kB"] / 1024} MiB (at start {kv["baseline_kB"] / 1024})";
            }
            return $"probe failed (exit {p.ExitCode})";
        }
        catch (Exception e)
        {
            return "probe failed: " + e.GetType().Name;
        }
    }
}
