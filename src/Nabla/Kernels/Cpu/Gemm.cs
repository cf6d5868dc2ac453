using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Nabla.Kernels.Cpu;

/// <summary>Instruction-set path of the GEMM microkernel.</summary>
internal enum GemmIsa
{
    /// <summary>Portable scalar loops.</summary>
    Scalar,
    /// <summary>128-bit vectors with hardware FMA (NEON, or SSE with FMA3).</summary>
    Vector128,
    /// <summary>256-bit vectors with FMA3 (AVX2).</summary>
    Vector256,
    /// <summary>512-bit vectors (AVX-512).</summary>
    Vector512,
}

/// <summary>
/// General matrix multiply, <c>C = alpha * A @ B + beta * C</c>, for float and double, with arbitrary
/// non-negative element strides on A and B (so transposed views need no copy) and a row-major C
/// (unit column stride, row stride <c>ldc</c>).
/// </summary>
/// <remarks>
/// BLIS/GotoBLAS structure: C is cut into one region per thread (row panels, or column panels when C is wider
/// than tall) and each thread runs the blocked loop nest on its region with its own 64-byte aligned scratch: for each
/// <c>NC</c>-wide column block and <c>KC</c>-deep k slice, B is packed into <c>KC x NR</c> micro-panels, then each
/// <c>MC x KC</c> block of A into <c>MR x KC</c> micro-panels, and the register-tile microkernel
/// (<see cref="GemmMicrokernel"/>) sweeps them. Threads are <see cref="ParallelFor.NumThreads"/> (one dispatch per
/// product). Products below <see cref="SmallThreshold"/> multiply-adds (with k &lt;= 256) take
/// a direct loop with no packing or threading. C must not overlap A or B.
/// </remarks>
internal static unsafe partial class Gemm
{
    /// <summary>Below this many multiply-adds (m*n*k) the direct, unpacked loop is used.</summary>
    internal static long SmallThreshold = 128 * 1024;

    /// <summary>Below this many multiply-adds the packed path runs on the calling thread only.</summary>
    internal static long ParallelThreshold = 1L << 19;

    static int s_kc, s_mc, s_nc;

    /// <summary>
    /// Depth of a packed k slice: by default derived from this machine's L1 (<see cref="GemmBlocking"/>, float on
    /// <see cref="BestIsa"/>); setting it overrides the derived value for every element type (tuning probes).
    /// </summary>
    internal static int KC
    {
        get => s_kc > 0 ? s_kc : Blocks(BestIsa, sizeof(float)).Kc;
        set => s_kc = value;
    }

    /// <summary>Rows of a packed A block (rounded down to a multiple of MR): derived from L2 unless set (see <see cref="KC"/>).</summary>
    internal static int MC
    {
        get => s_mc > 0 ? s_mc : Blocks(BestIsa, sizeof(float)).Mc;
        set => s_mc = value;
    }

    /// <summary>Columns of a packed B block (rounded down to a multiple of NR): derived from L3 unless set (see <see cref="KC"/>).</summary>
    internal static int NC
    {
        get => s_nc > 0 ? s_nc : Blocks(BestIsa, sizeof(float)).Nc;
        set => s_nc = value;
    }

    /// <summary>Derived block sizes per (path, element size), computed once in the type initializer (thread-safe).</summary>
    static readonly (int Kc, int Mc, int Nc)[] s_blocks = DeriveAllBlocks();

    static (int Kc, int Mc, int Nc)[] DeriveAllBlocks()
    {
        var all = new (int Kc, int Mc, int Nc)[8];
        for (var isa = GemmIsa.Scalar; isa <= GemmIsa.Vector512; isa++)
            foreach (int elemSize in new[] { 4, 8 })
            {
                int mr = TileRows(isa);
                int nr = isa switch
                {
                    GemmIsa.Vector512 => 128 / elemSize,
                    GemmIsa.Vector256 => 64 / elemSize,
                    GemmIsa.Vector128 => 32 / elemSize,
                    _ => GemmMicrokernel.ScalarNr,
                };
                all[(int)isa * 2 + (elemSize == 8 ? 1 : 0)] = GemmBlocking.ForThisMachine(mr, nr, elemSize);
            }
        return all;
    }

