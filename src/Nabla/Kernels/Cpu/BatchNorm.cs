using System.Numerics;
using System.Numerics.Tensors;

namespace Nabla.Kernels.Cpu;

/// <summary>
/// Batch-norm kernels over a contiguous (N, C, S) layout (S = product of the spatial sizes), one channel range per
/// worker. Sums are accumulated in double, as PyTorch's CPU kernels accumulate float in double.
/// </summary>
internal static class BatchNormKernels
{
    const int WorkPerTask = 1 << 15;

    static int Grain(int n, int s) => (int)Math.Max(1, WorkPerTask / Math.Max(1L, (long)n * s));

    /// <summary>Per-channel mean and biased variance (two passes).</summary>
    public static void Stats<T>(T[] x, int xOff, int n, int c, int s, double[] mean, double[] var) where T : unmanaged, INumber<T>
    {
        ParallelFor.For(c, Grain(n, s), new StatsBody<T>(x, xOff, n, c, s, mean, var));
    }

    readonly struct StatsBody<T>(T[] x, int xOff, int n, int c, int s, double[] mean, double[] var) : IRangeBody where T : unmanaged, INumber<T>
    {
        public void Invoke(int begin, int end)
        {
            double count = (double)n * s;
            for (int ch = begin; ch < end; ch++)
            {
                double sum = 0;
                for (int b = 0; b < n; b++)
                {
                    var row = new ReadOnlySpan<T>(x, xOff + (b * c + ch) * s, s);
                    for (int i = 0; i < row.Length; i++) sum += double.CreateTruncating(row[i]);
                }
                double m = sum / count, sq = 0;
                for (int b = 0; b < n; b++)
                {
                    var row = new ReadOnlySpan<T>(x, xOff + (b * c + ch) * s, s);
                    for (int i = 0; i < row.Length; i++) { double d = double.CreateTruncating(row[i]) - m; sq += d * d; }
                }
                mean[ch] = m;
                var[ch] = sq / count;
            }
        }
    }

    /// <summary>y = x * alpha[c] + beta[c].</summary>
    public static void Transform<T>(T[] x, int xOff, T[] y, int yOff, int n, int c, int s, T[] alpha, T[] beta) where T : unmanaged, INumber<T>
    {
        ParallelFor.For(n * c, Grain(1, s), new TransformBody<T>(x, xOff, y, yOff, c, s, alpha, beta));
    }

    readonly struct TransformBody<T>(T[] x, int xOff, T[] y, int yOff, int c, int s, T[] alpha, T[] beta, bool relu = false) : IRangeBody where T : unmanaged, INumber<T>
    {
        public void Invoke(int begin, int end)
        {
            for (int r = begin; r < end; r++)
            {
                T a = alpha[r % c], b = beta[r % c];
                var src = new ReadOnlySpan<T>(x, xOff + r * s, s);
                var dst = new Span<T>(y, yOff + r * s, s);
                // dst = src * a + b (then, fused, the ReLU while the row is in L1: the same two roundings either way)
                TensorPrimitives.Multiply(src, a, dst);
                TensorPrimitives.Add(dst, b, dst);
                if (relu) Elementwise.Unary<T, ReluOp<T>>(dst, dst);
            }
        }
    }

    /// <summary>
    /// y = relu(x * alpha[c] + beta[c]): batch norm (eval mode with folded statistics, or training mode after
    /// <see cref="Stats{T}"/>) fused with the ReLU that follows it (Note [Batch norm + ReLU]).
    /// </summary>
    /// <remarks>
    /// Note [Batch norm + ReLU]: ResNet's batch norms are followed by a ReLU. Unfused, the pair reads and writes the
    /// activation twice (and its backward reads the ReLU output and writes a masked gradient before the batch-norm
    /// backward reads it again); on a machine with a third of the memory bandwidth those passes dominate. Fused, each
    /// row of S values is transformed and clamped while it is in L1, and <see cref="BackwardRelu{T}"/> applies the
    /// ReLU mask (y &gt; 0, as torch's threshold_backward: NaN and 0 pass no gradient) inside the batch-norm backward's
    /// own loops. The arithmetic is the unfused ops' own, in the same order, so results are identical.
    /// </remarks>
    public static void TransformRelu<T>(T[] x, int xOff, T[] y, int yOff, int n, int c, int s, T[] alpha, T[] beta) where T : unmanaged, INumber<T>
    {
        ParallelFor.For(n * c, Grain(1, s), new TransformBody<T>(x, xOff, y, yOff, c, s, alpha, beta, relu: true));
    }

