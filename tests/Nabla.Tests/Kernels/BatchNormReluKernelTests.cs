using Nabla.Kernels.Cpu;
using Xunit;

namespace Nabla.Tests.Kernels;

/// <summary>Note [Batch norm + ReLU]: the fused kernels equal batch norm then ReLU (and their backward) bit for bit.</summary>
public class BatchNormReluKernelTests
{
    [Theory]
    [InlineData(2, 3, 37)]
    [InlineData(4, 16, 64)]
    [InlineData(1, 5, 1)]
    [InlineData(3, 2, 129)]
    public void Fused_forward_and_backward_equal_the_unfused_pair(int n, int c, int s)
    {
        var rng = new Random(n * 100 + c * 10 + s);
        int len = n * c * s, off = 3;
        var x = new float[len + off];
        var g = new float[len + off];
        for (int i = 0; i < x.Length; i++) { x[i] = (float)(rng.NextDouble() * 4 - 2); g[i] = (float)(rng.NextDouble() * 2 - 1); }
        x[off + len / 2] = float.NaN;
        var alpha = new float[c]; var beta = new float[c];
        for (int i = 0; i < c; i++) { alpha[i] = (float)(rng.NextDouble() + 0.5); beta[i] = (float)(rng.NextDouble() - 0.5); }

        // Forward: Transform then ReLU against TransformRelu.
        var unfused = new float[len + 1]; var fused = new float[len + 1];
        BatchNormKernels.Transform(x, off, unfused, 1, n, c, s, alpha, beta);
        for (int i = 1; i <= len; i++) unfused[i] = ReluOp<float>.Invoke(unfused[i]);
        BatchNormKernels.TransformRelu(x, off, fused, 1, n, c, s, alpha, beta);
        for (int i = 0; i <= len; i++)
            Assert.Equal(BitConverter.SingleToInt32Bits(unfused[i]), BitConverter.SingleToInt32Bits(fused[i]));

        // Backward: mask g by y > 0, then Backward, against BackwardRelu; training and eval.
        var mean = new double[c]; var varr = new double[c];
        var xClean = (float[])x.Clone();
        xClean[off + len / 2] = 0.25f;
        BatchNormKernels.Stats(xClean, off, n, c, s, mean, varr);
        var invstd = varr.Select(v => 1 / Math.Sqrt(v + 1e-5)).ToArray();
        var weight = alpha.Select(a => (double)a).ToArray();
        var masked = new float[len + off];
        for (int i = 0; i < len; i++) masked[off + i] = fused[1 + i] > 0 ? g[off + i] : 0f;
        var y = new float[len + 2];
        Array.Copy(fused, 1, y, 2, len);
        foreach (bool training in new[] { true, false })
        {
            var gx1 = new float[len]; var gx2 = new float[len];
            double[] s1 = new double[c], d1 = new double[c], s2 = new double[c], d2 = new double[c];
            BatchNormKernels.Backward(xClean, off, masked, off, n, c, s, mean, invstd, weight, training, gx1, 0, s1, d1);
            BatchNormKernels.BackwardRelu(xClean, off, y, 2, g, off, n, c, s, mean, invstd, weight, training, gx2, 0, s2, d2);
            Assert.Equal(s1, s2);
            Assert.Equal(d1, d2);
            Assert.Equal(gx1, gx2);
            if (n * s > 1) Assert.Contains(gx2, v => v != 0); // one value per channel: training-mode gx is 0
        }
    }
}
