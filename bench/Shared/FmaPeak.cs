using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

/// <summary>
/// Float FMA peak of this machine at the vector width the GEMM uses (Vector512 when accelerated, else Vector256, else
/// Vector128): 12 independent FMA chains per thread; the best of 40 short passes (a few ms each), the same best-sample rule as the
/// probe's GEMM timings, so that a busy shared machine understates neither more than the other.
/// </summary>
static class FmaPeak
{
    public static double Measure(int threads)
    {
        const long reps = 2_000_000;
        int width = Vector512.IsHardwareAccelerated ? 16 : Vector256.IsHardwareAccelerated ? 8 : 4;
        double flopsPerRep = 12.0 * width * 2;
        Loop(1000);
        double best = 0;
        for (int p = 0; p < 40; p++)
        {
            long t0 = Stopwatch.GetTimestamp();
            if (threads == 1) Loop(reps);
            else
            {
                var ts = Enumerable.Range(0, threads).Select(_ => new Thread(() => Loop(reps))).ToList();
                ts.ForEach(t => t.Start());
                ts.ForEach(t => t.Join());
            }
            double s = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            best = Math.Max(best, threads * reps * flopsPerRep / s / 1e9);
        }
        return best;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static float Loop(long reps)
    {
        if (Vector512.IsHardwareAccelerated) return Loop512(reps);
        if (Vector256.IsHardwareAccelerated) return Loop256(reps);
        return Loop128(reps);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static float Loop512(long reps)
    {
        var m = Vector512.Create(0.999999f); var k = Vector512.Create(1e-7f);
        Vector512<float> a0 = Vector512.Create(1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (long r = 0; r < reps; r++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, m, k); a1 = Vector512.FusedMultiplyAdd(a1, m, k); a2 = Vector512.FusedMultiplyAdd(a2, m, k);
            a3 = Vector512.FusedMultiplyAdd(a3, m, k); a4 = Vector512.FusedMultiplyAdd(a4, m, k); a5 = Vector512.FusedMultiplyAdd(a5, m, k);
            a6 = Vector512.FusedMultiplyAdd(a6, m, k); a7 = Vector512.FusedMultiplyAdd(a7, m, k); a8 = Vector512.FusedMultiplyAdd(a8, m, k);
            a9 = Vector512.FusedMultiplyAdd(a9, m, k); a10 = Vector512.FusedMultiplyAdd(a10, m, k); a11 = Vector512.FusedMultiplyAdd(a11, m, k);
        }
        return Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static float Loop256(long reps)
    {
        var m = Vector256.Create(0.999999f); var k = Vector256.Create(1e-7f);
        Vector256<float> a0 = Vector256.Create(1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (long r = 0; r < reps; r++)
        {
            a0 = Vector256.FusedMultiplyAdd(a0, m, k); a1 = Vector256.FusedMultiplyAdd(a1, m, k); a2 = Vector256.FusedMultiplyAdd(a2, m, k);
            a3 = Vector256.FusedMultiplyAdd(a3, m, k); a4 = Vector256.FusedMultiplyAdd(a4, m, k); a5 = Vector256.FusedMultiplyAdd(a5, m, k);
            a6 = Vector256.FusedMultiplyAdd(a6, m, k); a7 = Vector256.FusedMultiplyAdd(a7, m, k); a8 = Vector256.FusedMultiplyAdd(a8, m, k);
            a9 = Vector256.FusedMultiplyAdd(a9, m, k); a10 = Vector256.FusedMultiplyAdd(a10, m, k); a11 = Vector256.FusedMultiplyAdd(a11, m, k);
        }
        return Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static float Loop128(long reps)
    {
        var m = Vector128.Create(0.999999f); var k = Vector128.Create(1e-7f);
        Vector128<float> a0 = Vector128.Create(1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (long r = 0; r < reps; r++)
        {
            a0 = Vector128.FusedMultiplyAdd(a0, m, k); a1 = Vector128.FusedMultiplyAdd(a1, m, k); a2 = Vector128.FusedMultiplyAdd(a2, m, k);
            a3 = Vector128.FusedMultiplyAdd(a3, m, k); a4 = Vector128.FusedMultiplyAdd(a4, m, k); a5 = Vector128.FusedMultiplyAdd(a5, m, k);
            a6 = Vector128.FusedMultiplyAdd(a6, m, k); a7 = Vector128.FusedMultiplyAdd(a7, m, k); a8 = Vector128.FusedMultiplyAdd(a8, m, k);
            a9 = Vector128.FusedMultiplyAdd(a9, m, k); a10 = Vector128.FusedMultiplyAdd(a10, m, k); a11 = Vector128.FusedMultiplyAdd(a11, m, k);
        }
        return Vector128.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }
}
