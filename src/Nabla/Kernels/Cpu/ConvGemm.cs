using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nabla.Kernels.Cpu;

// Note [Implicit-GEMM convolution]
// The im2col path (Note [Convolution by im2col]) writes each image's column matrix (C*KH*KW x OH*OW: 2.4 MB for a
// 3x3 64-channel 32x32 image, more than L2) to memory and the GEMM reads it back to pack it. For stride-1 float
// convolutions on AVX-512 machines the column matrix is never formed. The input is first copied once into a padded
// image: every channel a plane of Hp = H + 2*PH rows of pitch Wp = W + 2*PW (zeros around, a negative padding crops),
// planes Lc floats apart. Then the column matrix entry (q, s) for q = (c, ki, kj) and output position s = (oh, ow) is
//     padded[c*Lc + (oh + ki*DH)*Wp + ow + kj*DW] = padded[off[q] + oh*Wp + ow],  off[q] = c*Lc + ki*DH*Wp + kj*DW,
// so for a fixed q a run of consecutive outputs of one row is a run of consecutive floats, and a row of the
// implicit column matrix is a shifted window of the padded image.
//   forward      y[n, grp] (Og x P) = W[grp] (Og x Ckk) @ col(x[n, grp]) (Ckk x P). W is packed into 8-row panels once
//                per call. A work unit is (image, panel of 32 output positions); the microkernel (KernelIndirectB) reads
//                B's row p straight from the padded image at off[p] + base: no B packing at all. A panel is either a
//                piece of one output row ("row" panels, best when OW is a multiple of 32) or 32 consecutive positions of
//                the "wide" grid oh*Wp + ow, ow < Wp, whose columns ow >= OW are computed and dropped (best for narrow
//                rows); whichever needs fewer panels. The 8 x 32 tiles land in an L1 scratch tile and are copied to y
//                with the bias added. Units are split over the threads, so one image is already split (batch 1).
//   grad input   the adjoint of a stride-1 convolution is itself one: gx[n, grp] = conv(g[n, grp], W'[grp]) with
//                W'[c, o, ki, kj] = W[o, c, KH-1-ki, KW-1-kj], dilation D and padding D*(K-1) - P (negative: a crop),
//                so the forward driver computes it and nothing is scattered (no col2im).
//   grad weight  gw[grp]^T (Ckk x Og) = sum_n col(x[n, grp]) (Ckk x P) @ g[n, grp]^T (P x Og). The microkernel
//                (KernelRowsA) takes A's 8 rows straight from the padded image (row r at off[q0 + r], one output row
//                of OW floats after another at pitch Wp) and B = g^T packed per (image, slice of output rows) by 8x8
//                transposes. The reduction (images x slices) is split into one contiguous range per thread, each
//                summed into a partial Ckk x Og of its own (so nothing is padded or packed twice); the partials are
//                added in chunk order while transposing into gw, so a given thread count always gives the same bits.
// Sums run over k in blocks (slices) in ascending order, so results differ from the im2col path only by float
// rounding of the blocking. 3x3 undilated windows whose tile rows fit go to Winograd F(2x2, 3x3) instead (Note
// [Winograd convolution]): Convolve and BackwardWeight hand them over first.

/// <summary>Implicit-GEMM float convolution kernels for stride 1 (see Note [Implicit-GEMM convolution]).</summary>
internal static unsafe class ConvGemm
{
    /// <summary>Whether the implicit path is taken for stride-1 float convolutions (AVX-512 machines; tests switch it off to compare).</summary>
    internal static bool Enabled = Vector512.IsHardwareAccelerated && Avx512F.IsSupported;

    /// <summary>Deepest slice of the Ckk reduction in the forward kernel (balanced: 576 becomes two slices of 288).</summary>
    internal static int KC = 320;

    /// <summary>Output positions per grad-weight slice (rounded to whole output rows).</summary>
    internal static int PositionsPerSlice = 256;

    /// <summary>Rows of the register tile (output channels forward, q rows in grad weight).</summary>
    const int Mr = 8;

    /// <summary>Columns of the register tile: two Vector512 of floats.</summary>
    const int Nr = 32;

    internal static int CeilDiv(int x, int y) => (x + y - 1) / y;

