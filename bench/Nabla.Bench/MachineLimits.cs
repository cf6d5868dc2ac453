using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Nabla.Bench;

/// <summary>
/// The machine limits WORKLOADS.md names, measured in the same run as the workloads (memory-bound figures swing up to
/// 2× between runs on a shared machine, so a fraction is only meaningful against a limit taken alongside).
/// The bandwidth limits are measured right before each memory-bound row, with the same warm-up and timed runs as the
/// workloads (<see cref="AddCase"/>, <see cref="SumCase"/>): a STREAM-style add a = b + c over three 64 MiB arrays and
/// a sum over 64 MiB, on 64-byte aligned native memory with Vector512 (Vector256 where AVX-512 is missing), split
/// across the row's threads. The FMA peak is measured at start-up, on 1 thread and on all of the run's threads, at the
/// vector width the GEMM runs (Vector512 when accelerated, else Vector256, else Vector128), so every "fraction of limit"
/// is against this machine in this run (with AVX-512 switched off, against the AVX2 peak). The same STREAM add and sum
/// are also measured once at start-up for the header.
/// </summary>
public sealed unsafe class MachineLimits : IDisposable
{
    const int N = Workloads.Big;                 // 16M floats = 64 MiB per array

    float* _a, _b, _c;

    /// <summary>Measured float FMA GFLOP/s of one thread (the limit of 1-thread rows).</summary>
    public double FmaMeasuredOneThread { get; private set; }

    /// <summary>Measured float FMA GFLOP/s on all of the run's threads (the limit of rows on <see cref="Threads"/>).</summary>
    public double FmaMeasuredAllThreads { get; private set; }

    /// <summary>Vector width (bits) of the FMA loop: the widest the runtime accelerates.</summary>
    public static int FmaVectorBits => Vector512.IsHardwareAccelerated ? 512 : Vector256.IsHardwareAccelerated ? 256 : 128;

    /// <summary>STREAM add bandwidth (GB/s) on all threads, measured at start-up.</summary>
    public double StartStreamAddGBps { get; private set; }

    /// <summary>Sum bandwidth (GB/s) on all threads, measured at start-up.</summary>
    public double StartSumGBps { get; private set; }

    /// <summary>
    /// FMA peak in GFLOP/s for a row on <paramref name="threads"/> threads: the 1-thread or all-thread measurement, and
    /// for other counts the all-thread figure per thread times the count.
    /// </summary>
    public double FmaPeak(int threads) =>
        threads <= 1 ? FmaMeasuredOneThread
        : threads == Threads ? FmaMeasuredAllThreads
        : FmaMeasuredAllThreads / Threads * threads;

    /// <summary>STREAM-style add bandwidths (GB/s, 3 × 64 MiB per pass) measured in this run, one per row.</summary>
    public List<double> StreamAddGBps { get; } = [];

    /// <summary>Sum bandwidths (GB/s, 64 MiB per pass) measured in this run, one per row.</summary>
    public List<double> SumGBps { get; } = [];

    public int Threads { get; init; }

    /// <summary>Measures the FMA loop on 1 and on <paramref name="threads"/> threads, and the STREAM add and sum once.</summary>
    public static MachineLimits Create(int threads)
    {
        var m = new MachineLimits { Threads = threads };
        m.FmaMeasuredOneThread = MeasureFma(1);
        m.FmaMeasuredAllThreads = MeasureFma(threads);
        m.StartStreamAddGBps = AddBytes / m.BestSeconds(m.AddCase(threads)) / 1e9;
        m.StartSumGBps = SumBytes / m.BestSeconds(m.SumCase(threads)) / 1e9;
        return m;
    }

