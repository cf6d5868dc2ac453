using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nabla.Kernels.Cpu;

// Note [Block reductions for var, max and cumsum]: the data is a contiguous (outer, reduce, inner) block, the middle
// axis being the one reduced (or scanned). inner == 1 is the row case: each row is reduced with SIMD loops, rows are
// shared among threads. inner > 1 (a reduction over a non-last dim of a contiguous tensor) is done column-wise: SIMD
// vectors span neighbouring columns and walk down the reduced axis, so no transposing copy is needed; threads take
// (outer, column block) items. A single long row (a reduction over everything) is cut into fixed chunks whose
// partial results are combined in chunk order, so results do not depend on the thread count.
//   var/std: the corrected two-pass algorithm: the mean m, then sum(d^2) - sum(d)^2 / n with d = x - m (the second
//     term removes the rounding error of m), as PyTorch's CPU two-pass var computes in the input's type. SIMD
//     partial sums are kept in T over blocks (1024 elements of a row, 64 rows of a column) and added in double, so
//     a float32 var of values ~1e4 with a small spread stays accurate to float rounding.
//   max/min/argmax/argmin: the index of the first NaN when there is one, else of the first occurrence of the extreme
//     (-0.0 and 0.0 compare equal, so the first of them wins); values are the elements at those indices.
//   cumsum: float32 accumulates in double, as PyTorch's CPU kernel; each output is the running sum rounded once.

/// <summary>SIMD var/std, max/min (with indices) and cumsum over the middle axis of contiguous blocks.</summary>
internal static unsafe partial class StatKernels
{
    /// <summary>Elements a thread should get at least before a loop is split.</summary>
    const int Grain = 16384;

    /// <summary>Fixed chunk of a single long row (see the note).</summary>
    const int Chunk = 16384;

    /// <summary>Columns per work item of the column-wise kernels.</summary>
    const int ColumnBlock = 64;

    static void CheckBlock(int srcLength, int dstLength, int outer, int reduce, int inner, int dstPerOuter)
    {
        if (outer < 0 || reduce < 0 || inner < 1 || srcLength < (long)outer * reduce * inner || dstLength < (long)outer * dstPerOuter)
            throw new ArgumentException("span too short for the block");
    }

    // ---- var / std ----------------------------------------------------------------------------------------------

