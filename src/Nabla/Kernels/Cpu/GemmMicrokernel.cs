using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Nabla.Kernels.Cpu;

/// <summary>
/// GEMM microkernels: each computes one MR x NR tile of C from a packed A micro-panel
/// (<c>kc</c> steps of <see cref="Mr"/> values) and a packed B micro-panel (<c>kc</c> steps of NR values),
/// then merges it into C as <c>C = alpha * acc + beta * C</c> (C is not read when <c>betaZero</c>).
/// Edge tiles (<c>mr &lt; MR</c> or <c>nr &lt; NR</c>) compute a full zero-padded tile and store only the valid part.
/// </summary>
internal static unsafe class GemmMicrokernel
{
    /// <summary>Rows of the register tile (all vector paths).</summary>
    internal const int Mr = 6;

    /// <summary>Rows of the scalar fallback's tile.</summary>
    internal const int ScalarMr = 4;

    /// <summary>Columns of the scalar fallback's tile.</summary>
    internal const int ScalarNr = 4;

    /// <summary>
    /// Vector512 register-tile microkernel: a 6 x (2*W) tile of C, W = Vector512&lt;T&gt;.Count
    /// (6 x 32 floats or 6 x 16 doubles), held in 12 accumulators.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization), SkipLocalsInit]
    internal static void Kernel512<T>(int kc, T* a, T* b, T* c, int ldc, int mr, int nr, T alpha, T beta, bool betaZero)
        where T : unmanaged, INumber<T>
    {
        int w = Vector512<T>.Count;
        Vector512<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<T> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        // Scalar formula, for p in [0, kc), r in [0, 6), j in [0, 2W):
        //     acc[r][j] += a[p*6 + r] * b[p*2W + j]
        // a is the packed A micro-panel (6 rows interleaved per k step), b the packed B micro-panel.
        int p = 0;
        for (; p + 2 <= kc; p += 2)
        {
            Vector512<T> b0 = Vector512.Load(b);
            Vector512<T> b1 = Vector512.Load(b + w);
            Vector512<T> ar = Vector512.Create(a[0]); c00 = Fma(ar, b0, c00); c01 = Fma(ar, b1, c01);
            ar = Vector512.Create(a[1]); c10 = Fma(ar, b0, c10); c11 = Fma(ar, b1, c11);
            ar = Vector512.Create(a[2]); c20 = Fma(ar, b0, c20); c21 = Fma(ar, b1, c21);
            ar = Vector512.Create(a[3]); c30 = Fma(ar, b0, c30); c31 = Fma(ar, b1, c31);
            ar = Vector512.Create(a[4]); c40 = Fma(ar, b0, c40); c41 = Fma(ar, b1, c41);
            ar = Vector512.Create(a[5]); c50 = Fma(ar, b0, c50); c51 = Fma(ar, b1, c51);
            b0 = Vector512.Load(b + 2 * w);
            b1 = Vector512.Load(b + 3 * w);
            ar = Vector512.Create(a[6]); c00 = Fma(ar, b0, c00); c01 = Fma(ar, b1, c01);
            ar = Vector512.Create(a[7]); c10 = Fma(ar, b0, c10); c11 = Fma(ar, b1, c11);
            ar = Vector512.Create(a[8]); c20 = Fma(ar, b0, c20); c21 = Fma(ar, b1, c21);
            ar = Vector512.Create(a[9]); c30 = Fma(ar, b0, c30); c31 = Fma(ar, b1, c31);
            ar = Vector512.Create(a[10]); c40 = Fma(ar, b0, c40); c41 = Fma(ar, b1, c41);
            ar = Vector512.Create(a[11]); c50 = Fma(ar, b0, c50); c51 = Fma(ar, b1, c51);
            a += 12;
            b += 4 * w;
        }
        if (p < kc)
        {
            Vector512<T> b0 = Vector512.Load(b);
            Vector512<T> b1 = Vector512.Load(b + w);
            Vector512<T> ar = Vector512.Create(a[0]); c00 = Fma(ar, b0, c00); c01 = Fma(ar, b1, c01);
            ar = Vector512.Create(a[1]); c10 = Fma(ar, b0, c10); c11 = Fma(ar, b1, c11);
            ar = Vector512.Create(a[2]); c20 = Fma(ar, b0, c20); c21 = Fma(ar, b1, c21);
            ar = Vector512.Create(a[3]); c30 = Fma(ar, b0, c30); c31 = Fma(ar, b1, c31);
            ar = Vector512.Create(a[4]); c40 = Fma(ar, b0, c40); c41 = Fma(ar, b1, c41);
            ar = Vector512.Create(a[5]); c50 = Fma(ar, b0, c50); c51 = Fma(ar, b1, c51);
        }

        // Store: C[r, j] = alpha * acc[r][j] + (betaZero ? 0 : beta * C[r, j]).
        if (mr == Mr && nr == 2 * w)
        {
            Vector512<T> va = Vector512.Create(alpha);
            if (betaZero)
            {
                Vector512.Store(c00 * va, c); Vector512.Store(c01 * va, c + w); c += ldc;
                Vector512.Store(c10 * va, c); Vector512.Store(c11 * va, c + w); c += ldc;
                Vector512.Store(c20 * va, c); Vector512.Store(c21 * va, c + w); c += ldc;
                Vector512.Store(c30 * va, c); Vector512.Store(c31 * va, c + w); c += ldc;
                Vector512.Store(c40 * va, c); Vector512.Store(c41 * va, c + w); c += ldc;
                Vector512.Store(c50 * va, c); Vector512.Store(c51 * va, c + w);
            }
            else
            {
                Vector512<T> vb = Vector512.Create(beta);
                Vector512.Store(Fma(vb, Vector512.Load(c), c00 * va), c); Vector512.Store(Fma(vb, Vector512.Load(c + w), c01 * va), c + w); c += ldc;
                Vector512.Store(Fma(vb, Vector512.Load(c), c10 * va), c); Vector512.Store(Fma(vb, Vector512.Load(c + w), c11 * va), c + w); c += ldc;
                Vector512.Store(Fma(vb, Vector512.Load(c), c20 * va), c); Vector512.Store(Fma(vb, Vector512.Load(c + w), c21 * va), c + w); c += ldc;
                Vector512.Store(Fma(vb, Vector512.Load(c), c30 * va), c); Vector512.Store(Fma(vb, Vector512.Load(c + w), c31 * va), c + w); c += ldc;
                Vector512.Store(Fma(vb, Vector512.Load(c), c40 * va), c); Vector512.Store(Fma(vb, Vector512.Load(c + w), c41 * va), c + w); c += ldc;
                Vector512.Store(Fma(vb, Vector512.Load(c), c50 * va), c); Vector512.Store(Fma(vb, Vector512.Load(c + w), c51 * va), c + w);
            }
        }
        else
        {
            T* t = stackalloc T[Mr * 2 * Vector512<T>.Count];
            int tn = 2 * w;
            Vector512.Store(c00, t); Vector512.Store(c01, t + w);
            Vector512.Store(c10, t + tn); Vector512.Store(c11, t + tn + w);
            Vector512.Store(c20, t + 2 * tn); Vector512.Store(c21, t + 2 * tn + w);
            Vector512.Store(c30, t + 3 * tn); Vector512.Store(c31, t + 3 * tn + w);
            Vector512.Store(c40, t + 4 * tn); Vector512.Store(c41, t + 4 * tn + w);
            Vector512.Store(c50, t + 5 * tn); Vector512.Store(c51, t + 5 * tn + w);
            StorePartial(t, tn, c, ldc, mr, nr, alpha, beta, betaZero);
        }
    }

