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
/// BLIS/GotoBLAS structure: for each <c>NC</c>-wide column block of B and each <c>KC</c>-deep slice of k,
/// B is packed into <c>KC x NR</c> micro-panels (shared by all threads), then each thread packs its
/// <c>MC x KC</c> blocks of A into <c>MR x KC</c> micro-panels and sweeps the register-tile microkernel over them.
/// Work is split over row panels of C (or column panels when C has too few rows) across
/// <see cref="ParallelFor.NumThreads"/> threads. Products below <see cref="SmallThreshold"/> multiply-adds take
/// a direct loop with no packing or threading. C must not overlap A or B.
/// </remarks>
internal static unsafe class Gemm
{
    /// <summary>Below this many multiply-adds (m*n*k) the direct, unpacked loop is used.</summary>
    internal const long SmallThreshold = 32 * 1024;

    /// <summary>Below this many multiply-adds the packed path runs on the calling thread only.</summary>
    internal static long ParallelThreshold = 1L << 20;

    /// <summary>Depth of a packed k slice.</summary>
    internal static int KC = 256;

    /// <summary>Rows of a packed A block (rounded down to a multiple of MR).</summary>
    internal static int MC = 144;

    /// <summary>Columns of a packed B block (rounded down to a multiple of NR).</summary>
    internal static int NC = 4096;

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
    /// Validating entry point with the path knobs exposed (tests use them to cover every microkernel,
    /// the packed path on small shapes, and thread counts). <paramref name="isa"/> must not exceed <see cref="BestIsa"/>
    /// for speed, though any value is correct.
    /// </summary>
    internal static void BatchedCore<T>(int batch, int m, int n, int k,
        ReadOnlySpan<T> a, long aBatchStride, int aRowStride, int aColStride,
        ReadOnlySpan<T> b, long bBatchStride, int bRowStride, int bColStride,
        Span<T> c, long cBatchStride, int ldc, T alpha, T beta,
        GemmIsa isa, int threads, bool forcePacked)
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
        long lastC = (batch - 1) * cBatchStride + (long)(m - 1) * ldc + (n - 1);
        if (lastC >= c.Length)
            throw new ArgumentException($"C needs index {lastC} but its span has length {c.Length}.", nameof(c));
        if (k > 0)
        {
            long lastA = (batch - 1) * aBatchStride + (long)(m - 1) * aRowStride + (long)(k - 1) * aColStride;
            if (lastA >= a.Length)
                throw new ArgumentException($"A needs index {lastA} but its span has length {a.Length}.", nameof(a));
            long lastB = (batch - 1) * bBatchStride + (long)(k - 1) * bRowStride + (long)(n - 1) * bColStride;
            if (lastB >= b.Length)
                throw new ArgumentException($"B needs index {lastB} but its span has length {b.Length}.", nameof(b));
        }
        threads = Math.Max(1, threads);