    static int SliceDepth(int k, int kc) => CeilDiv(k, CeilDiv(k, Math.Max(1, kc)));

    // ---- microkernels --------------------------------------------------------------------------------------------

    /// <summary>
    /// c[r, j] (+)= sum_p a[p*8 + r] * x[off[p] + j] for r &lt; 8, j &lt; 32: an 8 x 32 tile whose B rows are read
    /// in place (p-th row at <c>x + off[p]</c>); c is a dense 8 x 32 tile (row stride 32), overwritten when
    /// <paramref name="betaZero"/>, else added to.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization), SkipLocalsInit]
    internal static void KernelIndirectB(int kc, float* a, float* x, int* off, float* c, bool betaZero)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default;
        for (int p = 0; p < kc; p++)
        {
            float* bp = x + off[p];
            Vector512<float> b0 = Vector512.Load(bp), b1 = Vector512.Load(bp + 16);
            Vector512<float> ar = Vector512.Create(a[0]); c00 = Vector512.FusedMultiplyAdd(ar, b0, c00); c01 = Vector512.FusedMultiplyAdd(ar, b1, c01);
            ar = Vector512.Create(a[1]); c10 = Vector512.FusedMultiplyAdd(ar, b0, c10); c11 = Vector512.FusedMultiplyAdd(ar, b1, c11);
            ar = Vector512.Create(a[2]); c20 = Vector512.FusedMultiplyAdd(ar, b0, c20); c21 = Vector512.FusedMultiplyAdd(ar, b1, c21);
            ar = Vector512.Create(a[3]); c30 = Vector512.FusedMultiplyAdd(ar, b0, c30); c31 = Vector512.FusedMultiplyAdd(ar, b1, c31);
            ar = Vector512.Create(a[4]); c40 = Vector512.FusedMultiplyAdd(ar, b0, c40); c41 = Vector512.FusedMultiplyAdd(ar, b1, c41);
            ar = Vector512.Create(a[5]); c50 = Vector512.FusedMultiplyAdd(ar, b0, c50); c51 = Vector512.FusedMultiplyAdd(ar, b1, c51);
            ar = Vector512.Create(a[6]); c60 = Vector512.FusedMultiplyAdd(ar, b0, c60); c61 = Vector512.FusedMultiplyAdd(ar, b1, c61);
            ar = Vector512.Create(a[7]); c70 = Vector512.FusedMultiplyAdd(ar, b0, c70); c71 = Vector512.FusedMultiplyAdd(ar, b1, c71);
            a += Mr;
        }
        StoreTile(c, Nr, betaZero, c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71);
    }

    /// <summary>
    /// c[r, j] (+)= sum over <paramref name="rows"/> runs of <paramref name="len"/> positions p of
    /// x[off[r] + run*pitch + p] * b[(run*len + p)*32 + j] for r &lt; 8, j &lt; 32: the 8 A rows are read in place
    /// (row r from <c>x + off[r]</c>, runs <paramref name="pitch"/> apart), b is a packed B micro-panel of rows*len
    /// steps; c has row stride <paramref name="ldc"/>, overwritten when <paramref name="betaZero"/>, else added to.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization), SkipLocalsInit]
    internal static void KernelRowsA(int rows, int len, int pitch, float* x, int* off, float* b, float* c, int ldc, bool betaZero)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default;
        float* a0 = x + off[0], a1 = x + off[1], a2 = x + off[2], a3 = x + off[3];
        float* a4 = x + off[4], a5 = x + off[5], a6 = x + off[6], a7 = x + off[7];
        for (int run = 0; run < rows; run++)
        {
            for (int p = 0; p < len; p++)
            {
                Vector512<float> b0 = Vector512.Load(b), b1 = Vector512.Load(b + 16);
                b += Nr;
                Vector512<float> ar = Vector512.Create(a0[p]); c00 = Vector512.FusedMultiplyAdd(ar, b0, c00); c01 = Vector512.FusedMultiplyAdd(ar, b1, c01);
                ar = Vector512.Create(a1[p]); c10 = Vector512.FusedMultiplyAdd(ar, b0, c10); c11 = Vector512.FusedMultiplyAdd(ar, b1, c11);
                ar = Vector512.Create(a2[p]); c20 = Vector512.FusedMultiplyAdd(ar, b0, c20); c21 = Vector512.FusedMultiplyAdd(ar, b1, c21);
                ar = Vector512.Create(a3[p]); c30 = Vector512.FusedMultiplyAdd(ar, b0, c30); c31 = Vector512.FusedMultiplyAdd(ar, b1, c31);
                ar = Vector512.Create(a4[p]); c40 = Vector512.FusedMultiplyAdd(ar, b0, c40); c41 = Vector512.FusedMultiplyAdd(ar, b1, c41);
                ar = Vector512.Create(a5[p]); c50 = Vector512.FusedMultiplyAdd(ar, b0, c50); c51 = Vector512.FusedMultiplyAdd(ar, b1, c51);
                ar = Vector512.Create(a6[p]); c60 = Vector512.FusedMultiplyAdd(ar, b0, c60); c61 = Vector512.FusedMultiplyAdd(ar, b1, c61);
                ar = Vector512.Create(a7[p]); c70 = Vector512.FusedMultiplyAdd(ar, b0, c70); c71 = Vector512.FusedMultiplyAdd(ar, b1, c71);
            }
            a0 += pitch; a1 += pitch; a2 += pitch; a3 += pitch; a4 += pitch; a5 += pitch; a6 += pitch; a7 += pitch;
        }
        StoreTile(c, ldc, betaZero, c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreTile(float* c, int ldc, bool betaZero,
        Vector512<float> c00, Vector512<float> c01, Vector512<float> c10, Vector512<float> c11,
        Vector512<float> c20, Vector512<float> c21, Vector512<float> c30, Vector512<float> c31,
        Vector512<float> c40, Vector512<float> c41, Vector512<float> c50, Vector512<float> c51,
        Vector512<float> c60, Vector512<float> c61, Vector512<float> c70, Vector512<float> c71)
    {
        if (!betaZero)
        {
            float* r = c;
            c00 += Vector512.Load(r); c01 += Vector512.Load(r + 16); r += ldc;
            c10 += Vector512.Load(r); c11 += Vector512.Load(r + 16); r += ldc;
            c20 += Vector512.Load(r); c21 += Vector512.Load(r + 16); r += ldc;
            c30 += Vector512.Load(r); c31 += Vector512.Load(r + 16); r += ldc;
            c40 += Vector512.Load(r); c41 += Vector512.Load(r + 16); r += ldc;
            c50 += Vector512.Load(r); c51 += Vector512.Load(r + 16); r += ldc;
            c60 += Vector512.Load(r); c61 += Vector512.Load(r + 16); r += ldc;
            c70 += Vector512.Load(r); c71 += Vector512.Load(r + 16);
        }
        Vector512.Store(c00, c); Vector512.Store(c01, c + 16); c += ldc;
        Vector512.Store(c10, c); Vector512.Store(c11, c + 16); c += ldc;
        Vector512.Store(c20, c); Vector512.Store(c21, c + 16); c += ldc;
        Vector512.Store(c30, c); Vector512.Store(c31, c + 16); c += ldc;
        Vector512.Store(c40, c); Vector512.Store(c41, c + 16); c += ldc;
        Vector512.Store(c50, c); Vector512.Store(c51, c + 16); c += ldc;
        Vector512.Store(c60, c); Vector512.Store(c61, c + 16); c += ldc;
        Vector512.Store(c70, c); Vector512.Store(c71, c + 16);
    }

    // ---- the padded image ----------------------------------------------------------------------------------------

    /// <summary>Geometry of a padded copy of a batch of images (see Note [Implicit-GEMM convolution]).</summary>
    internal readonly struct Padding
    {
        public readonly int H, W, PH, PW, Hp, Wp, Lc;

        public Padding(int h, int w, int ph, int pw, int kw, int dw)
            // A panel reads at most 31 floats past the last output position plus the largest window offset
            // (Note [Implicit-GEMM convolution]).
            : this(h, w, ph, pw, h + 2 * ph, w + 2 * pw, (kw - 1) * dw + Nr)
        {
        }

        /// <summary>Planes of <paramref name="hp"/> x <paramref name="wp"/> with <paramref name="slack"/> floats after them, each starting 64-byte aligned.</summary>
        public Padding(int h, int w, int ph, int pw, int hp, int wp, int slack)
        {
            H = h; W = w; PH = ph; PW = pw;
            Hp = hp; Wp = wp;
            Lc = (Hp * Wp + slack + 15) & ~15;
        }
    }

    /// <summary>A float buffer of at least <paramref name="count"/> elements from the shared pool, with its 64-byte aligned start.</summary>
    internal static float[] Rent(long count) => ArrayPool<float>.Shared.Rent(checked((int)(count + 16)));

    internal static float* Align(float* p) => (float*)(((nuint)p + 63) & ~(nuint)63);

    /// <summary>
    /// Writes the floats [lo, hi) of each of <paramref name="channels"/> padded planes (dst, Lc apart; whole rows,
    /// and the zero slack after the last row where hi reaches it) from the H x W planes at src. Returns whether every
    /// value copied was finite (no NaN or Inf), which Winograd's paths need (Note [Winograd convolution]).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static bool PadRange(in Padding g, float* src, float* dst, int channels, long lo, long hi)
    {
        int r0 = (int)(lo / g.Wp), r1 = (int)Math.Min(g.Hp, (hi + g.Wp - 1) / g.Wp);
        long slackEnd = Math.Min(g.Lc, hi);
        // Columns [c0, c1) of a padded row hold source columns [c0 - PW, c1 - PW); the rest are zeros.
        int c0 = Math.Max(0, g.PW), c1 = Math.Min(g.Wp, g.W + g.PW);
        // x * 0 is 0 for finite x and NaN for NaN and +-Inf; a NaN stays NaN through the sum.
        var probe = Vector512<float>.Zero;
        for (int c = 0; c < channels; c++)
        {
            float* s = src + (long)c * g.H * g.W, plane = dst + (long)c * g.Lc, d = plane + (long)r0 * g.Wp;
            for (int r = r0; r < r1; r++, d += g.Wp)
            {
                int sr = r - g.PH;
                if ((uint)sr >= (uint)g.H || c1 <= c0)
                {
                    Zero(d, g.Wp);
                    continue;
                }
                for (int j = 0; j < c0; j++) d[j] = 0f;
                probe += Copy(s + (long)sr * g.W + (c0 - g.PW), d + c0, c1 - c0);
                for (int j = c1; j < g.Wp; j++) d[j] = 0f;
            }
            long tail = (long)g.Hp * g.Wp;
            if (slackEnd > tail) Zero(plane + tail, (int)(slackEnd - tail));
        }
        return Vector512.EqualsAll(probe, Vector512<float>.Zero);
    }

    /// <summary>
    /// d[j] = s[j] for j &lt; len (whole vectors, the last one overlapping; scalar below one vector); returns the
    /// sum of s[j] * 0, zero exactly when every value is finite.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Copy(float* s, float* d, int len)
    {
        if (len < 16)
        {
            float z = 0f;
            for (int j = 0; j < len; j++) { d[j] = s[j]; z += s[j] * 0f; }
            return Vector512.CreateScalar(z);
        }
        var acc = Vector512<float>.Zero;
        int i = 0;
        for (; i + 16 <= len; i += 16)
        {
            var v = Vector512.Load(s + i);
            Vector512.Store(v, d + i);
            acc += v * Vector512<float>.Zero;
        }
        if (i < len)
        {
            var v = Vector512.Load(s + len - 16);
            Vector512.Store(v, d + len - 16);
            acc += v * Vector512<float>.Zero;
        }
        return acc;
    }

    /// <summary>d[j] = 0 for j &lt; len.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Zero(float* d, int len)
    {
        if (len < 16)
        {
            for (int j = 0; j < len; j++) d[j] = 0f;
            return;
        }
        int i = 0;
        for (; i + 16 <= len; i += 16) Vector512.Store(Vector512<float>.Zero, d + i);
        if (i < len) Vector512.Store(Vector512<float>.Zero, d + len - 16);
    }

    /// <summary>off[q] for q = (c, ki, kj) over <paramref name="channels"/> channels: where row q of the column matrix starts.</summary>
    static int[] Offsets(int channels, int kh, int kw, int dh, int dw, in Padding g)
    {
        var off = new int[channels * kh * kw];
        int q = 0;
        for (int c = 0; c < channels; c++)
            for (int ki = 0; ki < kh; ki++)
                for (int kj = 0; kj < kw; kj++)
                    off[q++] = checked(c * g.Lc + ki * dh * g.Wp + kj * dw);
        return off;
    }

    // ---- forward (and stride-1 grad input) ----------------------------------------------------------------------

    /// <summary>
    /// y[n, grp*og + o] = bias[grp*og + o] + sum_q w[grp][o, q] col(x[n, grp])[q, :] for every image and group, for
    /// a stride-1 window (g.SH = g.SW = 1; paddings may be negative: a crop). w[grp] is the row-major
    /// (og x cg*KH*KW) block at <c>w + grp*og*cg*KH*KW</c>, x holds n images of groups*cg channels of H x W and y n
    /// images of groups*og channels of OH x OW (overwritten).
    /// </summary>
    internal static void Convolve(int n, int groups, int cg, int og, Window2d g, float* w, float* x, float* bias, float* y)
    {
        if (g.SH != 1 || g.SW != 1) throw new ArgumentException("ConvGemm needs stride 1.");
        // Winograd declines (returns false) when an operand holds Inf or NaN (Note [Winograd convolution]).
        if (Winograd.Applies(g) && Winograd.Convolve(n, groups, cg, og, g, w, x, bias, y)) return;
        var pad = new Padding(g.H, g.W, g.PH, g.PW, g.KW, g.DW);
        if (g.OH != pad.Hp - g.DH * (g.KH - 1) || g.OW != pad.Wp - g.DW * (g.KW - 1))
            throw new ArgumentException("ConvGemm: output size does not match the window.");
        int ckk = cg * g.KernelArea, plane = g.OutPlane;
        int kc = SliceDepth(ckk, KC);
        int mPanels = CeilDiv(og, Mr);
        long perGroup = (long)mPanels * Mr * ckk;
        // Row panels cover each output row in ceil(OW/32) pieces; wide panels cover the grid oh*Wp + ow in 32s.
        int rowPanels = g.OH * CeilDiv(g.OW, Nr), widePanels = CeilDiv(g.OH * pad.Wp, Nr);
        bool wide = widePanels < rowPanels;
        float[] packed = Rent(groups * perGroup);
        int[] off = Offsets(cg, g.KH, g.KW, g.DH, g.DW, pad);
        try
        {
            fixed (float* pa0 = packed)
            fixed (int* po = off)
            {
                float* pa = Align(pa0);
                for (int grp = 0; grp < groups; grp++)
                    for (int pc = 0; pc < ckk; pc += kc)
                    {
                        int k = Math.Min(kc, ckk - pc);
                        float* dst = pa + grp * perGroup + (long)pc * mPanels * Mr;
                        float* src = w + (long)grp * og * ckk + pc;
                        for (int i = 0; i < mPanels; i++)
                            GemmPacking.PackAPanel(dst + (long)i * Mr * k, src + (long)i * Mr * ckk, ckk, 1, Math.Min(Mr, og - i * Mr), k, Mr);
                    }
                int panels = wide ? widePanels : rowPanels;
                long work = (long)mPanels * Mr * ckk * Nr;
                var body = new ConvolveBody
                {
                    G = g, Pad = pad, Groups = groups, Cg = cg, Og = og, Ckk = ckk, Kc = kc, MPanels = mPanels,
                    Panels = panels, Wide = wide, PerGroup = perGroup, A = pa, X = x, Off = po, Bias = bias, Y = y,
                };
                ParallelFor.For(n * groups * panels, (int)Math.Max(1, (1L << 17) / Math.Max(1, work)), body);
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
        public Padding Pad;
        public int Groups, Cg, Og, Ckk, Kc, MPanels, Panels;
        public bool Wide;
        public long PerGroup;
        public float* A, X, Bias, Y;
        public int* Off;

        /// <summary>Where panel t's columns start in a padded plane.</summary>
        readonly int PanelBase(int t)
        {
            if (Wide) return t * Nr;
            int perRow = CeilDiv(G.OW, Nr);
            return t / perRow * Pad.Wp + t % perRow * Nr;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Invoke(int begin, int end)
        {
            var g = G;
            int kc = Kc, ckk = Ckk, plane = g.OutPlane, og = Og, ow = g.OW, wp = Pad.Wp, panels = Panels;
            float* tile = (float*)GemmPacking.BBuffer((long)MPanels * Mr * Nr * sizeof(float));
            // This chunk's padded copy of the current (image, group): only the rows its panels read.
            float* image = (float*)GemmPacking.ABuffer(((long)Cg * Pad.Lc + 16) * sizeof(float));
            int reach = (g.KH - 1) * g.DH * wp + (g.KW - 1) * g.DW + Nr;
            int cached = -1;
            // Output runs of the current panel: (tile column, position in the output plane, length).
            int* runs = stackalloc int[3 * (Nr + 2)];
            for (int u = begin; u < end; u++)
            {
                int key = u / panels, t = u % panels, img = key / Groups, grp = key % Groups;
                if (key != cached)
                {
                    int first = Math.Max(begin, key * panels) - key * panels, last = Math.Min(end, key * panels + panels) - 1 - key * panels;
                    PadRange(Pad, X + (long)key * Cg * g.InPlane, image, Cg, PanelBase(first), (long)PanelBase(last) + reach);
                    cached = key;
                }
                int baseOffset = PanelBase(t), nRuns = 0;
                if (!Wide)
                {
                    int perRow = CeilDiv(ow, Nr), oh = t / perRow, ow0 = t % perRow * Nr;
                    runs[0] = 0; runs[1] = oh * ow + ow0; runs[2] = Math.Min(Nr, ow - ow0);
                    nRuns = 1;
                }
                else
                {
                    int s = baseOffset, stop = Math.Min(baseOffset + Nr, g.OH * wp);
                    while (s < stop)
                    {
                        int oh = s / wp, col = s - oh * wp;
                        int rowEnd = Math.Min(stop, oh * wp + wp);
                        if (col < ow)
                        {
                            int len = Math.Min(ow - col, rowEnd - s);
                            runs[3 * nRuns] = s - baseOffset; runs[3 * nRuns + 1] = oh * ow + col; runs[3 * nRuns + 2] = len;
                            nRuns++;
                        }
                        s = rowEnd;
                    }
                }
                float* b = image + baseOffset;
                for (int pc = 0; pc < ckk; pc += kc)
                {
                    int k = Math.Min(kc, ckk - pc);
                    float* ap = A + grp * PerGroup + (long)pc * MPanels * Mr;
                    for (int i = 0; i < MPanels; i++)
                        KernelIndirectB(k, ap + (long)i * Mr * k, b, Off + pc, tile + i * Mr * Nr, pc == 0);
                }
                float* yg = Y + (long)key * og * plane;
                for (int o = 0; o < og; o++)
                {
                    float bias = Bias == null ? 0f : Bias[grp * og + o];
                    float* trow = tile + o * Nr, yrow = yg + (long)o * plane;
                    for (int r = 0; r < nRuns; r++)
                        CopyRun(trow + runs[3 * r], yrow + runs[3 * r + 1], runs[3 * r + 2], bias);
                }
            }
        }
    }

    /// <summary>d[j] = s[j] + b for j &lt; len (len &lt;= 32).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void CopyRun(float* s, float* d, int len, float b)
    {
        var vb = Vector512.Create(b);
        int j = 0;
        for (; j + 16 <= len; j += 16) Vector512.Store(Vector512.Load(s + j) + vb, d + j);
        for (; j < len; j++) d[j] = s[j] + b;
    }

    /// <summary>
    /// gx = the gradient of a stride-1 convolution with respect to its input, computed as the convolution of g with
    /// the flipped, transposed weight (Note [Implicit-GEMM convolution]); gx is overwritten.
    /// </summary>
    internal static void BackwardInputStride1(int n, int groups, int cg, int og, Window2d g, float* w, float* gy, float* gx)
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
                Convolve(n, groups, og, cg, t2, wt, gy, null, gx);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(flipped);
        }
    }

    // ---- grad weight --------------------------------------------------------------------------------------------

    /// <summary>gw[grp] = sum_n g[n, grp] @ col(x[n, grp])^T for every group of a stride-1 convolution (gw overwritten, (groups*og) x ckk).</summary>
    internal static void BackwardWeight(int n, int groups, int cg, int og, Window2d g, float* x, float* gy, float* gw)
    {
        if (g.SH != 1 || g.SW != 1) throw new ArgumentException("ConvGemm needs stride 1.");
        if (Winograd.Applies(g) && Winograd.BackwardWeight(n, groups, cg, og, g, x, gy, gw)) return;
        var pad = new Padding(g.H, g.W, g.PH, g.PW, g.KW, g.DW);
        int ckk = cg * g.KernelArea;
        int qPanels = CeilDiv(ckk, Mr), ogPad = CeilDiv(og, Nr) * Nr;
        long perGroup = (long)qPanels * Mr * ogPad;
        int rowsPerSlice = Math.Max(1, Math.Min(g.OH, PositionsPerSlice / Math.Max(1, g.OW)));
        // Small batches (ResNet at batch 1): thinner slices, so that every thread gets at least two.
        int want = 2 * ParallelFor.NumThreads;
        if (groups * n * CeilDiv(g.OH, rowsPerSlice) < want)
            rowsPerSlice = Math.Max(1, Math.Min(rowsPerSlice, g.OH * groups * n / want));
        int slices = CeilDiv(g.OH, rowsPerSlice);
        int units = groups * n * slices;
        long workPerUnit = (long)rowsPerSlice * g.OW * qPanels * Mr * ogPad;
        int chunks = (int)Math.Clamp(units * workPerUnit / (1L << 20), 1, Math.Min(units, ParallelFor.NumThreads));
        long partialSize = groups * perGroup;
        float[] partials = Rent(chunks * partialSize);
        // Offsets padded to whole panels: rows past ckk repeat the last row (their results are dropped).
        int[] off = Offsets(cg, g.KH, g.KW, g.DH, g.DW, pad);
        int valid = off.Length;
        Array.Resize(ref off, qPanels * Mr);
        for (int q = valid; q < off.Length; q++) off[q] = off[valid - 1];
        try
        {
            fixed (float* pp0 = partials)
            fixed (int* po = off)
            {
                float* pp = Align(pp0);
                var body = new WeightBody
                {
                    G = g, Pad = pad, N = n, Groups = groups, Og = og, OgPad = ogPad, Cg = cg, QPanels = qPanels,
                    RowsPerSlice = rowsPerSlice, Slices = slices, PerChunk = CeilDiv(units, chunks), Units = units,
                    PerGroup = perGroup, X = x, Gy = gy, Partials = pp, Off = po,
                };
                ParallelFor.For(chunks, 1, body);
                // gw[grp*og + o, q] = sum over chunks (in order) of partial[chunk][grp][q, o]
                var total = new Span<float>(pp, (int)partialSize);
                for (int c = 1; c < chunks; c++)
                    System.Numerics.Tensors.TensorPrimitives.Add(total, new ReadOnlySpan<float>(pp + c * partialSize, (int)partialSize), total);
                for (int grp = 0; grp < groups; grp++)
                    Transpose.Float(pp + grp * perGroup, ogPad, gw + (long)grp * og * ckk, og, ckk);   // gw[o, q] = partial[q, o]
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(partials);
        }
    }

    struct WeightBody : IRangeBody
    {
        public Window2d G;
        public Padding Pad;
        public int N, Groups, Og, OgPad, Cg, QPanels, RowsPerSlice, Slices, PerChunk, Units;
        public long PerGroup;
        public float* X, Gy, Partials;
        public int* Off;

        /// <summary>Chunks [begin, end): chunk c sums units [c*PerChunk, (c+1)*PerChunk) of (group, image, slice of output rows) into its own partial.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Invoke(int begin, int end)
        {
            var g = G;
            int og = Og, ogPad = OgPad, plane = g.OutPlane, ow = g.OW, wp = Pad.Wp, oBlocks = ogPad / Nr;
            int reach = (g.KH - 1) * g.DH * wp + (g.KW - 1) * g.DW;
            float* bpack = (float*)GemmPacking.BBuffer((long)oBlocks * RowsPerSlice * ow * Nr * sizeof(float));
            // The padded rows of the current slice, all channels of its group.
            float* image = (float*)GemmPacking.ABuffer(((long)Cg * Pad.Lc + 16) * sizeof(float));
            for (int chunk = begin; chunk < end; chunk++)
            {
                float* partial = Partials + chunk * Groups * PerGroup;
                new Span<float>(partial, checked((int)(Groups * PerGroup))).Clear();
                int uEnd = Math.Min(Units, (chunk + 1) * PerChunk);
                for (int u = chunk * PerChunk; u < uEnd; u++)
                {
                    int slice = u % Slices, img = u / Slices % N, grp = u / Slices / N;
                    int oh0 = slice * RowsPerSlice, rows = Math.Min(RowsPerSlice, g.OH - oh0), k = rows * ow;
                    long lo = (long)oh0 * wp, hi = (long)(oh0 + rows - 1) * wp + ow + reach;
                    PadRange(Pad, X + ((long)img * Groups + grp) * Cg * g.InPlane, image, Cg, lo, hi);
                    // B = g^T for positions [oh0*OW, oh0*OW + k): one k x 32 micro-panel per block of 32 channels.
                    float* grad = Gy + ((long)img * Groups + grp) * og * plane + oh0 * ow;
                    for (int ob = 0; ob < oBlocks; ob++)
                        GemmPacking.PackBPanel(bpack + (long)ob * k * Nr, grad + (long)ob * Nr * plane, 1, plane,
                            k, Math.Min(Nr, og - ob * Nr), Nr);
                    float* rowStart = image + lo;
                    float* c = partial + grp * PerGroup;
                    for (int ob = 0; ob < oBlocks; ob++)
                        for (int panel = 0; panel < QPanels; panel++)
                            KernelRowsA(rows, ow, wp, rowStart, Off + panel * Mr, bpack + (long)ob * k * Nr,
                                c + (long)panel * Mr * ogPad + ob * Nr, ogPad, false);
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

    /// <summary>Implicit-GEMM forward of a stride-1 float convolution (see <see cref="ConvolutionKernels.Forward{T}"/>).</summary>
    public static void Forward(ConvolutionKernels.Problem p, float[] x, int xOff, float[] w, int wOff, float[]? bias, int bOff,
        float[] y, int yOff)
    {
        var g = p.G;
        Need(x, xOff, (long)p.N * p.C * g.InPlane, "input");
        Need(w, wOff, (long)p.O * p.Ckk, "weight");
        if (bias is not null) Need(bias, bOff, p.O, "bias");
        Need(y, yOff, (long)p.N * p.O * g.OutPlane, "output");
        fixed (float* px = x, pw = w, pb = bias, py = y)
            ConvGemm.Convolve(p.N, p.Groups, p.Cg, p.Og, g, pw + wOff, px + xOff, bias is null ? null : pb + bOff, py + yOff);
    }

    /// <summary>Implicit-GEMM input gradient of a stride-1 float convolution (overwrites gx).</summary>
    public static void BackwardInput(ConvolutionKernels.Problem p, float[] gy, int gyOff, float[] w, int wOff, float[] gx, int gxOff)
    {
        var g = p.G;
        Need(gy, gyOff, (long)p.N * p.O * g.OutPlane, "grad_output");
        Need(w, wOff, (long)p.O * p.Ckk, "weight");
        Need(gx, gxOff, (long)p.N * p.C * g.InPlane, "grad_input");
        fixed (float* pg = gy, pw = w, px = gx)
            ConvGemm.BackwardInputStride1(p.N, p.Groups, p.Cg, p.Og, g, pw + wOff, pg + gyOff, px + gxOff);
    }

    /// <summary>Implicit-GEMM weight gradient of a stride-1 float convolution (overwrites gw).</summary>
    public static void BackwardWeight(ConvolutionKernels.Problem p, float[] x, int xOff, float[] gy, int gyOff, float[] gw, int gwOff)
    {
        var g = p.G;
        Need(x, xOff, (long)p.N * p.C * g.InPlane, "input");
        Need(gy, gyOff, (long)p.N * p.O * g.OutPlane, "grad_output");
        Need(gw, gwOff, (long)p.O * p.Ckk, "grad_weight");
        fixed (float* px = x, pg = gy, pw = gw)
            ConvGemm.BackwardWeight(p.N, p.Groups, p.Cg, p.Og, g, px + xOff, pg + gyOff, pw + gwOff);
    }
}
