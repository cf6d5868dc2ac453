using Nabla.Kernels.Cpu;
using Xunit;

namespace Nabla.Tests.Kernels;

/// <summary>The fused relu/clamp backward kernels against scalar references (every tail length, NaN, bounds).</summary>
public class MaskKernelTests
{
    static float[] Values(int n, int seed)
    {
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = MathF.Sin(i * 0.37f + seed) * 3 - (i % 5 == 0 ? 0 : 0.5f);
        if (n > 3) v[3] = float.NaN;
        if (n > 5) v[5] = 0f;   // exactly on a bound
        if (n > 7) v[7] = 1f;
        return v;
    }

    [Fact]
    public void Clamp_and_threshold_grads_match_scalar_rules_for_all_tail_lengths()
    {
        for (int n = 0; n <= 130; n++)
        {
            var x = Values(n, 1);
            var g = Values(n, 2);
            for (int i = 0; i < n; i++) if (float.IsNaN(g[i])) g[i] = 2.5f;
            var d = new float[n];
            MaskKernels.ClampGrad<float>(g, x, 0f, 1f, d);
            for (int i = 0; i < n; i++) Assert.Equal(x[i] >= 0f && x[i] <= 1f ? g[i] : 0f, d[i]);
            MaskKernels.ThresholdGrad<float>(g, x, 0f, d);
            for (int i = 0; i < n; i++) Assert.Equal(x[i] <= 0f ? 0f : g[i], d[i]);
            var xd = Array.ConvertAll(x, v => (double)v);
            var gd = Array.ConvertAll(g, v => (double)v);
            var dd = new double[n];
            MaskKernels.ClampGrad<double>(gd, xd, double.NegativeInfinity, 0.5, dd);
            for (int i = 0; i < n; i++) Assert.Equal(xd[i] <= 0.5 ? gd[i] : 0.0, dd[i]);
        }
    }

    [Fact]
    public void Relu_backward_passes_the_gradient_at_NaN_and_blocks_it_at_zero_as_threshold_backward()
    {
        // PyTorch: threshold_backward(grad, result, 0) = result <= 0 ? 0 : grad, so relu(NaN) = NaN passes grad.
        var x = torch.tensor(new float[] { -1f, 0f, 2f, float.NaN }, requires_grad: true);
        x.relu().backward(torch.tensor(new float[] { 1f, 1f, 1f, 1f }));
        Assert.Equal(new float[] { 0f, 0f, 1f, 1f }, x.grad!.ToArray<float>());
    }

    [Fact]
    public void Clamp_backward_blocks_NaN_and_passes_both_bounds()
    {
        var x = torch.tensor(new double[] { -1, 0, 0.5, 1, 2, double.NaN }, requires_grad: true);
        x.clamp(0, 1).backward(torch.ones(6, dtype: ScalarType.Float64));
        Assert.Equal(new double[] { 0, 1, 1, 1, 0, 0 }, x.grad!.ToArray<double>());
        // A broadcast (expanded) gradient takes the recorded-ops path and gives the same values.
        var y = torch.tensor(new double[] { -1, 0, 0.5, 1, 2, double.NaN }, requires_grad: true);
        y.clamp(0, 1).sum().backward();
        Assert.Equal(new double[] { 0, 1, 1, 1, 0, 0 }, y.grad!.ToArray<double>());
    }
}
