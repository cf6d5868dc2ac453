using Nabla.Kernels.Cpu;
using Xunit;

namespace Nabla.Tests.Kernels;

/// <summary>Fused kernels (relu/clamp backward, add with alpha) against scalar references (every tail length, NaN, bounds).</summary>
public class FusedKernelTests
{
    [Fact]
    public void Select_matches_the_scalar_rule_for_all_tail_lengths_and_element_sizes()
    {
        var rng = new Random(5);
        for (int n = 0; n <= 70; n++)
        {
            var c = new bool[n];
            for (int i = 0; i < n; i++) c[i] = rng.Next(2) == 1;
            var xf = Values(n, 1); var yf = Values(n, 2); var df = new float[n];
            SelectKernels.Select<float>(c, xf, 0f, false, yf, df);
            for (int i = 0; i < n; i++) Assert.Equal(c[i] ? xf[i] : yf[i], df[i]);
            SelectKernels.Select<float>(c, default, -7f, true, yf, df);
            for (int i = 0; i < n; i++) Assert.Equal(c[i] ? -7f : yf[i], df[i]);
            var xl = new long[n]; var yl = new long[n]; var dl = new long[n];
            for (int i = 0; i < n; i++) { xl[i] = (1L << 60) + i; yl[i] = -i; }
            SelectKernels.Select<long>(c, xl, 0, false, yl, dl);
            for (int i = 0; i < n; i++) Assert.Equal(c[i] ? xl[i] : yl[i], dl[i]);
        }
    }

