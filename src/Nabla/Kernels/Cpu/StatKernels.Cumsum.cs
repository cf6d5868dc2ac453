using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nabla.Kernels.Cpu;

// cumsum over the middle axis of contiguous blocks (Note [Block reductions for var, max and cumsum] in StatKernels.cs).
internal static unsafe partial class StatKernels
{
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