    /// <summary>The derived block sizes for a microkernel path and element size (4 or 8 bytes).</summary>
    internal static (int Kc, int Mc, int Nc) Blocks(GemmIsa isa, int elemSize) => s_blocks[(int)isa * 2 + (elemSize == 8 ? 1 : 0)];

    /// <summary>The block sizes a product of <typeparamref name="T"/> on <paramref name="isa"/> uses: derived, or the overrides.</summary>
    static (int Kc, int Mc, int Nc) BlocksFor<T>(GemmIsa isa) where T : unmanaged
    {
        var b = Blocks(isa, sizeof(T));
        return (s_kc > 0 ? s_kc : b.Kc, s_mc > 0 ? s_mc : b.Mc, s_nc > 0 ? s_nc : b.Nc);
    }

    /// <summary>The widest microkernel path this machine runs in hardware.</summary>
    internal static readonly GemmIsa BestIsa =
        Vector512.IsHardwareAccelerated ? GemmIsa.Vector512
        : Vector256.IsHardwareAccelerated && Fma.IsSupported ? GemmIsa.Vector256
        : Vector128.IsHardwareAccelerated && (Fma.IsSupported || AdvSimd.IsSupported) ? GemmIsa.Vector128
        : GemmIsa.Scalar;

    // ------------------------------------------------------------------ public (internal) API

    /// <summary>
    /// <c>C[i*ldc + j] = alpha * sum_p A(i,p) * B(p,j) + beta * C[i*ldc + j]</c> (C is not read when beta == 0),
    /// with <c>A(i,p) = a[i*aRowStride + p*aColStride]</c> and <c>B(p,j) = b[p*bRowStride + j*bColStride]</c>.
    /// </summary>
    internal static void Matmul(int m, int n, int k,
        ReadOnlySpan<float> a, int aRowStride, int aColStride,
        ReadOnlySpan<float> b, int bRowStride, int bColStride,
        Span<float> c, int ldc, float alpha = 1f, float beta = 0f)
        => BatchedCore(1, m, n, k, a, 0, aRowStride, aColStride, b, 0, bRowStride, bColStride, c, 0, ldc, alpha, beta,
            BestIsa, ParallelFor.NumThreads, false);

    /// <inheritdoc cref="Matmul(int, int, int, ReadOnlySpan{float}, int, int, ReadOnlySpan{float}, int, int, Span{float}, int, float, float)"/>
    internal static void Matmul(int m, int n, int k,
        ReadOnlySpan<double> a, int aRowStride, int aColStride,
        ReadOnlySpan<double> b, int bRowStride, int bColStride,
        Span<double> c, int ldc, double alpha = 1, double beta = 0)
        => BatchedCore(1, m, n, k, a, 0, aRowStride, aColStride, b, 0, bRowStride, bColStride, c, 0, ldc, alpha, beta,
            BestIsa, ParallelFor.NumThreads, false);

    /// <summary>
    /// <paramref name="batch"/> independent products; batch <c>t</c> reads A at <c>t*aBatchStride</c>, B at
    /// <c>t*bBatchStride</c> and writes C at <c>t*cBatchStride</c>. A batch stride of 0 broadcasts one matrix to every
    /// batch (not allowed for C when batch &gt; 1).
    /// </summary>
    internal static void BatchedMatmul(int batch, int m, int n, int k,
        ReadOnlySpan<float> a, long aBatchStride, int aRowStride, int aColStride,
        ReadOnlySpan<float> b, long bBatchStride, int bRowStride, int bColStride,
        Span<float> c, long cBatchStride, int ldc, float alpha = 1f, float beta = 0f)
        => BatchedCore(batch, m, n, k, a, aBatchStride, aRowStride, aColStride, b, bBatchStride, bRowStride, bColStride,
            c, cBatchStride, ldc, alpha, beta, BestIsa, ParallelFor.NumThreads, false);

