using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Nabla.Kernels.Cpu;

/// <summary>
/// Generic elementwise drivers: contiguous spans first, then an n-d strided walk whose innermost dimension is handed to
/// the contiguous kernels when it is dense or broadcast.
/// </summary>
/// <remarks>
/// Note [Vector width cascade]: each contiguous kernel runs the widest accelerated vector loop, then the narrower ones
/// on what is left, then scalars: Vector512 (AVX-512), Vector256 (AVX2), Vector128 (NEON on ARM64, SSE on x86),
/// scalar. On an AVX-512 machine a 31-float tail is one Vector256, one Vector128 and three scalars. An ARM64 machine
/// takes the Vector128 loop for the whole span; the tests run under DOTNET_EnableAVX512=0, DOTNET_EnableAVX2=0 and
/// DOTNET_EnableHWIntrinsic=0 so that each loop is the main loop once on x86.
/// </remarks>
internal static class Elementwise
{
    /// <summary>Elements per parallel chunk: below two of these an op stays on the calling thread.</summary>
    public const int Grain = 32768;

    // ---- contiguous kernels -------------------------------------------------------------------------------

    /// <summary>dst[i] = op(x[i], y[i]).</summary>
    public static void Binary<T, TOp>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> dst)
        where T : unmanaged where TOp : IBinaryOp<T>
    {
        int n = dst.Length;
        if (x.Length < n || y.Length < n) throw new ArgumentException("span too short");
        ref T px = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
        ref T py = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(y);
        ref T pd = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(dst);
        int i = 0;
        if (TOp.Vectorizable)
        {
            if (Vector512.IsHardwareAccelerated)
                for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                    TOp.Invoke(Vector512.LoadUnsafe(ref px, (nuint)i), Vector512.LoadUnsafe(ref py, (nuint)i)).StoreUnsafe(ref pd, (nuint)i);
            if (Vector256.IsHardwareAccelerated)
                for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                    TOp.Invoke(Vector256.LoadUnsafe(ref px, (nuint)i), Vector256.LoadUnsafe(ref py, (nuint)i)).StoreUnsafe(ref pd, (nuint)i);
            if (Vector128.IsHardwareAccelerated)
                for (; i <= n - Vector128<T>.Count; i += Vector128<T>.Count)
                    TOp.Invoke(Vector128.LoadUnsafe(ref px, (nuint)i), Vector128.LoadUnsafe(ref py, (nuint)i)).StoreUnsafe(ref pd, (nuint)i);
        }
        for (; i < n; i++) Unsafe.Add(ref pd, i) = TOp.Invoke(Unsafe.Add(ref px, i), Unsafe.Add(ref py, i));
    }

    /// <summary>dst[i] = op(x[i], y) with a scalar right operand.</summary>
    public static void BinaryScalarRight<T, TOp>(ReadOnlySpan<T> x, T y, Span<T> dst)
        where T : unmanaged where TOp : IBinaryOp<T>
    {
        int n = dst.Length;
        if (x.Length < n) throw new ArgumentException("span too short");
        ref T px = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
        ref T pd = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(dst);
        int i = 0;
        if (TOp.Vectorizable)
        {
            if (Vector512.IsHardwareAccelerated)
            {
                var vy = Vector512.Create(y);
                for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                    TOp.Invoke(Vector512.LoadUnsafe(ref px, (nuint)i), vy).StoreUnsafe(ref pd, (nuint)i);
            }
            if (Vector256.IsHardwareAccelerated)
            {
                var vy = Vector256.Create(y);
                for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                    TOp.Invoke(Vector256.LoadUnsafe(ref px, (nuint)i), vy).StoreUnsafe(ref pd, (nuint)i);
            }
            if (Vector128.IsHardwareAccelerated)
            {
                var vy = Vector128.Create(y);
                for (; i <= n - Vector128<T>.Count; i += Vector128<T>.Count)
                    TOp.Invoke(Vector128.LoadUnsafe(ref px, (nuint)i), vy).StoreUnsafe(ref pd, (nuint)i);
            }
        }
        for (; i < n; i++) Unsafe.Add(ref pd, i) = TOp.Invoke(Unsafe.Add(ref px, i), y);
    }

    /// <summary>dst[i] = op(x, y[i]) with a scalar left operand.</summary>
    public static void BinaryScalarLeft<T, TOp>(T x, ReadOnlySpan<T> y, Span<T> dst)
        where T : unmanaged where TOp : IBinaryOp<T>
    {
        int n = dst.Length;
        if (y.Length < n) throw new ArgumentException("span too short");
        ref T py = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(y);
        ref T pd = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(dst);
        int i = 0;
        if (TOp.Vectorizable)
        {
            if (Vector512.IsHardwareAccelerated)
            {
                var vx = Vector512.Create(x);
                for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                    TOp.Invoke(vx, Vector512.LoadUnsafe(ref py, (nuint)i)).StoreUnsafe(ref pd, (nuint)i);
            }
            if (Vector256.IsHardwareAccelerated)
            {
                var vx = Vector256.Create(x);
                for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                    TOp.Invoke(vx, Vector256.LoadUnsafe(ref py, (nuint)i)).StoreUnsafe(ref pd, (nuint)i);
            }
            if (Vector128.IsHardwareAccelerated)
            {
                var vx = Vector128.Create(x);
                for (; i <= n - Vector128<T>.Count; i += Vector128<T>.Count)
                    TOp.Invoke(vx, Vector128.LoadUnsafe(ref py, (nuint)i)).StoreUnsafe(ref pd, (nuint)i);
            }
        }
        for (; i < n; i++) Unsafe.Add(ref pd, i) = TOp.Invoke(x, Unsafe.Add(ref py, i));
    }

    /// <summary>dst[i] = op(x[i], y[i]) for a comparison (bool result).</summary>
    public static void Compare<T, TOp>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<bool> dst)
        where T : unmanaged where TOp : ICompareOp<T>
    {
        int n = dst.Length;
        if (x.Length < n || y.Length < n) throw new ArgumentException("span too short");
        ref T px = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
        ref T py = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(y);
        ref bool pd = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(dst);
        int i = 0;
        if (TOp.Vectorizable)
        {
            if (Vector512.IsHardwareAccelerated)
                for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                    WriteBools(ref Unsafe.Add(ref pd, i), TOp.Invoke(Vector512.LoadUnsafe(ref px, (nuint)i), Vector512.LoadUnsafe(ref py, (nuint)i)).ExtractMostSignificantBits(), Vector512<T>.Count);
            if (Vector256.IsHardwareAccelerated)
                for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                    WriteBools(ref Unsafe.Add(ref pd, i), TOp.Invoke(Vector256.LoadUnsafe(ref px, (nuint)i), Vector256.LoadUnsafe(ref py, (nuint)i)).ExtractMostSignificantBits(), Vector256<T>.Count);
            if (Vector128.IsHardwareAccelerated)
                for (; i <= n - Vector128<T>.Count; i += Vector128<T>.Count)
                    WriteBools(ref Unsafe.Add(ref pd, i), TOp.Invoke(Vector128.LoadUnsafe(ref px, (nuint)i), Vector128.LoadUnsafe(ref py, (nuint)i)).ExtractMostSignificantBits(), Vector128<T>.Count);
        }
        for (; i < n; i++) Unsafe.Add(ref pd, i) = TOp.Invoke(Unsafe.Add(ref px, i), Unsafe.Add(ref py, i));
    }

    /// <summary>Eight bools (bytes 0 or 1) per mask byte: entry b has byte j = bit j of b.</summary>
    static readonly ulong[] s_boolBytes = BuildBoolBytes();

    static ulong[] BuildBoolBytes()
    {
        var t = new ulong[256];
        for (int b = 0; b < 256; b++)
            for (int j = 0; j < 8; j++)
                if ((b >> j & 1) != 0) t[b] |= 1UL << (8 * j);
        return t;
    }

    /// <summary>dst[j] = bit j of <paramref name="bits"/> for j &lt; <paramref name="count"/> (a vector comparison's lane mask).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void WriteBools(ref bool dst, ulong bits, int count)
    {
        int j = 0;
        ulong[] table = s_boolBytes;
        for (; j + 8 <= count; j += 8)
            Unsafe.WriteUnaligned(ref Unsafe.As<bool, byte>(ref Unsafe.Add(ref dst, j)), table[(int)(bits >> j) & 0xFF]);
        for (; j < count; j++)
            Unsafe.Add(ref dst, j) = (bits >> j & 1) != 0;
    }

    /// <summary>dst[i] = op(x[i], y) for a comparison with a scalar right operand.</summary>
    public static void CompareScalarRight<T, TOp>(ReadOnlySpan<T> x, T y, Span<bool> dst)
        where T : unmanaged where TOp : ICompareOp<T>
    {
        int n = dst.Length;
        if (x.Length < n) throw new ArgumentException("span too short");
        ref T px = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
        ref bool pd = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(dst);
        int i = 0;
        if (TOp.Vectorizable)
        {
            if (Vector512.IsHardwareAccelerated)
            {
                var vy = Vector512.Create(y);
                for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                    WriteBools(ref Unsafe.Add(ref pd, i), TOp.Invoke(Vector512.LoadUnsafe(ref px, (nuint)i), vy).ExtractMostSignificantBits(), Vector512<T>.Count);
            }
            if (Vector256.IsHardwareAccelerated)
            {
                var vy = Vector256.Create(y);
                for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                    WriteBools(ref Unsafe.Add(ref pd, i), TOp.Invoke(Vector256.LoadUnsafe(ref px, (nuint)i), vy).ExtractMostSignificantBits(), Vector256<T>.Count);
            }
            if (Vector128.IsHardwareAccelerated)
            {
                var vy = Vector128.Create(y);
                for (; i <= n - Vector128<T>.Count; i += Vector128<T>.Count)
                    WriteBools(ref Unsafe.Add(ref pd, i), TOp.Invoke(Vector128.LoadUnsafe(ref px, (nuint)i), vy).ExtractMostSignificantBits(), Vector128<T>.Count);
            }
        }
        for (; i < n; i++) Unsafe.Add(ref pd, i) = TOp.Invoke(Unsafe.Add(ref px, i), y);
    }

    /// <summary>dst[i] = op(x[i]).</summary>
    public static void Unary<T, TOp>(ReadOnlySpan<T> x, Span<T> dst)
        where T : unmanaged where TOp : IUnaryOp<T>
    {
        int n = dst.Length;
        if (x.Length < n) throw new ArgumentException("span too short");
        ref T px = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
        ref T pd = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(dst);
        int i = 0;
        if (TOp.Vectorizable)
        {
            if (Vector512.IsHardwareAccelerated)
                for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                    TOp.Invoke(Vector512.LoadUnsafe(ref px, (nuint)i)).StoreUnsafe(ref pd, (nuint)i);
            if (Vector256.IsHardwareAccelerated)
                for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                    TOp.Invoke(Vector256.LoadUnsafe(ref px, (nuint)i)).StoreUnsafe(ref pd, (nuint)i);
            if (Vector128.IsHardwareAccelerated)
                for (; i <= n - Vector128<T>.Count; i += Vector128<T>.Count)
                    TOp.Invoke(Vector128.LoadUnsafe(ref px, (nuint)i)).StoreUnsafe(ref pd, (nuint)i);
        }
        for (; i < n; i++) Unsafe.Add(ref pd, i) = TOp.Invoke(Unsafe.Add(ref px, i));
    }

    /// <summary>dst[i] = x[i] + alpha * y[i], one fused multiply-add per element (PyTorch's vectorized add with alpha).</summary>
    public static void Axpy<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, T alpha, Span<T> dst)
        where T : unmanaged, System.Numerics.INumber<T>
    {
        int n = dst.Length;
        if (x.Length < n || y.Length < n) throw new ArgumentException("span too short");
        ref T px = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
        ref T py = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(y);
        ref T pd = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(dst);
        int i = 0;
        bool fp = typeof(T) == typeof(float) || typeof(T) == typeof(double);
        if (Vector512.IsHardwareAccelerated && fp)
        {
            var va = Vector512.Create(alpha);
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                GemmMicrokernel.Fma(Vector512.LoadUnsafe(ref py, (nuint)i), va, Vector512.LoadUnsafe(ref px, (nuint)i)).StoreUnsafe(ref pd, (nuint)i);
        }
        if (Vector256.IsHardwareAccelerated && fp)
        {
            var va = Vector256.Create(alpha);
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                GemmMicrokernel.Fma(Vector256.LoadUnsafe(ref py, (nuint)i), va, Vector256.LoadUnsafe(ref px, (nuint)i)).StoreUnsafe(ref pd, (nuint)i);
        }
        // Vector128 only with a hardware FMA (NEON, or FMA3 on x86): without one the fused form is emulated per lane.
        if (Vector128.IsHardwareAccelerated && fp && (System.Runtime.Intrinsics.X86.Fma.IsSupported || System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported))
        {
            var va = Vector128.Create(alpha);
            for (; i <= n - Vector128<T>.Count; i += Vector128<T>.Count)
                GemmMicrokernel.Fma(Vector128.LoadUnsafe(ref py, (nuint)i), va, Vector128.LoadUnsafe(ref px, (nuint)i)).StoreUnsafe(ref pd, (nuint)i);
        }
        for (; i < n; i++) Unsafe.Add(ref pd, i) = GemmMicrokernel.Fma(Unsafe.Add(ref py, i), alpha, Unsafe.Add(ref px, i));
    }

    // ---- parallel contiguous wrappers ---------------------------------------------------------------------

    struct BinaryBody<T, TOp> : IRangeBody where T : unmanaged where TOp : IBinaryOp<T>
    {
        public T[] X, Y, D; public int XOff, YOff, DOff;
        public void Invoke(int begin, int end) =>
            Binary<T, TOp>(X.AsSpan(XOff + begin, end - begin), Y.AsSpan(YOff + begin, end - begin), D.AsSpan(DOff + begin, end - begin));
    }

    /// <summary>Contiguous binary op over arrays, split across threads for large sizes.</summary>
    public static void BinaryParallel<T, TOp>(T[] x, int xOff, T[] y, int yOff, T[] d, int dOff, int n)
        where T : unmanaged where TOp : IBinaryOp<T>
    {
        if (n < 2 * Grain) { Binary<T, TOp>(x.AsSpan(xOff, n), y.AsSpan(yOff, n), d.AsSpan(dOff, n)); return; }
        ParallelFor.For(n, Grain, new BinaryBody<T, TOp> { X = x, Y = y, D = d, XOff = xOff, YOff = yOff, DOff = dOff });
    }

    struct AxpyBody<T> : IRangeBody where T : unmanaged, System.Numerics.INumber<T>
    {
        public T[] X, Y, D; public int XOff, YOff, DOff; public T Alpha;
        public void Invoke(int begin, int end) =>
            Axpy(X.AsSpan(XOff + begin, end - begin), Y.AsSpan(YOff + begin, end - begin), Alpha, D.AsSpan(DOff + begin, end - begin));
    }

    /// <summary><see cref="Axpy{T}"/> over arrays, split across threads for large sizes.</summary>
    public static void AxpyParallel<T>(T[] x, int xOff, T[] y, int yOff, T alpha, T[] d, int dOff, int n)
        where T : unmanaged, System.Numerics.INumber<T>
    {
        if (n < 2 * Grain) { Axpy(x.AsSpan(xOff, n), y.AsSpan(yOff, n), alpha, d.AsSpan(dOff, n)); return; }
        ParallelFor.For(n, Grain, new AxpyBody<T> { X = x, Y = y, D = d, XOff = xOff, YOff = yOff, DOff = dOff, Alpha = alpha });
    }

    struct ScalarRightBody<T, TOp> : IRangeBody where T : unmanaged where TOp : IBinaryOp<T>
    {
        public T[] X, D; public T Y; public int XOff, DOff;
        public void Invoke(int begin, int end) =>
            BinaryScalarRight<T, TOp>(X.AsSpan(XOff + begin, end - begin), Y, D.AsSpan(DOff + begin, end - begin));
    }

    /// <summary>Contiguous op with a scalar right operand, split across threads for large sizes.</summary>
    public static void BinaryScalarRightParallel<T, TOp>(T[] x, int xOff, T y, T[] d, int dOff, int n)
        where T : unmanaged where TOp : IBinaryOp<T>
    {
        if (n < 2 * Grain) { BinaryScalarRight<T, TOp>(x.AsSpan(xOff, n), y, d.AsSpan(dOff, n)); return; }
        ParallelFor.For(n, Grain, new ScalarRightBody<T, TOp> { X = x, Y = y, D = d, XOff = xOff, DOff = dOff });
    }

    struct UnaryBody<T, TOp> : IRangeBody where T : unmanaged where TOp : IUnaryOp<T>
    {
        public T[] X, D; public int XOff, DOff;
        public void Invoke(int begin, int end) =>
            Unary<T, TOp>(X.AsSpan(XOff + begin, end - begin), D.AsSpan(DOff + begin, end - begin));
    }

    /// <summary>Contiguous unary op, split across threads for large sizes.</summary>
    public static void UnaryParallel<T, TOp>(T[] x, int xOff, T[] d, int dOff, int n)
        where T : unmanaged where TOp : IUnaryOp<T>
    {
        if (n < 2 * Grain) { Unary<T, TOp>(x.AsSpan(xOff, n), d.AsSpan(dOff, n)); return; }
        ParallelFor.For(n, Grain, new UnaryBody<T, TOp> { X = x, D = d, XOff = xOff, DOff = dOff });
    }

    // ---- strided n-d walk -------------------------------------------------------------------------------------

    /// <summary>
    /// out = op(a, b) over <paramref name="shape"/> where every operand has its own strides (0 for broadcast dims).
    /// Offsets and strides are in elements of each operand's backing array.
    /// </summary>
    public static void BinaryStrided<T, TOp>(ReadOnlySpan<long> shape,
        T[] o, int oOff, ReadOnlySpan<long> oStr,
        T[] a, int aOff, ReadOnlySpan<long> aStr,
        T[] b, int bOff, ReadOnlySpan<long> bStr)
        where T : unmanaged where TOp : IBinaryOp<T>
    {
        var it = new StridedIterator(shape, oStr, aStr, bStr);
        it.CheckBounds(0, oOff, o.Length); it.CheckBounds(1, aOff, a.Length); it.CheckBounds(2, bOff, b.Length);
        int inner = it.InnerSize;
        int so = it.InnerStride(0), sa = it.InnerStride(1), sb = it.InnerStride(2);
        for (long row = 0; row < it.Rows; row++)
        {
            int po = oOff + it.Offset(0), pa = aOff + it.Offset(1), pb = bOff + it.Offset(2);
            if (so == 1 && sa == 1 && sb == 1) Binary<T, TOp>(a.AsSpan(pa, inner), b.AsSpan(pb, inner), o.AsSpan(po, inner));
            else if (so == 1 && sa == 1 && sb == 0) BinaryScalarRight<T, TOp>(a.AsSpan(pa, inner), b[pb], o.AsSpan(po, inner));
            else if (so == 1 && sa == 0 && sb == 1) BinaryScalarLeft<T, TOp>(a[pa], b.AsSpan(pb, inner), o.AsSpan(po, inner));
            else
                for (int i = 0; i < inner; i++) o[po + i * so] = TOp.Invoke(a[pa + i * sa], b[pb + i * sb]);
            it.Next();
        }
    }

    /// <summary>out = op(a) over <paramref name="shape"/> with arbitrary strides.</summary>
    public static void UnaryStrided<T, TOp>(ReadOnlySpan<long> shape,
        T[] o, int oOff, ReadOnlySpan<long> oStr, T[] a, int aOff, ReadOnlySpan<long> aStr)
        where T : unmanaged where TOp : IUnaryOp<T>
    {
        var it = new StridedIterator(shape, oStr, aStr, default);
        it.CheckBounds(0, oOff, o.Length); it.CheckBounds(1, aOff, a.Length);
        int inner = it.InnerSize;
        int so = it.InnerStride(0), sa = it.InnerStride(1);
        for (long row = 0; row < it.Rows; row++)
        {
            int po = oOff + it.Offset(0), pa = aOff + it.Offset(1);
            if (so == 1 && sa == 1) Unary<T, TOp>(a.AsSpan(pa, inner), o.AsSpan(po, inner));
            else for (int i = 0; i < inner; i++) o[po + i * so] = TOp.Invoke(a[pa + i * sa]);
            it.Next();
        }
    }

    /// <summary>out (bool) = op(a, b) over <paramref name="shape"/> with arbitrary strides.</summary>
    public static void CompareStrided<T, TOp>(ReadOnlySpan<long> shape,
        bool[] o, int oOff, ReadOnlySpan<long> oStr,
        T[] a, int aOff, ReadOnlySpan<long> aStr,
        T[] b, int bOff, ReadOnlySpan<long> bStr)
        where T : unmanaged where TOp : ICompareOp<T>
    {
        var it = new StridedIterator(shape, oStr, aStr, bStr);
        it.CheckBounds(0, oOff, o.Length); it.CheckBounds(1, aOff, a.Length); it.CheckBounds(2, bOff, b.Length);
        int inner = it.InnerSize;
        int so = it.InnerStride(0), sa = it.InnerStride(1), sb = it.InnerStride(2);
        for (long row = 0; row < it.Rows; row++)
        {
            int po = oOff + it.Offset(0), pa = aOff + it.Offset(1), pb = bOff + it.Offset(2);
            if (so == 1 && sa == 1 && sb == 1)
                Compare<T, TOp>(a.AsSpan(pa, inner), b.AsSpan(pb, inner), o.AsSpan(po, inner));
            else if (so == 1 && sa == 1 && sb == 0)
                CompareScalarRight<T, TOp>(a.AsSpan(pa, inner), b[pb], o.AsSpan(po, inner));
            else
                for (int i = 0; i < inner; i++) o[po + i * so] = TOp.Invoke(a[pa + i * sa], b[pb + i * sb]);
            it.Next();
        }
    }

    /// <summary>Copies <paramref name="a"/> (any strides) into <paramref name="o"/> (any strides), converting the element type.</summary>
    public static void CopyStrided<TFrom, TTo>(ReadOnlySpan<long> shape,
        TTo[] o, int oOff, ReadOnlySpan<long> oStr, TFrom[] a, int aOff, ReadOnlySpan<long> aStr)
        where TFrom : unmanaged where TTo : unmanaged
    {
        var it = new StridedIterator(shape, oStr, aStr, default);
        it.CheckBounds(0, oOff, o.Length); it.CheckBounds(1, aOff, a.Length);
        int inner = it.InnerSize;
        int so = it.InnerStride(0), sa = it.InnerStride(1);
        for (long row = 0; row < it.Rows; row++)
        {
            int po = oOff + it.Offset(0), pa = aOff + it.Offset(1);
            if (typeof(TFrom) == typeof(TTo) && so == 1 && sa == 1)
                a.AsSpan(pa, inner).CopyTo(System.Runtime.InteropServices.MemoryMarshal.Cast<TTo, TFrom>(o.AsSpan(po, inner)));
            else
                for (int i = 0; i < inner; i++) o[po + i * so] = Convert.To<TFrom, TTo>(a[pa + i * sa]);
            it.Next();
        }
    }
}

