using System.Text.Json;
using Xunit;
using F = Nabla.torch.nn.functional;

namespace Nabla.Tests;

/// <summary>Every loss against PyTorch 1.13 fixtures: values, input/target gradients, node names, error texts.</summary>
[Collection("GlobalGenerator")]
public class LossTests
{
    static readonly Lazy<JsonElement> Cases = new(() => NnFixtures.Load("losses.json"));

    public static IEnumerable<object[]> CaseNames()
    {
        foreach (var c in NnFixtures.Load("losses.json").EnumerateArray()) yield return new object[] { c.GetProperty("name").GetString()! };
    }

    static JsonElement? Opt(JsonElement c, string name) =>
        c.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void MatchesPyTorch(string name)
    {
        var c = Cases.Value.EnumerateArray().First(e => e.GetProperty("name").GetString() == name);
        var x = NnFixtures.ToTensor(c.GetProperty("input"))!.requires_grad_();
        var t = NnFixtures.ToTensor(c.GetProperty("target"))!;
        bool targetGrad = c.GetProperty("grad_target").ValueKind != JsonValueKind.Null;
        if (targetGrad) t.requires_grad_();
        string fn = c.GetProperty("fn").GetString()!;
        string reduction = Opt(c, "reduction")?.GetString() ?? "mean";
        Tensor? weight = Opt(c, "weight") is { } w ? NnFixtures.ToTensor(w) : null;
        Tensor? posWeight = Opt(c, "pos_weight") is { } pw ? NnFixtures.ToTensor(pw) : null;
        long ignore = Opt(c, "ignore_index")?.GetInt64() ?? -100;
        double smoothing = Opt(c, "label_smoothing")?.GetDouble() ?? 0;
        var loss = fn switch
        {
            "mse_loss" => F.mse_loss(x, t, reduction),
            "l1_loss" => F.l1_loss(x, t, reduction),
            "binary_cross_entropy" => F.binary_cross_entropy(x, t, weight, reduction),
            "binary_cross_entropy_with_logits" => F.binary_cross_entropy_with_logits(x, t, weight, posWeight, reduction),
            "cross_entropy" => F.cross_entropy(x, t, weight, ignore, reduction, smoothing),
            "nll_loss" => F.nll_loss(x, t, weight, ignore, reduction),
            _ => throw new InvalidOperationException(fn),
        };
        bool f32 = x.dtype == ScalarType.Float32;
        double rtol = f32 ? 1e-5 : 1e-10, atol = f32 ? 1e-6 : 1e-12;
        NnFixtures.AssertClose(NnFixtures.ToTensor(c.GetProperty("loss"))!, loss, rtol, atol, name + " loss");
        Assert.Equal(c.GetProperty("grad_fn").GetString(), loss.grad_fn!.name());
        loss.backward(NnFixtures.ToTensor(c.GetProperty("grad_output")));
        NnFixtures.AssertClose(NnFixtures.ToTensor(c.GetProperty("grad_input"))!, x.grad!, rtol, atol, name + " grad_input");
        if (targetGrad) NnFixtures.AssertClose(NnFixtures.ToTensor(c.GetProperty("grad_target"))!, t.grad!, rtol, atol, name + " grad_target");
    }

    [Fact]
    public void GraphShapesMatchPyTorch()
    {
        var x = torch.randn(3, 4, requires_grad: true);
        var ce = F.cross_entropy(x, torch.tensor(new long[] { 0, 1, 2 }));
        Assert.Equal("NllLossBackward0", ce.grad_fn!.name());
        Assert.Equal("LogSoftmaxBackward0", ce.grad_fn.next_functions[0].node!.name());
        var mse = F.mse_loss(x, torch.randn(3, 4));
        Assert.Equal(2, mse.grad_fn!.next_functions.Count);
        Assert.Equal("torch::autograd::AccumulateGrad", mse.grad_fn.next_functions[0].node!.name());
        Assert.Null(mse.grad_fn.next_functions[1].node);
        var l1 = F.l1_loss(x, torch.randn(3, 4));
        Assert.Equal("MeanBackward0", l1.grad_fn!.name());
        Assert.Equal("AbsBackward0", l1.grad_fn.next_functions[0].node!.name());
        var smooth = F.cross_entropy(x, torch.tensor(new long[] { 0, 1, 2 }), label_smoothing: 0.1);
        Assert.Equal("AddBackward0", smooth.grad_fn!.name());
        Assert.Equal("MulBackward1", smooth.grad_fn.next_functions[0].node!.name());
        Assert.Equal("NllLoss2DBackward0", F.nll_loss(torch.randn(2, 3, 4, requires_grad: true), torch.zeros(new long[] { 2, 4 }, ScalarType.Int64)).grad_fn!.name());
        Assert.Equal("MseLossBackward0", F.mse_loss(x, torch.randn(3, 4), torch.nn.Reduction.Sum).grad_fn!.name());
    }

