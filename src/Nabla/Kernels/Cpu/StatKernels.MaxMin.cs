using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nabla.Kernels.Cpu;

// max / min with indices over the middle axis of contiguous blocks (Note [Block reductions for var, max and cumsum] in StatKernels.cs).
internal static unsafe partial class StatKernels
{
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
}