        fixed (T* pa = a)
        fixed (T* pb = b)
        fixed (T* pc = c)
        {
            if (batch == 1)
            {
                Core(m, n, k, pa, aRowStride, aColStride, pb, bRowStride, bColStride, pc, ldc, alpha, beta, isa, threads, forcePacked);
                return;
            }
            var body = new BatchBody<T>
            {
                M = m, N = n, K = k,
                A = pa, Abs = aBatchStride, Ars = aRowStride, Acs = aColStride,
                B = pb, Bbs = bBatchStride, Brs = bRowStride, Bcs = bColStride,
                C = pc, Cbs = cBatchStride, Ldc = ldc, Alpha = alpha, Beta = beta,
                Isa = isa, ForcePacked = forcePacked, Threads = 1,
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

        public void Invoke(int begin, int end)
        {
            for (int t = begin; t < end; t++)
                Core(M, N, K, A + t * Abs, Ars, Acs, B + t * Bbs, Brs, Bcs, C + t * Cbs, Ldc, Alpha, Beta, Isa, Threads, ForcePacked);
        }
    }

    // ------------------------------------------------------------------ dispatch

    static void Core<T>(int m, int n, int k, T* a, long ars, long acs, T* b, long brs, long bcs, T* c, int ldc,
        T alpha, T beta, GemmIsa isa, int threads, bool forcePacked)
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
            return;
        }
        if (!forcePacked && (long)m * n * k < SmallThreshold)
        {
            Small(m, n, k, a, ars, acs, b, brs, bcs, c, ldc, alpha, beta, betaZero, isa);
            return;
        }
        Packed(m, n, k, a, ars, acs, b, brs, bcs, c, ldc, alpha, beta, betaZero, isa, threads);
    }

    /// <summary>Direct loop for tiny products: no packing, no threading, no scratch.</summary>
    static void Small<T>(int m, int n, int k, T* a, long ars, long acs, T* b, long brs, long bcs, T* c, int ldc,
        T alpha, T beta, bool betaZero, GemmIsa isa)
        where T : unmanaged, INumber<T>
    {
        int w = Vector256<T>.Count;
        bool vec = isa >= GemmIsa.Vector256 && bcs == 1 && n >= w;
        for (int i = 0; i < m; i++)
        {
            T* ai = a + i * ars;
            T* ci = c + (long)i * ldc;
            int j = 0;
            if (vec)
            {
                // C[i, j..j+w) = alpha * sum_p A(i,p) * B(p, j..j+w) + beta * C[i, j..j+w)
                for (; j + w <= n; j += w)
                {
                    Vector256<T> acc = Vector256<T>.Zero;
                    T* bj = b + j;
                    for (int p = 0; p < k; p++)
                        acc = GemmMicrokernel.Fma(Vector256.Create(ai[p * acs]), Vector256.Load(bj + p * brs), acc);
                    acc *= Vector256.Create(alpha);
                    if (!betaZero) acc = GemmMicrokernel.Fma(Vector256.Create(beta), Vector256.Load(ci + j), acc);
                    Vector256.Store(acc, ci + j);
                }
            }
            for (; j < n; j++)
            {
                T s = T.Zero;
                T* bj = b + j * bcs;
                for (int p = 0; p < k; p++) s += ai[p * acs] * bj[p * brs];
                ci[j] = betaZero ? alpha * s : alpha * s + beta * ci[j];
            }
        }
    }

    static int TileRows(GemmIsa isa) => isa == GemmIsa.Scalar ? GemmMicrokernel.ScalarMr : GemmMicrokernel.Mr;

    static int TileCols<T>(GemmIsa isa) => isa switch
    {
        GemmIsa.Vector512 => 2 * Vector512<T>.Count,
        GemmIsa.Vector256 => 2 * Vector256<T>.Count,
        GemmIsa.Vector128 => 2 * Vector128<T>.Count,
        _ => GemmMicrokernel.ScalarNr,
    };

    static int CeilDiv(int x, int y) => (x + y - 1) / y;

    /// <summary>Blocked, packed, threaded path.</summary>
    static void Packed<T>(int m, int n, int k, T* a, long ars, long acs, T* b, long brs, long bcs, T* c, int ldc,
        T alpha, T beta, bool betaZero, GemmIsa isa, int threads)
        where T : unmanaged, INumber<T>
    {
        int mr = TileRows(isa), nr = TileCols<T>(isa);
        if ((long)m * n * k < ParallelThreshold) threads = 1;
        threads = Math.Min(threads, ParallelFor.NumThreads);

        // Balanced block sizes: k = 300 becomes two slices of 150 rather than 256 + 44.
        int kBlocks = CeilDiv(k, Math.Max(1, KC));
        int kcMax = CeilDiv(k, kBlocks);
        int ncCap = Math.Max(nr, NC / nr * nr);
        int nBlocks = CeilDiv(n, ncCap);
        int ncMax = CeilDiv(CeilDiv(n, nBlocks), nr) * nr;
        int mcPanels = Math.Max(1, MC / mr);

        T* bbuf = (T*)GemmPacking.BBuffer((long)kcMax * ncMax * sizeof(T));
        int rowPanels = CeilDiv(m, mr);

        for (int jc = 0; jc < n; jc += ncMax)
        {
            int nc = Math.Min(ncMax, n - jc);
            int colPanels = CeilDiv(nc, nr);
            for (int pc = 0; pc < k; pc += kcMax)
            {
                int kc = Math.Min(kcMax, k - pc);

                var pack = new PackBBody<T>
                {
                    Dst = bbuf, B = b + pc * brs + jc * bcs, Brs = brs, Bcs = bcs, Kc = kc, Nc = nc, Nr = nr,
                };
                if (threads > 1)
                    ParallelFor.For(colPanels, Math.Max(1, 16384 / (kc * nr)), pack);
                else
                    pack.Invoke(0, colPanels);

                int mParts = Math.Min(threads, rowPanels);
                int nParts = Math.Max(1, Math.Min(colPanels, threads / mParts));
                var body = new ComputeBody<T>
                {
                    M = m, Kc = kc, Nc = nc, Mr = mr, Nr = nr, McPanels = mcPanels,
                    RowPanels = rowPanels, ColPanels = colPanels, MParts = mParts, NParts = nParts,
                    A = a + pc * acs, Ars = ars, Acs = acs, BPacked = bbuf,
                    C = c + jc, Ldc = ldc, Alpha = alpha,
                    Beta = pc == 0 ? beta : T.One, BetaZero = pc == 0 && betaZero, Isa = isa,
                };
                int tasks = mParts * nParts;
                if (tasks > 1)
                    ParallelFor.For(tasks, 1, body);
                else
                    body.Invoke(0, 1);
            }
        }
    }

    unsafe struct PackBBody<T> : IRangeBody where T : unmanaged, INumber<T>
    {
        public T* Dst, B;
        public long Brs, Bcs;
        public int Kc, Nc, Nr;

        public void Invoke(int begin, int end)
        {
            for (int jp = begin; jp < end; jp++)
            {
                int j0 = jp * Nr;
                GemmPacking.PackBPanel(Dst + (long)jp * Kc * Nr, B + j0 * Bcs, Brs, Bcs, Kc, Math.Min(Nr, Nc - j0), Nr);
            }
        }
    }

    unsafe struct ComputeBody<T> : IRangeBody where T : unmanaged, INumber<T>
    {
        public int M, Kc, Nc, Mr, Nr, McPanels, RowPanels, ColPanels, MParts, NParts, Ldc;
        public T* A, BPacked, C;
        public long Ars, Acs;
        public T Alpha, Beta;
        public bool BetaZero;
        public GemmIsa Isa;

        public void Invoke(int begin, int end)
        {
            for (int t = begin; t < end; t++)
            {
                int mi = t / NParts, ni = t % NParts;
                int r0 = (int)((long)RowPanels * mi / MParts), r1 = (int)((long)RowPanels * (mi + 1) / MParts);
                int c0 = (int)((long)ColPanels * ni / NParts), c1 = (int)((long)ColPanels * (ni + 1) / NParts);
                Run(r0, r1, c0, c1);
            }
        }

        readonly void Run(int r0, int r1, int c0, int c1)
        {
            int mr = Mr, nr = Nr, kc = Kc;
            T* abuf = (T*)GemmPacking.ABuffer((long)McPanels * mr * kc * sizeof(T));
            for (int ic = r0; ic < r1; ic += McPanels)
            {
                int icEnd = Math.Min(r1, ic + McPanels);
                for (int ip = ic; ip < icEnd; ip++)
                {
                    int i0 = ip * mr;
                    GemmPacking.PackAPanel(abuf + (long)(ip - ic) * mr * kc, A + i0 * Ars, Ars, Acs, Math.Min(mr, M - i0), kc, mr);
                }
                for (int jp = c0; jp < c1; jp++)
                {
                    int j0 = jp * nr;
                    int cols = Math.Min(nr, Nc - j0);
                    T* bp = BPacked + (long)jp * kc * nr;
                    for (int ip = ic; ip < icEnd; ip++)
                    {
                        int i0 = ip * mr;
                        int rows = Math.Min(mr, M - i0);
                        T* ap = abuf + (long)(ip - ic) * mr * kc;
                        T* cp = C + (long)i0 * Ldc + j0;
                        switch (Isa)
                        {
                            case GemmIsa.Vector512: GemmMicrokernel.Kernel512(kc, ap, bp, cp, Ldc, rows, cols, Alpha, Beta, BetaZero); break;
                            case GemmIsa.Vector256: GemmMicrokernel.Kernel256(kc, ap, bp, cp, Ldc, rows, cols, Alpha, Beta, BetaZero); break;
                            case GemmIsa.Vector128: GemmMicrokernel.Kernel128(kc, ap, bp, cp, Ldc, rows, cols, Alpha, Beta, BetaZero); break;
                            default: GemmMicrokernel.KernelScalar(kc, ap, bp, cp, Ldc, rows, cols, Alpha, Beta, BetaZero); break;
                        }
                    }
                }
            }
        }
    }
}
