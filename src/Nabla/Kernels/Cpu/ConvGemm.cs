using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nabla.Kernels.Cpu;

// Note [Implicit-GEMM convolution]
// The im2col path (Note [Convolution by im2col]) writes each image's column matrix (C*KH*KW x OH*OW: 2.4 MB for a
// 3x3 64-channel 32x32 image, more than L2) to memory, and the GEMM then reads it back to pack it into micro-panels.
// For float on AVX-512 machines the convolution GEMMs are instead driven here, and the column matrix is never
// materialised: each micro-panel the microkernel reads (GemmMicrokernel.Kernel512/Kernel256, NR = 2 vectors wide) is
// gathered straight from the image (FillRow: one clipped, zero-padded vector copy per image row a panel row touches).
//   forward      y[n, grp] (Og x P) = W[grp] (Og x Ckk) @ col(x[n, grp]) (Ckk x P). W is packed into MR-row panels once
//                per call; work units are (image, NR-column panel of y), split evenly over the threads, so one image is
//                already split across threads (ResNet at batch 1). Each unit packs its B panel (kc x NR, L1-resident)
//                and sweeps it with every weight panel.
//   grad input   for stride 1 the adjoint of the convolution is itself a convolution: gx[n, grp] = conv(g[n, grp],
//                W'[grp]) with W'[c, o, ki, kj] = W[o, c, KH-1-ki, KW-1-kj], dilation D and padding D*(K-1) - P
//                (negative padding just crops), so the forward driver computes it and nothing is scattered (col2im).
//                Other strides keep the im2col path.
//   grad weight  gw[grp] (Og x Ckk) = sum_n g[n, grp] (Og x P) @ col(x[n, grp])^T (P x Ckk). Threads split the Ckk
//                columns of gw (NR-wide panels), so every element is summed over the batch in the same order on any
//                thread count, with no partial buffers; a B panel is NR rows of col (kc positions each) gathered into
//                scratch and packed with 8x8 transposes (GemmPacking.PackBPanel), A is g's rows (PackAPanel).
// Every sum runs over k in the same order as a plain GEMM would (kc slices ascending), so results differ from the
// im2col path only by float rounding of the blocking.

/// <summary>Implicit-GEMM float convolution kernels (see Note [Implicit-GEMM convolution]).</summary>
internal static unsafe class ConvGemm
{
    /// <summary>Whether the implicit path is taken for float convolutions (AVX-512 machines; tests switch it off to compare).</summary>
    internal static bool Enabled = Vector512.IsHardwareAccelerated && Avx.IsSupported;

    /// <summary>Microkernel used (Vector512 or Vector256); tests set Vector256 to cover the narrower tiles.</summary>
    internal static GemmIsa Isa = GemmIsa.Vector512;

    /// <summary>Deepest k slice (balanced: 576 becomes three slices of 192).</summary>
    internal static int KC = 256;

    const int Mr = GemmMicrokernel.Mr;

    /// <summary>Floats FillRow may write past the end of the run it was asked for (zeros).</summary>
    const int Slack = 16;

    static int Nr(GemmIsa isa) => isa == GemmIsa.Vector512 ? 32 : 16;

    static int CeilDiv(int x, int y) => (x + y - 1) / y;