    [Fact]
    public void ErrorsAndWarningsAsPyTorch()
    {
        var x = torch.randn(3, 4, requires_grad: true);
        Assert.Equal("Expected input batch_size (3) to match target batch_size (2).",
            Assert.Throws<ArgumentException>(() => F.cross_entropy(x, torch.tensor(new long[] { 0, 1 }))).Message);
        Assert.Equal("Target 5 is out of bounds.",
            Assert.Throws<IndexOutOfRangeException>(() => F.cross_entropy(x, torch.tensor(new long[] { 0, 1, 5 }))).Message);
        Assert.Equal("Target -1 is out of bounds.",
            Assert.Throws<IndexOutOfRangeException>(() => F.nll_loss(x, torch.tensor(new long[] { 0, 1, -1 }))).Message);
        Assert.Equal("expected scalar type Long but found Float",
            Assert.Throws<InvalidOperationException>(() => F.nll_loss(x, torch.tensor(new float[] { 0, 1, 2 }))).Message);
        Assert.Equal("0D or 1D target tensor expected, multi-target not supported",
            Assert.Throws<InvalidOperationException>(() => F.nll_loss(x, torch.zeros(new long[] { 3, 1 }, ScalarType.Int64))).Message);
        Assert.Equal("weight tensor should be defined either for all 4 classes or no classes but got weight tensor of shape: [3]",
            Assert.Throws<InvalidOperationException>(() => F.nll_loss(x, torch.tensor(new long[] { 0, 1, 2 }), torch.rand(3))).Message);
        Assert.Equal("avg is not a valid value for reduction",
            Assert.Throws<ArgumentException>(() => F.mse_loss(x, x, "avg")).Message);
        Assert.Equal("all elements of input should be between 0 and 1",
            Assert.Throws<InvalidOperationException>(() => F.binary_cross_entropy(torch.tensor(new[] { 1.5f }), torch.rand(1))).Message);
        Assert.Equal("Using a target size (torch.Size([2])) that is different to the input size (torch.Size([3])) is deprecated. Please ensure they have the same size.",
            Assert.Throws<ArgumentException>(() => F.binary_cross_entropy(torch.rand(3), torch.rand(2))).Message);
        Assert.Equal("Target size (torch.Size([2])) must be the same as input size (torch.Size([3]))",
            Assert.Throws<ArgumentException>(() => F.binary_cross_entropy_with_logits(torch.rand(3), torch.rand(2))).Message);

        var warnings = new List<string>();
        Action<string> handler = warnings.Add;
        Warnings.OnWarning += handler;
        try { F.mse_loss(torch.randn(3), torch.randn(1)); }
        finally { Warnings.OnWarning -= handler; }
        Assert.Contains("Using a target size (torch.Size([1])) that is different to the input size (torch.Size([3])). This will likely lead to incorrect results due to broadcasting. Please ensure they have the same size.", warnings);
    }

    [Fact]
    public void AllIgnoredMeanIsNaNWithZeroGradient()
    {
        var x = torch.randn(3, 4, requires_grad: true);
        var loss = F.cross_entropy(x, torch.tensor(new long[] { -100, -100, -100 }));
        Assert.True(double.IsNaN(loss.ToDouble()));
        Assert.Equal(0.0, F.nll_loss(x, torch.tensor(new long[] { -100, -100, -100 }), reduction: "sum").ToDouble());
        F.nll_loss(x, torch.tensor(new long[] { -100, 1, -100 })).backward();
        Assert.Equal(-1.0, x.grad!.sum().ToDouble(), 6);
    }

    [Fact]
    public void LossesAreTwiceDifferentiable()
    {
        var x = torch.randn(new long[] { 3, 4 }, ScalarType.Float64, requires_grad: true);
        var target = torch.tensor(new long[] { 0, 3, 1 });
        var g = torch.autograd.grad(F.cross_entropy(x, target), x, create_graph: true)[0]!;
        var gg = torch.autograd.grad(g.pow(2).sum(), x)[0]!;
        // Numerical derivative of sum(grad²) with central differences.
        var xs = x.detach().ToDoubleArray();
        const double eps = 1e-6;
        for (int i = 0; i < xs.Length; i++)
        {
            double Eval(double d)
            {
                var v = (double[])xs.Clone(); v[i] += d;
                var xi = torch.tensor(v, new long[] { 3, 4 }, requires_grad: true);
                var gi = torch.autograd.grad(F.cross_entropy(xi, target), xi)[0]!;
                return gi.pow(2).sum().ToDouble();
            }
            double numeric = (Eval(eps) - Eval(-eps)) / (2 * eps);
            Assert.True(Math.Abs(numeric - gg.ToDoubleArray()[i]) < 1e-5 + 1e-3 * Math.Abs(numeric), $"d2[{i}] {numeric} vs {gg.ToDoubleArray()[i]}");
        }
    }
}
