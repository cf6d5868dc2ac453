using System.Text.Json;
using Xunit;
using static Nabla.torch;
using F = Nabla.torch.nn.functional;

namespace Nabla.Tests;

/// <summary>SGD/Adam trajectories against PyTorch 1.13, argument checks, zero_grad, and an MLP that learns.</summary>
[Collection("GlobalGenerator")]
public class OptimTests
{
    static readonly Lazy<JsonElement> Fixture = new(() => NnFixtures.Load("optim.json"));

    static void CheckTrajectory(string name, Func<IEnumerable<Tensor>, optim.Optimizer> make, ScalarType dtype = ScalarType.Float64)
    {
        var p = tensor(new[] { 1.0, -2.0, 0.5, 3.0 }, dtype).requires_grad_();
        var a = tensor(new[] { 1.0, 0.5, 2.0, 0.1 }, dtype);
        var c = tensor(new[] { 0.3, 0.1, -0.2, 1.0 }, dtype);
        var opt = make(new[] { p });
        double rtol = dtype == ScalarType.Float32 ? 1e-5 : 1e-12;
        int step = 0;
        foreach (var expected in Fixture.Value.GetProperty(name).EnumerateArray())
        {
            opt.zero_grad();
            var loss = (a * (p - c).pow(2)).sum() + p.sin().sum();
            loss.backward();
            opt.step();
            NnFixtures.AssertClose(NnFixtures.Doubles(expected), p.ToDoubleArray(), rtol, 1e-12, $"{name} step {++step}");
            Assert.Null(p.grad_fn);
        }
    }

    [Fact] public void Sgd() => CheckTrajectory("sgd", ps => optim.SGD(ps, lr: 0.1));
    [Fact] public void SgdMomentum() => CheckTrajectory("sgd_momentum", ps => optim.SGD(ps, lr: 0.1, momentum: 0.9));
    [Fact] public void SgdNesterovWeightDecay() => CheckTrajectory("sgd_nesterov_wd", ps => optim.SGD(ps, lr: 0.05, momentum: 0.8, nesterov: true, weight_decay: 0.01));
    [Fact] public void SgdDampeningMaximize() => CheckTrajectory("sgd_dampening_maximize", ps => optim.SGD(ps, lr: 0.05, momentum: 0.5, dampening: 0.3, maximize: true));
    [Fact] public void Adam() => CheckTrajectory("adam", ps => optim.Adam(ps, lr: 0.1));
    [Fact] public void AdamWeightDecayAmsgrad() => CheckTrajectory("adam_wd_amsgrad", ps => optim.Adam(ps, lr: 0.05, betas: (0.8, 0.9), eps: 1e-6, weight_decay: 0.1, amsgrad: true));
    [Fact] public void AdamFloat32() => CheckTrajectory("adam_float32", ps => optim.Adam(ps, lr: 0.1), ScalarType.Float32);

    [Fact]
    public void ArgumentErrorsAsPyTorch()
    {
        var p = new[] { zeros(2, requires_grad: true) };
        Assert.Equal("Invalid learning rate: -1.0", Assert.Throws<ArgumentException>(() => optim.SGD(p, lr: -1)).Message);
        Assert.Equal("Invalid momentum value: -0.5", Assert.Throws<ArgumentException>(() => optim.SGD(p, lr: 0.1, momentum: -0.5)).Message);
        Assert.Equal("Nesterov momentum requires a momentum and zero dampening", Assert.Throws<ArgumentException>(() => optim.SGD(p, lr: 0.1, nesterov: true)).Message);
        Assert.Equal("Invalid beta parameter at index 1: 1.0", Assert.Throws<ArgumentException>(() => optim.Adam(p, betas: (0.9, 1.0))).Message);
        Assert.Equal("Invalid epsilon value: -1e-08", Assert.Throws<ArgumentException>(() => optim.Adam(p, eps: -1e-8)).Message);
        Assert.Equal("optimizer got an empty parameter list", Assert.Throws<ArgumentException>(() => optim.Adam(Array.Empty<Tensor>())).Message);
        Assert.Equal("can't optimize a non-leaf Tensor", Assert.Throws<ArgumentException>(() => optim.SGD(new[] { p[0] * 2 }, lr: 0.1)).Message);
    }

    [Fact]
    public void ZeroGradAndSkippedParameters()
    {
        var used = zeros(2, requires_grad: true);
        var unused = ones(2, requires_grad: true);
        var opt = optim.SGD(new[] { used, unused }, lr: 1, momentum: 0.9);
        (used * tensor(new[] { 1f, 2f })).sum().backward();
        opt.step();
        Assert.Equal(new[] { -1f, -2f }, used.ToArray<float>());
        Assert.Equal(new[] { 1f, 1f }, unused.ToArray<float>());        // no grad: untouched, no state
        Assert.Empty(opt.state(unused));
        Assert.True(opt.state(used).ContainsKey("momentum_buffer"));
        opt.zero_grad(set_to_none: false);
        Assert.Equal(new[] { 0f, 0f }, used.grad!.ToArray<float>());
        opt.zero_grad();
        Assert.Null(used.grad);
    }

    [Fact]
    public void TwoLayerMlpTrainingLossDecreases()
    {
        manual_seed(42);
        var model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2));
        var x = randn(64, 2);
        var y = (x.select(1, 0) * x.select(1, 1)).gt(0).@long();         // XOR-like quadrants
        var lossFn = nn.CrossEntropyLoss();
        var opt = optim.Adam(model.parameters(), lr: 0.05);
        double first = 0, last = 0;
        for (int epoch = 0; epoch < 150; epoch++)
        {
            opt.zero_grad();
            var loss = lossFn.call(model.call(x), y);
            loss.backward();
            opt.step();
            if (epoch == 0) first = loss.ToDouble();
            last = loss.ToDouble();
        }
        Assert.True(last < first * 0.5, $"loss {first} -> {last}");

        var mse = nn.MSELoss();
        var reg = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1));
        var sgd = optim.SGD(reg.parameters(), lr: 0.05, momentum: 0.9);
        var target = (x.select(1, 0) * 2 - x.select(1, 1)).unsqueeze(1);
        var start = mse.call(reg.call(x), target).ToDouble();
        for (int i = 0; i < 100; i++)
        {
            sgd.zero_grad();
            var loss = mse.call(reg.call(x), target);
            loss.backward();
            sgd.step();
        }
        Assert.True(mse.call(reg.call(x), target).ToDouble() < start * 0.1);
    }
}
