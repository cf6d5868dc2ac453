using System.Diagnostics;
using Nabla.Kernels.Cpu;

// Throughput probe for Nabla.Kernels.Cpu.Gemm (not a test, not in Nabla.sln).
//   dotnet run -c Release                      GFLOP/s, float, n = 256..2048, 1 and 2 threads (best and median sample)
//   dotnet run -c Release -- 512 1024 double   chosen sizes, double precision
//   dotnet run -c Release -- tiny              latency of small products, direct path vs forced packed path
//   dotnet run -c Release -- dispatch          round-trip cost of an empty ParallelFor.For
//   dotnet run -c Release -- ab 512 1024       derived block sizes against GEMM_B="KC,MC,NC" (default 256,144,4096, the
//                                              former constants), alternating in rounds in one process; best per side
//   dotnet run -c Release -- sweep             n = 64..4096 with odd sizes (no-cliff check), fraction of the FMA peak
//                                              measured in the same run (run with DOTNET_EnableAVX512=0 for AVX2)
// Environment: GEMM_THREADS=1,2  GEMM_ISA=Vector256|Vector128|Scalar  GEMM_KC/MC/NC/SMALL/PAR (tuning knobs)
//   GEMM_TINY="m,n,k;m,n,k" (shapes for tiny).
int[] sizes = args.Where(s => int.TryParse(s, out _)).Select(int.Parse).ToArray();
if (sizes.Length == 0) sizes = [256, 512, 1024, 2048];
bool dbl = args.Contains("double");
// Block-size overrides for tuning: GEMM_KC, GEMM_MC, GEMM_NC; GEMM_THREADS="1" to run one thread count.
if (int.TryParse(Environment.GetEnvironmentVariable("GEMM_KC"), out int kc)) Gemm.KC = kc;
if (int.TryParse(Environment.GetEnvironmentVariable("GEMM_MC"), out int mc)) Gemm.MC = mc;
if (int.TryParse(Environment.GetEnvironmentVariable("GEMM_NC"), out int nc)) Gemm.NC = nc;
if (int.TryParse(Environment.GetEnvironmentVariable("GEMM_SMALL"), out int small)) Gemm.SmallThreshold = small;
if (long.TryParse(Environment.GetEnvironmentVariable("GEMM_PAR"), out long par)) Gemm.ParallelThreshold = par;
int[] threadCounts = (Environment.GetEnvironmentVariable("GEMM_THREADS") ?? "1,2").Split(',').Select(int.Parse).ToArray();
Console.WriteLine($"Gemm probe ({(dbl ? "double" : "float")}), isa={Gemm.BestIsa}, cores={Environment.ProcessorCount}, KC={Gemm.KC} MC={Gemm.MC} NC={Gemm.NC}");
Console.WriteLine($"caches: {CpuCaches.Describe()}");
double sampleSeconds = 1.5;
if (args.Contains("ab"))
{
    int[] other = (Environment.GetEnvironmentVariable("GEMM_B") ?? "256,144,4096").Split(',').Select(int.Parse).ToArray();
    int t = threadCounts[0];
    ParallelFor.NumThreads = t;
    Console.WriteLine($"A = derived (KC={Gemm.KC} MC={Gemm.MC} NC={Gemm.NC}), B = KC={other[0]} MC={other[1]} NC={other[2]}, {t} thread(s), best of 6 rounds x 0.3 s");
    foreach (int n in sizes)
    {
        double bestA = 0, bestB = 0;
        for (int round = 0; round < 6; round++)
        {
            Gemm.KC = 0; Gemm.MC = 0; Gemm.NC = 0;
            bestA = Math.Max(bestA, dbl ? Run<double>(n, 0.3).best : Run<float>(n, 0.3).best);
            Gemm.KC = other[0]; Gemm.MC = other[1]; Gemm.NC = other[2];
            bestB = Math.Max(bestB, dbl ? Run<double>(n, 0.3).best : Run<float>(n, 0.3).best);
        }
        Gemm.KC = 0; Gemm.MC = 0; Gemm.NC = 0;
        Console.WriteLine($"n={n,5}: A {bestA,7:F1}  B {bestB,7:F1} GFLOP/s  A/B {bestA / bestB:F3}");
    }
    return;
}
if (args.Contains("sweep"))
{
    if (!args.Any(s => int.TryParse(s, out _)))
        sizes = [64, 96, 127, 128, 129, 192, 255, 256, 257, 320, 384, 448, 511, 512, 513, 600, 640, 768, 769, 896, 1000, 1023, 1024, 1025,
            1280, 1536, 1537, 2000, 2047, 2048, 2049, 3000, 4096];
    sampleSeconds = 0.4;
    var peaks = threadCounts.ToDictionary(t => t, t => FmaPeak.Measure(t));
    Console.WriteLine("FMA peak (same vector width as the GEMM, GFLOP/s): " + string.Join(", ", peaks.Select(p => $"{p.Key} thread(s) {p.Value:F1}")));
    Console.WriteLine($"{"n",6} {"threads",8} {"GFLOP/s(best)",14} {"GFLOP/s(median)",16} {"best/peak",10} {"median/peak",12}");
    foreach (int n in sizes)
        foreach (int threads in threadCounts)
        {
            ParallelFor.NumThreads = threads;
            var (best, median) = dbl ? Run<double>(n, sampleSeconds) : Run<float>(n, sampleSeconds);
            double peak = peaks[threads] * (dbl ? 0.5 : 1);
            Console.WriteLine($"{n,6} {threads,8} {best,14:F1} {median,16:F1} {best / peak,10:P0} {median / peak,12:P0}");
        }
    return;
}
if (args.Contains("dispatch"))
{
    var spinSw = Stopwatch.StartNew();
    for (int i = 0; i < 2000; i++) Thread.SpinWait(8);
    Console.WriteLine($"worker idle spin (2000 x SpinWait(8)): {spinSw.Elapsed.TotalMicroseconds:F0} us");
    // Round-trip cost of an empty two-chunk ParallelFor.For.
    ParallelFor.NumThreads = 2;
    for (int r = 0; r < 8; r++)
    {
        int iters = 20000;
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < iters; i++) ParallelFor.For(2, 1, new EmptyBody());
        Console.WriteLine($"ParallelFor.For(2 chunks, empty): {sw.Elapsed.TotalSeconds / iters * 1e6:F2} us/call, gen0 GCs so far {GC.CollectionCount(0)}");
    }
    return;
}
if (args.Contains("tiny"))
{
    // Latency of tutorial-sized products (direct path).
    float[] ta = [1, 2, 3, 4, 5, 6], tb = [1, 0, -1], tc = new float[2];
    foreach (var (m, n, k) in TinyShapes())
    {
        var xa = new float[m * k]; var xb = new float[k * n]; var xc = new float[m * n];
        Array.Fill(xa, 0.5f); Array.Fill(xb, 0.25f);
        Console.Write($"{m}x{k} @ {k}x{n}:");
        foreach (bool packed in new[] { false, true })
        {
            int iters = (int)Math.Clamp(1e8 / (m * n * k + 100), 100, 2_000_000);
            double best = double.MaxValue;
            for (int r = 0; r < 12; r++)
            {
                var sw = Stopwatch.StartNew();
                for (int i = 0; i < iters / 10; i++)
                    Gemm.BatchedCore<float>(1, m, n, k, xa, 0, k, 1, xb, 0, n, 1, xc, 0, n, 1f, 0f, Gemm.BestIsa, 1, packed);
                if (r >= 2) best = Math.Min(best, sw.Elapsed.TotalSeconds / (iters / 10));
            }
            Console.Write($"  {(packed ? "packed" : "auto")} {best * 1e9,9:F1} ns {2.0 * m * n * k / best / 1e9,6:F1} GFLOP/s");
        }
        Console.WriteLine();
    }
    return;
}
Console.WriteLine($"{"n",6} {"threads",8} {"GFLOP/s(best)",14} {"GFLOP/s(median)",16}");
foreach (int n in sizes)
{
    foreach (int threads in threadCounts)
    {
        ParallelFor.NumThreads = threads;
        var (best, median) = dbl ? Run<double>(n, sampleSeconds) : Run<float>(n, sampleSeconds);
        Console.WriteLine($"{n,6} {threads,8} {best,14:F1} {median,16:F1}");
    }
}

