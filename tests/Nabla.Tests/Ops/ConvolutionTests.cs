using Nabla.Ops;
using Xunit;
using static Nabla.Tests.ConvFixtures;

namespace Nabla.Tests;

/// <summary>conv2d against PyTorch 1.13 (Fixtures/conv/conv.json), gradchecks of first and second order, node layout, errors.</summary>
public class ConvolutionTests
{
    public static IEnumerable<object[]> Cases => Names("conv.json");

    static Tensor Conv2d(Tensor x, Tensor w, Tensor? b, long[] s, long[] p, long[] d, long g) => Conv.Conv2d(x, w, b, s, p, d, g);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_pytorch(string name)
    {
        var c = Case("conv.json", name);
        var x = Tensor(c.GetProperty("input"), true)!;
        var w = Tensor(c.GetProperty("weight"), true)!;
        var b = Tensor(c.GetProperty("bias"), true);
        var y = Conv2d(x, w, b, Longs(c.GetProperty("stride")), Longs(c.GetProperty("padding")), Longs(c.GetProperty("dilation")),
            c.GetProperty("groups").GetInt64());
        double tol = x.dtype == torch.float32 ? 1e-4 : 1e-10;
        AssertClose(c.GetProperty("output"), y, tol, what: "output");
        Assert.Equal(c.GetProperty("grad_fn").GetString(), y.grad_fn!.name());
        AssertNextFunctions(c.GetProperty("next_functions"), y);

        y.backward(Tensor(c.GetProperty("grad_output")));
        AssertClose(c.GetProperty("grad_input"), x.grad, tol, what: "grad_input");
        AssertClose(c.GetProperty("grad_weight"), w.grad, tol, what: "grad_weight");
        if (b is not null) AssertClose(c.GetProperty("grad_bias"), b.grad, tol, what: "grad_bias");
    }

    [Theory]
    [InlineData(1, 1, 0, 1, 1, true)]
    [InlineData(2, 2, 1, 1, 1, true)]
    [InlineData(1, 1, 2, 2, 1, false)]
    [InlineData(2, 1, 1, 1, 2, true)]
    public void Gradcheck_first_and_second_order(int n, long stride, long padding, long dilation, long groups, bool bias)
    {
        var rng = new Random(7);
        var x = Randn(rng, n, 2 * groups, 5, 4);
        var w = Randn(rng, 2 * groups, 2, 2, 3);
        var inputs = bias ? new[] { x, w, Randn(rng, 2 * groups) } : new[] { x, w };
        GradCheck(t => Conv2d(t[0], t[1], t.Length > 2 ? t[2] : null, new[] { stride }, new[] { padding }, new[] { dilation }, groups), inputs);
    }

    [Fact]
    public void Gradcheck_pointwise_and_unbatched()
    {
        var rng = new Random(3);
        GradCheck(t => Conv2d(t[0], t[1], t[2], new[] { 1L }, new[] { 0L }, new[] { 1L }, 1), new[] { Randn(rng, 2, 3, 3, 2), Randn(rng, 4, 3, 1, 1), Randn(rng, 4) });
        GradCheck(t => Conv2d(t[0], t[1], null, new[] { 2L, 1L }, new[] { 1L, 0L }, new[] { 1L }, 1), new[] { Randn(rng, 2, 4, 3), Randn(rng, 3, 2, 2, 2) });
    }

