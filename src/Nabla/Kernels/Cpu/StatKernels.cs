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
internal static unsafe class StatKernels
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

    // ---- max / min with indices -----------------------------------------------------------------------------------

    /// <summary>
    /// The extreme over the middle axis (see the note for NaN and ties): <paramref name="values"/> and/or
    /// <paramref name="indices"/> (each may be empty when not wanted) get outer * inner results.
    /// </summary>
    public static void MaxMin<T>(ReadOnlySpan<T> src, Span<T> values, Span<long> indices, int outer, int reduce, int inner, bool max)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool wantValues = !values.IsEmpty, wantIndices = !indices.IsEmpty;
        CheckBlock(src.Length, wantValues ? values.Length : int.MaxValue, outer, reduce, inner, inner);
        if (wantIndices) CheckBlock(src.Length, indices.Length, outer, reduce, inner, inner);
        if (reduce < 1 || (inner > 1 && reduce > (typeof(T) == typeof(float) ? 1 << 24 : int.MaxValue)))
            throw new ArgumentException("reduce out of range");
        if (outer == 0) return;
        fixed (T* s = src)
        fixed (T* v = values)
        fixed (long* ix = indices)
        {
            var body = new MaxBody<T> { Src = s, Values = wantValues ? v : null, Indices = wantIndices ? ix : null, Reduce = reduce, Inner = inner, Max = max };
            if (inner == 1 && outer == 1 && reduce >= 2 * Chunk)
            {
                long i = LongRowArg(s, reduce, max);
                if (wantValues) v[0] = s[i];
                if (wantIndices) ix[0] = i;
                return;
            }
            if (inner == 1) ParallelFor.For(outer, Math.Max(1, Grain / reduce), body);
            else
            {
                body.Blocks = (inner + ColumnBlock - 1) / ColumnBlock;
                ParallelFor.For(outer * body.Blocks, Math.Max(1, Grain / Math.Max(1, reduce * ColumnBlock)), body);
            }
        }
    }

    unsafe struct MaxBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* Src, Values;
        public long* Indices;
        public int Reduce, Inner, Blocks;
        public bool Max;

        public void Invoke(int begin, int end)
        {
            if (Blocks == 0)
            {
                for (int r = begin; r < end; r++)
                {
                    T* row = Src + (long)r * Reduce;
                    int i = Max ? ArgRow<T, MaxOp>(row, Reduce) : ArgRow<T, MinOp>(row, Reduce);
                    if (Values != null) Values[r] = row[i];
                    if (Indices != null) Indices[r] = i;
                }
                return;
            }
            for (int item = begin; item < end; item++)
            {
                int o = item / Blocks, c0 = item % Blocks * ColumnBlock;
                int w = Math.Min(ColumnBlock, Inner - c0);
                T* b = Src + (long)o * Reduce * Inner + c0;
                long at = (long)o * Inner + c0;
                if (Max) ArgColumns<T, MaxOp>(b, Reduce, Inner, w, Values == null ? null : Values + at, Indices == null ? null : Indices + at);
                else ArgColumns<T, MinOp>(b, Reduce, Inner, w, Values == null ? null : Values + at, Indices == null ? null : Indices + at);
            }
        }
    }

    interface ICompare
    {
        static abstract bool Better<T>(T a, T b) where T : INumber<T>;
        static abstract Vector256<T> Better<T>(Vector256<T> a, Vector256<T> b);
        static abstract Vector256<T> Pick<T>(Vector256<T> a, Vector256<T> b);
        /// <summary>a better than b, or unordered (either NaN).</summary>
        static abstract Vector256<T> BetterOrNaN<T>(Vector256<T> a, Vector256<T> b);
    }

    readonly struct MaxOp : ICompare
    {
        public static bool Better<T>(T a, T b) where T : INumber<T> => a > b;
        public static Vector256<T> Better<T>(Vector256<T> a, Vector256<T> b) => Vector256.GreaterThan(a, b);
        public static Vector256<T> Pick<T>(Vector256<T> a, Vector256<T> b) => Vector256.MaxNative(a, b);
        public static Vector256<T> BetterOrNaN<T>(Vector256<T> a, Vector256<T> b) => ~Vector256.LessThanOrEqual(a, b);
    }

    readonly struct MinOp : ICompare
    {
        public static bool Better<T>(T a, T b) where T : INumber<T> => a < b;
        public static Vector256<T> Better<T>(Vector256<T> a, Vector256<T> b) => Vector256.LessThan(a, b);
        public static Vector256<T> Pick<T>(Vector256<T> a, Vector256<T> b) => Vector256.MinNative(a, b);
        public static Vector256<T> BetterOrNaN<T>(Vector256<T> a, Vector256<T> b) => ~Vector256.GreaterThanOrEqual(a, b);
    }

    /// <summary>Lanes where a or b is NaN.</summary>
    static Vector256<T> Unordered<T>(Vector256<T> a, Vector256<T> b) where T : unmanaged
    {
        if (Avx.IsSupported && typeof(T) == typeof(float)) return Avx.CompareUnordered(a.AsSingle(), b.AsSingle()).As<float, T>();
        if (Avx.IsSupported && typeof(T) == typeof(double)) return Avx.CompareUnordered(a.AsDouble(), b.AsDouble()).As<double, T>();
        return ~(Vector256.Equals(a, a) & Vector256.Equals(b, b));
    }

    /// <summary>Index of the first NaN of a row, or else of the first occurrence of its extreme (n &gt; 0).</summary>
    static int ArgRow<T, TOp>(T* p, int n) where T : unmanaged, IFloatingPointIeee754<T> where TOp : ICompare
    {
        int lanes = Vector256<T>.Count, i = 0;
        T best = p[0];
        bool nan = false;
        if (n >= 2 * lanes)
        {
            // pass 1: the extreme value (NaN tracked apart: the native min/max do not propagate it)
            var m0 = Vector256.Load(p); var m1 = Vector256.Load(p + lanes);
            var bad = Unordered(m0, m1);
            i = 2 * lanes;
            if (n >= 4 * lanes)
            {
                var m2 = Vector256.Load(p + i); var m3 = Vector256.Load(p + i + lanes);
                bad |= Unordered(m2, m3);
                for (i = 4 * lanes; i <= n - 4 * lanes; i += 4 * lanes)
                {
                    var v0 = Vector256.Load(p + i); var v1 = Vector256.Load(p + i + lanes);
                    var v2 = Vector256.Load(p + i + 2 * lanes); var v3 = Vector256.Load(p + i + 3 * lanes);
                    bad |= Unordered(v0, v1) | Unordered(v2, v3);
                    m0 = TOp.Pick(m0, v0); m1 = TOp.Pick(m1, v1); m2 = TOp.Pick(m2, v2); m3 = TOp.Pick(m3, v3);
                }
                m0 = TOp.Pick(m0, m2); m1 = TOp.Pick(m1, m3);
            }
            for (; i <= n - 2 * lanes; i += 2 * lanes)
            {
                var v0 = Vector256.Load(p + i); var v1 = Vector256.Load(p + i + lanes);
                bad |= Unordered(v0, v1);
                m0 = TOp.Pick(m0, v0); m1 = TOp.Pick(m1, v1);
            }
            nan = bad != Vector256<T>.Zero;
            var m = TOp.Pick(m0, m1);
            best = m.GetElement(0);
            for (int k = 1; k < lanes; k++) if (TOp.Better(m.GetElement(k), best)) best = m.GetElement(k);
        }
        for (; i < n; i++)
        {
            T x = p[i];
            if (T.IsNaN(x)) nan = true;
            else if (TOp.Better(x, best)) best = x;
        }
        if (T.IsNaN(best)) nan = true;
        // pass 2: the first element equal to it (or the first NaN)
        i = 0;
        if (nan)
        {
            for (; i <= n - lanes; i += lanes)
            {
                var v = Vector256.Load(p + i);
                uint bits = (~Vector256.Equals(v, v)).ExtractMostSignificantBits();
                if (bits != 0) return i + BitOperations.TrailingZeroCount(bits);
            }
            for (; i < n; i++) if (p[i] != p[i]) return i;
        }
        else
        {
            var bv = Vector256.Create(best);
            for (; i <= n - lanes; i += lanes)
            {
                uint bits = Vector256.Equals(Vector256.Load(p + i), bv).ExtractMostSignificantBits();
                if (bits != 0) return i + BitOperations.TrailingZeroCount(bits);
            }
            for (; i < n; i++) if (p[i] == best) return i;
        }
        throw new InvalidOperationException("extreme not found");
    }

    /// <summary>Column-wise extremes of w columns (stride <paramref name="inner"/>) down <paramref name="reduce"/> rows.</summary>
    static void ArgColumns<T, TOp>(T* b, int reduce, int inner, int w, T* values, long* indices)
        where T : unmanaged, IFloatingPointIeee754<T> where TOp : ICompare
    {
        int lanes = Vector256<T>.Count, c = 0;
        // Index vectors hold row numbers as T (exact: reduce <= 2^24 for float32, checked by the caller).
        for (; c <= w - 4 * lanes; c += 4 * lanes)
        {
            var b0 = Vector256.Load(b + c); var b1 = Vector256.Load(b + c + lanes);
            var b2 = Vector256.Load(b + c + 2 * lanes); var b3 = Vector256.Load(b + c + 3 * lanes);
            var i0 = Vector256<T>.Zero; var i1 = i0; var i2 = i0; var i3 = i0;
            var rv = Vector256<T>.Zero;
            var one = Vector256<T>.One;
            for (int r = 1; r < reduce; r++)
            {
                rv += one;
                T* row = b + (long)r * inner + c;
                var v0 = Vector256.Load(row); var v1 = Vector256.Load(row + lanes);
                var v2 = Vector256.Load(row + 2 * lanes); var v3 = Vector256.Load(row + 3 * lanes);
                // better or NaN, while the best so far is not NaN (so the first NaN stays)
                var g0 = TOp.BetterOrNaN(v0, b0) & Vector256.Equals(b0, b0);
                var g1 = TOp.BetterOrNaN(v1, b1) & Vector256.Equals(b1, b1);
                var g2 = TOp.BetterOrNaN(v2, b2) & Vector256.Equals(b2, b2);
                var g3 = TOp.BetterOrNaN(v3, b3) & Vector256.Equals(b3, b3);
                b0 = Vector256.ConditionalSelect(g0, v0, b0); i0 = Vector256.ConditionalSelect(g0, rv, i0);
                b1 = Vector256.ConditionalSelect(g1, v1, b1); i1 = Vector256.ConditionalSelect(g1, rv, i1);
                b2 = Vector256.ConditionalSelect(g2, v2, b2); i2 = Vector256.ConditionalSelect(g2, rv, i2);
                b3 = Vector256.ConditionalSelect(g3, v3, b3); i3 = Vector256.ConditionalSelect(g3, rv, i3);
            }
            if (values != null) { b0.Store(values + c); b1.Store(values + c + lanes); b2.Store(values + c + 2 * lanes); b3.Store(values + c + 3 * lanes); }
            if (indices != null)
                for (int k = 0; k < lanes; k++)
                {
                    indices[c + k] = long.CreateTruncating(i0.GetElement(k));
                    indices[c + lanes + k] = long.CreateTruncating(i1.GetElement(k));
                    indices[c + 2 * lanes + k] = long.CreateTruncating(i2.GetElement(k));
                    indices[c + 3 * lanes + k] = long.CreateTruncating(i3.GetElement(k));
                }
        }
        for (; c <= w - 2 * lanes; c += 2 * lanes)
        {
            var b0 = Vector256.Load(b + c); var b1 = Vector256.Load(b + c + lanes);
            var i0 = Vector256<T>.Zero; var i1 = i0;
            var rv = Vector256<T>.Zero;
            var one = Vector256<T>.One;
            for (int r = 1; r < reduce; r++)
            {
                rv += one;
                T* row = b + (long)r * inner + c;
                var v0 = Vector256.Load(row); var v1 = Vector256.Load(row + lanes);
                // better or NaN, while the best so far is not NaN (so the first NaN stays)
                var g0 = TOp.BetterOrNaN(v0, b0) & Vector256.Equals(b0, b0);
                var g1 = TOp.BetterOrNaN(v1, b1) & Vector256.Equals(b1, b1);
                b0 = Vector256.ConditionalSelect(g0, v0, b0); i0 = Vector256.ConditionalSelect(g0, rv, i0);
                b1 = Vector256.ConditionalSelect(g1, v1, b1); i1 = Vector256.ConditionalSelect(g1, rv, i1);
            }
            if (values != null) { b0.Store(values + c); b1.Store(values + c + lanes); }
            if (indices != null)
                for (int k = 0; k < lanes; k++)
                {
                    indices[c + k] = long.CreateTruncating(i0.GetElement(k));
                    indices[c + lanes + k] = long.CreateTruncating(i1.GetElement(k));
                }
        }
        for (; c <= w - lanes; c += lanes)
        {
            var b0 = Vector256.Load(b + c);
            var i0 = Vector256<T>.Zero;
            var rv = Vector256<T>.Zero;
            for (int r = 1; r < reduce; r++)
            {
                rv += Vector256<T>.One;
                var v0 = Vector256.Load(b + (long)r * inner + c);
                var g0 = TOp.BetterOrNaN(v0, b0) & Vector256.Equals(b0, b0);
                b0 = Vector256.ConditionalSelect(g0, v0, b0); i0 = Vector256.ConditionalSelect(g0, rv, i0);
            }
            if (values != null) b0.Store(values + c);
            if (indices != null) for (int k = 0; k < lanes; k++) indices[c + k] = long.CreateTruncating(i0.GetElement(k));
        }
        for (; c < w; c++)
        {
            T best = b[c];
            int bi = 0;
            for (int r = 1; r < reduce && !T.IsNaN(best); r++)
            {
                T x = b[(long)r * inner + c];
                if (T.IsNaN(x) || TOp.Better(x, best)) { best = x; bi = r; }
            }
            if (values != null) values[c] = best;
            if (indices != null) indices[c] = bi;
        }
    }

    /// <summary>The index for one long row: chunks in parallel, combined in order (first NaN, else first extreme).</summary>
    static long LongRowArg<T>(T* s, int n, bool max) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int chunks = (n + Chunk - 1) / Chunk;
        var found = new long[chunks];
        fixed (long* f = found) ParallelFor.For(chunks, 1, new ArgChunkBody<T> { Src = s, N = n, Found = f, Max = max });
        long best = found[0];
        for (int c = 0; c < chunks; c++)
        {
            long i = found[c] + (long)c * Chunk;
            T x = s[i];
            if (T.IsNaN(x)) return i;
            if (c == 0 || (max ? x > s[best] : x < s[best])) best = i;
        }
        return best;
    }

    unsafe struct ArgChunkBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* Src;
        public long* Found;
        public int N;
        public bool Max;

        public void Invoke(int begin, int end)
        {
            for (int c = begin; c < end; c++)
            {
                int start = c * Chunk, len = Math.Min(Chunk, N - start);
                Found[c] = Max ? ArgRow<T, MaxOp>(Src + start, len) : ArgRow<T, MinOp>(Src + start, len);
            }
        }
    }

    // ---- cumsum -----------------------------------------------------------------------------------------------

    /// <summary>Running sums down the middle axis (float32 accumulates in double): dst has the shape of src.</summary>
    public static void Cumsum<T>(ReadOnlySpan<T> src, Span<T> dst, int outer, int reduce, int inner)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckBlock(src.Length, dst.Length, outer, reduce, inner, reduce * inner);
        if (outer == 0 || reduce == 0) return;
        fixed (T* s = src)
        fixed (T* d = dst)
        {
            var body = new CumsumBody<T> { Src = s, Dst = d, Reduce = reduce, Inner = inner };
            if (inner == 1) ParallelFor.For((outer + 3) / 4, Math.Max(1, Grain / (4 * reduce)), body.WithRows(outer));
            else
            {
                body.Blocks = (inner + ColumnBlock - 1) / ColumnBlock;
                ParallelFor.For(outer * body.Blocks, Math.Max(1, Grain / Math.Max(1, reduce * ColumnBlock)), body);
            }
        }
    }

    unsafe struct CumsumBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* Src, Dst;
        public int Reduce, Inner, Blocks, Rows;

        public CumsumBody<T> WithRows(int rows) { Rows = rows; return this; }

        public void Invoke(int begin, int end)
        {
            if (Blocks == 0)
            {
                // groups of four rows: four independent dependency chains
                for (int g = begin; g < end; g++)
                {
                    int r = 4 * g, n = Reduce;
                    if (typeof(T) == typeof(float) && Avx.IsSupported && r + 4 <= Rows)
                        CumsumFourRows((float*)Src + (long)r * n, (float*)Dst + (long)r * n, n);
                    else if (r + 4 <= Rows)
                    {
                        T* s0 = Src + (long)r * n, d0 = Dst + (long)r * n;
                        double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
                        for (int i = 0; i < n; i++)
                        {
                            a0 += double.CreateTruncating(s0[i]); a1 += double.CreateTruncating(s0[n + i]);
                            a2 += double.CreateTruncating(s0[2 * n + i]); a3 += double.CreateTruncating(s0[3 * n + i]);
                            d0[i] = T.CreateTruncating(a0); d0[n + i] = T.CreateTruncating(a1);
                            d0[2 * n + i] = T.CreateTruncating(a2); d0[3 * n + i] = T.CreateTruncating(a3);
                        }
                    }
                    else
                        for (; r < Rows; r++)
                        {
                            T* s0 = Src + (long)r * n, d0 = Dst + (long)r * n;
                            double a = 0;
                            for (int i = 0; i < n; i++) { a += double.CreateTruncating(s0[i]); d0[i] = T.CreateTruncating(a); }
                        }
                }
                return;
            }
            for (int item = begin; item < end; item++)
            {
                int o = item / Blocks, c0 = item % Blocks * ColumnBlock;
                int w = Math.Min(ColumnBlock, Inner - c0);
                long at = (long)o * Reduce * Inner + c0;
                CumsumColumns(Src + at, Dst + at, Reduce, Inner, w);
            }
        }
    }

    /// <summary>
    /// Running sums of four float32 rows of length n at once: 4x4 tiles are transposed so one double vector holds
    /// the four rows' accumulators, which take the tile's columns in order (each output is the sequential sum).
    /// </summary>
    static void CumsumFourRows(float* s, float* d, int n)
    {
        var acc = Vector256<double>.Zero;
        int i = 0;
        for (; i <= n - 4; i += 4)
        {
            var r0 = Sse.LoadVector128(s + i); var r1 = Sse.LoadVector128(s + n + i);
            var r2 = Sse.LoadVector128(s + 2 * n + i); var r3 = Sse.LoadVector128(s + 3 * n + i);
            Transpose(ref r0, ref r1, ref r2, ref r3);
            acc += Avx.ConvertToVector256Double(r0); var c0 = Avx.ConvertToVector128Single(acc);
            acc += Avx.ConvertToVector256Double(r1); var c1 = Avx.ConvertToVector128Single(acc);
            acc += Avx.ConvertToVector256Double(r2); var c2 = Avx.ConvertToVector128Single(acc);
            acc += Avx.ConvertToVector256Double(r3); var c3 = Avx.ConvertToVector128Single(acc);
            Transpose(ref c0, ref c1, ref c2, ref c3);
            c0.Store(d + i); c1.Store(d + n + i); c2.Store(d + 2 * n + i); c3.Store(d + 3 * n + i);
        }
        for (int k = 0; k < 4; k++)
        {
            double a = acc.GetElement(k);
            for (int j = i; j < n; j++) { a += s[k * n + j]; d[k * n + j] = (float)a; }
        }
    }

    static void Transpose(ref Vector128<float> a, ref Vector128<float> b, ref Vector128<float> c, ref Vector128<float> e)
    {
        var t0 = Sse.UnpackLow(a, b); var t1 = Sse.UnpackLow(c, e);
        var t2 = Sse.UnpackHigh(a, b); var t3 = Sse.UnpackHigh(c, e);
        a = Sse.MoveLowToHigh(t0, t1); b = Sse.MoveHighToLow(t1, t0);
        c = Sse.MoveLowToHigh(t2, t3); e = Sse.MoveHighToLow(t3, t2);
    }

    static void CumsumColumns<T>(T* s, T* d, int reduce, int inner, int w) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int c = 0;
        if (typeof(T) == typeof(float))
        {
            float* fs = (float*)s, fd = (float*)d;
            for (; c <= w - 16; c += 16)
            {
                var a0 = Vector256<double>.Zero; var a1 = a0; var a2 = a0; var a3 = a0;
                for (int r = 0; r < reduce; r++)
                {
                    long at = (long)r * inner + c;
                    var (l0, h0) = Vector256.Widen(Vector256.Load(fs + at));
                    var (l1, h1) = Vector256.Widen(Vector256.Load(fs + at + 8));
                    a0 += l0; a1 += h0; a2 += l1; a3 += h1;
                    Vector256.Narrow(a0, a1).Store(fd + at);
                    Vector256.Narrow(a2, a3).Store(fd + at + 8);
                }
            }
            for (; c <= w - 8; c += 8)
            {
                var a0 = Vector256<double>.Zero; var a1 = a0;
                for (int r = 0; r < reduce; r++)
                {
                    long at = (long)r * inner + c;
                    var (l0, h0) = Vector256.Widen(Vector256.Load(fs + at));
                    a0 += l0; a1 += h0;
                    Vector256.Narrow(a0, a1).Store(fd + at);
                }
            }
        }
        else
        {
            double* xs = (double*)s, xd = (double*)d;
            for (; c <= w - 16; c += 16)
            {
                var a0 = Vector256<double>.Zero; var a1 = a0; var a2 = a0; var a3 = a0;
                for (int r = 0; r < reduce; r++)
                {
                    long at = (long)r * inner + c;
                    a0 += Vector256.Load(xs + at); a1 += Vector256.Load(xs + at + 4);
                    a2 += Vector256.Load(xs + at + 8); a3 += Vector256.Load(xs + at + 12);
                    a0.Store(xd + at); a1.Store(xd + at + 4); a2.Store(xd + at + 8); a3.Store(xd + at + 12);
                }
            }
            for (; c <= w - 4; c += 4)
            {
                var a0 = Vector256<double>.Zero;
                for (int r = 0; r < reduce; r++)
                {
                    long at = (long)r * inner + c;
                    a0 += Vector256.Load(xs + at);
                    a0.Store(xd + at);
                }
            }
        }
        for (; c < w; c++)
        {
            double a = 0;
            for (int r = 0; r < reduce; r++)
            {
                long at = (long)r * inner + c;
                a += double.CreateTruncating(s[at]);
                d[at] = T.CreateTruncating(a);
            }
        }
    }
}