    /// <inheritdoc cref="BatchedMatmul(int, int, int, int, ReadOnlySpan{float}, long, int, int, ReadOnlySpan{float}, long, int, int, Span{float}, long, int, float, float)"/>
    internal static void BatchedMatmul(int batch, int m, int n, int k,
        ReadOnlySpan<double> a, long aBatchStride, int aRowStride, int aColStride,
        ReadOnlySpan<double> b, long bBatchStride, int bRowStride, int bColStride,
        Span<double> c, long cBatchStride, int ldc, double alpha = 1, double beta = 0)
        => BatchedCore(batch, m, n, k, a, aBatchStride, aRowStride, aColStride, b, bBatchStride, bRowStride, bColStride,
            c, cBatchStride, ldc, alpha, beta, BestIsa, ParallelFor.NumThreads, false);

    /// <summary>
    /// <c>C = act(A @ B + bias)</c>: the product with a per-column bias (<c>bias[j]</c>, as in a linear layer
    /// <c>x @ W^T + b</c>) and an optional ReLU fused into the GEMM (Note [GEMM epilogue]). An empty
    /// <paramref name="bias"/> adds nothing; otherwise it needs at least <paramref name="n"/> values.
    /// </summary>
    internal static void MatmulBiasActivation(int m, int n, int k,
        ReadOnlySpan<float> a, int aRowStride, int aColStride,
        ReadOnlySpan<float> b, int bRowStride, int bColStride,
        ReadOnlySpan<float> bias, bool relu, Span<float> c, int ldc)
        => BatchedCore(1, m, n, k, a, 0, aRowStride, aColStride, b, 0, bRowStride, bColStride, c, 0, ldc, 1f, 0f,
            BestIsa, ParallelFor.NumThreads, false, bias, relu);

    /// <inheritdoc cref="MatmulBiasActivation(int, int, int, ReadOnlySpan{float}, int, int, ReadOnlySpan{float}, int, int, ReadOnlySpan{float}, bool, Span{float}, int)"/>
    internal static void MatmulBiasActivation(int m, int n, int k,
        ReadOnlySpan<double> a, int aRowStride, int aColStride,
        ReadOnlySpan<double> b, int bRowStride, int bColStride,
        ReadOnlySpan<double> bias, bool relu, Span<double> c, int ldc)
        => BatchedCore(1, m, n, k, a, 0, aRowStride, aColStride, b, 0, bRowStride, bColStride, c, 0, ldc, 1, 0,
            BestIsa, ParallelFor.NumThreads, false, bias, relu);

    /// <summary>
    /// Validating entry point with the path knobs exposed (tests use them to cover every microkernel,
    /// the packed path on small shapes, and thread counts). <paramref name="isa"/> must not exceed <see cref="BestIsa"/>
    /// for speed, though any value is correct.
    /// </summary>
    internal static void BatchedCore<T>(int batch, int m, int n, int k,
        ReadOnlySpan<T> a, long aBatchStride, int aRowStride, int aColStride,
        ReadOnlySpan<T> b, long bBatchStride, int bRowStride, int bColStride,
        Span<T> c, long cBatchStride, int ldc, T alpha, T beta,
        GemmIsa isa, int threads, bool forcePacked, ReadOnlySpan<T> bias = default, bool relu = false)
        where T : unmanaged, INumber<T>
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
            throw new NotSupportedException($"Gemm supports float and double, not {typeof(T).Name}.");
        if (batch < 0) throw new ArgumentOutOfRangeException(nameof(batch), batch, "batch must be >= 0.");
        if (m < 0) throw new ArgumentOutOfRangeException(nameof(m), m, "m must be >= 0.");
        if (n < 0) throw new ArgumentOutOfRangeException(nameof(n), n, "n must be >= 0.");
        if (k < 0) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be >= 0.");
        if (aRowStride < 0 || aColStride < 0 || bRowStride < 0 || bColStride < 0 || ldc < 0
            || aBatchStride < 0 || bBatchStride < 0 || cBatchStride < 0)
            throw new ArgumentException("Gemm strides must be non-negative.");
        if (batch == 0 || m == 0 || n == 0) return;
        if (m > 1 && ldc < n)
            throw new ArgumentException($"ldc ({ldc}) must be >= n ({n}) so that rows of C do not overlap.", nameof(ldc));
        if (batch > 1 && cBatchStride == 0)
            throw new ArgumentException("C cannot be broadcast across batches (cBatchStride == 0).", nameof(cBatchStride));
        // Int128: huge batch strides must not wrap around into an in-range index.
        Int128 lastC = (Int128)(batch - 1) * cBatchStride + (long)(m - 1) * ldc + (n - 1);
        if (lastC >= c.Length)
            throw new ArgumentException($"C needs index {lastC} but its span has length {c.Length}.", nameof(c));
        if (k > 0)
        {
            Int128 lastA = (Int128)(batch - 1) * aBatchStride + (long)(m - 1) * aRowStride + (long)(k - 1) * aColStride;
            if (lastA >= a.Length)
                throw new ArgumentException($"A needs index {lastA} but its span has length {a.Length}.", nameof(a));
            Int128 lastB = (Int128)(batch - 1) * bBatchStride + (long)(k - 1) * bRowStride + (long)(n - 1) * bColStride;
            if (lastB >= b.Length)
                throw new ArgumentException($"B needs index {lastB} but its span has length {b.Length}.", nameof(b));
        }
        if (!bias.IsEmpty && bias.Length < n)
            throw new ArgumentException($"bias has {bias.Length} values but C has {n} columns.", nameof(bias));
        threads = Math.Max(1, threads);

