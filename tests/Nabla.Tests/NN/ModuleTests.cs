using System.Text.Json;
using Xunit;
using static Nabla.torch;
using F = Nabla.torch.nn.functional;

namespace Nabla.Tests;

/// <summary>nn.Module bookkeeping, layers, init values after manual_seed, F.linear/dropout graphs.</summary>
[Collection("GlobalGenerator")]
public class ModuleTests
{
    static readonly Lazy<JsonElement> Init = new(() => NnFixtures.Load("init.json"));

    static void AssertExact(JsonElement expected, Tensor actual, string what) =>
        NnFixtures.AssertClose(NnFixtures.ToTensor(expected)!, actual, 0, 0, what);

    [Fact]
    public void LinearAndConvInitMatchPyTorchAfterManualSeed()
    {
        manual_seed(0);
        var l = nn.Linear(3, 2);
        AssertExact(Init.Value.GetProperty("linear_3_2").GetProperty("weight"), l.weight, "linear weight");
        AssertExact(Init.Value.GetProperty("linear_3_2").GetProperty("bias"), l.bias!, "linear bias");
        manual_seed(0);
        var l2 = nn.Linear(20, 7);
        AssertExact(Init.Value.GetProperty("linear_20_7").GetProperty("weight"), l2.weight, "linear20 weight");
        AssertExact(Init.Value.GetProperty("linear_20_7").GetProperty("bias"), l2.bias!, "linear20 bias");
        manual_seed(1);
        var c = nn.Conv2d(2, 3, 3);
        AssertExact(Init.Value.GetProperty("conv_2_3_3").GetProperty("weight"), c.weight, "conv weight");
        AssertExact(Init.Value.GetProperty("conv_2_3_3").GetProperty("bias"), c.bias!, "conv bias");
        manual_seed(2);
        var w = nn.init.kaiming_normal_(empty(40, 30), mode: "fan_out", nonlinearity: "relu");
        NnFixtures.AssertClose(NnFixtures.ToTensor(Init.Value.GetProperty("kaiming_normal_fan_out").GetProperty("weight"))!, w, 1e-6, 0, "kaiming_normal");
        manual_seed(3);
        AssertExact(Init.Value.GetProperty("xavier_uniform").GetProperty("weight"), nn.init.xavier_uniform_(empty(5, 4)), "xavier");
    }

    [Fact]
    public void DropoutMatchesPyTorchMaskAndGraph()
    {
        manual_seed(0);
        NnFixtures.AssertClose(NnFixtures.ToTensor(Init.Value.GetProperty("dropout_0_3").GetProperty("out"))!, F.dropout(ones(40), 0.3), 1e-7, 0, "dropout");
        var x = randn(3, 4, requires_grad: true);
        Assert.Same(x, F.dropout(x, 0.0));
        Assert.Same(x, F.dropout(x, 0.5, training: false));
        var y = F.dropout(x, 0.5);
        Assert.Equal("MulBackward0", y.grad_fn!.name());
        Assert.Null(y.grad_fn.next_functions[1].node);
        Assert.Equal("dropout probability has to be between 0 and 1, but got 1.5", Assert.Throws<ArgumentException>(() => F.dropout(x, 1.5)).Message);
        Assert.Equal(0.0, F.dropout(x, 1.0).abs().sum().ToDouble());
        var d = nn.Dropout(0.5);
        d.eval();
        Assert.Same(x, d.call(x));
    }

    [Fact]
    public void LinearGraphMatchesPyTorch()
    {
        var x = randn(3, 4, requires_grad: true);
        var w = randn(2, 4, requires_grad: true);
        var b = randn(2, requires_grad: true);
        var y = F.linear(x, w, b);
        Assert.Equal("AddmmBackward0", y.grad_fn!.name());
        var next = y.grad_fn.next_functions;
        Assert.Equal("torch::autograd::AccumulateGrad", next[0].node!.name());
        Assert.Equal("torch::autograd::AccumulateGrad", next[1].node!.name());
        Assert.Equal("TBackward0", next[2].node!.name());
        Assert.Equal("MmBackward0", F.linear(x, w).grad_fn!.name());
        var y3 = F.linear(randn(2, 3, 4), w, b);
        Assert.Equal("ViewBackward0", y3.grad_fn!.name());
        Assert.Equal("AddmmBackward0", y3.grad_fn.next_functions[0].node!.name());
        Assert.Equal(new long[] { 2, 3, 2 }, y3.shape);
        Assert.Equal(new long[] { 2 }, F.linear(randn(4), w, b).shape);
        Assert.True(F.linear(x, w, b).allclose(x.matmul(w.t()) + b, 1e-5, 1e-6));
    }