    [Fact]
    public void Double_backward_is_recorded_as_pytorch_does()
    {
        var rng = new Random(5);
        var x = Randn(rng, 1, 2, 4, 4);
        var w = Randn(rng, 3, 2, 3, 3);
        var b = Randn(rng, 3);
        var y = Conv2d(x, w, b, new[] { 1L }, new[] { 1L }, new[] { 1L }, 1);
        var g = Randn(rng, 1, 3, 4, 4);
        var grads = torch.autograd.grad(new[] { y }, new[] { x, w, b }, new[] { g }, create_graph: true);
        var node = grads[0]!.grad_fn!;
        Assert.Equal("ConvolutionBackwardBackward0", node.name());
        Assert.Same(node, grads[1]!.grad_fn);
        Assert.Same(node, grads[2]!.grad_fn);
        var next = node.next_functions;
        Assert.Equal(3, next.Count);
        // [grad_output, input, weight]: g, x and w are leaves, so three accumulators, x's being the one conv2d used.
        foreach (var (n, _) in next) Assert.Equal("torch::autograd::AccumulateGrad", n!.name());
        Assert.Same(y.grad_fn!.next_functions[0].node, next[1].node);
        Assert.Same(y.grad_fn!.next_functions[1].node, next[2].node);
        // Without create_graph the gradients are plain tensors.
        var y2 = Conv2d(x, w, b, new[] { 1L }, new[] { 1L }, new[] { 1L }, 1);
        var plain = torch.autograd.grad(new[] { y2 }, new[] { x }, new[] { g });
        Assert.Null(plain[0]!.grad_fn);
    }

    [Fact]
    public void Parallel_batch_matches_reference_loops()
    {
        // Large enough for several workers and partial grad_weight buffers; checked against direct summation.
        var rng = new Random(11);
        var x = Randn(rng, 8, 16, 12, 12);
        var w = Randn(rng, 16, 8, 3, 3);
        var y = Conv2d(x, w, null, new[] { 1L }, new[] { 1L }, new[] { 1L }, 2);
        var g = Randn(rng, 8, 16, 12, 12);
        y.backward(g);
        var xs = x.ToDoubleArray(); var ws = w.ToDoubleArray(); var gs = g.ToDoubleArray();
        var ys = y.ToDoubleArray(); var gx = x.grad!.ToDoubleArray(); var gw = w.grad!.ToDoubleArray();
        var refY = new double[ys.Length]; var refGx = new double[xs.Length]; var refGw = new double[ws.Length];
        for (int n = 0; n < 8; n++)
            for (int o = 0; o < 16; o++)
                for (int oh = 0; oh < 12; oh++)
                    for (int ow = 0; ow < 12; ow++)
                    {
                        int yi = ((n * 16 + o) * 12 + oh) * 12 + ow;
                        int grp = o / 8;
                        for (int ci = 0; ci < 8; ci++)
                            for (int ki = 0; ki < 3; ki++)
                                for (int kj = 0; kj < 3; kj++)
                                {
                                    int ih = oh - 1 + ki, iw = ow - 1 + kj;
                                    if (ih < 0 || ih >= 12 || iw < 0 || iw >= 12) continue;
                                    int xi = ((n * 16 + grp * 8 + ci) * 12 + ih) * 12 + iw;
                                    int wi = ((o * 8 + ci) * 3 + ki) * 3 + kj;
                                    refY[yi] += xs[xi] * ws[wi];
                                    refGx[xi] += gs[yi] * ws[wi];
                                    refGw[wi] += gs[yi] * xs[xi];
                                }
                    }
        for (int i = 0; i < ys.Length; i++) Assert.Equal(refY[i], ys[i], 9);
        for (int i = 0; i < xs.Length; i++) Assert.Equal(refGx[i], gx[i], 9);
        for (int i = 0; i < ws.Length; i++) Assert.Equal(refGw[i], gw[i], 9);
    }

    [Fact]
    public void No_grad_records_nothing_and_version_is_checked()
    {
        var rng = new Random(2);
        var x = Randn(rng, 1, 2, 4, 4);
        var w = Randn(rng, 2, 2, 3, 3);
        using (torch.no_grad()) Assert.Null(Conv2d(x, w, null, new[] { 1L }, new[] { 0L }, new[] { 1L }, 1).grad_fn);
        var xi = x.detach().clone().requires_grad_(false);
        var y = Conv2d(xi, w, null, new[] { 1L }, new[] { 0L }, new[] { 1L }, 1);
        xi.mul_(2);
        var ex = Assert.Throws<InvalidOperationException>(() => y.sum().backward());
        Assert.Contains("modified by an inplace operation", ex.Message);
    }

