using Xunit;
using static Nabla.torch;
using F = Nabla.torch.nn.functional;

namespace Nabla.Tests;

/// <summary>Registration without ceremony (Note [Module registration]), replacement, hooks, state dicts.</summary>
[Collection("GlobalGenerator")]
public class ModuleRegistrationTests
{
    sealed class Net : nn.Module<Tensor, Tensor>
    {
        public Modules.Linear fc1 = nn.Linear(4, 8);
        public Tensor scale = nn.Parameter(ones(1));
        public Tensor running = nn.Buffer(zeros(3));
        public Tensor scratch = nn.Buffer(zeros(2), persistent: false);
        public Tensor notRegistered = zeros(5);          // a plain tensor: PyTorch registers it nowhere
        public Modules.Linear fc2 { get; set; } = nn.Linear(8, 2);
        public Modules.Linear? maybe;                     // null: nothing registered

        public override Tensor forward(Tensor x) => fc2.call(F.relu(fc1.call(x))) * scale;
    }

    [Fact]
    public void FieldsRegisterThemselvesInDeclarationOrder()
    {
        var net = new Net();
        // PyTorch's order: the module's own parameters, then each child's
        Assert.Equal(new[] { "scale", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias" }, net.named_parameters().Select(p => p.name).ToArray());
        Assert.Equal(new[] { "running", "scratch" }, net.named_buffers().Select(b => b.name).ToArray());
        Assert.Equal(new[] { "scale", "running", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias" }, net.state_dict().Keys.ToArray());
        Assert.Equal(new[] { "fc1", "fc2" }, net.named_children().Select(c => c.name).ToArray());
        Assert.Equal(new[] { "", "fc1", "fc2" }, net.named_modules().Select(c => c.name).ToArray());
        var opt = optim.Adam(net.parameters());   // no "empty parameter list"
        Assert.Equal(5, opt.param_groups[0].parameters.Count);
        Assert.Equal("Net(\n  (fc1): Linear(in_features=4, out_features=8, bias=True)\n  (fc2): Linear(in_features=8, out_features=2, bias=True)\n)", net.ToString());
    }

    [Fact]
    public void AssigningAFieldReplacesTheChildEverywhere()
    {
        var net = new Net();
        _ = net.parameters().ToList();
        var old = net.fc2;
        net.fc2 = nn.Linear(8, 3);
        Assert.Equal(new long[] { 3, 3 }, net.call(randn(3, 4)).shape);
        var names = net.named_parameters().ToList();
        Assert.Same(net.fc2.weight, names.Single(p => p.name == "fc2.weight").parameter);
        Assert.DoesNotContain(names, p => ReferenceEquals(p.parameter, old.weight));
        Assert.Equal(new long[] { 3, 8 }, net.state_dict()["fc2.weight"].shape);
        // assigning a module to a null field registers it then, after the others
        net.maybe = nn.Linear(1, 1);
        Assert.Equal(new[] { "fc1", "fc2", "maybe" }, net.named_children().Select(c => c.name).ToArray());
        net.maybe = null;
        Assert.Equal(new[] { "fc1", "fc2" }, net.named_children().Select(c => c.name).ToArray());
    }

    [Fact]
    public void RegisterModuleOnAFieldNameWritesTheField()
    {
        var net = new Net();
        var replacement = nn.Linear(8, 5);
        net.register_module("fc2", replacement);
        Assert.Same(replacement, net.fc2);
        Assert.Equal(new long[] { 2, 5 }, net.call(randn(2, 4)).shape);
        Assert.Throws<ArgumentException>(() => net.register_module("fc1", nn.ReLU()));   // a ReLU can't go in a Linear field
    }

    [Fact]
    public void ResNetFcReplacementIsUsedByForward()
    {
        manual_seed(0);
        var resnet = torchvision.models.resnet18(num_classes: 4);
        resnet.eval();
        var newFc = resnet.register_module("fc", nn.Linear(512, 10));
        Assert.Equal(new long[] { 1, 10 }, resnet.call(randn(1, 3, 32, 32)).shape);
        var ps = resnet.named_parameters().ToList();
        Assert.Same(newFc.weight, ps.Single(p => p.name == "fc.weight").parameter);
        Assert.Equal(62, ps.Count);
    }

    [Fact]
    public void ParameterFieldRejectsAPlainTensor()
    {
        var net = new Net();
        _ = net.parameters().ToList();
        net.scale = ones(1) * 2;
        var e = Assert.Throws<InvalidOperationException>(() => net.parameters().ToList());
        Assert.Equal("cannot assign 'torch.float32' tensor as parameter 'scale' (torch.nn.Parameter or None expected)", e.Message);
        net.scale = nn.Parameter(ones(1) * 2);
        Assert.Equal(2.0, net.named_parameters().Single(p => p.name == "scale").parameter.ToDouble());
    }

    [Fact]
    public void ApplyRequiresGradAndTrainEval()
    {
        var net = new Net();
        var visited = new List<string>();
        net.apply(m => visited.Add(m.GetType().Name));
        Assert.Equal(new[] { "Linear", "Linear", "Net" }, visited);
        net.requires_grad_(false);
        Assert.All(net.parameters(), p => Assert.False(p.requires_grad));
        net.eval();
        Assert.All(net.modules(), m => Assert.False(m.training));
        net.train();
        Assert.All(net.modules(), m => Assert.True(m.training));
    }

    [Fact]
    public void LoadStateDictIsAtomicAndUsesPyTorchMessages()
    {
        var a = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1));
        var before = a.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        var bad = new Dictionary<string, Tensor>
        {
            ["0.weight"] = zeros(2, 3),                 // valid: must not be copied when something else fails
            ["0.bias"] = zeros(2),
            ["2.weight"] = zeros(1, 5),
            ["extra"] = zeros(1),
        };
        var e = Assert.Throws<InvalidOperationException>(() => a.load_state_dict(bad));
        Assert.Equal("Error(s) in loading state_dict for Sequential:\n\tMissing key(s) in state_dict: \"2.bias\". \n\tUnexpected key(s) in state_dict: \"extra\". \n\t"
            + "size mismatch for 2.weight: copying a param with shape torch.Size([1, 5]) from checkpoint, the shape in current model is torch.Size([1, 2]).", e.Message);
        foreach (var (k, v) in a.state_dict()) Assert.True(equal(before[k], v), k);
        bad["2.weight"] = zeros(1, 2);
        var (missing, unexpected) = a.load_state_dict(bad, strict: false);
        Assert.Equal(new[] { "2.bias" }, missing);
        Assert.Equal(new[] { "extra" }, unexpected);
        Assert.Equal(0.0, a.state_dict()["0.weight"].abs().sum().ToDouble());
    }

    [Fact]
    public void ForwardAndPreHooksAndRemoval()
    {
        var lin = nn.Linear(2, 2);
        var log = new List<string>();
        var h1 = lin.register_forward_pre_hook((m, x) => { log.Add("pre"); return x * 0; });
        var h2 = lin.register_forward_hook((m, x, y) => { log.Add("fwd"); return y + 1; });
        var y = lin.call(ones(1, 2));
        Assert.Equal(new[] { "pre", "fwd" }, log);
        NnFixtures.AssertClose(lin.bias!.detach() + 1, y.detach().reshape(2), 1e-6, 0, "hooked output");
        h1.remove(); h2.remove();
        log.Clear();
        lin.call(ones(1, 2));
        Assert.Empty(log);
    }

    [Fact]
    public void FullBackwardHookSeesGradientsAndCanReplaceThem()
    {
        var lin = nn.Linear(3, 2, dtype: ScalarType.Float64);
        Tensor?[]? seenIn = null, seenOut = null;
        lin.register_full_backward_hook((m, gin, gout) => { seenIn = gin; seenOut = gout; return gin[0] is null ? null : new Tensor?[] { gin[0]! * 2 }; });
        var x = randn(new long[] { 4, 3 }, ScalarType.Float64).requires_grad_();
        var go = randn(new long[] { 4, 2 }, ScalarType.Float64);
        lin.call(x).backward(go);
        NnFixtures.AssertClose(go, seenOut![0]!, 0, 0, "grad_output");
        var expectedIn = go.matmul(lin.weight.detach());
        NnFixtures.AssertClose(expectedIn, seenIn![0]!, 1e-12, 1e-12, "grad_input");
        NnFixtures.AssertClose(expectedIn * 2, x.grad!, 1e-12, 1e-12, "replaced grad_input");
        // input without grad: the hook still runs, with grad_input (None,)
        seenIn = null;
        lin.call(randn(new long[] { 4, 3 }, ScalarType.Float64)).sum().backward();
        Assert.NotNull(seenIn);
        Assert.Null(seenIn![0]);
    }
}
