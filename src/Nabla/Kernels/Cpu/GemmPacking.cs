using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nabla.Kernels.Cpu;

/// <summary>
/// Packing of GEMM operands into the contiguous micro-panel layouts the microkernels read, and the
/// per-thread aligned scratch buffers they are packed into. Packing reads through arbitrary
/// (non-negative) strides, so transposed views need no copy beforehand.
/// </summary>
internal static unsafe class GemmPacking
{
    /// <summary>
    /// Packs rows [0, rows) x columns [0, kc) of A (already offset to the block's corner) as one micro-panel:
    /// <c>dst[p*mr + r] = A(r, p)</c>, zero for <c>r &gt;= rows</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void PackAPanel<T>(T* dst, T* a, long ars, long acs, int rows, int kc, int mr)
        where T : unmanaged, INumber<T>
    {
        if (rows == mr && ars == 1)
        {
            // Column-major (transposed) A: each k step is mr contiguous values.
            for (int p = 0; p < kc; p++)
            {
                T* src = a + p * acs;
                T* d = dst + p * mr;
                for (int r = 0; r < mr; r++) d[r] = src[r];
            }
            return;
        }
        if (rows == 6 && mr == 6 && acs == 1 && typeof(T) == typeof(float) && Avx.IsSupported)
        {
            PackARowMajor6((float*)dst, (float*)a, ars, kc);
            return;
        }
        for (int r = 0; r < rows; r++)
        {
            T* src = a + r * ars;
            T* d = dst + r;
            if (acs == 1)
                for (int p = 0; p < kc; p++) d[p * mr] = src[p];
            else
                for (int p = 0; p < kc; p++) d[p * mr] = src[p * acs];
        }
        for (int r = rows; r < mr; r++)
        {
            T* d = dst + r;
            for (int p = 0; p < kc; p++) d[p * mr] = T.Zero;
        }
    }

    /// <summary>
    /// Packs rows [0, kc) x columns [0, cols) of B (already offset to the panel's corner) as one micro-panel:
    /// <c>dst[p*nr + j] = B(p, j)</c>, zero for <c>j &gt;= cols</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void PackBPanel<T>(T* dst, T* b, long brs, long bcs, int kc, int cols, int nr)
        where T : unmanaged, INumber<T>
    {
        if (cols == nr && bcs == 1)
        {
            // Row-major B: each k step is a contiguous copy of nr values.
            if (Vector512.IsHardwareAccelerated && nr % Vector512<T>.Count == 0)
            {
                int w = Vector512<T>.Count;
                for (int p = 0; p < kc; p++)
                {
                    T* src = b + p * brs;
                    T* d = dst + p * nr;
                    for (int j = 0; j < nr; j += w) Vector512.Store(Vector512.Load(src + j), d + j);
                }
            }
            else if (Vector256.IsHardwareAccelerated && nr % Vector256<T>.Count == 0)
            {
                int w = Vector256<T>.Count;
                for (int p = 0; p < kc; p++)
                {
                    T* src = b + p * brs;
                    T* d = dst + p * nr;
                    for (int j = 0; j < nr; j += w) Vector256.Store(Vector256.Load(src + j), d + j);
                }
            }
            else
            {
                for (int p = 0; p < kc; p++)
                {
                    T* src = b + p * brs;
                    T* d = dst + p * nr;
                    for (int j = 0; j < nr; j++) d[j] = src[j];
                }
            }
            return;
        }
        if (brs == 1 && bcs != 1 && typeof(T) == typeof(float) && Avx.IsSupported && cols == nr && nr % 8 == 0)
        {
            // Transposed B, float: 8 x 8 register transposes (column j of B is contiguous along p).
            float* d = (float*)dst, src = (float*)b;
            int p = 0;
            for (; p + 8 <= kc; p += 8)
                for (int j = 0; j < nr; j += 8)
                    Transpose8x8(src + j * bcs + p, bcs, d + (long)p * nr + j, nr);
            for (; p < kc; p++)
                for (int j = 0; j < nr; j++) d[(long)p * nr + j] = src[j * bcs + p];
            return;
        }
        if (brs == 1 && bcs != 1)
        {
            // Transposed B: column j is contiguous along p.
            for (int j = 0; j < cols; j++)
            {
                T* src = b + j * bcs;
                T* d = dst + j;
                for (int p = 0; p < kc; p++) d[p * nr] = src[p];
            }
        }
        else
        {
            for (int p = 0; p < kc; p++)
            {
                T* src = b + p * brs;
                T* d = dst + p * nr;
                for (int j = 0; j < cols; j++) d[j] = src[j * bcs];
            }
        }
        if (cols < nr)
        {
            for (int p = 0; p < kc; p++)
            {
                T* d = dst + p * nr;
                for (int j = cols; j < nr; j++) d[j] = T.Zero;
            }
        }
    }