    static Tensor R(params long[] shape) => torch.ones(shape);

    public static IEnumerable<object[]> ErrorCases => new[]
    {
        "conv_channels", "conv_channels_groups", "conv_unbatched_channels", "conv_kernel_too_big", "conv_kernel_too_big_dilated",
        "conv_rank2", "conv_rank5", "conv_bias", "conv_stride0", "conv_padneg", "conv_dilation0", "conv_groups0",
        "conv_groups_weight", "conv_dtype", "conv_dtype2", "conv_padding3", "conv_weight3d",
    }.Select(n => new object[] { n });

    static readonly long[] One = { 1 }, Zero = { 0 };

    [Theory]
    [MemberData(nameof(ErrorCases))]
    public void Errors_match_pytorch(string name)
    {
        Action call = name switch
        {
            "conv_channels" => () => Conv2d(R(1, 4, 8, 8), R(64, 3, 3, 3), null, One, Zero, One, 1),
            "conv_channels_groups" => () => Conv2d(R(1, 4, 8, 8), R(6, 2, 3, 3), null, One, Zero, One, 3),
            "conv_unbatched_channels" => () => Conv2d(R(4, 8, 8), R(6, 3, 3, 3), null, One, Zero, One, 1),
            "conv_kernel_too_big" => () => Conv2d(R(1, 3, 2, 2), R(64, 3, 3, 3), null, One, Zero, One, 1),
            "conv_kernel_too_big_dilated" => () => Conv2d(R(1, 3, 4, 6), R(4, 3, 3, 3), null, One, new long[] { 0, 1 }, new long[] { 2 }, 1),
            "conv_rank2" => () => Conv2d(R(8, 8), R(64, 3, 3, 3), null, One, Zero, One, 1),
            "conv_rank5" => () => Conv2d(R(1, 1, 8, 8, 8), R(64, 3, 3, 3), null, One, Zero, One, 1),
            "conv_bias" => () => Conv2d(R(1, 4, 8, 8), R(6, 4, 3, 3), R(5), One, Zero, One, 1),
            "conv_stride0" => () => Conv2d(R(1, 4, 8, 8), R(6, 4, 3, 3), null, Zero, Zero, One, 1),
            "conv_padneg" => () => Conv2d(R(1, 4, 8, 8), R(6, 4, 3, 3), null, One, new long[] { -1 }, One, 1),
            "conv_dilation0" => () => Conv2d(R(1, 4, 8, 8), R(6, 4, 3, 3), null, One, Zero, Zero, 1),
            "conv_groups0" => () => Conv2d(R(1, 4, 8, 8), R(6, 4, 3, 3), null, One, Zero, One, 0),
            "conv_groups_weight" => () => Conv2d(R(1, 6, 8, 8), R(4, 2, 3, 3), null, One, Zero, One, 3),
            "conv_dtype" => () => Conv2d(R(1, 4, 8, 8), R(6, 4, 3, 3).@double(), null, One, Zero, One, 1),
            "conv_dtype2" => () => Conv2d(R(1, 4, 8, 8).@double(), R(6, 4, 3, 3), null, One, Zero, One, 1),
            "conv_padding3" => () => Conv2d(R(1, 3, 8, 8), R(4, 3, 3, 3), null, One, new long[] { 1, 1, 1 }, One, 1),
            "conv_weight3d" => () => Conv2d(R(1, 3, 8, 8), R(4, 3, 3), null, new long[] { 1, 1 }, new long[] { 0, 0 }, new long[] { 1, 1 }, 1),
            _ => throw new ArgumentException(name),
        };
        AssertError(name, call);
    }
}