    [Fact]
    public void ParameterNamesTraversalAndRepr()
    {
        var model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.1), nn.Linear(8, 2, bias: false));
        Assert.Equal(new[] { "0.weight", "0.bias", "3.weight" }, model.named_parameters().Select(p => p.name).ToArray());
        Assert.Equal(3, model.parameters().Count());
        Assert.All(model.parameters(), p => { Assert.True(p.requires_grad); Assert.True(p.is_leaf); });
        Assert.Equal(new[] { "", "0", "1", "2", "3" }, model.named_modules().Select(m => m.name).ToArray());
        Assert.Equal(4, model.children().Count());
        Assert.Equal(
            "Sequential(\n  (0): Linear(in_features=4, out_features=8, bias=True)\n  (1): ReLU()\n  (2): Dropout(p=0.1, inplace=False)\n  (3): Linear(in_features=8, out_features=2, bias=False)\n)",
            model.ToString());
        Assert.True(model.training);
        model.eval();
        Assert.All(model.modules(), m => Assert.False(m.training));
        model.train();
        Assert.All(model.modules(), m => Assert.True(m.training));

        var bn = nn.BatchNorm2d(3);
        Assert.Equal(new[] { "weight", "bias" }, bn.named_parameters().Select(p => p.name).ToArray());
        Assert.Equal(new[] { "running_mean", "running_var", "num_batches_tracked" }, bn.named_buffers().Select(p => p.name).ToArray());
        Assert.Equal(ScalarType.Int64, bn.num_batches_tracked!.dtype);
        Assert.Equal(new[] { "weight", "bias", "running_mean", "running_var", "num_batches_tracked" }, bn.state_dict().Keys.ToArray());
    }

    [Fact]
    public void StateDictRoundTripAndErrors()
    {
        var a = nn.Sequential(nn.Linear(3, 2), nn.Tanh());
        var b = nn.Sequential(nn.Linear(3, 2), nn.Tanh());
        var (missing, unexpected) = b.load_state_dict(a.state_dict());
        Assert.Empty(missing);
        Assert.Empty(unexpected);
        Assert.True(((Modules.Linear)b[0]).weight.equal(((Modules.Linear)a[0]).weight));
        Assert.True(b[0] is Modules.Linear { weight.requires_grad: true });

        var sd = a.state_dict();
        sd.Remove("0.bias");
        sd["extra"] = zeros(1);
        var ex = Assert.Throws<InvalidOperationException>(() => b.load_state_dict(sd));
        Assert.Equal("Error(s) in loading state_dict for Sequential:\n\tMissing key(s) in state_dict: \"0.bias\". \n\tUnexpected key(s) in state_dict: \"extra\". ", ex.Message);
        var (m2, u2) = b.load_state_dict(sd, strict: false);
        Assert.Equal(new[] { "0.bias" }, m2);
        Assert.Equal(new[] { "extra" }, u2);
        var bad = new Dictionary<string, Tensor> { ["0.weight"] = zeros(3, 3), ["0.bias"] = zeros(2) };
        Assert.Equal("Error(s) in loading state_dict for Sequential:\n\tsize mismatch for 0.weight: copying a param with shape torch.Size([3, 3]) from checkpoint, the shape in current model is torch.Size([2, 3]).",
            Assert.Throws<InvalidOperationException>(() => b.load_state_dict(bad)).Message);
    }

    [Fact]
    public void ZeroGradSemanticsAndDtypeConversion()
    {
        var model = nn.Linear(3, 2);
        var w = model.weight;
        model.call(randn(4, 3)).sum().backward();
        Assert.NotNull(w.grad);
        model.zero_grad(set_to_none: false);
        Assert.NotNull(w.grad);
        Assert.Equal(0.0, w.grad!.abs().sum().ToDouble());
        var g = w.grad;
        model.call(randn(4, 3)).sum().backward();
        Assert.Same(g, w.grad);                      // accumulated into the zeroed tensor
        model.zero_grad();
        Assert.Null(w.grad);

        model.to(ScalarType.Float64);
        Assert.Same(w, model.weight);                 // same parameter object, converted in place
        Assert.Equal(ScalarType.Float64, w.dtype);
        Assert.Equal(ScalarType.Float64, model.call(randn(new long[] { 2, 3 }, ScalarType.Float64)).dtype);

        var p = nn.Parameter(zeros(2));
        Assert.True(p.requires_grad);
        Assert.True(p.is_leaf);
        Assert.False(nn.Parameter(zeros(2), requires_grad: false).requires_grad);
    }

    [Fact]
    public void CustomModuleWithExplicitRegistration()
    {
        var net = new TwoLayer();
        Assert.Equal(new[] { "scale", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias" }, net.named_parameters().Select(p => p.name).ToArray());
        Assert.Equal(new long[] { 5, 1 }, net.call(randn(5, 3)).shape);
    }

    sealed class TwoLayer : nn.Module<Tensor, Tensor>
    {
        readonly Modules.Linear _fc1, _fc2;
        readonly Tensor _scale;
        public TwoLayer()
        {
            _fc1 = register_module("fc1", nn.Linear(3, 8));
            _fc2 = register_module("fc2", nn.Linear(8, 1));
            register_parameter("scale", _scale = nn.Parameter(ones(1)));
        }
        public override Tensor forward(Tensor x) => _fc2.call(F.relu(_fc1.call(x))) * _scale;
    }
}
