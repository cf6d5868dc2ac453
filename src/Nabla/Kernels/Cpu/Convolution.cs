using System.Buffers;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Nabla.Kernels.Cpu;

// Note [Convolution by im2col]
// A grouped 2-D convolution of one image is, per group, one GEMM:
//     y[n, grp] (Og x OH*OW) = W[grp] (Og x Cg*KH*KW) @ col (Cg*KH*KW x OH*OW),   col = Unfold(x[n, grp])
// Backward reuses the same picture: grad_col = W[grp]^T @ g[n, grp] folded back onto the image (grad_input), and
// grad_W[grp] = sum_n g[n, grp] @ col^T (grad_weight). A 1x1 stride-1 unpadded convolution needs no unfolding:
// x[n, grp] viewed as (Cg x H*W) already is the column matrix. Images are processed in parallel (one range of the
// batch per worker); each worker rents one column buffer and reuses it for all its images. grad_weight sums over
// the batch, so each worker accumulates into its own partial buffer and the partials are added in a fixed order
// (deterministic for a given thread count).

/// <summary>Raw im2col + GEMM convolution kernels over contiguous NCHW buffers (see Note [Convolution by im2col]).</summary>
internal static class ConvolutionKernels
{
    /// <summary>Multiply-adds per worker below which a batch range is not split further.</summary>
    const long WorkPerTask = 1L << 18;

    /// <summary>Shapes of one convolution: batch, channels in/out, groups and the window.</summary>
    public readonly record struct Problem(int N, int C, int O, int Groups, Window2d G)
    {
        public int Cg => C / Groups;
        public int Og => O / Groups;
        public int Ckk => Cg * G.KernelArea;
        public long MacsPerImage => (long)O * Ckk * G.OutPlane;
    }

    /// <summary>
    /// The implicit-GEMM path (ConvGemm.cs, stride 1 only) wins for windows larger than 1x1 on planes of at least
    /// 16 x 16 outputs with some batch: W8 (16 images of 32 x 32) 19.7 ms by im2col, about 11 ms by ConvGemm's
    /// implicit GEMM, about 7 ms with its Winograd F(2x2, 3x3) path (Winograd.cs) for 3x3 windows. 1x1
    /// layers need no unfolding, and a single small image (ResNet-18's 16 x 16 layers at batch 1) is too little work
    /// for its per-call set-up (weight packing, per-thread padding, grad-weight partials), so those keep im2col + GEMM.
    /// </summary>
    static bool UseConvGemm(in Problem p) =>
        ConvGemm.Enabled && p.G.SH == 1 && p.G.SW == 1 && p.G.KernelArea > 1 && p.G.OutPlane >= 256 && (long)p.N * p.G.OutPlane >= 1024;

    static int Grain(in Problem p) => (int)Math.Max(1, WorkPerTask / Math.Max(1, p.MacsPerImage));