    /// <summary>
    /// dst[q * dstStride + i] = src[i * srcStride + q] for i, q &lt; 8: the standard AVX 8 x 8 transpose (unpack, shuffle,
    /// 128-bit lane permute).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Transpose8x8(float* src, long srcStride, float* dst, long dstStride)
    {
        Transpose8x8(Avx.LoadVector256(src), Avx.LoadVector256(src + srcStride), Avx.LoadVector256(src + 2 * srcStride),
            Avx.LoadVector256(src + 3 * srcStride), Avx.LoadVector256(src + 4 * srcStride), Avx.LoadVector256(src + 5 * srcStride),
            Avx.LoadVector256(src + 6 * srcStride), Avx.LoadVector256(src + 7 * srcStride),
            out var o0, out var o1, out var o2, out var o3, out var o4, out var o5, out var o6, out var o7);
        Avx.Store(dst, o0);
        Avx.Store(dst + dstStride, o1);
        Avx.Store(dst + 2 * dstStride, o2);
        Avx.Store(dst + 3 * dstStride, o3);
        Avx.Store(dst + 4 * dstStride, o4);
        Avx.Store(dst + 5 * dstStride, o5);
        Avx.Store(dst + 6 * dstStride, o6);
        Avx.Store(dst + 7 * dstStride, o7);
    }

    /// <summary>o_q[i] = r_i[q]: rows in, columns out.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Transpose8x8(Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3,
        Vector256<float> r4, Vector256<float> r5, Vector256<float> r6, Vector256<float> r7,
        out Vector256<float> o0, out Vector256<float> o1, out Vector256<float> o2, out Vector256<float> o3,
        out Vector256<float> o4, out Vector256<float> o5, out Vector256<float> o6, out Vector256<float> o7)
    {
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
        o0 = Avx.Permute2x128(u0, u4, 0x20); o1 = Avx.Permute2x128(u1, u5, 0x20);
        o2 = Avx.Permute2x128(u2, u6, 0x20); o3 = Avx.Permute2x128(u3, u7, 0x20);
        o4 = Avx.Permute2x128(u0, u4, 0x31); o5 = Avx.Permute2x128(u1, u5, 0x31);
        o6 = Avx.Permute2x128(u2, u6, 0x31); o7 = Avx.Permute2x128(u3, u7, 0x31);
    }

    /// <summary>
    /// Row-major float A, a full panel of six rows: dst[p*6 + r] = A(r, p) through 8 x 8 transposes (two zero rows);
    /// each k step's six values are stored as eight, the two extra overwritten by the next step, except the last of
    /// every group, which is stored exactly.
    /// </summary>
    static void PackARowMajor6(float* dst, float* a, long ars, int kc)
    {
        var z = Vector256<float>.Zero;
        int p = 0;
        for (; p + 8 <= kc; p += 8)
        {
            float* s = a + p;
            Transpose8x8(Avx.LoadVector256(s), Avx.LoadVector256(s + ars), Avx.LoadVector256(s + 2 * ars),
                Avx.LoadVector256(s + 3 * ars), Avx.LoadVector256(s + 4 * ars), Avx.LoadVector256(s + 5 * ars), z, z,
                out var o0, out var o1, out var o2, out var o3, out var o4, out var o5, out var o6, out var o7);
            float* d = dst + p * 6;
            Avx.Store(d, o0);
            Avx.Store(d + 6, o1);
            Avx.Store(d + 12, o2);
            Avx.Store(d + 18, o3);
            Avx.Store(d + 24, o4);
            Avx.Store(d + 30, o5);
            Avx.Store(d + 36, o6);
            Sse.Store(d + 42, o7.GetLower());
            d[46] = o7.GetElement(4);
            d[47] = o7.GetElement(5);
        }
        for (; p < kc; p++)
            for (int r = 0; r < 6; r++) dst[p * 6 + r] = a[r * ars + p];
    }

    [ThreadStatic] static byte[]? t_aBuffer;
    [ThreadStatic] static byte[]? t_bBuffer;

    /// <summary>This thread's scratch for packed A blocks, 64-byte aligned, at least <paramref name="bytes"/> long.</summary>
    internal static byte* ABuffer(long bytes) => Aligned(ref t_aBuffer, bytes);

    /// <summary>This thread's scratch for packed B blocks, 64-byte aligned, at least <paramref name="bytes"/> long.</summary>
    internal static byte* BBuffer(long bytes) => Aligned(ref t_bBuffer, bytes);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static byte* Aligned(ref byte[]? buffer, long bytes)
    {
        if (buffer is null || buffer.Length < bytes + 64) Grow(ref buffer, bytes);
        // The buffer lives on the pinned object heap, so its address is stable.
        byte* p = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer!));
        return (byte*)(((nuint)p + 63) & ~(nuint)63);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static void Grow(ref byte[]? buffer, long bytes)
    {
        long size = Math.Max(bytes + 64, buffer is null ? 0 : (long)buffer.Length * 2);
        size = Math.Min(size, Array.MaxLength);
        buffer = GC.AllocateUninitializedArray<byte>((int)size, pinned: true);
    }
}
