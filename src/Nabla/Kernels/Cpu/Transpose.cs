using System.Runtime.Intrinsics.X86;

namespace Nabla.Kernels.Cpu;

/// <summary>
/// Copies of transposed matrices (<c>x.t().contiguous()</c>, <c>transpose(-1, -2)</c>, <c>permute</c> that swaps the
/// last two dims): the element-by-element strided walk touches a new cache line per element, so the copy goes through
/// 8 x 8 register transposes (float) or 32 x 32 blocks (other types).
/// </summary>
internal static unsafe class Transpose
{
    /// <summary>
    /// dst[b*rows*cols + r*cols + c] = src[srcOffsets[b] + r + c*srcColStride] for every batch b. Bounds are checked here,
    /// before any pointer is taken.
    /// </summary>
    public static void Copy<T>(T[] src, ReadOnlySpan<int> srcOffsets, int srcColStride, T[] dst, int dstOffset, int rows, int cols)
        where T : unmanaged
    {
        if (rows <= 0 || cols <= 0 || srcOffsets.Length == 0) return;
        long reach = (long)(rows - 1) + (long)(cols - 1) * srcColStride;
        foreach (var o in srcOffsets)
            if (o < 0 || o + reach >= src.Length) throw new IndexOutOfRangeException("transpose source outside its storage");
        if (dstOffset < 0 || dstOffset + (long)srcOffsets.Length * rows * cols > dst.Length)
            throw new IndexOutOfRangeException("transpose destination outside its storage");
        int band = typeof(T) == typeof(float) && Avx.IsSupported ? 8 : 32;
        int bands = (rows + band - 1) / band, batches = srcOffsets.Length;
        long total = (long)batches * rows * cols;
        int[] offsets = srcOffsets.ToArray();
        fixed (T* ps = src)
        fixed (T* pd = dst)
        fixed (int* po = offsets)
        {
            var body = new BandBody<T> { S = ps, D = pd + dstOffset, Offsets = po, Cs = srcColStride, Rows = rows, Cols = cols, Band = band, Bands = bands };
            // Memory-bound: split into bands of rows over the threads from 64K elements on.
            if (total < 1 << 16) body.Invoke(0, batches * bands);
            else ParallelFor.For(batches * bands, Math.Max(1, (1 << 14) / Math.Max(1, band * cols)), body);
        }
    }

    /// <summary>Units are (batch, band of rows): rows [band*k, band*(k+1)) of one matrix.</summary>
    struct BandBody<T> : IRangeBody where T : unmanaged
    {
        public T* S, D;
        public int* Offsets;
        public long Cs;
        public int Rows, Cols, Band, Bands;

        public readonly void Invoke(int begin, int end)
        {
            for (int u = begin; u < end; u++)
            {
                int b = u / Bands, r0 = u % Bands * Band, r1 = Math.Min(Rows, r0 + Band);
                T* s = S + Offsets[b] + r0;
                T* d = D + (long)b * Rows * Cols + (long)r0 * Cols;
                if (typeof(T) == typeof(float) && Avx.IsSupported) Float((float*)s, Cs, (float*)d, r1 - r0, Cols);
                else Blocked(s, Cs, d, r1 - r0, Cols);
            }
        }
    }

    /// <summary>d[r*cols + c] = s[c*cs + r] for r &lt; rows, c &lt; cols (8 x 8 AVX register transposes, scalar edges); needs AVX.</summary>
    internal static void Float(float* s, long cs, float* d, int rows, int cols)
    {
        int r8 = rows & ~7, c8 = cols & ~7;
        for (int r = 0; r < r8; r += 8)
            for (int c = 0; c < c8; c += 8)
                GemmPacking.Transpose8x8(s + c * cs + r, cs, d + (long)r * cols + c, cols);
        // Ragged edges: the last cols % 8 columns of every row, then the last rows % 8 rows.
        for (int r = 0; r < r8; r++)
            for (int c = c8; c < cols; c++) d[(long)r * cols + c] = s[c * cs + r];
        for (int r = r8; r < rows; r++)
            for (int c = 0; c < cols; c++) d[(long)r * cols + c] = s[c * cs + r];
    }

    static void Blocked<T>(T* s, long cs, T* d, int rows, int cols) where T : unmanaged
    {
        const int B = 32;
        for (int r0 = 0; r0 < rows; r0 += B)
            for (int c0 = 0; c0 < cols; c0 += B)
            {
                int r1 = Math.Min(rows, r0 + B), c1 = Math.Min(cols, c0 + B);
                for (int r = r0; r < r1; r++)
                    for (int c = c0; c < c1; c++) d[(long)r * cols + c] = s[c * cs + r];
            }
    }
}