    /// <summary>x * y + z rounded once (float and double; other types multiply and add).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static T Fma<T>(T x, T y, T z) where T : unmanaged, INumber<T>
    {
        if (typeof(T) == typeof(float)) return (T)(object)MathF.FusedMultiplyAdd((float)(object)x, (float)(object)y, (float)(object)z);
        if (typeof(T) == typeof(double)) return (T)(object)Math.FusedMultiplyAdd((double)(object)x, (double)(object)y, (double)(object)z);
        return x * y + z;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<T> Fma<T>(Vector512<T> x, Vector512<T> y, Vector512<T> acc) where T : unmanaged, INumber<T>
    {
        if (typeof(T) == typeof(float))
            return Vector512.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), acc.AsSingle()).As<float, T>();
        return Vector512.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), acc.AsDouble()).As<double, T>();
    }

    /// <summary>
    /// Vector256 register-tile microkernel: a 6 x (2*W) tile of C, W = Vector256&lt;T&gt;.Count
    /// (6 x 32 floats or 6 x 16 doubles), held in 12 accumulators.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization), SkipLocalsInit]
    internal static void Kernel256<T>(int kc, T* a, T* b, T* c, int ldc, int mr, int nr, T alpha, T beta, bool betaZero)
        where T : unmanaged, INumber<T>
    {
        int w = Vector256<T>.Count;
        Vector256<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<T> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        // Scalar formula, for p in [0, kc), r in [0, 6), j in [0, 2W):
        //     acc[r][j] += a[p*6 + r] * b[p*2W + j]
        // a is the packed A micro-panel (6 rows interleaved per k step), b the packed B micro-panel.
        int p = 0;
        for (; p + 2 <= kc; p += 2)
        {
            Vector256<T> b0 = Vector256.Load(b);
            Vector256<T> b1 = Vector256.Load(b + w);
            Vector256<T> ar = Vector256.Create(a[0]); c00 = Fma(ar, b0, c00); c01 = Fma(ar, b1, c01);
            ar = Vector256.Create(a[1]); c10 = Fma(ar, b0, c10); c11 = Fma(ar, b1, c11);
            ar = Vector256.Create(a[2]); c20 = Fma(ar, b0, c20); c21 = Fma(ar, b1, c21);
            ar = Vector256.Create(a[3]); c30 = Fma(ar, b0, c30); c31 = Fma(ar, b1, c31);
            ar = Vector256.Create(a[4]); c40 = Fma(ar, b0, c40); c41 = Fma(ar, b1, c41);
            ar = Vector256.Create(a[5]); c50 = Fma(ar, b0, c50); c51 = Fma(ar, b1, c51);
            b0 = Vector256.Load(b + 2 * w);
            b1 = Vector256.Load(b + 3 * w);
            ar = Vector256.Create(a[6]); c00 = Fma(ar, b0, c00); c01 = Fma(ar, b1, c01);
            ar = Vector256.Create(a[7]); c10 = Fma(ar, b0, c10); c11 = Fma(ar, b1, c11);
            ar = Vector256.Create(a[8]); c20 = Fma(ar, b0, c20); c21 = Fma(ar, b1, c21);
            ar = Vector256.Create(a[9]); c30 = Fma(ar, b0, c30); c31 = Fma(ar, b1, c31);
            ar = Vector256.Create(a[10]); c40 = Fma(ar, b0, c40); c41 = Fma(ar, b1, c41);
            ar = Vector256.Create(a[11]); c50 = Fma(ar, b0, c50); c51 = Fma(ar, b1, c51);
            a += 12;
            b += 4 * w;
        }
        if (p < kc)
        {
            Vector256<T> b0 = Vector256.Load(b);
            Vector256<T> b1 = Vector256.Load(b + w);
            Vector256<T> ar = Vector256.Create(a[0]); c00 = Fma(ar, b0, c00); c01 = Fma(ar, b1, c01);
            ar = Vector256.Create(a[1]); c10 = Fma(ar, b0, c10); c11 = Fma(ar, b1, c11);
            ar = Vector256.Create(a[2]); c20 = Fma(ar, b0, c20); c21 = Fma(ar, b1, c21);
            ar = Vector256.Create(a[3]); c30 = Fma(ar, b0, c30); c31 = Fma(ar, b1, c31);
            ar = Vector256.Create(a[4]); c40 = Fma(ar, b0, c40); c41 = Fma(ar, b1, c41);
            ar = Vector256.Create(a[5]); c50 = Fma(ar, b0, c50); c51 = Fma(ar, b1, c51);
        }

        // Store: C[r, j] = alpha * acc[r][j] + (betaZero ? 0 : beta * C[r, j]).
        if (mr == Mr && nr == 2 * w)
        {
            Vector256<T> va = Vector256.Create(alpha);
            if (betaZero)
            {
                Vector256.Store(c00 * va, c); Vector256.Store(c01 * va, c + w); c += ldc;
                Vector256.Store(c10 * va, c); Vector256.Store(c11 * va, c + w); c += ldc;
                Vector256.Store(c20 * va, c); Vector256.Store(c21 * va, c + w); c += ldc;
                Vector256.Store(c30 * va, c); Vector256.Store(c31 * va, c + w); c += ldc;
                Vector256.Store(c40 * va, c); Vector256.Store(c41 * va, c + w); c += ldc;
                Vector256.Store(c50 * va, c); Vector256.Store(c51 * va, c + w);
            }
            else
            {
                Vector256<T> vb = Vector256.Create(beta);
                Vector256.Store(Fma(vb, Vector256.Load(c), c00 * va), c); Vector256.Store(Fma(vb, Vector256.Load(c + w), c01 * va), c + w); c += ldc;
                Vector256.Store(Fma(vb, Vector256.Load(c), c10 * va), c); Vector256.Store(Fma(vb, Vector256.Load(c + w), c11 * va), c + w); c += ldc;
                Vector256.Store(Fma(vb, Vector256.Load(c), c20 * va), c); Vector256.Store(Fma(vb, Vector256.Load(c + w), c21 * va), c + w); c += ldc;
                Vector256.Store(Fma(vb, Vector256.Load(c), c30 * va), c); Vector256.Store(Fma(vb, Vector256.Load(c + w), c31 * va), c + w); c += ldc;
                Vector256.Store(Fma(vb, Vector256.Load(c), c40 * va), c); Vector256.Store(Fma(vb, Vector256.Load(c + w), c41 * va), c + w); c += ldc;
                Vector256.Store(Fma(vb, Vector256.Load(c), c50 * va), c); Vector256.Store(Fma(vb, Vector256.Load(c + w), c51 * va), c + w);
            }
        }
        else
        {
            T* t = stackalloc T[Mr * 2 * Vector256<T>.Count];
            int tn = 2 * w;
            Vector256.Store(c00, t); Vector256.Store(c01, t + w);
            Vector256.Store(c10, t + tn); Vector256.Store(c11, t + tn + w);
            Vector256.Store(c20, t + 2 * tn); Vector256.Store(c21, t + 2 * tn + w);
            Vector256.Store(c30, t + 3 * tn); Vector256.Store(c31, t + 3 * tn + w);
            Vector256.Store(c40, t + 4 * tn); Vector256.Store(c41, t + 4 * tn + w);
            Vector256.Store(c50, t + 5 * tn); Vector256.Store(c51, t + 5 * tn + w);
            StorePartial(t, tn, c, ldc, mr, nr, alpha, beta, betaZero);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<T> Fma<T>(Vector256<T> x, Vector256<T> y, Vector256<T> acc) where T : unmanaged, INumber<T>
    {
        if (typeof(T) == typeof(float))
            return Vector256.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), acc.AsSingle()).As<float, T>();
        return Vector256.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), acc.AsDouble()).As<double, T>();
    }

    /// <summary>
    /// Vector128 register-tile microkernel: a 6 x (2*W) tile of C, W = Vector128&lt;T&gt;.Count
    /// (6 x 32 floats or 6 x 16 doubles), held in 12 accumulators.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization), SkipLocalsInit]
    internal static void Kernel128<T>(int kc, T* a, T* b, T* c, int ldc, int mr, int nr, T alpha, T beta, bool betaZero)
        where T : unmanaged, INumber<T>
    {
        int w = Vector128<T>.Count;
        Vector128<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector128<T> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        // Scalar formula, for p in [0, kc), r in [0, 6), j in [0, 2W):
        //     acc[r][j] += a[p*6 + r] * b[p*2W + j]
        // a is the packed A micro-panel (6 rows interleaved per k step), b the packed B micro-panel.
        int p = 0;
        for (; p + 2 <= kc; p += 2)
        {
            Vector128<T> b0 = Vector128.Load(b);
            Vector128<T> b1 = Vector128.Load(b + w);
            Vector128<T> ar = Vector128.Create(a[0]); c00 = Fma(ar, b0, c00); c01 = Fma(ar, b1, c01);
            ar = Vector128.Create(a[1]); c10 = Fma(ar, b0, c10); c11 = Fma(ar, b1, c11);
            ar = Vector128.Create(a[2]); c20 = Fma(ar, b0, c20); c21 = Fma(ar, b1, c21);
            ar = Vector128.Create(a[3]); c30 = Fma(ar, b0, c30); c31 = Fma(ar, b1, c31);
            ar = Vector128.Create(a[4]); c40 = Fma(ar, b0, c40); c41 = Fma(ar, b1, c41);
            ar = Vector128.Create(a[5]); c50 = Fma(ar, b0, c50); c51 = Fma(ar, b1, c51);
            b0 = Vector128.Load(b + 2 * w);
            b1 = Vector128.Load(b + 3 * w);
            ar = Vector128.Create(a[6]); c00 = Fma(ar, b0, c00); c01 = Fma(ar, b1, c01);
            ar = Vector128.Create(a[7]); c10 = Fma(ar, b0, c10); c11 = Fma(ar, b1, c11);
            ar = Vector128.Create(a[8]); c20 = Fma(ar, b0, c20); c21 = Fma(ar, b1, c21);
            ar = Vector128.Create(a[9]); c30 = Fma(ar, b0, c30); c31 = Fma(ar, b1, c31);
            ar = Vector128.Create(a[10]); c40 = Fma(ar, b0, c40); c41 = Fma(ar, b1, c41);
            ar = Vector128.Create(a[11]); c50 = Fma(ar, b0, c50); c51 = Fma(ar, b1, c51);
            a += 12;
            b += 4 * w;
        }
        if (p < kc)
        {
            Vector128<T> b0 = Vector128.Load(b);
            Vector128<T> b1 = Vector128.Load(b + w);
            Vector128<T> ar = Vector128.Create(a[0]); c00 = Fma(ar, b0, c00); c01 = Fma(ar, b1, c01);
            ar = Vector128.Create(a[1]); c10 = Fma(ar, b0, c10); c11 = Fma(ar, b1, c11);
            ar = Vector128.Create(a[2]); c20 = Fma(ar, b0, c20); c21 = Fma(ar, b1, c21);
            ar = Vector128.Create(a[3]); c30 = Fma(ar, b0, c30); c31 = Fma(ar, b1, c31);
            ar = Vector128.Create(a[4]); c40 = Fma(ar, b0, c40); c41 = Fma(ar, b1, c41);
            ar = Vector128.Create(a[5]); c50 = Fma(ar, b0, c50); c51 = Fma(ar, b1, c51);
        }

        // Store: C[r, j] = alpha * acc[r][j] + (betaZero ? 0 : beta * C[r, j]).
        if (mr == Mr && nr == 2 * w)
        {
            Vector128<T> va = Vector128.Create(alpha);
            if (betaZero)
            {
                Vector128.Store(c00 * va, c); Vector128.Store(c01 * va, c + w); c += ldc;
                Vector128.Store(c10 * va, c); Vector128.Store(c11 * va, c + w); c += ldc;
                Vector128.Store(c20 * va, c); Vector128.Store(c21 * va, c + w); c += ldc;
                Vector128.Store(c30 * va, c); Vector128.Store(c31 * va, c + w); c += ldc;
                Vector128.Store(c40 * va, c); Vector128.Store(c41 * va, c + w); c += ldc;
                Vector128.Store(c50 * va, c); Vector128.Store(c51 * va, c + w);
            }
            else
            {
                Vector128<T> vb = Vector128.Create(beta);
                Vector128.Store(Fma(vb, Vector128.Load(c), c00 * va), c); Vector128.Store(Fma(vb, Vector128.Load(c + w), c01 * va), c + w); c += ldc;
                Vector128.Store(Fma(vb, Vector128.Load(c), c10 * va), c); Vector128.Store(Fma(vb, Vector128.Load(c + w), c11 * va), c + w); c += ldc;
                Vector128.Store(Fma(vb, Vector128.Load(c), c20 * va), c); Vector128.Store(Fma(vb, Vector128.Load(c + w), c21 * va), c + w); c += ldc;
                Vector128.Store(Fma(vb, Vector128.Load(c), c30 * va), c); Vector128.Store(Fma(vb, Vector128.Load(c + w), c31 * va), c + w); c += ldc;
                Vector128.Store(Fma(vb, Vector128.Load(c), c40 * va), c); Vector128.Store(Fma(vb, Vector128.Load(c + w), c41 * va), c + w); c += ldc;
                Vector128.Store(Fma(vb, Vector128.Load(c), c50 * va), c); Vector128.Store(Fma(vb, Vector128.Load(c + w), c51 * va), c + w);
            }
        }
        else
        {
            T* t = stackalloc T[Mr * 2 * Vector128<T>.Count];
            int tn = 2 * w;
            Vector128.Store(c00, t); Vector128.Store(c01, t + w);
            Vector128.Store(c10, t + tn); Vector128.Store(c11, t + tn + w);
            Vector128.Store(c20, t + 2 * tn); Vector128.Store(c21, t + 2 * tn + w);
            Vector128.Store(c30, t + 3 * tn); Vector128.Store(c31, t + 3 * tn + w);
            Vector128.Store(c40, t + 4 * tn); Vector128.Store(c41, t + 4 * tn + w);
            Vector128.Store(c50, t + 5 * tn); Vector128.Store(c51, t + 5 * tn + w);
            StorePartial(t, tn, c, ldc, mr, nr, alpha, beta, betaZero);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<T> Fma<T>(Vector128<T> x, Vector128<T> y, Vector128<T> acc) where T : unmanaged, INumber<T>
    {
        if (typeof(T) == typeof(float))
            return Vector128.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), acc.AsSingle()).As<float, T>();
        return Vector128.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), acc.AsDouble()).As<double, T>();
    }

    /// <summary>Scalar fallback: a <see cref="ScalarMr"/> x <see cref="ScalarNr"/> tile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization), SkipLocalsInit]
    internal static void KernelScalar<T>(int kc, T* a, T* b, T* c, int ldc, int mr, int nr, T alpha, T beta, bool betaZero)
        where T : unmanaged, INumber<T>
    {
        T* t = stackalloc T[ScalarMr * ScalarNr];
        for (int i = 0; i < ScalarMr * ScalarNr; i++) t[i] = T.Zero;
        // acc[r][j] += a[p*MR + r] * b[p*NR + j]
        for (int p = 0; p < kc; p++)
        {
            for (int r = 0; r < ScalarMr; r++)
            {
                T ar = a[r];
                T* tr = t + r * ScalarNr;
                for (int j = 0; j < ScalarNr; j++) tr[j] += ar * b[j];
            }
            a += ScalarMr;
            b += ScalarNr;
        }
        StorePartial(t, ScalarNr, c, ldc, mr, nr, alpha, beta, betaZero);
    }

    /// <summary>Merges the valid <paramref name="mr"/> x <paramref name="nr"/> part of a tile into C.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void StorePartial<T>(T* t, int tn, T* c, int ldc, int mr, int nr, T alpha, T beta, bool betaZero)
        where T : unmanaged, INumber<T>
    {
        for (int r = 0; r < mr; r++)
        {
            T* tr = t + r * tn;
            T* cr = c + (long)r * ldc;
            if (betaZero)
                for (int j = 0; j < nr; j++) cr[j] = alpha * tr[j];
            else
                for (int j = 0; j < nr; j++) cr[j] = alpha * tr[j] + beta * cr[j];
        }
    }
}
