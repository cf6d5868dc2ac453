using System.Diagnostics;
using Nabla.Kernels.Cpu;

// GFLOP/s of Gemm.Matmul (float, row-major, C = A @ B) for square sizes on 1 and 2 threads.
// Usage: dotnet run -c Release [-- sizes... [double]]
int[] sizes = args.Where(s => int.TryParse(s, out _)).Select(int.Parse).ToArray();
if (sizes.Length == 0) sizes = [256, 512, 1024, 2048];
bool dbl = args.Contains("double");
Console.WriteLine($"Gemm probe ({(dbl ? "double" : "float")}), isa={Gemm.BestIsa}, cores={Environment.ProcessorCount}, KC={Gemm.KC} MC={Gemm.MC} NC={Gemm.NC}");
Console.WriteLine($"{"n",6} {"threads",8} {"GFLOP/s(best)",14} {"GFLOP/s(median)",16}");
foreach (int n in sizes)
{
    foreach (int threads in new[] { 1, 2 })
    {
        ParallelFor.NumThreads = threads;
        var (best, median) = dbl ? Run<double>(n) : Run<float>(n);
        Console.WriteLine($"{n,6} {threads,8} {best,14:F1} {median,16:F1}");
    }
}

static (double best, double median) Run<T>(int n) where T : unmanaged
{
    var rng = new Random(1);
    var a = new T[n * n]; var b = new T[n * n]; var c = new T[n * n];
    for (int i = 0; i < a.Length; i++) { a[i] = (T)(object)Conv<T>(rng.NextDouble()); b[i] = (T)(object)Conv<T>(rng.NextDouble()); }
    double flops = 2.0 * n * n * n;
    int reps = (int)Math.Clamp(3e9 / flops, 3, 2000);
    void Once()
    {
        if (typeof(T) == typeof(float)) Gemm.Matmul(n, n, n, (float[])(object)a, n, 1, (float[])(object)b, n, 1, (float[])(object)c, n);
        else Gemm.Matmul(n, n, n, (double[])(object)a, n, 1, (double[])(object)b, n, 1, (double[])(object)c, n);
    }
    for (int i = 0; i < Math.Max(3, reps / 4); i++) Once();
    var times = new List<double>();
    for (int round = 0; round < 7; round++)
    {
        int r = Math.Max(1, reps / 7);
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < r; i++) Once();
        times.Add(sw.Elapsed.TotalSeconds / r);
    }
    times.Sort();
    return (flops / times[0] / 1e9, flops / times[times.Count / 2] / 1e9);
}

static object Conv<T>(double v) => typeof(T) == typeof(float) ? (object)(float)v : v;