/// <summary>
/// Walks the rows of an n-d index space for up to three operands: dimensions that are contiguous for every operand
/// are merged, the last merged dimension is the inner row, and the outer index advances like an odometer (no
/// division or modulo per element).
/// </summary>
internal ref struct StridedIterator
{
    readonly int _rank;      // number of outer dims
    readonly long[] _sizes;  // merged sizes, inner last
    readonly long[] _strides; // [operand * dims + dim]
    readonly long[] _counter;
    readonly int _dims;
    readonly int[] _offsets;

    public readonly int InnerSize;
    public readonly long Rows;

    public StridedIterator(ReadOnlySpan<long> shape, ReadOnlySpan<long> s0, ReadOnlySpan<long> s1, ReadOnlySpan<long> s2)
    {
        // Merge dims: walk from the last dim, merging dim d into d+1 when stride[d] == stride[d+1]*size[d+1] for all.
        var sizes = new List<long>(shape.Length + 1);
        var strides = new List<long[]>(shape.Length + 1);
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            long size = shape[d];
            long[] st = { s0.IsEmpty ? 0 : s0[d], s1.IsEmpty ? 0 : s1[d], s2.IsEmpty ? 0 : s2[d] };
            if (size == 1) continue;
            if (sizes.Count > 0)
            {
                int last = sizes.Count - 1;
                bool merge = true;
                for (int k = 0; k < 3; k++)
                    if (st[k] != strides[last][k] * sizes[last]) { merge = false; break; }
                if (merge) { sizes[last] *= size; continue; }
            }
            sizes.Add(size);
            strides.Add(st);
        }
        bool empty = false;
        foreach (var s in shape) if (s == 0) empty = true;
        if (sizes.Count == 0) { sizes.Add(1); strides.Add(new long[3]); }
        _dims = sizes.Count;
        _sizes = new long[_dims];
        _strides = new long[3 * _dims];
        for (int i = 0; i < _dims; i++)
        {
            _sizes[_dims - 1 - i] = sizes[i];
            for (int k = 0; k < 3; k++) _strides[k * _dims + (_dims - 1 - i)] = strides[i][k];
        }
        _rank = _dims - 1;
        InnerSize = empty ? 0 : (int)_sizes[_dims - 1];
        long rows = 1;
        for (int i = 0; i < _rank; i++) rows *= _sizes[i];
        Rows = empty ? 0 : rows;
        _counter = new long[Math.Max(1, _rank)];
        _offsets = new int[3];
    }

    public readonly int InnerStride(int op) => (int)_strides[op * _dims + _dims - 1];

    public readonly int Offset(int op) => _offsets[op];

    /// <summary>Throws unless every element this operand reaches lies inside [0, length).</summary>
    public readonly void CheckBounds(int op, int offset, int length)
    {
        if (Rows == 0 || InnerSize == 0) return;
        long min = offset, max = offset;
        for (int d = 0; d < _dims; d++)
        {
            long reach = (_sizes[d] - 1) * _strides[op * _dims + d];
            if (reach < 0) min += reach; else max += reach;
        }
        if (min < 0 || max >= length)
            throw new IndexOutOfRangeException($"strided access [{min}, {max}] outside storage of {length} elements");
    }

    public void Next()
    {
        for (int d = _rank - 1; d >= 0; d--)
        {
            if (++_counter[d] < _sizes[d])
            {
                for (int k = 0; k < 3; k++) _offsets[k] += (int)_strides[k * _dims + d];
                return;
            }
            _counter[d] = 0;
            for (int k = 0; k < 3; k++) _offsets[k] -= (int)(_strides[k * _dims + d] * (_sizes[d] - 1));
        }
    }
}