    [Fact]
    public void Where_keeps_int64_values_beyond_double_precision_and_broadcasts()
    {
        long big = (1L << 62) + 1;
        var r = torch.where(torch.tensor(new[] { true, false, true }), torch.tensor(new[] { big, big, big }), torch.tensor(new long[] { 0, 1, 2 }));
        Assert.Equal(new[] { big, 1L, big }, r.ToArray<long>());
        var m = torch.tensor(new[] { true, false }).view(2, 1);
        var w = torch.where(m, torch.ones(2, 3), torch.zeros(3));
        Assert.Equal(new float[] { 1, 1, 1, 0, 0, 0 }, w.ToArray<float>());
        var f = torch.arange(6).view(2, 3).t().masked_fill(torch.tensor(new[] { true, false }), -1L);
        Assert.Equal(new long[] { -1, 3, -1, 4, -1, 5 }, f.ToArray<long>());
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float64)]
    [InlineData(ScalarType.Int64)]
    [InlineData(ScalarType.Int32)]
    public void Transposed_copies_and_ops_match_the_element_by_element_definition(ScalarType dtype)
    {
        // Shapes with ragged 8 x 8 edges, a batch dim, and a sliced (offset, padded-stride) source.
        foreach (var (b, r, c) in new[] { (1, 8, 8), (1, 67, 9), (3, 19, 70), (2, 64, 64), (2, 301, 259) })   // the last in parallel bands
        {
            var x = torch.arange(b * r * c * 2, dtype: dtype).view(b, c, 2 * r)[.., .., 1..(r + 1)];   // (b, c, r), row stride 2r
            var t = x.transpose(1, 2);                                                            // (b, r, c), stride 1 on r
            var expected = new double[b * r * c];
            var xs = x.contiguous().to(ScalarType.Float64).ToArray<double>();
            for (int i = 0; i < b; i++)
                for (int rr = 0; rr < r; rr++)
                    for (int cc = 0; cc < c; cc++)
                        expected[(i * r + rr) * c + cc] = xs[(i * c + cc) * r + rr];
            Assert.Equal(expected, t.contiguous().to(ScalarType.Float64).ToArray<double>());
            var ones = torch.ones(new long[] { b, r, c }, dtype: dtype);
            Assert.Equal(expected.Select(v => v + 1).ToArray(), (ones + t).to(ScalarType.Float64).ToArray<double>());
            Assert.Equal(expected.Select(v => v > 5).ToArray(), t.gt(ones * 5).ToArray<bool>());
            Assert.Equal(expected.Select(v => -v).ToArray(), (-t).to(ScalarType.Float64).ToArray<double>());
        }
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float64)]
    [InlineData(ScalarType.Int64)]
    [InlineData(ScalarType.Int32)]
    [InlineData(ScalarType.Bool)]
    public void A_broadcast_single_element_copies_as_a_fill_into_every_position(ScalarType dtype)
    {
        // The sum's gradient reaches convolution backward as one element expanded to the output's shape.
        var source = torch.arange(5, dtype: ScalarType.Int64).to(dtype)[3..4];          // offset 3 in its storage
        foreach (var shape in new[] { new long[] { 2, 3, 5 }, new long[] { 1 }, new long[] { 4, 0 }, new long[] { 67 } })
        {
            var e = source.view(Enumerable.Repeat(1L, shape.Length).ToArray()).expand(shape);
            var c = e.contiguous();
            Assert.Equal(shape, c.shape);
            Assert.True(c.is_contiguous());
            var expected = Enumerable.Repeat(dtype == ScalarType.Bool ? 1.0 : 3.0, (int)shape.Aggregate(1L, (a, b) => a * b)).ToArray();
            Assert.Equal(expected, c.to(ScalarType.Float64).ToArray<double>());
        }
        // Into a non-contiguous destination the general strided copy still runs.
        var dst = torch.zeros(new long[] { 4, 6 }, dtype: dtype).t();
        dst.copy_(source.expand(6, 4));
        Assert.Equal(Enumerable.Repeat(dtype == ScalarType.Bool ? 1.0 : 3.0, 24).ToArray(), dst.contiguous().to(ScalarType.Float64).ToArray<double>());
    }

    [Fact]
    public void Axpy_is_one_fused_multiply_add_per_element_for_all_tail_lengths()
    {
        for (int n = 0; n <= 130; n++)
        {
            var x = Values(n, 3);
            var y = Values(n, 4);
            var d = new float[n];
            Elementwise.Axpy<float>(x, y, -0.37f, d);
            for (int i = 0; i < n; i++) Assert.Equal(MathF.FusedMultiplyAdd(y[i], -0.37f, x[i]), d[i]);
            var xd = Array.ConvertAll(x, v => (double)v);
            var yd = Array.ConvertAll(y, v => (double)v);
            var dd = new double[n];
            Elementwise.Axpy<double>(xd, yd, 1.25, dd);
            for (int i = 0; i < n; i++) Assert.Equal(Math.FusedMultiplyAdd(yd[i], 1.25, xd[i]), dd[i]);
        }
    }

    [Fact]
    public void Add_and_sub_with_alpha_take_the_fused_path_only_for_dense_same_shape_operands()
    {
        var a = torch.tensor(new float[] { 1, 2, 3, 4 });
        var b = torch.tensor(new float[] { 10, 20, 30, 40 });
        Assert.Equal(new float[] { 6, 12, 18, 24 }, a.add(b, 0.5).ToArray<float>());
        Assert.Equal(new float[] { -4, -8, -12, -16 }, a.sub(b, 0.5).ToArray<float>());
        // Broadcast and strided operands go through the general path with the same values.
        var row = torch.tensor(new float[] { 10, 20 });
        Assert.Equal(new float[] { 6, 12, 8, 14 }, a.view(2, 2).add(row, 0.5).ToArray<float>());
        Assert.Equal(new float[] { 6, 17, 13, 24 }, a.view(2, 2).add(b.view(2, 2).t(), 0.5).ToArray<float>());
        var c = a.clone();
        c.add_(b, -1).sub_(b, 2);
        Assert.Equal(new float[] { -29, -58, -87, -116 }, c.ToArray<float>());
        var m = torch.tensor(new float[] { 1, 2, 3, 4 }).view(2, 2);
        m.add_(b.view(2, 2).t(), 2);
        Assert.Equal(new float[] { 21, 62, 43, 84 }, m.ToArray<float>());
        // An integer tensor with a float alpha cannot be updated in place (PyTorch's cast rule), and says so.
        Assert.ThrowsAny<Exception>(() => torch.tensor(new long[] { 1, 2 }).add_(torch.tensor(new long[] { 1, 1 }), 0.5));
    }

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
