using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nabla.Kernels.Cpu;

// Note [Winograd convolution]
// A 3x3, stride-1, undilated float convolution is computed with Winograd's minimal filtering F(2x2, 3x3) (Lavin and
// Gray, 2016): a 2x2 output tile Y of one output channel from a 4x4 input tile d of every input channel is
//     Y = A^T [ sum_c U[o, c] (*) V[c] ] A,   U[o, c] = G g[o, c] G^T,   V[c] = B^T d[c] B,
// with (*) the element-wise product of 4x4 matrices and
//     B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],  G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1],
//     A^T = [1 1 1 0; 0 1 -1 -1].
// For each of the 16 positions xi of the 4x4 matrices the channel sum is a GEMM, M_xi (O x tiles) = U_xi (O x C) @
// V_xi (C x tiles): 16*O*C multiply-adds per tile instead of 36*O*C, 2.25x fewer than the direct (or implicit-GEMM)
// convolution. Every transform constant is 0, +-1 or 1/2, so the results differ from the direct sum by a few float
// roundings (the transforms add at most 4 terms), within the op table's float tolerance.
// Work is split into blocks of 32 tiles: four half-runs of 8 consecutive tiles of one tile row (tile rows are padded
// to a multiple of 8 tiles; two half-runs of a 16-lane vector may lie in different tile rows); per block a thread
//   1. transforms its input tiles 16 at a time: the 4x4 patches of 8 neighbouring tiles are 4 rows of 18 floats of
//      the padded image (see Note [Implicit-GEMM convolution]); two such half-runs are split into even and odd
//      columns by two-table permutes, so V lands as 16 packed C x 32 B panels (L2-resident scratch);
//   2. runs the 16 GEMMs with ConvGemm's 8 x 32 microkernel against U, packed once per call;
//   3. transforms the 16 M tiles back to 2x2 outputs (+ bias) and interleaves them into the output rows.
// Shapes where padding tile rows to 8s wastes more than 15% keep the implicit GEMM.
// The transforms mix the elements of a tile (sums and differences of up to 4), so an Inf or NaN would spread further
// than in the direct sum (Inf - Inf = NaN inside a transform, and a NaN reaches every output of the up to four tiles
// that read it, where PyTorch's direct convolution gives Inf, or NaN only in the 3x3 neighbourhood). Operands are
// therefore checked as the padding copies them (PadRange adds up x * 0, which is NaN exactly for non-finite x; the
// weights are checked up front), and a call that met any declines afterwards: the implicit GEMM recomputes it.
// The input gradient of such a convolution is the convolution of the output gradient with the flipped, transposed
// weight (Note [Implicit-GEMM convolution]), again 3x3 and stride 1, so it takes this path as well. The weight
// gradient runs the transforms backwards: with dM = A dY A^T (dY the 2x2 output-gradient tile),
//     dU[xi] (O x C) = sum over tiles of dM[xi] (O x tiles) @ V[xi]^T (tiles x C),   gw[o, c] = G^T dU[o, c] G,
// 16 GEMMs whose reduction runs over the tiles: the V rows are read in place (KernelRowsA), dM is packed per block
// by 8x8 transposes, and each thread sums its range of blocks into a partial dU of its own (added in chunk order).
// On W8 (16 x 64 x 32 x 32, 64 -> 64 channels, 2 threads) forward, input and weight gradient take about 1.9, 1.9 and
// 2.2 ms, against 3.2, 3.3 and 3.4 ms by the implicit GEMM.

/// <summary>Winograd F(2x2, 3x3) float convolution (see Note [Winograd convolution]).</summary>
internal static unsafe class Winograd
{
    /// <summary>Whether 3x3 stride-1 float convolutions take this path where it applies (tests switch it off to compare).</summary>
    internal static bool Enabled = Vector512.IsHardwareAccelerated && Avx512F.IsSupported;

    const int Mr = 8, Nr = 32, Lanes = 16, Half = 8;

    /// <summary>Deepest slice of the channel reduction per microkernel call.</summary>
    const int KC = 320;

    static int RoundUp(int x, int m) => (x + m - 1) / m * m;

