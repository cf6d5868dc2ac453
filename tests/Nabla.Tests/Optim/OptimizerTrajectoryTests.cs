using System.Text.Json;
using Xunit;
using static Nabla.torch;
using static Nabla.torch.optim;
using L = Nabla.torch.optim.lr_scheduler;

namespace Nabla.Tests;

/// <summary>Every optimizer option, param groups and every LR scheduler against PyTorch 1.13 (tools/fixtures/optim_more.py).</summary>
public class OptimizerTrajectoryTests
{
    static readonly Lazy<JsonElement> Fixture = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "optim", "optim_more.json"))).RootElement);

    static void Trajectory(string name, Func<Tensor, Tensor, Optimizer> make)
    {
        var p = tensor(new[] { 1.0, -2.0, 0.5, 3.0 }, ScalarType.Float64).requires_grad_();
        var q = tensor(new[] { 0.7, -0.4 }, ScalarType.Float64).requires_grad_();
        var a = tensor(new[] { 1.0, 0.5, 2.0, 0.1 }, ScalarType.Float64);
        var c = tensor(new[] { 0.3, 0.1, -0.2, 1.0 }, ScalarType.Float64);
        var opt = make(p, q);
        int step = 0;
        foreach (var expected in Fixture.Value.GetProperty("optimizers").GetProperty(name).EnumerateArray())
        {
            opt.zero_grad();
            var loss = (a * (p - c).pow(2)).sum() + p.sin().sum() + (q * q * q.cos()).sum();
            loss.backward();
            opt.step();
            NnFixtures.AssertClose(NnFixtures.Doubles(expected), p.ToDoubleArray().Concat(q.ToDoubleArray()).ToArray(), 1e-11, 1e-13, $"{name} step {++step}");
        }
        Assert.Equal(10, step);
    }

    static ParamGroup[] Two(Tensor p, Tensor q, params (string, object)[] second)
    {
        var g2 = new ParamGroup(new[] { q });
        foreach (var (k, v) in second) g2[k] = v;
        return new[] { new ParamGroup(new[] { p }), g2 };
    }

    [Fact] public void AdamW() => Trajectory("adamw", (p, q) => optim.AdamW(new[] { p, q }, lr: 0.05));
    [Fact] public void AdamWAmsgradMaximize() => Trajectory("adamw_amsgrad_maximize", (p, q) => optim.AdamW(new[] { p, q }, lr: 0.05, weight_decay: 0.1, amsgrad: true, maximize: true, betas: (0.8, 0.95)));
    [Fact] public void AdamGroups() => Trajectory("adam_groups", (p, q) => optim.Adam(Two(p, q, ("lr", 0.01), ("amsgrad", true)), lr: 0.1));
    [Fact] public void SgdGroups() => Trajectory("sgd_groups", (p, q) => optim.SGD(Two(p, q, ("momentum", 0.0), ("lr", 0.3)), lr: 0.05, momentum: 0.9, nesterov: true));
    [Fact] public void RMSprop() => Trajectory("rmsprop", (p, q) => optim.RMSprop(new[] { p, q }, lr: 0.01));
    [Fact] public void RMSpropCenteredMomentumWd() => Trajectory("rmsprop_centered_momentum_wd", (p, q) => optim.RMSprop(new[] { p, q }, lr: 0.01, alpha: 0.9, eps: 1e-6, weight_decay: 0.1, momentum: 0.5, centered: true));
    [Fact] public void RMSpropMaximize() => Trajectory("rmsprop_maximize", (p, q) => optim.RMSprop(new[] { p, q }, lr: 0.01, maximize: true, momentum: 0.3));
    [Fact] public void Adagrad() => Trajectory("adagrad", (p, q) => optim.Adagrad(new[] { p, q }, lr: 0.1));
    [Fact] public void AdagradAll() => Trajectory("adagrad_all", (p, q) => optim.Adagrad(new[] { p, q }, lr: 0.1, lr_decay: 0.05, weight_decay: 0.1, initial_accumulator_value: 0.3, eps: 1e-6, maximize: true));
    [Fact] public void Adadelta() => Trajectory("adadelta", (p, q) => optim.Adadelta(new[] { p, q }));
    [Fact] public void AdadeltaAll() => Trajectory("adadelta_all", (p, q) => optim.Adadelta(new[] { p, q }, lr: 0.5, rho: 0.8, eps: 1e-5, weight_decay: 0.1, maximize: true));
    [Fact] public void Adamax() => Trajectory("adamax", (p, q) => optim.Adamax(new[] { p, q }, lr: 0.05));
    [Fact] public void AdamaxAll() => Trajectory("adamax_all", (p, q) => optim.Adamax(new[] { p, q }, lr: 0.05, betas: (0.8, 0.9), eps: 1e-6, weight_decay: 0.1, maximize: true));
    [Fact] public void NAdam() => Trajectory("nadam", (p, q) => optim.NAdam(new[] { p, q }, lr: 0.05));
    [Fact] public void NAdamAll() => Trajectory("nadam_all", (p, q) => optim.NAdam(new[] { p, q }, lr: 0.05, betas: (0.8, 0.9), eps: 1e-6, weight_decay: 0.1, momentum_decay: 0.01));
    [Fact] public void RAdam() => Trajectory("radam", (p, q) => optim.RAdam(new[] { p, q }, lr: 0.05));
    [Fact] public void RAdamAll() => Trajectory("radam_all", (p, q) => optim.RAdam(new[] { p, q }, lr: 0.05, betas: (0.8, 0.9), eps: 1e-6, weight_decay: 0.1));

    [Fact]
    public void ParamGroupAccessAndAddParamGroup()
    {
        var p = zeros(2, requires_grad: true);
        var q = zeros(3, requires_grad: true);
        var opt = optim.SGD(new[] { p }, lr: 0.1, momentum: 0.9);
        Assert.Equal(0.1, (double)opt.param_groups[0]["lr"]);
        opt.param_groups[0]["lr"] = 0.01;
        Assert.Equal(0.01, opt.param_groups[0].lr);
        opt.add_param_group(new ParamGroup(new[] { q }) { ["lr"] = 0.5 });
        Assert.Equal(0.5, opt.param_groups[1].lr);
        Assert.Equal(0.9, opt.param_groups[1].Double("momentum"));        // from the defaults
        Assert.Equal("some parameters appear in more than one parameter group",
            Assert.Throws<ArgumentException>(() => opt.add_param_group(new ParamGroup(new[] { p }))).Message);
        Assert.Throws<KeyNotFoundException>(() => opt.param_groups[0]["nope"]);
        Assert.Equal("Invalid momentum value: -1.0", Assert.Throws<ArgumentException>(() => optim.SGD(new[] { new ParamGroup(new[] { q }) { ["momentum"] = -1.0 } }, lr: 0.1)).Message);
        Assert.Equal("Invalid alpha value: -0.5", Assert.Throws<ArgumentException>(() => optim.RMSprop(new[] { q }, alpha: -0.5)).Message);
        Assert.Equal("Invalid rho value: 1.5", Assert.Throws<ArgumentException>(() => optim.Adadelta(new[] { q }, rho: 1.5)).Message);
    }

    [Fact]
    public void AdamStateDictHasPyTorchLayoutAndRoundTrips()
    {
        var p = tensor(new[] { 1.0, 2.0 }, ScalarType.Float64).requires_grad_();
        var q = tensor(new[] { 3.0 }, ScalarType.Float64).requires_grad_();
        var opt = optim.Adam(new[] { new ParamGroup(new[] { p }), new ParamGroup(new[] { q }) { ["lr"] = 0.5 } }, lr: 0.1);
        for (int i = 0; i < 2; i++) { opt.zero_grad(); ((p * p).sum() + (q * q * q).sum()).backward(); opt.step(); }
        var sd = opt.state_dict();
        var expected = Fixture.Value.GetProperty("adam_state_dict");
        foreach (var id in new[] { 0, 1 })
            foreach (var name in new[] { "step", "exp_avg", "exp_avg_sq" })
                NnFixtures.AssertClose(NnFixtures.Doubles(expected.GetProperty("state").GetProperty(id.ToString()).GetProperty(name)), sd.state[id][name].ToDoubleArray(), 1e-12, 1e-15, $"state {id} {name}");
        for (int g = 0; g < 2; g++)
        {
            var eg = expected.GetProperty("param_groups")[g];
            Assert.Equal(eg.GetProperty("lr").GetDouble(), (double)sd.param_groups[g]["lr"]);
            Assert.Equal(eg.GetProperty("eps").GetDouble(), (double)sd.param_groups[g]["eps"]);
            Assert.Equal((0.9, 0.999), ((double, double))sd.param_groups[g]["betas"]);
            Assert.Equal(eg.GetProperty("params").EnumerateArray().Select(v => v.GetInt32()), (List<int>)sd.param_groups[g]["params"]);
            foreach (var key in eg.EnumerateObject().Select(o => o.Name)) Assert.True(sd.param_groups[g].ContainsKey(key), key);
        }
        // a fresh optimizer loaded from the state continues exactly as the original
        var p2 = p.detach().clone().requires_grad_();
        var q2 = q.detach().clone().requires_grad_();
        var opt2 = optim.Adam(new[] { new ParamGroup(new[] { p2 }), new ParamGroup(new[] { q2 }) }, lr: 0.3);
        opt2.load_state_dict(sd);
        Assert.Equal(0.5, opt2.param_groups[1].lr);
        opt.zero_grad(); ((p * p).sum() + (q * q * q).sum()).backward(); opt.step();
        opt2.zero_grad(); ((p2 * p2).sum() + (q2 * q2 * q2).sum()).backward(); opt2.step();
        Assert.True(equal(p, p2) && equal(q, q2));
        Assert.Equal("loaded state dict has a different number of parameter groups",
            Assert.Throws<ArgumentException>(() => optim.Adam(new[] { p2 }).load_state_dict(sd)).Message);
    }

    static void Schedule(string name, Func<Optimizer, object> make, bool adam = false, bool twoGroups = false)
    {
        var p = zeros(2, requires_grad: true);
        var q = zeros(2, requires_grad: true);
        var groups = twoGroups ? new[] { new ParamGroup(new[] { p }), new ParamGroup(new[] { q }) { ["lr"] = 0.5 } } : new[] { new ParamGroup(new[] { p }) };
        Optimizer o = adam ? optim.Adam(groups, lr: 0.1) : optim.SGD(groups, lr: 0.1, momentum: 0.9);
        var s = make(o);
        var values = new[] { 1.0, 0.9, 0.95, 0.95, 0.96, 0.97, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6 };
        int i = 0;
        foreach (var snap in Fixture.Value.GetProperty("schedulers").GetProperty(name).EnumerateArray())
        {
            if (i > 0)
            {
                o.step();
                if (s is L.ReduceLROnPlateau plateau) plateau.step(values[i - 1]); else ((L.LRScheduler)s).step();
            }
            var last = s is L.ReduceLROnPlateau r ? r.get_last_lr() : ((L.LRScheduler)s).get_last_lr();
            NnFixtures.AssertClose(NnFixtures.Doubles(snap.GetProperty("lr")), last.ToArray(), 1e-13, 1e-15, $"{name} get_last_lr at {i}");
            NnFixtures.AssertClose(NnFixtures.Doubles(snap.GetProperty("group_lr")), o.param_groups.Select(g => g.lr).ToArray(), 1e-13, 1e-15, $"{name} group lr at {i}");
            var mom = o.param_groups.Select(g => g.ContainsKey("betas") ? g.Pair("betas").Item1 : g.Double("momentum")).ToArray();
            NnFixtures.AssertClose(NnFixtures.Doubles(snap.GetProperty("momentum")), mom, 1e-13, 1e-15, $"{name} momentum at {i}");
            i++;
        }
        Assert.Equal(26, i);
    }

    [Fact] public void StepLR() => Schedule("step", o => new L.StepLR(o, step_size: 3, gamma: 0.5));
    [Fact] public void MultiStepLR() => Schedule("multistep", o => new L.MultiStepLR(o, new long[] { 2, 5, 5, 9 }, gamma: 0.3));
    [Fact] public void ConstantLR() => Schedule("constant", o => new L.ConstantLR(o, factor: 0.25, total_iters: 4));
    [Fact] public void LinearLR() => Schedule("linear", o => new L.LinearLR(o, start_factor: 0.2, end_factor: 0.9, total_iters: 6));
    [Fact] public void ExponentialLR() => Schedule("exponential", o => new L.ExponentialLR(o, gamma: 0.8));
    [Fact] public void CosineAnnealingLR() => Schedule("cosine", o => new L.CosineAnnealingLR(o, T_max: 7, eta_min: 0.01));
    [Fact] public void CosineAnnealingLRGroups() => Schedule("cosine_groups", o => new L.CosineAnnealingLR(o, T_max: 5), twoGroups: true);
    [Fact] public void LambdaLR() => Schedule("lambda", o => new L.LambdaLR(o, e => 1.0 / (1 + e)));
    [Fact] public void WarmRestarts() => Schedule("warm_restarts", o => new L.CosineAnnealingWarmRestarts(o, T_0: 3, T_mult: 2, eta_min: 0.001));
    [Fact] public void WarmRestartsMult1() => Schedule("warm_restarts_mult1", o => new L.CosineAnnealingWarmRestarts(o, T_0: 4));
    [Fact] public void OneCycleCos() => Schedule("onecycle_cos", o => new L.OneCycleLR(o, max_lr: 1.0, total_steps: 25));
    [Fact] public void OneCycleLinearThreePhase() => Schedule("onecycle_linear_3phase", o => new L.OneCycleLR(o, max_lr: 0.8, epochs: 5, steps_per_epoch: 5, pct_start: 0.2,
        anneal_strategy: "linear", three_phase: true, div_factor: 10, final_div_factor: 100, base_momentum: 0.8, max_momentum: 0.9));
    [Fact] public void OneCycleAdamGroups() => Schedule("onecycle_adam", o => new L.OneCycleLR(o, new[] { 0.3, 1.0 }, total_steps: 25), adam: true, twoGroups: true);
    [Fact] public void SequentialLR() => Schedule("sequential", o => new L.SequentialLR(o, new L.LRScheduler[] { new L.LinearLR(o, start_factor: 0.1, total_iters: 3), new L.ExponentialLR(o, gamma: 0.9) }, new long[] { 4 }));
    [Fact] public void ReduceLROnPlateau() => Schedule("plateau", o => new L.ReduceLROnPlateau(o, patience: 2, factor: 0.5, cooldown: 1, threshold: 0.01));
    [Fact] public void ReduceLROnPlateauMaxAbs() => Schedule("plateau_max_abs", o => new L.ReduceLROnPlateau(o, mode: "max", patience: 1, threshold_mode: "abs", threshold: 0.05, min_lr: 0.02));

    [Fact]
    public void OneCycleRejectsBadArgumentsAndOverstepping()
    {
        var o = optim.SGD(new[] { zeros(1, requires_grad: true) }, lr: 0.1, momentum: 0.9);
        Assert.Equal("You must define either total_steps OR (epochs AND steps_per_epoch)", Assert.Throws<ArgumentException>(() => new L.OneCycleLR(o, 1.0)).Message);
        var s = new L.OneCycleLR(o, 1.0, total_steps: 2);
        s.step(); s.step();
        Assert.Equal("Tried to step 3 times. The specified number of total steps is 2", Assert.Throws<InvalidOperationException>(() => s.step()).Message);
        var sd = new L.StepLR(o, 2).state_dict();
        Assert.Equal(0L, sd["last_epoch"]);
        Assert.Equal(1, sd["_step_count"]);
    }
}
