using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Nabla.Kernels.Cpu;

// The product paths Gemm's dispatch chooses between: the direct small loops (row and column forms) and the
// packed, blocked, threaded path (see the remarks on Gemm).
internal static unsafe partial class Gemm
{
    /// <summary>
    /// Direct path for tiny products: no heap scratch, no threading. Columns are taken one vector (w wide) at a time;
    /// a block whose B columns are not contiguous, or the ragged last block, is first copied (zero-padded) into a
    /// k x w stack buffer.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization), SkipLocalsInit]
    static void Small<T>(int m, int n, int k, T* a, long ars, long acs, T* b, long brs, long bcs, T* c, int ldc,
        T alpha, T beta, bool betaZero, GemmIsa isa)
        where T : unmanaged, INumber<T>
    {
        if (isa < GemmIsa.Vector256 || (long)m * n * k <= SmallScalarWork)
        {
            // C[i, j] = alpha * sum_p A(i,p) * B(p,j) + beta * C[i, j]
            for (int i = 0; i < m; i++)
            {
                T* ai = a + i * ars;
                T* ci = c + (long)i * ldc;
                for (int j = 0; j < n; j++)
                {
                    T s = T.Zero;
                    T* bj = b + j * bcs;
                    for (int p = 0; p < k; p++) s += ai[p * acs] * bj[p * brs];
                    ci[j] = betaZero ? alpha * s : alpha * s + beta * ci[j];
                }
            }
            return;
        }
        // Column blocks of two vectors (nb = 2w wide).
        int w = Vector256<T>.Count, nb = 2 * w;
        T* pad = null;
        if (bcs != 1 || n % nb != 0)
        {
            T* buf = stackalloc T[k * nb];
            pad = buf;
        }
        for (int j = 0; j < n; j += nb)
        {
            int cols = Math.Min(nb, n - j);
            if (bcs == 1 && cols == nb)
            {
                SmallColumns(m, k, a, ars, acs, b + j, brs, c + j, ldc, nb, alpha, beta, betaZero);
                continue;
            }
            for (int p = 0; p < k; p++)
            {
                T* src = b + p * brs + j * bcs;
                T* d = pad + p * nb;
                int jj = 0;
                for (; jj < cols; jj++) d[jj] = src[jj * bcs];
                for (; jj < nb; jj++) d[jj] = T.Zero;
            }
            SmallColumns(m, k, a, ars, acs, pad, nb, c + j, ldc, cols, alpha, beta, betaZero);
        }
    }

    /// <summary>
    /// C[:, 0:cols) of the direct path from one block of B two vectors wide (row stride <paramref name="brs"/>),
    /// four rows at a time (eight independent FMA chains).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization), SkipLocalsInit]
    static void SmallColumns<T>(int m, int k, T* a, long ars, long acs, T* b, long brs, T* c, int ldc, int cols,
        T alpha, T beta, bool betaZero)
        where T : unmanaged, INumber<T>
    {
        int w = Vector256<T>.Count, nb = 2 * w;
        T* tmp = stackalloc T[4 * 2 * Vector256<T>.Count];
        int i = 0;
        // acc[r][0..2w) += A(i+r, p) * B(p, 0..2w)
        for (; i + 4 <= m; i += 4)
        {
            T* a0 = a + i * ars;
            T* a1 = a0 + ars, a2 = a1 + ars, a3 = a2 + ars;
            Vector256<T> c00 = Vector256<T>.Zero, c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
            for (int p = 0; p < k; p++)
            {
                T* bp = b + p * brs;
                Vector256<T> b0 = Vector256.Load(bp), b1 = Vector256.Load(bp + w);
                long ap = p * acs;
                Vector256<T> x = Vector256.Create(a0[ap]);
                c00 = GemmMicrokernel.Fma(x, b0, c00); c01 = GemmMicrokernel.Fma(x, b1, c01);
                x = Vector256.Create(a1[ap]);
                c10 = GemmMicrokernel.Fma(x, b0, c10); c11 = GemmMicrokernel.Fma(x, b1, c11);
                x = Vector256.Create(a2[ap]);
                c20 = GemmMicrokernel.Fma(x, b0, c20); c21 = GemmMicrokernel.Fma(x, b1, c21);
                x = Vector256.Create(a3[ap]);
                c30 = GemmMicrokernel.Fma(x, b0, c30); c31 = GemmMicrokernel.Fma(x, b1, c31);
            }
            T* ci = c + (long)i * ldc;
            if (cols == nb)
            {
                Vector256<T> va = Vector256.Create(alpha);
                if (betaZero)
                {
                    Vector256.Store(c00 * va, ci); Vector256.Store(c01 * va, ci + w); ci += ldc;
                    Vector256.Store(c10 * va, ci); Vector256.Store(c11 * va, ci + w); ci += ldc;
                    Vector256.Store(c20 * va, ci); Vector256.Store(c21 * va, ci + w); ci += ldc;
                    Vector256.Store(c30 * va, ci); Vector256.Store(c31 * va, ci + w);
                }
                else
                {
                    Vector256<T> vb = Vector256.Create(beta);
                    Vector256.Store(GemmMicrokernel.Fma(vb, Vector256.Load(ci), c00 * va), ci);
                    Vector256.Store(GemmMicrokernel.Fma(vb, Vector256.Load(ci + w), c01 * va), ci + w); ci += ldc;
                    Vector256.Store(GemmMicrokernel.Fma(vb, Vector256.Load(ci), c10 * va), ci);
                    Vector256.Store(GemmMicrokernel.Fma(vb, Vector256.Load(ci + w), c11 * va), ci + w); ci += ldc;
                    Vector256.Store(GemmMicrokernel.Fma(vb, Vector256.Load(ci), c20 * va), ci);
                    Vector256.Store(GemmMicrokernel.Fma(vb, Vector256.Load(ci + w), c21 * va), ci + w); ci += ldc;
                    Vector256.Store(GemmMicrokernel.Fma(vb, Vector256.Load(ci), c30 * va), ci);
                    Vector256.Store(GemmMicrokernel.Fma(vb, Vector256.Load(ci + w), c31 * va), ci + w);
                }
            }
            else
            {
                Vector256.Store(c00, tmp); Vector256.Store(c01, tmp + w);
                Vector256.Store(c10, tmp + nb); Vector256.Store(c11, tmp + nb + w);
                Vector256.Store(c20, tmp + 2 * nb); Vector256.Store(c21, tmp + 2 * nb + w);
                Vector256.Store(c30, tmp + 3 * nb); Vector256.Store(c31, tmp + 3 * nb + w);
                MergeRows(tmp, nb, ci, ldc, 4, cols, alpha, beta, betaZero);
            }
        }
        for (; i < m; i++)
        {
            T* ai = a + i * ars;
            Vector256<T> c0 = Vector256<T>.Zero, c1 = c0;
            for (int p = 0; p < k; p++)
            {
                T* bp = b + p * brs;
                Vector256<T> x = Vector256.Create(ai[p * acs]);
                c0 = GemmMicrokernel.Fma(x, Vector256.Load(bp), c0);
                c1 = GemmMicrokernel.Fma(x, Vector256.Load(bp + w), c1);
            }
            Vector256.Store(c0, tmp); Vector256.Store(c1, tmp + w);
            MergeRows(tmp, nb, c + (long)i * ldc, ldc, 1, cols, alpha, beta, betaZero);
        }
    }