    static void Mm<T>(int m, int n, int k, ReadOnlySpan<T> a, int aRow, int aCol, ReadOnlySpan<T> b, int bRow, int bCol,
        Span<T> c, int ldc, bool accumulate) where T : unmanaged, INumber<T>
    {
        if (typeof(T) == typeof(float))
            Gemm.Matmul(m, n, k, MemoryMarshal.Cast<T, float>(a), aRow, aCol, MemoryMarshal.Cast<T, float>(b), bRow, bCol,
                MemoryMarshal.Cast<T, float>(c), ldc, 1f, accumulate ? 1f : 0f);
        else if (typeof(T) == typeof(double))
            Gemm.Matmul(m, n, k, MemoryMarshal.Cast<T, double>(a), aRow, aCol, MemoryMarshal.Cast<T, double>(b), bRow, bCol,
                MemoryMarshal.Cast<T, double>(c), ldc, 1.0, accumulate ? 1.0 : 0.0);
        else
        {
            // Integer convolution (PyTorch's slow_conv2d_cpu takes every non-bool dtype): a plain triple loop,
            // wrapping on overflow as C++ does.
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    T sum = accumulate ? c[i * ldc + j] : T.Zero;
                    for (int q = 0; q < k; q++) sum += a[i * aRow + q * aCol] * b[q * bRow + j * bCol];
                    c[i * ldc + j] = sum;
                }
        }
    }

    // ---- forward ---------------------------------------------------------------------------------------------

    /// <summary>y = conv(x, w) + bias over the whole batch.</summary>
    public static void Forward<T>(Problem p, T[] x, int xOff, T[] w, int wOff, T[]? bias, int bOff, T[] y, int yOff)
        where T : unmanaged, INumber<T>
    {
        if (typeof(T) == typeof(float) && UseConvGemm(p))
        {
            ConvGemmArrays.Forward(p, (float[])(object)x, xOff, (float[])(object)w, wOff, (float[]?)(object?)bias, bOff, (float[])(object)y, yOff);
            return;
        }
        if (Batched(p))
        {
            ForwardBatched(p, x, xOff, w, wOff, bias, bOff, y, yOff);
            return;
        }
        ParallelFor.For(p.N, Grain(p), new ForwardBody<T>(p, x, xOff, w, wOff, bias, bOff, y, yOff));
    }

    // Note [Batched im2col for small planes]
    // A per-image GEMM has OH*OW columns: 4 for ResNet-18's last stage at 64 x 64 input, against a 32-wide microkernel
    // tile, so most of each tile is padding (those layers ran at ~50 GFLOP/s). For small planes the images are
    // unfolded side by side into one column matrix col (Ckk x N*P, image n in columns [n*P, (n+1)*P)) and each of the
    // three products is one GEMM over the whole batch:
    //     Y (O x N*P) = W @ col,   grad_col (Ckk x N*P) = W^T @ G,   grad_W (O x Ckk) = G @ col^T,
    // with G the output gradient gathered the same way (G[o, n*P + s] = g[n, o, s]).

    /// <summary>Whether the batched small-plane path applies (Note [Batched im2col for small planes]).</summary>
    static bool Batched(in Problem p) => p.Groups == 1 && p.N > 1 && p.G.OutPlane < 64;

    /// <summary>col[q, n*P + s] = unfold(x[n])[q, s] for the whole batch (Ckk x N*P), images in parallel.</summary>
    static void UnfoldBatch<T>(in Problem p, T[] x, int xOff, T[] col) where T : unmanaged, INumber<T> =>
        ParallelFor.For(p.N, Math.Max(1, (1 << 15) / Math.Max(1, p.Ckk * p.G.OutPlane)), new BatchBody<T>(p, 0, x, xOff, col));

    /// <summary>G[o, n*P + s] = g[n, o, s] (O x N*P), images in parallel.</summary>
    static void GatherGrad<T>(in Problem p, T[] gy, int gyOff, T[] dst) where T : unmanaged, INumber<T> =>
        ParallelFor.For(p.N, Math.Max(1, (1 << 15) / Math.Max(1, p.O * p.G.OutPlane)), new BatchBody<T>(p, 1, gy, gyOff, dst));

    /// <summary>
    /// Per-image moves between the batch layout (rows of N*P, image n in columns [n*P, (n+1)*P)) and NCHW:
    /// mode 0 unfolds x[n] into col, mode 1 gathers g[n] into G, mode 2 scatters Y into y[n] (+ bias), mode 3 folds
    /// grad_col's columns of image n into gx[n].
    /// </summary>
    readonly struct BatchBody<T>(Problem p, int mode, T[] src, int srcOff, T[] dst, int dstOff = 0, T[]? bias = null, int bOff = 0)
        : IRangeBody where T : unmanaged, INumber<T>
    {
        public void Invoke(int begin, int end)
        {
            var g = p.G;
            int ckk = p.Ckk, plane = g.OutPlane, inPlane = g.InPlane, np = p.N * plane;
            T[]? tmp = mode == 0 || mode == 3 ? ArrayPool<T>.Shared.Rent(ckk * plane) : null;
            for (int n = begin; n < end; n++)
            {
                switch (mode)
                {
                    case 0:
                    {
                        var image = new ReadOnlySpan<T>(src, srcOff + n * p.C * inPlane, p.C * inPlane);
                        ReadOnlySpan<T> cols = image;
                        if (!g.IsPointwise)
                        {
                            Im2Col.Unfold(image, p.C, g, tmp.AsSpan(0, ckk * plane));
                            cols = tmp.AsSpan(0, ckk * plane);
                        }
                        for (int q = 0; q < ckk; q++) cols.Slice(q * plane, plane).CopyTo(dst.AsSpan(q * np + n * plane, plane));
                        break;
                    }
                    case 1:
                        for (int o = 0; o < p.O; o++)
                            new ReadOnlySpan<T>(src, srcOff + (n * p.O + o) * plane, plane).CopyTo(dst.AsSpan(o * np + n * plane, plane));
                        break;
                    case 2:
                        for (int o = 0; o < p.O; o++)
                        {
                            var from = new ReadOnlySpan<T>(src, o * np + n * plane, plane);
                            var to = new Span<T>(dst, dstOff + (n * p.O + o) * plane, plane);
                            if (bias is null) from.CopyTo(to);
                            else
                            {
                                T b = bias[bOff + o];
                                for (int s = 0; s < plane; s++) to[s] = from[s] + b;
                            }
                        }
                        break;
                    default:
                    {
                        var cols = tmp.AsSpan(0, ckk * plane);
                        for (int q = 0; q < ckk; q++) src.AsSpan(q * np + n * plane, plane).CopyTo(cols.Slice(q * plane, plane));
                        var image = new Span<T>(dst, dstOff + n * p.C * inPlane, p.C * inPlane);
                        if (g.IsPointwise) cols.CopyTo(image);
                        else
                        {
                            image.Clear();
                            Im2Col.Fold<T>(cols, p.C, g, image);
                        }
                        break;
                    }
                }
            }
            if (tmp is not null) ArrayPool<T>.Shared.Return(tmp);
        }
    }

    static void ForwardBatched<T>(Problem p, T[] x, int xOff, T[] w, int wOff, T[]? bias, int bOff, T[] y, int yOff)
        where T : unmanaged, INumber<T>
    {
        int ckk = p.Ckk, plane = p.G.OutPlane, np = p.N * plane;
        T[] col = ArrayPool<T>.Shared.Rent(ckk * np), yAll = ArrayPool<T>.Shared.Rent(p.O * np);
        try
        {
            UnfoldBatch(p, x, xOff, col);
            Mm(p.O, np, ckk, new ReadOnlySpan<T>(w, wOff, p.O * ckk), ckk, 1, col.AsSpan(0, ckk * np), np, 1,
                yAll.AsSpan(0, p.O * np), np, accumulate: false);
            ParallelFor.For(p.N, Math.Max(1, (1 << 15) / Math.Max(1, p.O * plane)), new BatchBody<T>(p, 2, yAll, 0, y, yOff, bias, bOff));
        }
        finally
        {
            ArrayPool<T>.Shared.Return(col);
            ArrayPool<T>.Shared.Return(yAll);
        }
    }

    static void BackwardInputBatched<T>(Problem p, T[] gy, int gyOff, T[] w, int wOff, T[] gx, int gxOff)
        where T : unmanaged, INumber<T>
    {
        int ckk = p.Ckk, plane = p.G.OutPlane, np = p.N * plane;
        T[] gAll = ArrayPool<T>.Shared.Rent(p.O * np), colGrad = ArrayPool<T>.Shared.Rent(ckk * np);
        try
        {
            GatherGrad(p, gy, gyOff, gAll);
            // W^T: element (row q, column o) sits at w[o*ckk + q].
            Mm(ckk, np, p.O, new ReadOnlySpan<T>(w, wOff, p.O * ckk), 1, ckk, gAll.AsSpan(0, p.O * np), np, 1,
                colGrad.AsSpan(0, ckk * np), np, accumulate: false);
            ParallelFor.For(p.N, Math.Max(1, (1 << 15) / Math.Max(1, ckk * plane)), new BatchBody<T>(p, 3, colGrad, 0, gx, gxOff));
        }
        finally
        {
            ArrayPool<T>.Shared.Return(gAll);
            ArrayPool<T>.Shared.Return(colGrad);
        }
    }

    static void BackwardWeightBatched<T>(Problem p, T[] x, int xOff, T[] gy, int gyOff, T[] gw, int gwOff)
        where T : unmanaged, INumber<T>
    {
        int ckk = p.Ckk, plane = p.G.OutPlane, np = p.N * plane;
        T[] gAll = ArrayPool<T>.Shared.Rent(p.O * np), col = ArrayPool<T>.Shared.Rent(ckk * np);
        try
        {
            GatherGrad(p, gy, gyOff, gAll);
            UnfoldBatch(p, x, xOff, col);
            // col^T: element (row j, column q) sits at col[q*np + j].
            Mm(p.O, ckk, np, gAll.AsSpan(0, p.O * np), np, 1, col.AsSpan(0, ckk * np), 1, np,
                new Span<T>(gw, gwOff, p.O * ckk), ckk, accumulate: false);
        }
        finally
        {
            ArrayPool<T>.Shared.Return(gAll);
            ArrayPool<T>.Shared.Return(col);
        }
    }

    readonly struct ForwardBody<T>(Problem p, T[] x, int xOff, T[] w, int wOff, T[]? bias, int bOff, T[] y, int yOff)
        : IRangeBody where T : unmanaged, INumber<T>
    {
        public void Invoke(int begin, int end)
        {
            var g = p.G;
            int ckk = p.Ckk, plane = g.OutPlane, inPlane = g.InPlane;
            T[]? col = g.IsPointwise ? null : ArrayPool<T>.Shared.Rent(ckk * plane);
            for (int n = begin; n < end; n++)
                for (int grp = 0; grp < p.Groups; grp++)
                {
                    var image = new ReadOnlySpan<T>(x, xOff + (n * p.C + grp * p.Cg) * inPlane, p.Cg * inPlane);
                    ReadOnlySpan<T> cols = image;
                    if (col is not null)
                    {
                        Im2Col.Unfold(image, p.Cg, g, col.AsSpan(0, ckk * plane));
                        cols = col.AsSpan(0, ckk * plane);
                    }
                    var dst = new Span<T>(y, yOff + (n * p.O + grp * p.Og) * plane, p.Og * plane);
                    if (bias is not null)
                        for (int o = 0; o < p.Og; o++) dst.Slice(o * plane, plane).Fill(bias[bOff + grp * p.Og + o]);
                    Mm(p.Og, plane, ckk, new ReadOnlySpan<T>(w, wOff + grp * p.Og * ckk, p.Og * ckk), ckk, 1,
                        cols, plane, 1, dst, plane, accumulate: bias is not null);
                }
            if (col is not null) ArrayPool<T>.Shared.Return(col);
        }
    }

    // ---- backward: input -------------------------------------------------------------------------------------

    /// <summary>gx = conv^T(g, w): the gradient of the convolution with respect to its input (overwrites gx).</summary>
    public static void BackwardInput<T>(Problem p, T[] gy, int gyOff, T[] w, int wOff, T[] gx, int gxOff)
        where T : unmanaged, INumber<T>
    {
        if (typeof(T) == typeof(float) && UseConvGemm(p))
        {
            ConvGemmArrays.BackwardInput(p, (float[])(object)gy, gyOff, (float[])(object)w, wOff, (float[])(object)gx, gxOff);
            return;
        }
        if (Batched(p))
        {
            BackwardInputBatched(p, gy, gyOff, w, wOff, gx, gxOff);
            return;
        }
        ParallelFor.For(p.N, Grain(p), new InputBody<T>(p, gy, gyOff, w, wOff, gx, gxOff));
    }

    readonly struct InputBody<T>(Problem p, T[] gy, int gyOff, T[] w, int wOff, T[] gx, int gxOff)
        : IRangeBody where T : unmanaged, INumber<T>
    {
        public void Invoke(int begin, int end)
        {
            var g = p.G;
            int ckk = p.Ckk, plane = g.OutPlane, inPlane = g.InPlane;
            T[]? col = g.IsPointwise ? null : ArrayPool<T>.Shared.Rent(ckk * plane);
            for (int n = begin; n < end; n++)
                for (int grp = 0; grp < p.Groups; grp++)
                {
                    var image = new Span<T>(gx, gxOff + (n * p.C + grp * p.Cg) * inPlane, p.Cg * inPlane);
                    var grad = new ReadOnlySpan<T>(gy, gyOff + (n * p.O + grp * p.Og) * plane, p.Og * plane);
                    var weights = new ReadOnlySpan<T>(w, wOff + grp * p.Og * ckk, p.Og * ckk);
                    // W[grp]^T: element (row q, column o) sits at w[o*ckk + q].
                    if (col is null)
                    {
                        Mm(ckk, plane, p.Og, weights, 1, ckk, grad, plane, 1, image, plane, accumulate: false);
                        continue;
                    }
                    var cols = col.AsSpan(0, ckk * plane);
                    Mm(ckk, plane, p.Og, weights, 1, ckk, grad, plane, 1, cols, plane, accumulate: false);
                    image.Clear();
                    Im2Col.Fold<T>(cols, p.Cg, g, image);
                }
            if (col is not null) ArrayPool<T>.Shared.Return(col);
        }
    }

    // ---- backward: weight ------------------------------------------------------------------------------------

    /// <summary>gw = sum over the batch of g[n] @ unfold(x[n])^T: the gradient with respect to the weight (overwrites gw).</summary>
    public static void BackwardWeight<T>(Problem p, T[] x, int xOff, T[] gy, int gyOff, T[] gw, int gwOff)
        where T : unmanaged, INumber<T>
    {
        if (typeof(T) == typeof(float) && UseConvGemm(p))
        {
            ConvGemmArrays.BackwardWeight(p, (float[])(object)x, xOff, (float[])(object)gy, gyOff, (float[])(object)gw, gwOff);
            return;
        }
        if (Batched(p))
        {
            BackwardWeightBatched(p, x, xOff, gy, gyOff, gw, gwOff);
            return;
        }
        int size = p.O * p.Ckk;
        int chunks = (int)Math.Clamp(p.N * p.MacsPerImage / WorkPerTask, 1, Math.Min(p.N, ParallelFor.NumThreads));
        var target = new Span<T>(gw, gwOff, size);
        if (chunks == 1)
        {
            target.Clear();
            new WeightBody<T>(p, x, xOff, gy, gyOff, gw, gwOff, 1, 0).Invoke(0, 1);
            return;
        }
        var partial = ArrayPool<T>.Shared.Rent(chunks * size);
        partial.AsSpan(0, chunks * size).Clear();
        ParallelFor.For(chunks, 1, new WeightBody<T>(p, x, xOff, gy, gyOff, partial, 0, chunks, size));
        partial.AsSpan(0, size).CopyTo(target);
        for (int c = 1; c < chunks; c++)
        {
            var src = partial.AsSpan(c * size, size);
            for (int i = 0; i < size; i++) target[i] += src[i];
        }
        ArrayPool<T>.Shared.Return(partial);
    }

    readonly struct WeightBody<T>(Problem p, T[] x, int xOff, T[] gy, int gyOff, T[] acc, int accOff, int chunks, int stride)
        : IRangeBody where T : unmanaged, INumber<T>
    {
        public void Invoke(int begin, int end)
        {
            var g = p.G;
            int ckk = p.Ckk, plane = g.OutPlane, inPlane = g.InPlane;
            int per = (p.N + chunks - 1) / chunks;
            T[]? col = g.IsPointwise ? null : ArrayPool<T>.Shared.Rent(ckk * plane);
            for (int chunk = begin; chunk < end; chunk++)
            {
                var dst = new Span<T>(acc, accOff + chunk * stride, p.O * ckk);
                for (int n = chunk * per; n < Math.Min(p.N, (chunk + 1) * per); n++)
                    for (int grp = 0; grp < p.Groups; grp++)
                    {
                        var image = new ReadOnlySpan<T>(x, xOff + (n * p.C + grp * p.Cg) * inPlane, p.Cg * inPlane);
                        ReadOnlySpan<T> cols = image;
                        if (col is not null)
                        {
                            Im2Col.Unfold(image, p.Cg, g, col.AsSpan(0, ckk * plane));
                            cols = col.AsSpan(0, ckk * plane);
                        }
                        var grad = new ReadOnlySpan<T>(gy, gyOff + (n * p.O + grp * p.Og) * plane, p.Og * plane);
                        // col^T: element (row s, column q) sits at col[q*plane + s].
                        Mm(p.Og, ckk, plane, grad, plane, 1, cols, 1, plane, dst.Slice(grp * p.Og * ckk, p.Og * ckk), ckk, accumulate: true);
                    }
            }
            if (col is not null) ArrayPool<T>.Shared.Return(col);
        }
    }
}