    /// <summary>True for the windows this path computes: 3x3, stride 1, no dilation, rows of tiles that pad to 8s cheaply.</summary>
    internal static bool Applies(in Window2d g)
    {
        if (!Enabled || g.KH != 3 || g.KW != 3 || g.SH != 1 || g.SW != 1 || g.DH != 1 || g.DW != 1) return false;
        int tw = ConvGemm.CeilDiv(g.OW, 2);
        return RoundUp(tw, Half) * 20 <= tw * 23;
    }

    /// <summary>
    /// True when none of the <paramref name="count"/> floats at <paramref name="p"/> is NaN or infinite: x * 0 is 0
    /// for every finite x and NaN for NaN and +-Inf, and a NaN stays NaN through the sum.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static bool AllFinite(float* p, long count)
    {
        var acc0 = Vector512<float>.Zero; var acc1 = Vector512<float>.Zero;
        long i = 0;
        for (; i + 32 <= count; i += 32)
        {
            acc0 += Vector512.Load(p + i) * Vector512<float>.Zero;
            acc1 += Vector512.Load(p + i + 16) * Vector512<float>.Zero;
        }
        float tail = 0f;
        for (; i < count; i++) tail += p[i] * 0f;
        return Vector512.EqualsAll(acc0 + acc1, Vector512<float>.Zero) && tail == 0f;
    }