    static int SliceDepth(int k) => CeilDiv(k, CeilDiv(k, Math.Max(1, KC)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Kernel(GemmIsa isa, int kc, float* a, float* b, float* c, int ldc, int rows, int cols, bool betaZero)
    {
        if (isa == GemmIsa.Vector512) GemmMicrokernel.Kernel512(kc, a, b, c, ldc, rows, cols, 1f, 1f, betaZero);
        else GemmMicrokernel.Kernel256(kc, a, b, c, ldc, rows, cols, 1f, 1f, betaZero);
    }

    // ---- gathering columns of the implicit column matrix ---------------------------------------------------------

    /// <summary>
    /// d[i] = col[q, s0 + i] for i &lt; count, where q = (c, ki, kj) and <paramref name="plane"/> is channel c of the
    /// image: x[c, oh*SH - PH + ki*DH, ow*SW - PW + kj*DW] with s = oh*OW + ow, 0 outside the image. May write up to
    /// <see cref="Slack"/> zeros past d[count). Vector loads stay inside [lo, hi) (the caller's whole input buffer);
    /// lanes outside the image row are masked to zero.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void FillRow(float* d, float* plane, float* lo, float* hi, in Window2d g, int ki, int kj, int s0, int count)
    {
        int ow = s0 % g.OW, oh = s0 / g.OW;
        int shift = kj * g.DW - g.PW;
        int width = g.W;
        var iota = Vector512<int>.Indices;
        var vw = Vector512.Create(width);
        int filled = 0;
        while (filled < count)
        {
            int run = Math.Min(g.OW - ow, count - filled);
            int ih = oh * g.SH - g.PH + ki * g.DH;
            float* dd = d + filled;
            if ((uint)ih >= (uint)g.H)
            {
                for (int l = 0; l < run; l += 16) Vector512.Store(Vector512<float>.Zero, dd + l);
            }
            else if (g.SW == 1)
            {
                float* src = plane + (long)ih * width;
                int iw0 = ow + shift;
                for (int l = 0; l < run; l += 16)
                {
                    int iw = iw0 + l;
                    float* p = src + iw;
                    if (iw >= 0 && iw + 16 <= width && l + 16 <= run)
                    {
                        Vector512.Store(Vector512.Load(p), dd + l);
                        continue;
                    }
                    var idx = iota + Vector512.Create(iw);
                    var valid = Vector512.GreaterThanOrEqual(idx, Vector512<int>.Zero) & Vector512.LessThan(idx, vw)
                        & Vector512.LessThan(iota, Vector512.Create(run - l));
                    if (p >= lo && p + 16 <= hi)
                    {
                        Vector512.Store(Vector512.Load(p) & valid.AsSingle(), dd + l);
                    }
                    else
                    {
                        for (int lane = 0; lane < 16; lane++)
                            dd[l + lane] = valid.GetElement(lane) != 0 ? p[lane] : 0f;
                    }
                }
            }
            else
            {
                float* src = plane + (long)ih * width;
                int l = 0;
                for (; l < run; l++)
                {
                    int iw = (ow + l) * g.SW + shift;
                    dd[l] = (uint)iw < (uint)width ? src[iw] : 0f;
                }
                for (; l < ((run + 15) & ~15); l++) dd[l] = 0f;
            }
            filled += run;
            ow = 0;
            oh++;
        }
    }

    // ---- forward (and stride-1 grad input) ----------------------------------------------------------------------

    /// <summary>
    /// y[n, grp*og + o, s] = (bias[grp*og + o]) + sum_q w[grp][o, q] col(x[n, grp])[q, s] for every image and group,
    /// where w[grp] is the row-major (og x cg*KH*KW) block at <c>w + grp*og*cg*KH*KW</c>, x holds n images of
    /// groups*cg channels of H x W and y n images of groups*og channels of OH x OW (overwritten).
    /// </summary>
    internal static void Convolve(int n, int groups, int cg, int og, Window2d g, float* w, float* x, float* bias, float* y, GemmIsa isa)
    {
        int ckk = cg * g.KernelArea, plane = g.OutPlane, nr = Nr(isa);
        int kc = SliceDepth(ckk);
        int mPanels = CeilDiv(og, Mr);
        long perGroup = (long)mPanels * Mr * ckk;
        float[] packed = ArrayPool<float>.Shared.Rent(checked((int)(groups * perGroup)));
        try
        {
            fixed (float* pa = packed)
            {
                for (int grp = 0; grp < groups; grp++)
                    for (int pc = 0; pc < ckk; pc += kc)
                    {
                        int k = Math.Min(kc, ckk - pc);
                        float* dst = pa + grp * perGroup + (long)pc * mPanels * Mr;
                        float* src = w + (long)grp * og * ckk + pc;
                        for (int i = 0; i < mPanels; i++)
                            GemmPacking.PackAPanel(dst + (long)i * Mr * k, src + (long)i * Mr * ckk, ckk, 1, Math.Min(Mr, og - i * Mr), k, Mr);
                    }
                int colPanels = CeilDiv(plane, nr);
                long work = (long)groups * og * ckk * nr;
                int units = n * colPanels;
                var body = new ConvolveBody
                {
                    G = g, Groups = groups, Cg = cg, Og = og, Ckk = ckk, Kc = kc, Nr = nr, MPanels = mPanels,
                    ColPanels = colPanels, PerGroup = perGroup, Isa = isa,
                    A = pa, X = x, XEnd = x + (long)n * groups * cg * g.InPlane, Bias = bias, Y = y,
                };
                ParallelFor.For(units, (int)Math.Max(1, (1L << 17) / Math.Max(1, work)), body);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(packed);
        }
    }

    struct ConvolveBody : IRangeBody
    {
        public Window2d G;
        public int Groups, Cg, Og, Ckk, Kc, Nr, MPanels, ColPanels;
        public long PerGroup;
        public GemmIsa Isa;
        public float* A, X, XEnd, Bias, Y;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Invoke(int begin, int end)
        {
            var g = G;
            int nr = Nr, kc = Kc, ckk = Ckk, plane = g.OutPlane, kk = g.KernelArea;
            float* bbuf = (float*)GemmPacking.BBuffer(((long)kc * nr + Slack) * sizeof(float));
            for (int u = begin; u < end; u++)
            {
                int img = u / ColPanels, s0 = u % ColPanels * nr;
                int cols = Math.Min(nr, plane - s0);
                for (int grp = 0; grp < Groups; grp++)
                {
                    float* image = X + ((long)img * Groups + grp) * Cg * g.InPlane;
                    float* c = Y + ((long)img * Groups + grp) * Og * plane + s0;
                    if (Bias != null)
                        for (int o = 0; o < Og; o++)
                        {
                            float v = Bias[grp * Og + o];
                            float* row = c + (long)o * plane;
                            for (int j = 0; j < cols; j++) row[j] = v;
                        }
                    for (int pc = 0; pc < ckk; pc += kc)
                    {
                        int k = Math.Min(kc, ckk - pc);
                        // B panel: rows q in [pc, pc + k) of col, columns [s0, s0 + cols), zero-padded to nr.
                        int q = pc;
                        int ch = q / kk, r = q % kk, ki = r / g.KW, kj = r % g.KW;
                        for (int p = 0; p < k; p++)
                        {
                            float* d = bbuf + (long)p * nr;
                            FillRow(d, image + (long)ch * g.InPlane, X, XEnd, g, ki, kj, s0, cols);
                            if (++kj == g.KW) { kj = 0; if (++ki == g.KH) { ki = 0; ch++; } }
                        }
                        if (cols < nr)
                            for (int p = 0; p < k; p++)
                                new Span<float>(bbuf + (long)p * nr + cols, nr - cols).Clear();
                        bool betaZero = pc == 0 && Bias == null;
                        float* ap = A + grp * PerGroup + (long)pc * MPanels * Mr;
                        for (int i = 0; i < MPanels; i++)
                            Kernel(Isa, k, ap + (long)i * Mr * k, bbuf, c + (long)i * Mr * plane, plane,
                                Math.Min(Mr, Og - i * Mr), cols, betaZero);
                    }
                }
            }
        }
    }

    /// <summary>
    /// gx = the gradient of a stride-1 convolution with respect to its input, computed as the convolution of g with
    /// the flipped, transposed weight (Note [Implicit-GEMM convolution]); gx is overwritten.
    /// </summary>
    internal static void BackwardInputStride1(int n, int groups, int cg, int og, Window2d g, float* w, float* gy, float* gx, GemmIsa isa)
    {
        if (g.SH != 1 || g.SW != 1) throw new ArgumentException("BackwardInputStride1 needs stride 1.");
        int kh = g.KH, kw = g.KW, kk = kh * kw;
        // W'[grp][c, o, a, b] = W[grp*og + o, c, KH-1-a, KW-1-b]
        int size = groups * cg * og * kk;
        float[] flipped = ArrayPool<float>.Shared.Rent(size);
        try
        {
            fixed (float* wt = flipped)
            {
                for (int grp = 0; grp < groups; grp++)
                    for (int o = 0; o < og; o++)
                        for (int c = 0; c < cg; c++)
                        {
                            float* src = w + (((long)grp * og + o) * cg + c) * kk;
                            float* dst = wt + (((long)grp * cg + c) * og + o) * kk;
                            for (int t = 0; t < kk; t++) dst[kk - 1 - t] = src[t];
                        }
                var t2 = new Window2d(kh, kw, 1, 1, g.DH * (kh - 1) - g.PH, g.DW * (kw - 1) - g.PW, g.DH, g.DW,
                    g.OH, g.OW, g.H, g.W);
                Convolve(n, groups, og, cg, t2, wt, gy, null, gx, isa);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(flipped);
        }
    }

    // ---- grad weight --------------------------------------------------------------------------------------------

    /// <summary>gw[grp] = sum_n g[n, grp] @ col(x[n, grp])^T for every group (gw overwritten, (groups*og) x ckk).</summary>
    internal static void BackwardWeight(int n, int groups, int cg, int og, Window2d g, float* x, float* gy, float* gw, GemmIsa isa)
    {
        int ckk = cg * g.KernelArea, plane = g.OutPlane, nr = Nr(isa);
        int colPanels = CeilDiv(ckk, nr);
        var body = new WeightBody
        {
            G = g, N = n, Groups = groups, Cg = cg, Og = og, Ckk = ckk, Kc = SliceDepth(plane), Nr = nr,
            ColPanels = colPanels, Isa = isa, X = x, XEnd = x + (long)n * groups * cg * g.InPlane, Gy = gy, Gw = gw,
        };
        long work = (long)n * og * plane * nr;
        ParallelFor.For(groups * colPanels, (int)Math.Max(1, (1L << 17) / Math.Max(1, work)), body);
    }

    struct WeightBody : IRangeBody
    {
        public Window2d G;
        public int N, Groups, Cg, Og, Ckk, Kc, Nr, ColPanels;
        public GemmIsa Isa;
        public float* X, XEnd, Gy, Gw;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Invoke(int begin, int end)
        {
            var g = G;
            int nr = Nr, kc = Kc, ckk = Ckk, plane = g.OutPlane, kk = g.KernelArea, og = Og;
            int mPanels = CeilDiv(og, Mr);
            int ldt = (kc + Slack + 15) & ~15;     // scratch row stride for the gathered col rows
            float* abuf = (float*)GemmPacking.ABuffer((long)mPanels * Mr * kc * sizeof(float));
            float* scratch = (float*)GemmPacking.BBuffer(((long)kc * nr + (long)nr * ldt) * sizeof(float));
            float* bpanel = scratch, rows = scratch + (long)kc * nr;
            // Units [begin, end) are (group, column panel) pairs; a group's units are consecutive.
            int u = begin;
            while (u < end)
            {
                int grp = u / ColPanels;
                int p0 = u % ColPanels, p1 = Math.Min(ColPanels, p0 + (end - u));
                u += p1 - p0;
                for (int img = 0; img < N; img++)
                {
                    float* image = X + ((long)img * Groups + grp) * Cg * g.InPlane;
                    float* grad = Gy + ((long)img * Groups + grp) * og * plane;
                    for (int pc = 0; pc < plane; pc += kc)
                    {
                        int k = Math.Min(kc, plane - pc);
                        bool betaZero = img == 0 && pc == 0;
                        for (int i = 0; i < mPanels; i++)
                            GemmPacking.PackAPanel(abuf + (long)i * Mr * k, grad + (long)i * Mr * plane + pc, plane, 1,
                                Math.Min(Mr, og - i * Mr), k, Mr);
                        for (int panel = p0; panel < p1; panel++)
                        {
                            int q0 = panel * nr, cols = Math.Min(nr, ckk - q0);
                            for (int j = 0; j < cols; j++)
                            {
                                int q = q0 + j, ch = q / kk, r = q % kk;
                                FillRow(rows + (long)j * ldt, image + (long)ch * g.InPlane, X, XEnd, g, r / g.KW, r % g.KW, pc, k);
                            }
                            GemmPacking.PackBPanel(bpanel, rows, 1, ldt, k, cols, nr);
                            float* c = Gw + (long)grp * og * ckk + q0;
                            for (int i = 0; i < mPanels; i++)
                                Kernel(Isa, k, abuf + (long)i * Mr * k, bpanel, c + (long)i * Mr * ckk, ckk,
                                    Math.Min(Mr, og - i * Mr), cols, betaZero);
                        }
                    }
                }
            }
        }
    }
}

/// <summary>Array entry points of <see cref="ConvGemm"/> with the bounds checked before any pointer is formed.</summary>
internal static unsafe class ConvGemmArrays
{
    static void Need(float[] a, int offset, long count, string name)
    {
        if (offset < 0 || count < 0 || offset + count > a.Length)
            throw new ArgumentException($"{name} needs {count} elements from offset {offset} but has {a.Length}.");
    }

    /// <summary>Implicit-GEMM forward of a float convolution (see <see cref="ConvolutionKernels.Forward{T}"/>).</summary>
    public static void Forward(ConvolutionKernels.Problem p, float[] x, int xOff, float[] w, int wOff, float[]? bias, int bOff,
        float[] y, int yOff)
    {
        var g = p.G;
        Need(x, xOff, (long)p.N * p.C * g.InPlane, "input");
        Need(w, wOff, (long)p.O * p.Ckk, "weight");
        if (bias is not null) Need(bias, bOff, p.O, "bias");
        Need(y, yOff, (long)p.N * p.O * g.OutPlane, "output");
        fixed (float* px = x, pw = w, pb = bias, py = y)
            ConvGemm.Convolve(p.N, p.Groups, p.Cg, p.Og, g, pw + wOff, px + xOff, bias is null ? null : pb + bOff, py + yOff, ConvGemm.Isa);
    }

    /// <summary>Implicit-GEMM input gradient of a stride-1 float convolution (overwrites gx).</summary>
    public static void BackwardInput(ConvolutionKernels.Problem p, float[] gy, int gyOff, float[] w, int wOff, float[] gx, int gxOff)
    {
        var g = p.G;
        Need(gy, gyOff, (long)p.N * p.O * g.OutPlane, "grad_output");
        Need(w, wOff, (long)p.O * p.Ckk, "weight");
        Need(gx, gxOff, (long)p.N * p.C * g.InPlane, "grad_input");
        fixed (float* pg = gy, pw = w, px = gx)
            ConvGemm.BackwardInputStride1(p.N, p.Groups, p.Cg, p.Og, g, pw + wOff, pg + gyOff, px + gxOff, ConvGemm.Isa);
    }

    /// <summary>Implicit-GEMM weight gradient of a float convolution (overwrites gw).</summary>
    public static void BackwardWeight(ConvolutionKernels.Problem p, float[] x, int xOff, float[] gy, int gyOff, float[] gw, int gwOff)
    {
        var g = p.G;
        Need(x, xOff, (long)p.N * p.C * g.InPlane, "input");
        Need(gy, gyOff, (long)p.N * p.O * g.OutPlane, "grad_output");
        Need(gw, gwOff, (long)p.O * p.Ckk, "grad_weight");
        fixed (float* px = x, pg = gy, pw = gw)
            ConvGemm.BackwardWeight(p.N, p.Groups, p.Cg, p.Og, g, px + xOff, pg + gyOff, pw + gwOff, ConvGemm.Isa);
    }
}
