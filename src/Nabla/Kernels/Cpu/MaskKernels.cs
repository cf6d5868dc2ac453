using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Nabla.Kernels.Cpu;

/// <summary>
/// Fused backward kernels of the piecewise-linear ops (relu, clamp): one pass that selects the incoming gradient
/// or zero, instead of a comparison, a cast and a product.
/// </summary>
internal static class MaskKernels
{
    /// <summary>dst[i] = lo &lt;= x[i] &lt;= hi ? g[i] : 0 (a NaN x gives 0: clamp's backward).</summary>
    public static void ClampGrad<T>(ReadOnlySpan<T> g, ReadOnlySpan<T> x, T lo, T hi, Span<T> dst)
        where T : unmanaged, INumber<T>
    {
        int n = dst.Length;
        if (g.Length < n || x.Length < n) throw new ArgumentException("span too short");
        ref T pg = ref MemoryMarshal.GetReference(g);
        ref T px = ref MemoryMarshal.GetReference(x);
        ref T pd = ref MemoryMarshal.GetReference(dst);
        int i = 0;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
        {
            var vlo = Vector512.Create(lo); var vhi = Vector512.Create(hi);
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
            {
                var vx = Vector512.LoadUnsafe(ref px, (nuint)i);
                var keep = Vector512.GreaterThanOrEqual(vx, vlo) & Vector512.LessThanOrEqual(vx, vhi);
                (Vector512.LoadUnsafe(ref pg, (nuint)i) & keep).StoreUnsafe(ref pd, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            var vlo = Vector256.Create(lo); var vhi = Vector256.Create(hi);
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var vx = Vector256.LoadUnsafe(ref px, (nuint)i);
                var keep = Vector256.GreaterThanOrEqual(vx, vlo) & Vector256.LessThanOrEqual(vx, vhi);
                (Vector256.LoadUnsafe(ref pg, (nuint)i) & keep).StoreUnsafe(ref pd, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            T v = Unsafe.Add(ref px, i);
            Unsafe.Add(ref pd, i) = v >= lo && v <= hi ? Unsafe.Add(ref pg, i) : T.Zero;
        }
    }

    /// <summary>dst[i] = y[i] &lt;= threshold ? 0 : g[i] (a NaN y passes g: PyTorch's threshold_backward, relu's backward).</summary>
    public static void ThresholdGrad<T>(ReadOnlySpan<T> g, ReadOnlySpan<T> y, T threshold, Span<T> dst)
        where T : unmanaged, INumber<T>
    {
        int n = dst.Length;
        if (g.Length < n || y.Length < n) throw new ArgumentException("span too short");
        ref T pg = ref MemoryMarshal.GetReference(g);
        ref T py = ref MemoryMarshal.GetReference(y);
        ref T pd = ref MemoryMarshal.GetReference(dst);
        int i = 0;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
        {
            var vt = Vector512.Create(threshold);
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                Vector512.AndNot(Vector512.LoadUnsafe(ref pg, (nuint)i), Vector512.LessThanOrEqual(Vector512.LoadUnsafe(ref py, (nuint)i), vt))
                    .StoreUnsafe(ref pd, (nuint)i);
        }
        else if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            var vt = Vector256.Create(threshold);
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                Vector256.AndNot(Vector256.LoadUnsafe(ref pg, (nuint)i), Vector256.LessThanOrEqual(Vector256.LoadUnsafe(ref py, (nuint)i), vt))
                    .StoreUnsafe(ref pd, (nuint)i);
        }
        for (; i < n; i++) Unsafe.Add(ref pd, i) = Unsafe.Add(ref py, i) <= threshold ? T.Zero : Unsafe.Add(ref pg, i);
    }

    struct ClampBody<T> : IRangeBody where T : unmanaged, INumber<T>
    {
        public T[] G, X, D; public int GOff, XOff, DOff; public T Lo, Hi;
        public void Invoke(int begin, int end) =>
            ClampGrad(G.AsSpan(GOff + begin, end - begin), X.AsSpan(XOff + begin, end - begin), Lo, Hi, D.AsSpan(DOff + begin, end - begin));
    }

    struct ThresholdBody<T> : IRangeBody where T : unmanaged, INumber<T>
    {
        public T[] G, Y, D; public int GOff, YOff, DOff; public T Threshold;
        public void Invoke(int begin, int end) =>
            ThresholdGrad(G.AsSpan(GOff + begin, end - begin), Y.AsSpan(YOff + begin, end - begin), Threshold, D.AsSpan(DOff + begin, end - begin));
    }

    /// <summary><see cref="ClampGrad{T}"/> over arrays, split across threads for large sizes.</summary>
    public static void ClampGradParallel<T>(T[] g, int gOff, T[] x, int xOff, T lo, T hi, T[] d, int dOff, int n)
        where T : unmanaged, INumber<T>
    {
        if (n < 2 * Elementwise.Grain) { ClampGrad(g.AsSpan(gOff, n), x.AsSpan(xOff, n), lo, hi, d.AsSpan(dOff, n)); return; }
        ParallelFor.For(n, Elementwise.Grain, new ClampBody<T> { G = g, X = x, D = d, GOff = gOff, XOff = xOff, DOff = dOff, Lo = lo, Hi = hi });
    }

    /// <summary><see cref="ThresholdGrad{T}"/> over arrays, split across threads for large sizes.</summary>
    public static void ThresholdGradParallel<T>(T[] g, int gOff, T[] y, int yOff, T threshold, T[] d, int dOff, int n)
        where T : unmanaged, INumber<T>
    {
        if (n < 2 * Elementwise.Grain) { ThresholdGrad(g.AsSpan(gOff, n), y.AsSpan(yOff, n), threshold, d.AsSpan(dOff, n)); return; }
        ParallelFor.For(n, Elementwise.Grain, new ThresholdBody<T> { G = g, Y = y, D = d, GOff = gOff, YOff = yOff, DOff = dOff, Threshold = threshold });
    }
}