    /// <summary>
    /// y[n, grp*og + o] = bias[grp*og + o] + the convolution of x[n, grp] (cg channels) with w[grp] (og x cg x 3 x 3)
    /// for a window <see cref="Applies"/> accepts; y is overwritten. Returns false, with y unspecified, when x or w
    /// holds an Inf or NaN (the caller then uses another path; see Note [Winograd convolution]).
    /// </summary>
    internal static bool Convolve(int n, int groups, int cg, int og, Window2d g, float* w, float* x, float* bias, float* y)
    {
        if (!Applies(g)) throw new ArgumentException("Winograd F(2x2, 3x3) needs a 3x3, stride-1, undilated window.");
        if (!AllFinite(w, (long)groups * og * cg * 9)) return false;
        int th = ConvGemm.CeilDiv(g.OH, 2), twp = RoundUp(ConvGemm.CeilDiv(g.OW, 2), Half);
        int halves = th * twp / Half, blocks = ConvGemm.CeilDiv(halves, 4);
        int nonFinite = 0;
        // Input tile (tr, tc) reads padded rows 2tr..2tr+3 and columns 2tc..2tc+3; a half-run of 8 tiles loads 18 floats.
        var pad = new ConvGemm.Padding(g.H, g.W, g.PH, g.PW, 2 * th + 2, 2 * twp + 2, Lanes);
        int mPanels = ConvGemm.CeilDiv(og, Mr), kc = ConvGemm.CeilDiv(cg, ConvGemm.CeilDiv(cg, KC));
        long perXi = (long)mPanels * Mr * cg;
        float[] packed = ConvGemm.Rent(groups * 16 * perXi);
        int[] seq = new int[kc];
        for (int p = 0; p < kc; p++) seq[p] = p * Nr;
        try
        {
            fixed (float* pu0 = packed)
            fixed (int* ps = seq)
            {
                float* pu = ConvGemm.Align(pu0);
                PackFilters(groups, cg, og, kc, mPanels, w, pu);
                var body = new Body
                {
                    G = g, Pad = pad, Groups = groups, Cg = cg, Og = og, Kc = kc, MPanels = mPanels, Twp = twp,
                    Halves = halves, Blocks = blocks, PerXi = perXi, U = pu, X = x, Bias = bias, Y = y, Seq = ps,
                    NonFinite = &nonFinite,
                };
                long work = 16L * mPanels * Mr * cg * Nr;
                ParallelFor.For(n * groups * blocks, (int)Math.Max(1, (1L << 17) / Math.Max(1, work)), body);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(packed);
        }
        return Volatile.Read(ref nonFinite) == 0;
    }

    /// <summary>U[grp][xi] = (G g G^T)[xi] for every (o, c), packed as the microkernel's 8-row A panels per k slice.</summary>
    static void PackFilters(int groups, int cg, int og, int kc, int mPanels, float* w, float* u)
    {
        long perXi = (long)mPanels * Mr * cg;
        new Span<float>(u, checked((int)(groups * 16 * perXi))).Clear();
        var body = new PackBody { Cg = cg, Og = og, Kc = kc, MRows = mPanels * Mr, PerXi = perXi, W = w, U = u };
        ParallelFor.For(groups * og, Math.Max(1, 4096 / Math.Max(1, cg)), body);
    }

    struct PackBody : IRangeBody
    {
        public int Cg, Og, Kc, MRows;
        public long PerXi;
        public float* W, U;

        /// <summary>Rows [begin, end) of (group, output channel).</summary>
        public readonly void Invoke(int begin, int end)
        {
            int cg = Cg, kc = Kc;
            long s = PerXi;
            for (int row = begin; row < end; row++)
            {
                int grp = row / Og, o = row % Og, panel = o / Mr, r = o % Mr;
                float* f = W + (long)row * cg * 9;
                for (int c = 0; c < cg; c++, f += 9)
                {
                    int pc = c / kc * kc, k = Math.Min(kc, cg - pc);
                    float* d = U + grp * 16 * s + (long)pc * MRows + (long)panel * Mr * k + (c - pc) * Mr + r;
                    // Gg (4 x 3): rows g0, (g0+g1+g2)/2, (g0-g1+g2)/2, g2 (g_i = row i of the filter); then each row
                    // (a, b, e) of Gg becomes (a, (a+b+e)/2, (a-b+e)/2, e) in (Gg) G^T.
                    for (int i = 0; i < 4; i++, d += 4 * s)
                    {
                        float a, b, e;
                        if (i == 0) { a = f[0]; b = f[1]; e = f[2]; }
                        else if (i == 3) { a = f[6]; b = f[7]; e = f[8]; }
                        else
                        {
                            float sign = i == 1 ? 1f : -1f;
                            a = 0.5f * (f[0] + sign * f[3] + f[6]);
                            b = 0.5f * (f[1] + sign * f[4] + f[7]);
                            e = 0.5f * (f[2] + sign * f[5] + f[8]);
                        }
                        d[0] = a; d[s] = 0.5f * (a + b + e); d[2 * s] = 0.5f * (a - b + e); d[3 * s] = e;
                    }
                }
            }
        }
    }

    struct Body : IRangeBody
    {
        public Window2d G;
        public ConvGemm.Padding Pad;
        public int Groups, Cg, Og, Kc, MPanels, Twp, Halves, Blocks;
        public long PerXi;
        public float* U, X, Bias, Y;
        public int* Seq, NonFinite;

        /// <summary>Tile row of half-run <paramref name="h"/> (8 tiles) of an image.</summary>
        readonly int HalfRow(int h) => h * Half / Twp;

        /// <summary>First tile column of half-run <paramref name="h"/>.</summary>
        readonly int HalfCol(int h) => h * Half % Twp;

        [MethodImpl(MethodImplOptions.AggressiveOptimization), SkipLocalsInit]
        public readonly void Invoke(int begin, int end)
        {
            var g = G;
            int cg = Cg, og = Og, kc = Kc, mRows = MPanels * Mr, wp = Pad.Wp, lc = Pad.Lc, plane = g.OutPlane;
            float* image = (float*)GemmPacking.ABuffer(((long)cg * lc + 16) * sizeof(float));
            float* v = (float*)GemmPacking.BBuffer((16L * cg * Nr + 16L * mRows * Nr) * sizeof(float));
            float* m = v + 16L * cg * Nr;
            float* spill = stackalloc float[Nr];
            int cached = -1;
            for (int u = begin; u < end; u++)
            {
                int key = u / Blocks, blk = u % Blocks, grp = key % Groups;
                if (key != cached)
                {
                    // Rows read by this chunk's blocks of this (image, group).
                    int first = Math.Max(begin, key * Blocks) - key * Blocks, last = Math.Min(end, key * Blocks + Blocks) - 1 - key * Blocks;
                    int r0 = 2 * HalfRow(4 * first), r1 = 2 * HalfRow(Math.Min(Halves - 1, 4 * last + 3)) + 4;
                    if (!ConvGemm.PadRange(Pad, X + (long)key * cg * g.InPlane, image, cg, (long)r0 * wp, (long)r1 * wp))
                        Volatile.Write(ref *NonFinite, 1);
                    cached = key;
                }
                for (int h = 0; h < 2; h++)
                {
                    // A run of 16 tiles is two half-runs of 8 (one tile row each; the same row when rows hold 16s).
                    int ha = 4 * blk + 2 * h, hb = ha + 1;
                    if (ha < Halves)
                    {
                        float* pa = image + 2L * HalfRow(ha) * wp + 2 * HalfCol(ha);
                        float* pb = hb < Halves ? image + 2L * HalfRow(hb) * wp + 2 * HalfCol(hb) : pa;   // unused lanes: any finite data
                        InputTransform(pa, pb, wp, lc, cg, v + h * Lanes);
                    }
                    else
                    {
                        for (int xi = 0; xi < 16; xi++)
                            for (int c = 0; c < cg; c++) Vector512.Store(Vector512<float>.Zero, v + ((long)xi * cg + c) * Nr + h * Lanes);
                    }
                }
                float* ug = U + (long)grp * 16 * PerXi;
                for (int xi = 0; xi < 16; xi++)
                    for (int pc = 0; pc < cg; pc += kc)
                    {
                        int k = Math.Min(kc, cg - pc);
                        float* a = ug + xi * PerXi + (long)pc * mRows;
                        float* b = v + ((long)xi * cg + pc) * Nr;
                        for (int i = 0; i < MPanels; i++)
                            ConvGemm.KernelIndirectB(k, a + (long)i * Mr * k, b, Seq, m + ((long)xi * mRows + i * Mr) * Nr, pc == 0);
                    }
                float* yk = Y + (long)key * og * plane;
                for (int h = 0; h < 2; h++)
                {
                    int ha = 4 * blk + 2 * h, hb = ha + 1;
                    if (ha >= Halves) continue;
                    int rowA = 2 * HalfRow(ha), colA = 2 * HalfCol(ha);
                    int rowB = hb < Halves ? 2 * HalfRow(hb) : g.OH, colB = hb < Halves ? 2 * HalfCol(hb) : 0;
                    for (int o = 0; o < og; o++)
                    {
                        float bo = Bias == null ? 0f : Bias[grp * og + o];
                        OutputTransform(m + (long)o * Nr + h * Lanes, (long)mRows * Nr, bo, yk + (long)o * plane, g.OH, g.OW,
                            rowA, colA, rowB, colB, spill);
                    }
                }
            }
        }
    }

    /// <summary>
    /// gw (groups*og x cg x 3 x 3, overwritten) = the weight gradient of a convolution <see cref="Applies"/> accepts:
    /// dU[xi] (og x cg) = sum over tiles of dM[xi] (og x tiles) @ V[xi]^T (tiles x cg) with dM = A dY A^T the
    /// transformed output gradient, then gw[o, c] = G^T dU[o, c] G (Note [Winograd convolution]). Returns false, with
    /// gw unspecified, when x or gy holds an Inf or NaN.
    /// </summary>
    internal static bool BackwardWeight(int n, int groups, int cg, int og, Window2d g, float* x, float* gy, float* gw)
    {
        if (!Applies(g)) throw new ArgumentException("Winograd F(2x2, 3x3) needs a 3x3, stride-1, undilated window.");
        int th = ConvGemm.CeilDiv(g.OH, 2), twp = RoundUp(ConvGemm.CeilDiv(g.OW, 2), Half);
        int halves = th * twp / Half, blocks = ConvGemm.CeilDiv(halves, 4);
        var padX = new ConvGemm.Padding(g.H, g.W, g.PH, g.PW, 2 * th + 2, 2 * twp + 2, Lanes);
        var padG = new ConvGemm.Padding(g.OH, g.OW, 0, 0, 2 * th, 2 * twp, Lanes);
        int cPad = RoundUp(cg, Mr), oPad = RoundUp(og, Nr);
        long perXi = (long)cPad * oPad, perGroup = 16 * perXi;
        int units = n * groups * blocks;
        long workPerUnit = 16L * cPad * oPad * Nr;
        int chunks = (int)Math.Clamp(units * workPerUnit / (1L << 20), 1, Math.Min(units, ParallelFor.NumThreads));
        float[] partials = ConvGemm.Rent(chunks * groups * perGroup);
        // Row r of a V[xi] block is channel r's 32 tiles; rows past cg repeat the last channel (results dropped).
        int[] chan = new int[cPad];
        for (int c = 0; c < cPad; c++) chan[c] = Math.Min(c, cg - 1) * Nr;
        int nonFinite = 0;
        try
        {
            fixed (float* pp0 = partials)
            fixed (int* pc = chan)
            {
                float* pp = ConvGemm.Align(pp0);
                var body = new WeightBody
                {
                    G = g, PadX = padX, PadG = padG, Groups = groups, Cg = cg, Og = og, CPad = cPad, OPad = oPad, Twp = twp,
                    Halves = halves, Blocks = blocks, PerChunk = ConvGemm.CeilDiv(units, chunks), Units = units, PerGroup = perGroup,
                    X = x, Gy = gy, Partials = pp, Chan = pc, NonFinite = &nonFinite,
                };
                ParallelFor.For(chunks, 1, body);
                if (Volatile.Read(ref nonFinite) != 0) return false;
                long total = groups * perGroup;
                var sum = new Span<float>(pp, checked((int)total));
                for (int c = 1; c < chunks; c++)
                    System.Numerics.Tensors.TensorPrimitives.Add(sum, new ReadOnlySpan<float>(pp + c * total, (int)total), sum);
                for (int grp = 0; grp < groups; grp++)
                    for (int o = 0; o < og; o++)
                        for (int c = 0; c < cg; c++)
                            FilterGradient(pp + grp * perGroup + (long)c * oPad + o, perXi, gw + (((long)grp * og + o) * cg + c) * 9);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(partials);
        }
        return true;
    }

    /// <summary>f (3 x 3) = G^T X G for the 4 x 4 matrix X[xi] = x[xi * stride].</summary>
    static void FilterGradient(float* x, long stride, float* f)
    {
        // Z = G^T X (3 x 4): rows X0 + (X1 + X2)/2, (X1 - X2)/2, (X1 + X2)/2 + X3
        float* z = stackalloc float[12];
        for (int j = 0; j < 4; j++)
        {
            float x0 = x[j * stride], x1 = x[(4 + j) * stride], x2 = x[(8 + j) * stride], x3 = x[(12 + j) * stride];
            z[j] = x0 + 0.5f * (x1 + x2); z[4 + j] = 0.5f * (x1 - x2); z[8 + j] = 0.5f * (x1 + x2) + x3;
        }
        // f = Z G: each row (z0, z1, z2, z3) becomes (z0 + (z1 + z2)/2, (z1 - z2)/2, (z1 + z2)/2 + z3)
        for (int a = 0; a < 3; a++)
        {
            float z0 = z[4 * a], z1 = z[4 * a + 1], z2 = z[4 * a + 2], z3 = z[4 * a + 3];
            f[3 * a] = z0 + 0.5f * (z1 + z2); f[3 * a + 1] = 0.5f * (z1 - z2); f[3 * a + 2] = 0.5f * (z1 + z2) + z3;
        }
    }

    struct WeightBody : IRangeBody
    {
        public Window2d G;
        public ConvGemm.Padding PadX, PadG;
        public int Groups, Cg, Og, CPad, OPad, Twp, Halves, Blocks, PerChunk, Units;
        public long PerGroup;
        public float* X, Gy, Partials;
        public int* Chan, NonFinite;

        readonly int HalfRow(int h) => h * Half / Twp;

        readonly int HalfCol(int h) => h * Half % Twp;

        /// <summary>Chunk c sums the blocks of units [c*PerChunk, (c+1)*PerChunk) into its own partial dU.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization), SkipLocalsInit]
        public readonly void Invoke(int begin, int end)
        {
            var g = G;
            int cg = Cg, og = Og, oPad = OPad, oBlocks = oPad / Nr;
            long perXi = (long)CPad * oPad;
            float* xImage = (float*)GemmPacking.ABuffer(((long)cg * PadX.Lc + 16) * sizeof(float));
            long gSize = (long)og * PadG.Lc, vSize = 16L * cg * Nr, mSize = 16L * oPad * Nr;
            float* gImage = (float*)GemmPacking.BBuffer((gSize + vSize + 2 * mSize + 16) * sizeof(float));
            float* v = gImage + gSize, dm = v + vSize, bp = dm + mSize;
            for (int chunk = begin; chunk < end; chunk++)
            {
                float* partial = Partials + chunk * Groups * PerGroup;
                new Span<float>(partial, checked((int)(Groups * PerGroup))).Clear();
                int uBegin = chunk * PerChunk, uEnd = Math.Min(Units, uBegin + PerChunk);
                int cached = -1;
                for (int u = uBegin; u < uEnd; u++)
                {
                    int key = u / Blocks, blk = u % Blocks, grp = key % Groups;
                    if (key != cached)
                    {
                        int first = Math.Max(uBegin, key * Blocks) - key * Blocks, last = Math.Min(uEnd, key * Blocks + Blocks) - 1 - key * Blocks;
                        int tr0 = HalfRow(4 * first), tr1 = HalfRow(Math.Min(Halves - 1, 4 * last + 3));
                        bool finite = ConvGemm.PadRange(PadX, X + (long)key * cg * g.InPlane, xImage, cg, 2L * tr0 * PadX.Wp, (2L * tr1 + 4) * PadX.Wp);
                        finite &= ConvGemm.PadRange(PadG, Gy + (long)key * og * g.OutPlane, gImage, og, 2L * tr0 * PadG.Wp, (2L * tr1 + 2) * PadG.Wp);
                        if (!finite) Volatile.Write(ref *NonFinite, 1);
                        cached = key;
                    }
                    for (int h = 0; h < 2; h++)
                    {
                        int ha = 4 * blk + 2 * h, hb = ha + 1;
                        if (ha < Halves)
                        {
                            int ra = 2 * HalfRow(ha), ca = 2 * HalfCol(ha);
                            int rb = hb < Halves ? 2 * HalfRow(hb) : ra, cb = hb < Halves ? 2 * HalfCol(hb) : ca;
                            InputTransform(xImage + (long)ra * PadX.Wp + ca, xImage + (long)rb * PadX.Wp + cb, PadX.Wp, PadX.Lc, cg, v + h * Lanes);
                            GradTransform(gImage + (long)ra * PadG.Wp + ca, gImage + (long)rb * PadG.Wp + cb, PadG.Wp, PadG.Lc, og, dm + h * Lanes, (long)oPad * Nr);
                            if (hb >= Halves)
                            {
                                // The second half-run does not exist: its lanes of dM must not contribute.
                                for (int xi = 0; xi < 16; xi++)
                                    for (int o = 0; o < og; o++) Vector256.Store(Vector256<float>.Zero, dm + ((long)xi * oPad + o) * Nr + h * Lanes + Half);
                            }
                        }
                        else
                        {
                            for (int xi = 0; xi < 16; xi++)
                            {
                                for (int c = 0; c < cg; c++) Vector512.Store(Vector512<float>.Zero, v + ((long)xi * cg + c) * Nr + h * Lanes);
                                for (int o = 0; o < og; o++) Vector512.Store(Vector512<float>.Zero, dm + ((long)xi * oPad + o) * Nr + h * Lanes);
                            }
                        }
                    }
                    // B = dM[xi]^T (32 tiles x 32 channels per block of output channels), packed by 8 x 8 transposes.
                    for (int xi = 0; xi < 16; xi++)
                        for (int ob = 0; ob < oBlocks; ob++)
                            GemmPacking.PackBPanel(bp + ((long)xi * oBlocks + ob) * Nr * Nr, dm + ((long)xi * oPad + ob * Nr) * Nr, 1, Nr,
                                Nr, Math.Min(Nr, og - ob * Nr), Nr);
                    float* pg = partial + grp * PerGroup;
                    for (int xi = 0; xi < 16; xi++)
                    {
                        float* vx = v + (long)xi * cg * Nr;
                        for (int ob = 0; ob < oBlocks; ob++)
                        {
                            float* b = bp + ((long)xi * oBlocks + ob) * Nr * Nr;
                            float* c = pg + xi * perXi + ob * Nr;
                            for (int cp = 0; cp < CPad; cp += Mr)
                                ConvGemm.KernelRowsA(1, Nr, 0, vx, Chan + cp, b, c + (long)cp * oPad, oPad, false);
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// dM[xi][o][t] = (A dY A^T)[xi] for 16 tiles, written to dm + xi*xiStride + o*32 + t: tiles t &lt; 8 have their
    /// 2x2 output gradients at a + o*lc + 2t, tiles 8 + t at b + o*lc + 2t (rows wp apart).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void GradTransform(float* a, float* b, int wp, int lc, int channels, float* dm, long xiStride)
    {
        var even = Even; var odd = Odd;
        for (int o = 0; o < channels; o++, a += lc, b += lc, dm += Nr)
        {
            var r0lo = Vector512.Load(a); var r0hi = Vector512.Load(b);
            var r1lo = Vector512.Load(a + wp); var r1hi = Vector512.Load(b + wp);
            var y00 = Avx512F.PermuteVar16x32x2(r0lo, even, r0hi); var y01 = Avx512F.PermuteVar16x32x2(r0lo, odd, r0hi);
            var y10 = Avx512F.PermuteVar16x32x2(r1lo, even, r1hi); var y11 = Avx512F.PermuteVar16x32x2(r1lo, odd, r1hi);
            // A dY: rows (y0, y0 + y1, y0 - y1, -y1); then each row (a, b) becomes (a, a + b, a - b, -b)
            GradCols(dm, xiStride, y00, y01);
            GradCols(dm + 4 * xiStride, xiStride, y00 + y10, y01 + y11);
            GradCols(dm + 8 * xiStride, xiStride, y00 - y10, y01 - y11);
            GradCols(dm + 12 * xiStride, xiStride, -y10, -y11);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void GradCols(float* d, long xiStride, Vector512<float> a, Vector512<float> b)
    {
        Vector512.Store(a, d);
        Vector512.Store(a + b, d + xiStride);
        Vector512.Store(a - b, d + 2 * xiStride);
        Vector512.Store(-b, d + 3 * xiStride);
    }

    static readonly Vector512<int> Even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    static readonly Vector512<int> Odd = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    static readonly Vector512<int> ZipLo = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    static readonly Vector512<int> ZipHi = Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);

    /// <summary>
    /// V[xi][c][t] = (B^T d B)[xi] for 16 tiles, written to v + (xi*channels + c)*32 + t: tiles t &lt; 8 have their 4x4
    /// patches at a + c*lc + 2t, tiles 8 + t at b + c*lc + 2t (rows wp apart; b = a + 16 for 16 tiles in a row).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void InputTransform(float* a, float* b, int wp, int lc, int channels, float* v)
    {
        var even = Even; var odd = Odd;
        long xiStride = (long)channels * Nr;
        for (int c = 0; c < channels; c++, a += lc, b += lc, v += Nr)
        {
            // d_ij for the 16 tiles: row i, columns j (even/odd split of 2 x 18 floats).
            Row(a, b, even, odd, out var d00, out var d01, out var d02, out var d03);
            Row(a + wp, b + wp, even, odd, out var d10, out var d11, out var d12, out var d13);
            Row(a + 2 * wp, b + 2 * wp, even, odd, out var d20, out var d21, out var d22, out var d23);
            Row(a + 3 * wp, b + 3 * wp, even, odd, out var d30, out var d31, out var d32, out var d33);
            // B^T d: rows (d0 - d2, d1 + d2, d2 - d1, d1 - d3)
            var e00 = d00 - d20; var e01 = d01 - d21; var e02 = d02 - d22; var e03 = d03 - d23;
            var e10 = d10 + d20; var e11 = d11 + d21; var e12 = d12 + d22; var e13 = d13 + d23;
            var e20 = d20 - d10; var e21 = d21 - d11; var e22 = d22 - d12; var e23 = d23 - d13;
            var e30 = d10 - d30; var e31 = d11 - d31; var e32 = d12 - d32; var e33 = d13 - d33;
            // (B^T d) B: columns the same way; V[4i + j] goes to v + (4i + j) * xiStride
            Cols(v, xiStride, e00, e01, e02, e03);
            Cols(v + 4 * xiStride, xiStride, e10, e11, e12, e13);
            Cols(v + 8 * xiStride, xiStride, e20, e21, e22, e23);
            Cols(v + 12 * xiStride, xiStride, e30, e31, e32, e33);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Cols(float* v, long xiStride, Vector512<float> a0, Vector512<float> a1, Vector512<float> a2, Vector512<float> a3)
    {
        Vector512.Store(a0 - a2, v);
        Vector512.Store(a1 + a2, v + xiStride);
        Vector512.Store(a2 - a1, v + 2 * xiStride);
        Vector512.Store(a1 - a3, v + 3 * xiStride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Row(float* p, float* q, Vector512<int> even, Vector512<int> odd,
        out Vector512<float> d0, out Vector512<float> d1, out Vector512<float> d2, out Vector512<float> d3)
    {
        var lo = Vector512.Load(p); var hi = Vector512.Load(q);
        var lo2 = Vector512.Load(p + 2); var hi2 = Vector512.Load(q + 2);
        d0 = Avx512F.PermuteVar16x32x2(lo, even, hi);
        d1 = Avx512F.PermuteVar16x32x2(lo, odd, hi);
        d2 = Avx512F.PermuteVar16x32x2(lo2, even, hi2);
        d3 = Avx512F.PermuteVar16x32x2(lo2, odd, hi2);
    }

    /// <summary>
    /// The 2x2 outputs A^T M A (+ bias) of 16 tiles of one output channel, M[xi] at m + xi*xiStride, stored to the
    /// OH x OW plane y (clipped): tiles 0..7 to rows rowA, rowA+1 from column colA, tiles 8..15 from (rowB, colB).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void OutputTransform(float* m, long xiStride, float bias, float* y, int oh, int ow, int rowA, int colA, int rowB, int colB, float* spill)
    {
        var m0 = Vector512.Load(m); var m1 = Vector512.Load(m + xiStride);
        var m2 = Vector512.Load(m + 2 * xiStride); var m3 = Vector512.Load(m + 3 * xiStride);
        var m4 = Vector512.Load(m + 4 * xiStride); var m5 = Vector512.Load(m + 5 * xiStride);
        var m6 = Vector512.Load(m + 6 * xiStride); var m7 = Vector512.Load(m + 7 * xiStride);
        var m8 = Vector512.Load(m + 8 * xiStride); var m9 = Vector512.Load(m + 9 * xiStride);
        var m10 = Vector512.Load(m + 10 * xiStride); var m11 = Vector512.Load(m + 11 * xiStride);
        var m12 = Vector512.Load(m + 12 * xiStride); var m13 = Vector512.Load(m + 13 * xiStride);
        var m14 = Vector512.Load(m + 14 * xiStride); var m15 = Vector512.Load(m + 15 * xiStride);
        // A^T M: row 0 = m_0j + m_1j + m_2j, row 1 = m_1j - m_2j - m_3j
        var t00 = m0 + m4 + m8; var t01 = m1 + m5 + m9; var t02 = m2 + m6 + m10; var t03 = m3 + m7 + m11;
        var t10 = m4 - m8 - m12; var t11 = m5 - m9 - m13; var t12 = m6 - m10 - m14; var t13 = m7 - m11 - m15;
        var vb = Vector512.Create(bias);
        var y00 = t00 + t01 + t02 + vb; var y01 = t01 - t02 - t03 + vb;
        var y10 = t10 + t11 + t12 + vb; var y11 = t11 - t12 - t13 + vb;
        // Interleave the two output columns of each tile: (y_a0[t], y_a1[t]) -> columns 2t, 2t+1.
        StoreHalf(y, oh, ow, rowA, colA, Avx512F.PermuteVar16x32x2(y00, ZipLo, y01), spill);
        StoreHalf(y, oh, ow, rowA + 1, colA, Avx512F.PermuteVar16x32x2(y10, ZipLo, y11), spill);
        StoreHalf(y, oh, ow, rowB, colB, Avx512F.PermuteVar16x32x2(y00, ZipHi, y01), spill);
        StoreHalf(y, oh, ow, rowB + 1, colB, Avx512F.PermuteVar16x32x2(y10, ZipHi, y11), spill);
    }

    /// <summary>Stores the 16 floats of <paramref name="v"/> to row <paramref name="row"/> from column <paramref name="col"/>, clipped to the plane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreHalf(float* y, int oh, int ow, int row, int col, Vector512<float> v, float* spill)
    {
        if (row >= oh || col >= ow) return;
        float* d = y + (long)row * ow + col;
        int valid = ow - col;
        if (valid >= Lanes)
        {
            Vector512.Store(v, d);
            return;
        }
        Vector512.Store(v, spill);
        for (int j = 0; j < valid; j++) d[j] = spill[j];
    }
}
