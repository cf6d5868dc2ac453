using System.Text.Json;
using Nabla.Ops;
using Xunit;
using static Nabla.Tests.ConvFixtures;

namespace Nabla.Tests;

/// <summary>max/avg/adaptive-avg pooling against PyTorch 1.13 (Fixtures/conv/pool.json), gradchecks, node names, errors.</summary>
public class PoolingTests
{
    public static IEnumerable<object[]> Cases => Names("pool.json");

    static Tensor Run(JsonElement c, Tensor x) => c.GetProperty("kind").GetString() switch
    {
        "max" => Pool.MaxPool2d(x, Longs(c.GetProperty("kernel")), Longs(c.GetProperty("stride")), Longs(c.GetProperty("padding")),
            Longs(c.GetProperty("dilation")), c.GetProperty("ceil_mode").GetBoolean()),
        "avg" => Pool.AvgPool2d(x, Longs(c.GetProperty("kernel")), Longs(c.GetProperty("stride")), Longs(c.GetProperty("padding")),
            c.GetProperty("ceil_mode").GetBoolean(), c.GetProperty("count_include_pad").GetBoolean()),
        _ => Pool.AdaptiveAvgPool2d(x, Longs(c.GetProperty("output_size"))),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_pytorch(string name)
    {
        var c = Case("pool.json", name);
        var x = Tensor(c.GetProperty("input"), true)!;
        var y = Run(c, x);
        double tol = x.dtype == torch.float32 ? 1e-5 : 1e-12;
        AssertClose(c.GetProperty("output"), y, tol, what: "output");
        Assert.Equal(c.GetProperty("grad_fn").GetString(), y.grad_fn!.name());
        AssertNextFunctions(c.GetProperty("next_functions"), y);
        y.backward(Tensor(c.GetProperty("grad_output")));
        AssertClose(c.GetProperty("grad_input"), x.grad, tol, what: "grad_input");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Gradcheck_first_and_second_order(string name)
    {
        var c = Case("pool.json", name);
        if (c.GetProperty("input").GetProperty("dtype").GetString() != "float64") return;
        var x = Tensor(c.GetProperty("input"), true)!;
        GradCheck(t => Run(c, t[0]), new[] { x });
    }

    [Fact]
    public void Double_backward_nodes_are_named_as_in_pytorch()
    {
        var rng = new Random(4);
        var x = Randn(rng, 1, 2, 6, 6);
        var cases = new (Func<Tensor, Tensor> Op, string Name)[]
        {
            (t => Pool.MaxPool2d(t, new long[] { 2 }, Array.Empty<long>(), new long[] { 0 }, new long[] { 1 }, false), "MaxPool2DWithIndicesBackwardBackward0"),
            (t => Pool.AvgPool2d(t, new long[] { 2 }, Array.Empty<long>(), new long[] { 0 }, false, true), "AvgPool2DBackwardBackward0"),
            (t => Pool.AdaptiveAvgPool2d(t, new long[] { 2, 3 }), "AdaptiveAvgPool2DBackwardBackward0"),
        };
        foreach (var (op, nodeName) in cases)
        {
            var y = op(x);
            var g = Randn(rng, y.shape);
            var gx = torch.autograd.grad(new[] { y }, new[] { x }, new[] { g }, create_graph: true)[0]!;
            Assert.Equal(nodeName, gx.grad_fn!.name());
            var next = gx.grad_fn.next_functions;
            Assert.Equal(2, next.Count);        // [grad_output, self]
            Assert.Same(y.grad_fn!.next_functions[0].node, next[1].node);
        }
    }

    [Fact]
    public void Max_pool_propagates_nan_and_picks_the_first_maximum()
    {
        var x = torch.tensor(new[] { 1.0, 3.0, 3.0, 0.0, double.NaN, 2.0, 5.0, 5.0 }, new long[] { 1, 1, 2, 4 }, requires_grad: true);
        var (y, idx) = Pool.MaxPool2dWithIndices(x, new long[] { 2 }, Array.Empty<long>(), new long[] { 0 }, new long[] { 1 }, false);
        var v = y.ToDoubleArray();
        Assert.True(double.IsNaN(v[0]));
        Assert.Equal(5.0, v[1]);
        Assert.Equal(new long[] { 4, 6 }, idx.ToArray<long>());
    }

    static Tensor R(params long[] shape) => torch.ones(shape);
    static readonly long[] None = Array.Empty<long>(), One = { 1 }, Zero = { 0 };

    public static IEnumerable<object[]> ErrorCases => new[]
    {
        "max_pad", "max_small", "max_rank2", "max_k0", "max_k0_s1", "max_stride0", "max_dilation0", "max_padneg", "max_empty",
        "max_kernel3", "avg_pad", "avg_small", "avg_rank2", "avg_rank5", "avg_stride0", "adaptive_rank2", "adaptive_empty",
    }.Select(n => new object[] { n });

    [Theory]
    [MemberData(nameof(ErrorCases))]
    public void Errors_match_pytorch(string name)
    {
        Action call = name switch
        {
            "max_pad" => () => Pool.MaxPool2d(R(1, 3, 8, 8), new long[] { 3 }, None, new long[] { 2 }, One, false),
            "max_small" => () => Pool.MaxPool2d(R(1, 3, 2, 2), new long[] { 3 }, None, Zero, One, false),
            "max_rank2" => () => Pool.MaxPool2d(R(8, 8), new long[] { 3 }, None, Zero, One, false),
            "max_k0" => () => Pool.MaxPool2d(R(1, 3, 8, 8), Zero, None, Zero, One, false),
            "max_k0_s1" => () => Pool.MaxPool2d(R(1, 3, 8, 8), Zero, One, Zero, One, false),
            "max_stride0" => () => Pool.MaxPool2d(R(1, 3, 8, 8), new long[] { 2 }, Zero, Zero, One, false),
            "max_dilation0" => () => Pool.MaxPool2d(R(1, 3, 8, 8), new long[] { 2 }, None, Zero, Zero, false),
            "max_padneg" => () => Pool.MaxPool2d(R(1, 3, 8, 8), new long[] { 2 }, None, new long[] { -1 }, One, false),
            "max_empty" => () => Pool.MaxPool2d(R(1, 3, 0, 8), new long[] { 2 }, None, Zero, One, false),
            "max_kernel3" => () => Pool.MaxPool2d(R(1, 3, 8, 8), new long[] { 2, 2, 2 }, None, Zero, One, false),
            "avg_pad" => () => Pool.AvgPool2d(R(1, 3, 8, 8), new long[] { 3 }, None, new long[] { 2 }, false, true),
            "avg_small" => () => Pool.AvgPool2d(R(1, 3, 2, 2), new long[] { 3 }, None, Zero, false, true),
            "avg_rank2" => () => Pool.AvgPool2d(R(8, 8), new long[] { 3 }, None, Zero, false, true),
            "avg_rank5" => () => Pool.AvgPool2d(R(1, 1, 3, 8, 8), new long[] { 3 }, None, Zero, false, true),
            "avg_stride0" => () => Pool.AvgPool2d(R(1, 3, 8, 8), new long[] { 2 }, Zero, Zero, false, true),
            "adaptive_rank2" => () => Pool.AdaptiveAvgPool2d(R(8, 8), new long[] { 3, 3 }),
            "adaptive_empty" => () => Pool.AdaptiveAvgPool2d(R(1, 3, 0, 8), new long[] { 3, 3 }),
            _ => throw new ArgumentException(name),
        };
        AssertError(name, call);
    }
}