static (double best, double median) Run<T>(int n, double seconds) where T : unmanaged
{
    var rng = new Random(1);
    var a = new T[n * n]; var b = new T[n * n]; var c = new T[n * n];
    for (int i = 0; i < a.Length; i++) { a[i] = (T)(object)Conv<T>(rng.NextDouble()); b[i] = (T)(object)Conv<T>(rng.NextDouble()); }
    double flops = 2.0 * n * n * n;
    int reps = (int)Math.Clamp(3e9 / flops, 3, 2000);
    // GEMM_ISA=Vector256 (etc.) forces a narrower microkernel through the internal entry point.
    var isa = Enum.TryParse<GemmIsa>(Environment.GetEnvironmentVariable("GEMM_ISA"), out var forced) ? forced : Gemm.BestIsa;
    void Once()
    {
        if (typeof(T) == typeof(float))
            Gemm.BatchedCore<float>(1, n, n, n, (float[])(object)a, 0, n, 1, (float[])(object)b, 0, n, 1, (float[])(object)c, 0, n, 1f, 0f, isa, ParallelFor.NumThreads, false);
        else
            Gemm.BatchedCore<double>(1, n, n, n, (double[])(object)a, 0, n, 1, (double[])(object)b, 0, n, 1, (double[])(object)c, 0, n, 1, 0, isa, ParallelFor.NumThreads, false);
    }
    for (int i = 0; i < Math.Max(3, reps / 4); i++) Once();
    // Many short samples (~0.5 ms or one call each) over ~1.5 s: on a shared machine the best sample is
    // the one least disturbed by other processes; the median shows the typical cost.
    int per = (int)Math.Clamp(1e6 / flops * 1000 / 4, 1, 1000);
    var times = new List<double>();
    var total = Stopwatch.StartNew();
    while (total.Elapsed.TotalSeconds < seconds || times.Count < 5)
    {
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < per; i++) Once();
        times.Add(sw.Elapsed.TotalSeconds / per);
    }
    times.Sort();
    return (flops / times[0] / 1e9, flops / times[times.Count / 2] / 1e9);
}

static object Conv<T>(double v) => typeof(T) == typeof(float) ? (object)(float)v : v;

static (int m, int n, int k)[] TinyShapes()
{
    var env = Environment.GetEnvironmentVariable("GEMM_TINY");
    if (env is null)
        return [(2, 1, 3), (4, 4, 4), (8, 8, 8), (16, 16, 16), (24, 24, 24), (31, 31, 31), (32, 32, 32), (40, 40, 40), (48, 48, 48), (64, 64, 64)];
    return env.Split(';').Select(t => t.Split(',').Select(int.Parse).ToArray()).Select(v => (v[0], v[1], v[2])).ToArray();
}

struct EmptyBody : IRangeBody { public void Invoke(int begin, int end) { } }