    /// <summary>var (or std when <paramref name="sqrt"/>) over the middle axis: sum((x - mean)^2) / divisor.</summary>
    public static void Var<T>(ReadOnlySpan<T> src, Span<T> dst, int outer, int reduce, int inner, double divisor, bool sqrt)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckBlock(src.Length, dst.Length, outer, reduce, inner, inner);
        if (outer == 0) return;
        fixed (T* s = src)
        fixed (T* d = dst)
        {
            if (inner == 1 && outer == 1 && reduce >= 2 * Chunk)
            {
                d[0] = Finish<T>(LongRowSs(s, reduce), reduce, divisor, sqrt);
                return;
            }
            var body = new VarBody<T> { Src = s, Dst = d, Reduce = reduce, Inner = inner, Divisor = divisor, Sqrt = sqrt };
            if (inner == 1) { body.Blocks = 0; ParallelFor.For(outer, Math.Max(1, Grain / Math.Max(1, reduce)), body); }
            else
            {
                body.Blocks = (inner + ColumnBlock - 1) / ColumnBlock;
                ParallelFor.For(outer * body.Blocks, Math.Max(1, Grain / Math.Max(1, reduce * ColumnBlock)), body);
            }
        }
    }

    static T Finish<T>(double ss, int n, double divisor, bool sqrt) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double v = n == 0 ? double.NaN : ss / divisor;
        return T.CreateTruncating(sqrt ? Math.Sqrt(v) : v);
    }

    /// <summary>
    /// The corrected two-pass sum of squares: with d = x - m for the (rounded) mean m, sum(d^2) - sum(d)^2 / n, which
    /// removes the error of m; never negative.
    /// </summary>
    static double Corrected(double sq, double sd, int n) => n == 0 ? 0 : Math.Max(0, sq - sd * sd / n);

    unsafe struct VarBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* Src, Dst;
        public int Reduce, Inner, Blocks;
        public double Divisor;
        public bool Sqrt;

        public void Invoke(int begin, int end)
        {
            if (Blocks == 0)
            {
                for (int r = begin; r < end; r++)
                {
                    T* row = Src + (long)r * Reduce;
                    double rowMean = RowSum(row, Reduce) / Reduce;
                    double rowSq = RowSq(row, Reduce, rowMean, out double rowSd);
                    Dst[r] = Finish<T>(Corrected(rowSq, rowSd, Reduce), Reduce, Divisor, Sqrt);
                }
                return;
            }
            double* sum = stackalloc double[ColumnBlock];
            double* sq = stackalloc double[ColumnBlock];
            double* sd = stackalloc double[ColumnBlock];
            T* acc = stackalloc T[ColumnBlock];
            T* acc2 = stackalloc T[ColumnBlock];
            T* mean = stackalloc T[ColumnBlock];
            for (int item = begin; item < end; item++)
            {
                int o = item / Blocks, c0 = item % Blocks * ColumnBlock;
                int w = Math.Min(ColumnBlock, Inner - c0);
                T* b = Src + (long)o * Reduce * Inner + c0;
                new Span<double>(sum, w).Clear();
                new Span<double>(sq, w).Clear();
                new Span<double>(sd, w).Clear();
                // strips of four vectors keep their partial sums in registers; the rest goes through buffers
                int lanes = Vector256<T>.Count, strip = 0;
                for (; strip <= w - 4 * lanes; strip += 4 * lanes) VarStrip(b + strip, Reduce, Inner, sum + strip, sq + strip, sd + strip);
                int rest = w - strip;
                if (rest > 0)
                {
                    T* br = b + strip;
                    double* sumr = sum + strip, sqr = sq + strip, sdr = sd + strip;
                    // pass 1: column sums in T, flushed to double every ColumnFlush rows
                    for (int r0 = 0; r0 < Reduce; r0 += ColumnFlush)
                    {
                        int r1 = Math.Min(Reduce, r0 + ColumnFlush);
                        new Span<T>(acc, rest).Clear();
                        for (int r = r0; r < r1; r++) AddTo(br + (long)r * Inner, acc, rest);
                        for (int c = 0; c < rest; c++) sumr[c] += double.CreateTruncating(acc[c]);
                    }
                    for (int c = 0; c < rest; c++) mean[c] = T.CreateTruncating(sumr[c] / Reduce);
                    // pass 2: sum(d) and sum(d^2), d = x - mean
                    for (int r0 = 0; r0 < Reduce; r0 += ColumnFlush)
                    {
                        int r1 = Math.Min(Reduce, r0 + ColumnFlush);
                        new Span<T>(acc, rest).Clear();
                        new Span<T>(acc2, rest).Clear();
                        for (int r = r0; r < r1; r++) AddDev(br + (long)r * Inner, mean, acc, acc2, rest);
                        for (int c = 0; c < rest; c++) { sdr[c] += double.CreateTruncating(acc[c]); sqr[c] += double.CreateTruncating(acc2[c]); }
                    }
                }
                T* d = Dst + (long)o * Inner + c0;
                for (int c = 0; c < w; c++) d[c] = Finish<T>(Corrected(sq[c], sd[c], Reduce), Reduce, Divisor, Sqrt);
            }
        }
    }

    /// <summary>Column var partials (sum, sum(d^2), sum(d)) of 4 vectors of columns, accumulated in registers.</summary>
    static void VarStrip<T>(T* b, int reduce, int inner, double* sum, double* sq, double* sd) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int lanes = Vector256<T>.Count;
        for (int r0 = 0; r0 < reduce; r0 += ColumnFlush)
        {
            int r1 = Math.Min(reduce, r0 + ColumnFlush);
            var a0 = Vector256<T>.Zero; var a1 = a0; var a2 = a0; var a3 = a0;
            for (int r = r0; r < r1; r++)
            {
                T* p = b + (long)r * inner;
                a0 += Vector256.Load(p); a1 += Vector256.Load(p + lanes); a2 += Vector256.Load(p + 2 * lanes); a3 += Vector256.Load(p + 3 * lanes);
            }
            Flush(a0, sum); Flush(a1, sum + lanes); Flush(a2, sum + 2 * lanes); Flush(a3, sum + 3 * lanes);
        }
        T* mean = stackalloc T[4 * lanes];
        for (int c = 0; c < 4 * lanes; c++) mean[c] = T.CreateTruncating(sum[c] / reduce);
        var m0 = Vector256.Load(mean); var m1 = Vector256.Load(mean + lanes); var m2 = Vector256.Load(mean + 2 * lanes); var m3 = Vector256.Load(mean + 3 * lanes);
        for (int r0 = 0; r0 < reduce; r0 += ColumnFlush)
        {
            int r1 = Math.Min(reduce, r0 + ColumnFlush);
            var d0 = Vector256<T>.Zero; var d1 = d0; var d2 = d0; var d3 = d0;
            var q0 = d0; var q1 = d0; var q2 = d0; var q3 = d0;
            for (int r = r0; r < r1; r++)
            {
                T* p = b + (long)r * inner;
                var v0 = Vector256.Load(p) - m0; var v1 = Vector256.Load(p + lanes) - m1;
                var v2 = Vector256.Load(p + 2 * lanes) - m2; var v3 = Vector256.Load(p + 3 * lanes) - m3;
                d0 += v0; d1 += v1; d2 += v2; d3 += v3;
                q0 += v0 * v0; q1 += v1 * v1; q2 += v2 * v2; q3 += v3 * v3;
            }
            Flush(d0, sd); Flush(d1, sd + lanes); Flush(d2, sd + 2 * lanes); Flush(d3, sd + 3 * lanes);
            Flush(q0, sq); Flush(q1, sq + lanes); Flush(q2, sq + 2 * lanes); Flush(q3, sq + 3 * lanes);
        }
    }

    /// <summary>dst[k] += v[k] in double.</summary>
    static void Flush<T>(Vector256<T> v, double* dst) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
        {
            var (l, h) = Vector256.Widen(v.AsSingle());
            (Vector256.Load(dst) + l).Store(dst);
            (Vector256.Load(dst + 4) + h).Store(dst + 4);
        }
        else (Vector256.Load(dst) + v.AsDouble()).Store(dst);
    }

    /// <summary>Rows a column accumulator in T takes before it is added into double.</summary>
    const int ColumnFlush = 64;

    /// <summary>Elements a row accumulator in T takes before it is added into double.</summary>
    const int RowFlush = 1024;

    /// <summary>Sum of squared deviations of one long row, chunked (deterministic) and in parallel.</summary>
    static double LongRowSs<T>(T* s, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int chunks = (n + Chunk - 1) / Chunk;
        var partial = new double[2 * chunks];
        fixed (double* p = partial)
        {
            var body = new ChunkBody<T> { Src = s, N = n, Partial = p, Mean = double.NaN };
            ParallelFor.For(chunks, 1, body);
            double total = 0;
            for (int i = 0; i < chunks; i++) total += p[i];
            body.Mean = total / n;
            ParallelFor.For(chunks, 1, body);
            double sq = 0, sd = 0;
            for (int i = 0; i < chunks; i++) { sq += p[i]; sd += p[chunks + i]; }
            return Corrected(sq, sd, n);
        }
    }

    unsafe struct ChunkBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* Src;
        public int N;
        public double* Partial;
        public double Mean;

        public void Invoke(int begin, int end)
        {
            int chunks = (N + Chunk - 1) / Chunk;
            for (int c = begin; c < end; c++)
            {
                int start = c * Chunk, len = Math.Min(Chunk, N - start);
                if (double.IsNaN(Mean)) Partial[c] = RowSum(Src + start, len);
                else Partial[c] = RowSq(Src + start, len, Mean, out Partial[chunks + c]);
            }
        }
    }

    /// <summary>Sum of a row: SIMD partial sums in T over blocks of RowFlush, added in double.</summary>
    static double RowSum<T>(T* p, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double total = 0;
        int lanes = Vector256<T>.Count;
        for (int b = 0; b < n; b += RowFlush)
        {
            int e = Math.Min(n, b + RowFlush), i = b;
            var a0 = Vector256<T>.Zero; var a1 = a0; var a2 = a0; var a3 = a0;
            for (; i <= e - 4 * lanes; i += 4 * lanes)
            {
                a0 += Vector256.Load(p + i); a1 += Vector256.Load(p + i + lanes);
                a2 += Vector256.Load(p + i + 2 * lanes); a3 += Vector256.Load(p + i + 3 * lanes);
            }
            for (; i <= e - lanes; i += lanes) a0 += Vector256.Load(p + i);
            double s = double.CreateTruncating(Vector256.Sum((a0 + a1) + (a2 + a3)));
            for (; i < e; i++) s += double.CreateTruncating(p[i]);
            total += s;
        }
        return total;
    }

    /// <summary>sum(d^2) of a row with d = x - mean (rounded to T), and sum(d) in <paramref name="sd"/>.</summary>
    static double RowSq<T>(T* p, int n, double mean, out double sd) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double total = 0;
        sd = 0;
        T mt = T.CreateTruncating(mean);
        var m = Vector256.Create(mt);
        int lanes = Vector256<T>.Count;
        for (int b = 0; b < n; b += RowFlush)
        {
            int e = Math.Min(n, b + RowFlush), i = b;
            var d0 = Vector256<T>.Zero; var d1 = d0; var q0 = d0; var q1 = d0;
            for (; i <= e - 2 * lanes; i += 2 * lanes)
            {
                var v0 = Vector256.Load(p + i) - m; var v1 = Vector256.Load(p + i + lanes) - m;
                d0 += v0; d1 += v1; q0 += v0 * v0; q1 += v1 * v1;
            }
            for (; i <= e - lanes; i += lanes) { var v0 = Vector256.Load(p + i) - m; d0 += v0; q0 += v0 * v0; }
            double s = double.CreateTruncating(Vector256.Sum(q0 + q1)), ds = double.CreateTruncating(Vector256.Sum(d0 + d1));
            for (; i < e; i++) { double dv = double.CreateTruncating(p[i] - mt); ds += dv; s += dv * dv; }
            total += s;
            sd += ds;
        }
        return total;
    }

    /// <summary>acc[c] += x[c] for c &lt; w.</summary>
    static void AddTo<T>(T* x, T* acc, int w) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int c = 0, lanes = Vector256<T>.Count;
        for (; c <= w - lanes; c += lanes) (Vector256.Load(acc + c) + Vector256.Load(x + c)).Store(acc + c);
        for (; c < w; c++) acc[c] += x[c];
    }

    /// <summary>acc[c] += d, acc2[c] += d^2 with d = x[c] - mean[c], for c &lt; w.</summary>
    static void AddDev<T>(T* x, T* mean, T* acc, T* acc2, int w) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int c = 0, lanes = Vector256<T>.Count;
        for (; c <= w - lanes; c += lanes)
        {
            var v = Vector256.Load(x + c) - Vector256.Load(mean + c);
            (Vector256.Load(acc + c) + v).Store(acc + c);
            (Vector256.Load(acc2 + c) + v * v).Store(acc2 + c);
        }
        for (; c < w; c++) { T v = x[c] - mean[c]; acc[c] += v; acc2[c] += v * v; }
    }
}