    /// <summary>Best of 2 warm-up and 7 timed steps.</summary>
    double BestSeconds(Case c)
    {
        double best = double.MaxValue;
        for (int i = 0; i < 9; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            c.Step();
            if (i >= 2) best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalSeconds);
        }
        return best;
    }

    void EnsureBuffers()
    {
        if (_a != null) return;
        nuint bytes = (nuint)N * sizeof(float);
        _a = (float*)NativeMemory.AlignedAlloc(bytes, 64);
        _b = (float*)NativeMemory.AlignedAlloc(bytes, 64);
        _c = (float*)NativeMemory.AlignedAlloc(bytes, 64);
        // First touch here, outside any timing (page faults cost 11-15 µs per page on this VM).
        new Span<float>(_a, N).Fill(0f);
        new Span<float>(_b, N).Fill(1f);
        new Span<float>(_c, N).Fill(2f);
    }

    /// <summary>Bytes one <see cref="AddCase"/> step moves.</summary>
    public const double AddBytes = 3.0 * 4 * N;

    /// <summary>Bytes one <see cref="SumCase"/> step reads.</summary>
    public const double SumBytes = 4.0 * N;

    /// <summary>One step: a = b + c over 16M floats on <paramref name="threads"/> threads.</summary>
    public Case AddCase(int threads)
    {
        EnsureBuffers();
        float* a = _a, b = _b, c = _c;
        return new Case(() => Split(threads, N, (lo, hi) => Add(a, b, c, lo, hi)));
    }

    /// <summary>One step: the sum of 16M floats on <paramref name="threads"/> threads.</summary>
    public Case SumCase(int threads)
    {
        EnsureBuffers();
        float* b = _b;
        var partial = new double[threads];
        int per = (N + threads - 1) / threads;
        return new Case(() =>
        {
            Split(threads, N, (lo, hi) => partial[lo / per] = Sum(b, lo, hi));
            if (Math.Abs(partial.Sum() - N) > 1) throw new InvalidOperationException("sum check failed");
        });
    }

    public void Dispose()
    {
        if (_a == null) return;
        NativeMemory.AlignedFree(_a);
        NativeMemory.AlignedFree(_b);
        NativeMemory.AlignedFree(_c);
        _a = _b = _c = null;
    }

    /// <summary>Runs body over [0, n) in <paramref name="threads"/> contiguous chunks of whole 64-byte lines.</summary>
    static void Split(int threads, int n, Action<int, int> body)
    {
        if (threads == 1) { body(0, n); return; }
        int per = (n + threads - 1) / threads;
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads },
            t => body(t * per, Math.Min(n, (t + 1) * per)));
    }

    // Fully optimized from the first call: a dozen calls never reach tier 1, and tier-0/OSR code would understate the limit.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static unsafe void Add(float* a, float* b, float* c, int lo, int hi)
    {
        int i = lo;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 64 <= hi; i += 64)
            {
                (Vector512.LoadAligned(b + i) + Vector512.LoadAligned(c + i)).StoreAligned(a + i);
                (Vector512.LoadAligned(b + i + 16) + Vector512.LoadAligned(c + i + 16)).StoreAligned(a + i + 16);
                (Vector512.LoadAligned(b + i + 32) + Vector512.LoadAligned(c + i + 32)).StoreAligned(a + i + 32);
                (Vector512.LoadAligned(b + i + 48) + Vector512.LoadAligned(c + i + 48)).StoreAligned(a + i + 48);
            }
        }
        else
        {
            for (; i + 32 <= hi; i += 32)
            {
                (Vector256.LoadAligned(b + i) + Vector256.LoadAligned(c + i)).StoreAligned(a + i);
                (Vector256.LoadAligned(b + i + 8) + Vector256.LoadAligned(c + i + 8)).StoreAligned(a + i + 8);
                (Vector256.LoadAligned(b + i + 16) + Vector256.LoadAligned(c + i + 16)).StoreAligned(a + i + 16);
                (Vector256.LoadAligned(b + i + 24) + Vector256.LoadAligned(c + i + 24)).StoreAligned(a + i + 24);
            }
        }
        for (; i < hi; i++) a[i] = b[i] + c[i];
    }

    // Fully optimized from the first call: a dozen calls never reach tier 1, and tier-0/OSR code would understate the limit.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static unsafe double Sum(float* x, int lo, int hi)
    {
        int i = lo;
        float tail = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
            for (; i + 64 <= hi; i += 64)
            {
                s0 += Vector512.LoadAligned(x + i);
                s1 += Vector512.LoadAligned(x + i + 16);
                s2 += Vector512.LoadAligned(x + i + 32);
                s3 += Vector512.LoadAligned(x + i + 48);
            }
            tail = Vector512.Sum((s0 + s1) + (s2 + s3));
        }
        else
        {
            Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
            for (; i + 32 <= hi; i += 32)
            {
                s0 += Vector256.LoadAligned(x + i);
                s1 += Vector256.LoadAligned(x + i + 8);
                s2 += Vector256.LoadAligned(x + i + 16);
                s3 += Vector256.LoadAligned(x + i + 24);
            }
            tail = Vector256.Sum((s0 + s1) + (s2 + s3));
        }
        for (; i < hi; i++) tail += x[i];
        return tail;
    }

    /// <summary>GFLOP/s of 12 independent FMA chains per thread, best of 40 passes (bench/Shared/FmaPeak.cs, shared with GemmProbe).</summary>
    static double MeasureFma(int threads) => global::FmaPeak.Measure(threads);
}