/// <summary>Element conversions between the supported element types (as PyTorch casts: float to int truncates).</summary>
internal static class Convert
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TTo To<TFrom, TTo>(TFrom v) where TFrom : unmanaged where TTo : unmanaged
    {
        if (typeof(TFrom) == typeof(TTo)) return Unsafe.As<TFrom, TTo>(ref v);
        double d = ToDouble(v);
        if (typeof(TTo) == typeof(float)) { float f = typeof(TFrom) == typeof(long) ? (float)Unsafe.As<TFrom, long>(ref v) : (float)d; return Unsafe.As<float, TTo>(ref f); }
        if (typeof(TTo) == typeof(double)) return Unsafe.As<double, TTo>(ref d);
        if (typeof(TTo) == typeof(long)) { long l = typeof(TFrom) == typeof(long) ? Unsafe.As<TFrom, long>(ref v) : (long)d; return Unsafe.As<long, TTo>(ref l); }
        if (typeof(TTo) == typeof(int)) { int i = (int)(long)d; return Unsafe.As<int, TTo>(ref i); }
        if (typeof(TTo) == typeof(bool)) { bool b = d != 0 || double.IsNaN(d); return Unsafe.As<bool, TTo>(ref b); }
        throw new NotSupportedException(typeof(TTo).Name);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double ToDouble<T>(T v) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return Unsafe.As<T, float>(ref v);
        if (typeof(T) == typeof(double)) return Unsafe.As<T, double>(ref v);
        if (typeof(T) == typeof(long)) return Unsafe.As<T, long>(ref v);
        if (typeof(T) == typeof(int)) return Unsafe.As<T, int>(ref v);
        if (typeof(T) == typeof(bool)) return Unsafe.As<T, bool>(ref v) ? 1 : 0;
        throw new NotSupportedException(typeof(T).Name);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T FromDouble<T>(double d) where T : unmanaged => To<double, T>(d);
}