    /// <summary>
    /// <see cref="Backward{T}"/> of batch norm followed by a ReLU whose output is <paramref name="y"/> (same layout as x):
    /// the incoming gradient <paramref name="g"/> counts only where y &gt; 0 (Note [Batch norm + ReLU]).
    /// </summary>
    public static void BackwardRelu<T>(T[] x, int xOff, T[] y, int yOff, T[] g, int gOff, int n, int c, int s, double[] mean, double[] invstd,
        double[] weight, bool training, T[]? gx, int gxOff, double[] sumG, double[] dotp) where T : unmanaged, INumber<T>
    {
        ParallelFor.For(c, Grain(n, s), new BackwardBody<T>(x, xOff, g, gOff, n, c, s, mean, invstd, weight, training, gx, gxOff, sumG, dotp, y, yOff));
    }

    /// <summary>
    /// Per channel: sumG = sum(g), dotp = sum((x - mean) * g); when <paramref name="gx"/> is given also
    /// gx = (g - [train] sumG/M - [train] (x - mean) * dotp * invstd^2 / M) * invstd * w.
    /// </summary>
    public static void Backward<T>(T[] x, int xOff, T[] g, int gOff, int n, int c, int s, double[] mean, double[] invstd,
        double[] weight, bool training, T[]? gx, int gxOff, double[] sumG, double[] dotp) where T : unmanaged, INumber<T>
    {
        ParallelFor.For(c, Grain(n, s), new BackwardBody<T>(x, xOff, g, gOff, n, c, s, mean, invstd, weight, training, gx, gxOff, sumG, dotp));
    }

    /// <summary>The batch-norm backward loops; with <paramref name="reluOut"/> the gradient is masked by reluOut &gt; 0.</summary>
    readonly struct BackwardBody<T>(T[] x, int xOff, T[] g, int gOff, int n, int c, int s, double[] mean, double[] invstd,
        double[] weight, bool training, T[]? gx, int gxOff, double[] sumG, double[] dotp, T[]? reluOut = null, int reluOff = 0)
        : IRangeBody where T : unmanaged, INumber<T>
    {
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        double G(ReadOnlySpan<T> gs, ReadOnlySpan<T> ys, int i) =>
            reluOut is null || ys[i] > T.Zero ? double.CreateTruncating(gs[i]) : 0.0;

        public void Invoke(int begin, int end)
        {
            double count = (double)n * s;
            for (int ch = begin; ch < end; ch++)
            {
                double m = mean[ch], sum = 0, dot = 0;
                for (int b = 0; b < n; b++)
                {
                    var xs = new ReadOnlySpan<T>(x, xOff + (b * c + ch) * s, s);
                    var gs = new ReadOnlySpan<T>(g, gOff + (b * c + ch) * s, s);
                    var ys = reluOut is null ? default : new ReadOnlySpan<T>(reluOut, reluOff + (b * c + ch) * s, s);
                    for (int i = 0; i < s; i++)
                    {
                        double gv = G(gs, ys, i);
                        sum += gv;
                        dot += (double.CreateTruncating(xs[i]) - m) * gv;
                    }
                }
                sumG[ch] = sum;
                dotp[ch] = dot;
                if (gx is null) continue;
                double scale = invstd[ch] * weight[ch];
                double k = training ? dot * invstd[ch] * invstd[ch] / count : 0;
                double gradMean = training ? sum / count : 0;
                for (int b = 0; b < n; b++)
                {
                    var xs = new ReadOnlySpan<T>(x, xOff + (b * c + ch) * s, s);
                    var gs = new ReadOnlySpan<T>(g, gOff + (b * c + ch) * s, s);
                    var dst = new Span<T>(gx, gxOff + (b * c + ch) * s, s);
                    var ys = reluOut is null ? default : new ReadOnlySpan<T>(reluOut, reluOff + (b * c + ch) * s, s);
                    for (int i = 0; i < s; i++)
                    {
                        double v = G(gs, ys, i) - gradMean - (double.CreateTruncating(xs[i]) - m) * k;
                        dst[i] = T.CreateTruncating(v * scale);
                    }
                }
            }
        }
    }
}