    /// <summary>C[r, j] = alpha * t[r*tn + j] + (betaZero ? 0 : beta * C[r, j]) for r &lt; rows, j &lt; cols.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void MergeRows<T>(T* t, int tn, T* c, int ldc, int rows, int cols, T alpha, T beta, bool betaZero)
        where T : unmanaged, INumber<T>
    {
        for (int r = 0; r < rows; r++)
        {
            T* tr = t + r * tn;
            T* cr = c + (long)r * ldc;
            if (betaZero) for (int j = 0; j < cols; j++) cr[j] = alpha * tr[j];
            else for (int j = 0; j < cols; j++) cr[j] = alpha * tr[j] + beta * cr[j];
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

    /// <summary>
    /// Blocked, packed, threaded path. C is cut into one rectangular region per thread (whole row panels, or whole
    /// column panels when C is wider than tall); each thread then runs the complete blocked loop nest on its region
    /// with its own packing buffers, so a product costs a single parallel dispatch and no barriers. The price is that
    /// each thread packs the slice of the other operand it needs (B for a row split): O(k*n) per thread against
    /// O(m*n*k / threads) multiply-adds.
    /// </summary>
    static void Packed<T>(int m, int n, int k, T* a, long ars, long acs, T* b, long brs, long bcs, T* c, int ldc,
        T alpha, T beta, bool betaZero, GemmIsa isa, int threads, Epilogue<T> epi)
        where T : unmanaged, INumber<T>
    {
        int mr = TileRows(isa), nr = TileCols<T>(isa);
        if ((long)m * n * k < ParallelThreshold) threads = 1;
        threads = Math.Min(threads, ParallelFor.NumThreads);
        int rowPanels = CeilDiv(m, mr), colPanels = CeilDiv(n, nr);

        // Split the larger side of C; fall back to the other side when it has too few panels.
        int mParts, nParts;
        if (m >= n) { mParts = Math.Min(threads, rowPanels); nParts = Math.Max(1, Math.Min(colPanels, threads / mParts)); }
        else { nParts = Math.Min(threads, colPanels); mParts = Math.Max(1, Math.Min(rowPanels, threads / nParts)); }

        var (kcBlock, mcBlock, ncBlock) = BlocksFor<T>(isa);
        var body = new ComputeBody<T>
        {
            M = m, N = n, K = k, Mr = mr, Nr = nr, Kc = kcBlock, Mc = mcBlock, Nc = ncBlock,
            RowPanels = rowPanels, ColPanels = colPanels, MParts = mParts, NParts = nParts,
            A = a, Ars = ars, Acs = acs, B = b, Brs = brs, Bcs = bcs,
            C = c, Ldc = ldc, Alpha = alpha, Beta = beta, BetaZero = betaZero, Isa = isa, Epi = epi,
        };
        int tasks = mParts * nParts;
        if (tasks > 1)
            ParallelFor.For(tasks, 1, body);
        else
            body.Invoke(0, 1);
    }

    unsafe struct ComputeBody<T> : IRangeBody where T : unmanaged, INumber<T>
    {
        public int M, N, K, Mr, Nr, Kc, Mc, Nc, RowPanels, ColPanels, MParts, NParts, Ldc;
        public T* A, B, C;
        public long Ars, Acs, Brs, Bcs;
        public T Alpha, Beta;
        public bool BetaZero;
        public GemmIsa Isa;
        public Epilogue<T> Epi;

        public void Invoke(int begin, int end)
        {
            for (int t = begin; t < end; t++)
            {
                int mi = t / NParts, ni = t % NParts;
                int r0 = (int)((long)RowPanels * mi / MParts), r1 = (int)((long)RowPanels * (mi + 1) / MParts);
                int c0 = (int)((long)ColPanels * ni / NParts), c1 = (int)((long)ColPanels * (ni + 1) / NParts);
                if (r0 < r1 && c0 < c1) Run(r0 * Mr, Math.Min(M, r1 * Mr), c0 * Nr, Math.Min(N, c1 * Nr));
            }
        }

        /// <summary>The blocked loop nest over C[i0:i1, j0:j1] (i0, j0 on tile boundaries).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        readonly void Run(int i0, int i1, int j0, int j1)
        {
            int mr = Mr, nr = Nr, k = K;
            int m = i1 - i0, n = j1 - j0;
            // Balanced block sizes: k = 300 becomes two slices of 150 rather than 256 + 44.
            int kcMax = CeilDiv(k, CeilDiv(k, Math.Max(1, Kc)));
            int ncCap = Math.Max(nr, Nc / nr * nr);
            int ncMax = CeilDiv(CeilDiv(n, CeilDiv(n, ncCap)), nr) * nr;
            int mcCap = Math.Max(mr, Mc / mr * mr);
            int mcMax = CeilDiv(CeilDiv(m, CeilDiv(m, mcCap)), mr) * mr;
            T* bbuf = (T*)GemmPacking.BBuffer((long)kcMax * ncMax * sizeof(T));
            T* abuf = (T*)GemmPacking.ABuffer((long)mcMax * kcMax * sizeof(T));

            for (int jc = j0; jc < j1; jc += ncMax)
            {
                int nc = Math.Min(ncMax, j1 - jc);
                for (int pc = 0; pc < k; pc += kcMax)
                {
                    int kc = Math.Min(kcMax, k - pc);
                    T beta = pc == 0 ? Beta : T.One;
                    bool betaZero = pc == 0 && BetaZero;
                    bool last = pc + kc == k && Epi.Active;
                    // Pack B[pc:pc+kc, jc:jc+nc] into kc x nr micro-panels.
                    for (int jr = 0; jr < nc; jr += nr)
                        GemmPacking.PackBPanel(bbuf + (long)jr * kc, B + pc * Brs + (jc + jr) * Bcs, Brs, Bcs, kc, Math.Min(nr, nc - jr), nr);

                    for (int ic = i0; ic < i1; ic += mcMax)
                    {
                        int mc = Math.Min(mcMax, i1 - ic);
                        // Pack A[ic:ic+mc, pc:pc+kc] into mr x kc micro-panels.
                        for (int ir = 0; ir < mc; ir += mr)
                            GemmPacking.PackAPanel(abuf + (long)ir * kc, A + (ic + ir) * Ars + pc * Acs, Ars, Acs, Math.Min(mr, mc - ir), kc, mr);

                        for (int jr = 0; jr < nc; jr += nr)
                        {
                            int cols = Math.Min(nr, nc - jr);
                            T* bp = bbuf + (long)jr * kc;
                            T* cp = C + (long)ic * Ldc + jc + jr;
                            for (int ir = 0; ir < mc; ir += mr)
                            {
                                int rows = Math.Min(mr, mc - ir);
                                T* ap = abuf + (long)ir * kc;
                                T* cij = cp + (long)ir * Ldc;
                                switch (Isa)
                                {
                                    case GemmIsa.Vector512: GemmMicrokernel.Kernel512(kc, ap, bp, cij, Ldc, rows, cols, Alpha, beta, betaZero); break;
                                    case GemmIsa.Vector256: GemmMicrokernel.Kernel256(kc, ap, bp, cij, Ldc, rows, cols, Alpha, beta, betaZero); break;
                                    case GemmIsa.Vector128: GemmMicrokernel.Kernel128(kc, ap, bp, cij, Ldc, rows, cols, Alpha, beta, betaZero); break;
                                    default: GemmMicrokernel.KernelScalar(kc, ap, bp, cij, Ldc, rows, cols, Alpha, beta, betaZero); break;
                                }
                                if (last) Epi.Apply(cij, Ldc, rows, cols, jc + jr);
                            }
                        }
                    }
                }
            }
        }
    }
}