        fixed (T* pa = a)
        fixed (T* pb = b)
        fixed (T* pc = c)
        fixed (T* pbias = bias)
        {
            var epi = new Epilogue<T>(bias.IsEmpty ? null : pbias, relu);
            if (batch == 1)
            {
                Core(m, n, k, pa, aRowStride, aColStride, pb, bRowStride, bColStride, pc, ldc, alpha, beta, isa, threads, forcePacked, epi);
                return;
            }
            var body = new BatchBody<T>
            {
                M = m, N = n, K = k,
                A = pa, Abs = aBatchStride, Ars = aRowStride, Acs = aColStride,
                B = pb, Bbs = bBatchStride, Brs = bRowStride, Bcs = bColStride,
                C = pc, Cbs = cBatchStride, Ldc = ldc, Alpha = alpha, Beta = beta,
                Isa = isa, ForcePacked = forcePacked, Threads = 1, Epi = epi,
            };
            long work = (long)m * n * k;
            if (threads > 1 && work < ParallelThreshold * 4 && work * batch >= ParallelThreshold)
            {
                // Small matrices: one thread per group of batches.
                int grain = (int)Math.Clamp(ParallelThreshold / Math.Max(1, work), 1, batch);
                ParallelFor.For(batch, grain, body);
            }
            else
            {
                body.Threads = threads;
                body.Invoke(0, batch);
            }
        }
    }

    unsafe struct BatchBody<T> : IRangeBody where T : unmanaged, INumber<T>
    {
        public int M, N, K, Ars, Acs, Brs, Bcs, Ldc, Threads;
        public T* A, B, C;
        public long Abs, Bbs, Cbs;
        public T Alpha, Beta;
        public GemmIsa Isa;
        public bool ForcePacked;
        public Epilogue<T> Epi;

        public void Invoke(int begin, int end)
        {
            for (int t = begin; t < end; t++)
                Core(M, N, K, A + t * Abs, Ars, Acs, B + t * Bbs, Brs, Bcs, C + t * Cbs, Ldc, Alpha, Beta, Isa, Threads, ForcePacked, Epi);
        }
    }

    /// <summary>
    /// Note [GEMM epilogue]: a per-column bias and a ReLU applied to C where it is produced. On the packed path each
    /// register tile gets them right after its last k slice is stored, while the tile is still in L1 (one extra pass
    /// over 6 x 2W values in cache instead of two passes over C in memory); the direct and transposed small paths
    /// apply them to their whole (small) C at the end. The ReLU keeps NaN, as torch.relu.
    /// </summary>
    internal readonly unsafe struct Epilogue<T> where T : unmanaged, INumber<T>
    {
        /// <summary>bias[j] for column j of the whole product, or null.</summary>
        public readonly T* Bias;
        public readonly bool Relu;

        public Epilogue(T* bias, bool relu) { Bias = bias; Relu = relu; }

        public bool Active => Bias != null || Relu;

        /// <summary>Applies the epilogue to C[0:rows, 0:cols] (row stride ldc) whose first column is column j0 of the product.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Apply(T* c, int ldc, int rows, int cols, int j0)
        {
            for (int r = 0; r < rows; r++)
            {
                var row = new Span<T>(c + (long)r * ldc, cols);
                if (Bias != null) Elementwise.Binary<T, AddOp<T>>(row, new ReadOnlySpan<T>(Bias + j0, cols), row);
                if (Relu) Elementwise.Unary<T, ReluOp<T>>(row, row);
            }
        }
    }

    // ------------------------------------------------------------------ dispatch

    static void Core<T>(int m, int n, int k, T* a, long ars, long acs, T* b, long brs, long bcs, T* c, int ldc,
        T alpha, T beta, GemmIsa isa, int threads, bool forcePacked, Epilogue<T> epi)
        where T : unmanaged, INumber<T>
    {
        bool betaZero = beta == T.Zero;
        if (k == 0)
        {
            for (int i = 0; i < m; i++)
            {
                T* ci = c + (long)i * ldc;
                if (betaZero) for (int j = 0; j < n; j++) ci[j] = T.Zero;
                else for (int j = 0; j < n; j++) ci[j] = beta * ci[j];
            }
            if (epi.Active) epi.Apply(c, ldc, m, n, 0);
            return;
        }
        if (!forcePacked && (long)m * n * k < SmallThreshold && k <= SmallMaxK)
        {
            Small(m, n, k, a, ars, acs, b, brs, bcs, c, ldc, alpha, beta, betaZero, isa);
            if (epi.Active) epi.Apply(c, ldc, m, n, 0);
            return;
        }
        if (!forcePacked && n * 2 <= TileCols<T>(isa) && m >= 4 * TileCols<T>(isa))
        {
            NarrowByTranspose(m, n, k, a, ars, acs, b, brs, bcs, c, ldc, alpha, beta, betaZero, isa, threads);
            if (epi.Active) epi.Apply(c, ldc, m, n, 0);
            return;
        }
        Packed(m, n, k, a, ars, acs, b, brs, bcs, c, ldc, alpha, beta, betaZero, isa, threads, epi);
    }

    /// <summary>
    /// A tall product with few columns (a classifier head: 128 x 512 @ 512 x 10) would fill the microkernel's 32-wide
    /// tiles a third full and pack all of A for them; its transpose C^T = B^T A^T has many columns instead. It is computed
    /// into scratch and written back transposed (with alpha and beta), the same sums in the same order.
    /// </summary>
    static void NarrowByTranspose<T>(int m, int n, int k, T* a, long ars, long acs, T* b, long brs, long bcs, T* c, int ldc,
        T alpha, T beta, bool betaZero, GemmIsa isa, int threads)
        where T : unmanaged, INumber<T>
    {
        var scratch = System.Buffers.ArrayPool<T>.Shared.Rent(m * n);
        try
        {
            fixed (T* t = scratch)
            {
                Packed(n, m, k, b, bcs, brs, a, acs, ars, t, m, T.One, T.Zero, true, isa, threads, default);
                for (int i = 0; i < m; i++)
                {
                    T* ci = c + (long)i * ldc;
                    if (betaZero) for (int j = 0; j < n; j++) ci[j] = alpha * t[(long)j * m + i];
                    else for (int j = 0; j < n; j++) ci[j] = alpha * t[(long)j * m + i] + beta * ci[j];
                }
            }
        }
        finally
        {
            System.Buffers.ArrayPool<T>.Shared.Return(scratch);
        }
    }

    /// <summary>Deepest k the direct path takes (its padded B column block lives on the stack).</summary>
    const int SmallMaxK = 256;

    /// <summary>Below this many multiply-adds the direct path stays scalar (vector setup costs more than it saves).</summary>
    const int SmallScalarWork = 256;
}
