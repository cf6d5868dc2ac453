using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Nabla.Kernels.Cpu;

/// <summary>
/// Dense dtype conversion (the converting copy of <c>to(dtype)</c>): typed loops over contiguous spans, vectorised for
/// float32 &lt;-&gt; float64, float -&gt; int64 (saturating, NaN -&gt; 0, as the scalar cast), int64/int32 -&gt; float64 and
/// int32 -&gt; float32, split across threads for large sizes. Every element gets exactly
/// <see cref="Convert.To{TFrom, TTo}"/>'s result (the strided path's), which the vector paths reproduce: widening is exact,
/// narrowing and integer -&gt; float round to nearest even as the scalar casts do.
/// </summary>
internal static class ConvertKernels
{
    /// <summary>d[dOff..dOff+n) = convert(a[aOff..aOff+n)), in parallel chunks above two grains.</summary>
    public static void ContiguousParallel<TFrom, TTo>(TFrom[] a, int aOff, TTo[] d, int dOff, int n)
        where TFrom : unmanaged where TTo : unmanaged
    {
        if (n < 2 * Elementwise.Grain) { Run(a.AsSpan(aOff, n), d.AsSpan(dOff, n)); return; }
        ParallelFor.For(n, Elementwise.Grain, new Body<TFrom, TTo>(a, aOff, d, dOff));
    }

    readonly struct Body<TFrom, TTo>(TFrom[] a, int aOff, TTo[] d, int dOff) : IRangeBody where TFrom : unmanaged where TTo : unmanaged
    {
        public void Invoke(int begin, int end) => Run(a.AsSpan(aOff + begin, end - begin), d.AsSpan(dOff + begin, end - begin));
    }

    /// <summary>d = convert(a) elementwise (equal lengths).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TFrom, TTo>(ReadOnlySpan<TFrom> a, Span<TTo> d) where TFrom : unmanaged where TTo : unmanaged
    {
        if (d.Length != a.Length) throw new ArgumentException("conversion: length mismatch");
        if (typeof(TFrom) == typeof(TTo))
        {
            MemoryMarshal.Cast<TFrom, TTo>(a).CopyTo(d);
            return;
        }
        int n = a.Length, i = 0;
        ref TFrom pa = ref MemoryMarshal.GetReference(a);
        ref TTo pd = ref MemoryMarshal.GetReference(d);
        if (Vector256.IsHardwareAccelerated)
        {
            if (typeof(TFrom) == typeof(float) && typeof(TTo) == typeof(double))
            {
                ref float s = ref Unsafe.As<TFrom, float>(ref pa);
                ref double t = ref Unsafe.As<TTo, double>(ref pd);
                for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
                {
                    var (lo, hi) = Vector256.Widen(Vector256.LoadUnsafe(ref s, (nuint)i));
                    lo.StoreUnsafe(ref t, (nuint)i);
                    hi.StoreUnsafe(ref t, (nuint)(i + Vector256<double>.Count));
                }
            }
            else if (typeof(TFrom) == typeof(double) && typeof(TTo) == typeof(float))
            {
                ref double s = ref Unsafe.As<TFrom, double>(ref pa);
                ref float t = ref Unsafe.As<TTo, float>(ref pd);
                for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
                    Vector256.Narrow(Vector256.LoadUnsafe(ref s, (nuint)i), Vector256.LoadUnsafe(ref s, (nuint)(i + Vector256<double>.Count)))
                        .StoreUnsafe(ref t, (nuint)i);
            }
            else if (typeof(TFrom) == typeof(double) && typeof(TTo) == typeof(long))
            {
                // Saturating like the scalar cast (NaN -> 0, out of range -> the nearest bound); the tests pin this down.
                ref double s = ref Unsafe.As<TFrom, double>(ref pa);
                ref long t = ref Unsafe.As<TTo, long>(ref pd);
                for (; i <= n - Vector256<double>.Count; i += Vector256<double>.Count)
                    Vector256.ConvertToInt64(Vector256.LoadUnsafe(ref s, (nuint)i)).StoreUnsafe(ref t, (nuint)i);
            }
            else if (typeof(TFrom) == typeof(float) && typeof(TTo) == typeof(long))
            {
                ref float s = ref Unsafe.As<TFrom, float>(ref pa);
                ref long t = ref Unsafe.As<TTo, long>(ref pd);
                for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
                {
                    var (lo, hi) = Vector256.Widen(Vector256.LoadUnsafe(ref s, (nuint)i));
                    Vector256.ConvertToInt64(lo).StoreUnsafe(ref t, (nuint)i);
                    Vector256.ConvertToInt64(hi).StoreUnsafe(ref t, (nuint)(i + Vector256<long>.Count));
                }
            }
            else if (typeof(TFrom) == typeof(long) && typeof(TTo) == typeof(double))
            {
                ref long s = ref Unsafe.As<TFrom, long>(ref pa);
                ref double t = ref Unsafe.As<TTo, double>(ref pd);
                for (; i <= n - Vector256<long>.Count; i += Vector256<long>.Count)
                    Vector256.ConvertToDouble(Vector256.LoadUnsafe(ref s, (nuint)i)).StoreUnsafe(ref t, (nuint)i);
            }
            else if (typeof(TFrom) == typeof(int) && typeof(TTo) == typeof(double))
            {
                ref int s = ref Unsafe.As<TFrom, int>(ref pa);
                ref double t = ref Unsafe.As<TTo, double>(ref pd);
                for (; i <= n - Vector256<int>.Count; i += Vector256<int>.Count)
                {
                    var (lo, hi) = Vector256.Widen(Vector256.LoadUnsafe(ref s, (nuint)i));
                    Vector256.ConvertToDouble(lo).StoreUnsafe(ref t, (nuint)i);
                    Vector256.ConvertToDouble(hi).StoreUnsafe(ref t, (nuint)(i + Vector256<double>.Count));
                }
            }
            else if (typeof(TFrom) == typeof(int) && typeof(TTo) == typeof(float))
            {
                ref int s = ref Unsafe.As<TFrom, int>(ref pa);
                ref float t = ref Unsafe.As<TTo, float>(ref pd);
                for (; i <= n - Vector256<int>.Count; i += Vector256<int>.Count)
                    Vector256.ConvertToSingle(Vector256.LoadUnsafe(ref s, (nuint)i)).StoreUnsafe(ref t, (nuint)i);
            }
        }
        for (; i < n; i++) Unsafe.Add(ref pd, i) = Convert.To<TFrom, TTo>(Unsafe.Add(ref pa, i));
    }
}
