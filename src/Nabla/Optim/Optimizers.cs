using static Nabla.torch.optim;

namespace Nabla.Modules;

// The update rules below follow PyTorch 1.13's single-tensor implementations (torch/optim/*.py), operation by
// operation, so float64 trajectories agree to rounding (tests/Nabla.Tests/Optim, fixtures from tools/fixtures/optim_more.py).

/// <summary>Shared checks of the optimizers below (PyTorch's constructor messages).</summary>
public abstract class CheckedOptimizer : Optimizer
{
    /// <summary>Creates the optimizer.</summary>
    protected CheckedOptimizer(IEnumerable<ParamGroup> groups, IDictionary<string, object> defaults) : base(groups, defaults) { }

    /// <summary>Throws PyTorch's "Invalid {what} value: {v}" unless <paramref name="ok"/>.</summary>
    protected static void Check(bool ok, string what, double v)
    {
        if (!ok) throw new ArgumentException(what == "learning rate" ? $"Invalid learning rate: {Py(v)}" : $"Invalid {what}: {Py(v)}");
    }

    /// <summary>A zero tensor shaped like the parameter, kept across steps.</summary>
    protected static Tensor Zeros(Tensor p) => torch.zeros_like(p).DetachFromDisposeScope();
}

/// <summary>RMSprop (<c>torch.optim.RMSprop</c>): v = αv + (1-α)g²; p -= lr · g / (√v + ε), centered and momentum variants.</summary>
public sealed class RMSprop : CheckedOptimizer
{
    /// <summary>Creates the optimizer; the arguments are the defaults of every group.</summary>
    /// <exception cref="ArgumentException">A negative lr, alpha, eps, momentum or weight decay.</exception>
    public RMSprop(IEnumerable<ParamGroup> groups, double lr = 1e-2, double alpha = 0.99, double eps = 1e-8, double weight_decay = 0, double momentum = 0, bool centered = false, bool maximize = false)
        : base(groups, new Dictionary<string, object>
        {
            ["lr"] = lr, ["momentum"] = momentum, ["alpha"] = alpha, ["eps"] = eps, ["centered"] = centered,
            ["weight_decay"] = weight_decay, ["foreach"] = false, ["maximize"] = maximize, ["differentiable"] = false,
        })
    {
    }

    /// <inheritdoc/>
    protected override void ValidateGroup(ParamGroup g)
    {
        Check(g.lr >= 0, "learning rate", g.lr);
        Check(g.Double("eps") >= 0, "epsilon value", g.Double("eps"));
        Check(g.Double("momentum") >= 0, "momentum value", g.Double("momentum"));
        Check(g.Double("weight_decay") >= 0, "weight_decay value", g.Double("weight_decay"));
        Check(g.Double("alpha") >= 0, "alpha value", g.Double("alpha"));
    }

    /// <inheritdoc/>
    protected override void Update(Tensor param, Tensor grad, ParamGroup group)
    {
        double lr = group.lr, alpha = group.Double("alpha"), eps = group.Double("eps"), wd = group.Double("weight_decay"), momentum = group.Double("momentum");
        bool centered = group.Bool("centered");
        var state = State(param);
        if (!state.ContainsKey("square_avg"))
        {
            state["step"] = torch.tensor(0.0f).DetachFromDisposeScope();
            state["square_avg"] = Zeros(param);
            if (momentum > 0) state["momentum_buffer"] = Zeros(param);
            if (centered) state["grad_avg"] = Zeros(param);
        }
        IncrementStep(state);
        if (group.Bool("maximize")) grad = grad.neg();
        if (wd != 0) grad = grad.add(param, wd);
        var squareAvg = state["square_avg"];
        squareAvg.mul_(alpha).add_(grad.mul(grad), 1 - alpha);
        Tensor avg;
        if (centered)
        {
            var gradAvg = state["grad_avg"];
            gradAvg.mul_(alpha).add_(grad, 1 - alpha);
            avg = squareAvg.add(gradAvg.mul(gradAvg), -1).sqrt();
        }
        else avg = squareAvg.sqrt();
        avg = avg.add_(eps);
        if (momentum > 0)
        {
            var buf = state["momentum_buffer"];
            buf.mul_(momentum).add_(grad.div(avg));
            param.add_(buf, -lr);
        }
        else param.add_(grad.div(avg), -lr);
    }
}

/// <summary>Adagrad (<c>torch.optim.Adagrad</c>): s += g²; p -= lr / (1 + (t-1)·lr_decay) · g / (√s + ε).</summary>
public sealed class Adagrad : CheckedOptimizer
{
    /// <summary>Creates the optimizer; the arguments are the defaults of every group.</summary>
    /// <exception cref="ArgumentException">A negative lr, lr_decay, weight decay, initial accumulator or eps.</exception>
    public Adagrad(IEnumerable<ParamGroup> groups, double lr = 1e-2, double lr_decay = 0, double weight_decay = 0, double initial_accumulator_value = 0, double eps = 1e-10, bool maximize = false)
        : base(groups, new Dictionary<string, object>
        {
            ["lr"] = lr, ["lr_decay"] = lr_decay, ["eps"] = eps, ["weight_decay"] = weight_decay,
            ["initial_accumulator_value"] = initial_accumulator_value, ["foreach"] = false, ["maximize"] = maximize, ["differentiable"] = false,
        })
    {
        // PyTorch creates the state at construction.
        foreach (var g in param_groups)
            foreach (var p in g.parameters)
            {
                var s = State(p);
                s["step"] = torch.tensor(0.0f).DetachFromDisposeScope();
                using (torch.no_grad()) s["sum"] = torch.full_like(p, g.Double("initial_accumulator_value")).DetachFromDisposeScope();
            }
    }

    /// <inheritdoc/>
    protected override void ValidateGroup(ParamGroup g)
    {
        Check(g.lr >= 0, "learning rate", g.lr);
        Check(g.Double("lr_decay") >= 0, "lr_decay value", g.Double("lr_decay"));
        Check(g.Double("weight_decay") >= 0, "weight_decay value", g.Double("weight_decay"));
        Check(g.Double("initial_accumulator_value") >= 0, "initial_accumulator_value value", g.Double("initial_accumulator_value"));
        Check(g.Double("eps") >= 0, "epsilon value", g.Double("eps"));
    }

    /// <inheritdoc/>
    protected override void Update(Tensor param, Tensor grad, ParamGroup group)
    {
        var state = State(param);
        if (!state.ContainsKey("sum")) state["sum"] = torch.full_like(param, group.Double("initial_accumulator_value")).DetachFromDisposeScope();
        double step = IncrementStep(state);
        if (group.Bool("maximize")) grad = grad.neg();
        double wd = group.Double("weight_decay");
        if (wd != 0) grad = grad.add(param, wd);
        double clr = group.lr / (1 + (step - 1) * group.Double("lr_decay"));
        var sum = state["sum"];
        sum.add_(grad.mul(grad));
        var std = sum.sqrt().add_(group.Double("eps"));
        param.add_(grad.div(std), -clr);
    }
}

/// <summary>Adadelta (<c>torch.optim.Adadelta</c>).</summary>
public sealed class Adadelta : CheckedOptimizer
{
    /// <summary>Creates the optimizer; the arguments are the defaults of every group.</summary>
    /// <exception cref="ArgumentException">A negative lr, eps or weight decay, or rho outside [0, 1].</exception>
    public Adadelta(IEnumerable<ParamGroup> groups, double lr = 1.0, double rho = 0.9, double eps = 1e-6, double weight_decay = 0, bool maximize = false)
        : base(groups, new Dictionary<string, object>
        {
            ["lr"] = lr, ["rho"] = rho, ["eps"] = eps, ["weight_decay"] = weight_decay, ["maximize"] = maximize, ["foreach"] = false, ["differentiable"] = false,
        })
    {
    }

    /// <inheritdoc/>
    protected override void ValidateGroup(ParamGroup g)
    {
        Check(g.lr >= 0, "learning rate", g.lr);
        Check(g.Double("rho") >= 0 && g.Double("rho") <= 1, "rho value", g.Double("rho"));
        Check(g.Double("eps") >= 0, "epsilon value", g.Double("eps"));
        Check(g.Double("weight_decay") >= 0, "weight_decay value", g.Double("weight_decay"));
    }

    /// <inheritdoc/>
    protected override void Update(Tensor param, Tensor grad, ParamGroup group)
    {
        double rho = group.Double("rho"), eps = group.Double("eps"), wd = group.Double("weight_decay");
        var state = State(param);
        if (!state.ContainsKey("square_avg"))
        {
            state["step"] = torch.tensor(0.0f).DetachFromDisposeScope();
            state["square_avg"] = Zeros(param);
            state["acc_delta"] = Zeros(param);
        }
        IncrementStep(state);
        if (group.Bool("maximize")) grad = grad.neg();
        if (wd != 0) grad = grad.add(param, wd);
        var squareAvg = state["square_avg"];
        var accDelta = state["acc_delta"];
        squareAvg.mul_(rho).add_(grad.mul(grad), 1 - rho);
        var std = squareAvg.add(eps).sqrt();
        var delta = accDelta.add(eps).sqrt().div_(std).mul_(grad);
        accDelta.mul_(rho).add_(delta.mul(delta), 1 - rho);
        param.add_(delta, -group.lr);
    }
}

/// <summary>Adamax (<c>torch.optim.Adamax</c>): Adam with an infinity-norm second moment.</summary>
public sealed class Adamax : CheckedOptimizer
{
    /// <summary>Creates the optimizer; the arguments are the defaults of every group.</summary>
    /// <exception cref="ArgumentException">A negative lr, eps or weight decay, or a beta outside [0, 1).</exception>
    public Adamax(IEnumerable<ParamGroup> groups, double lr = 2e-3, (double, double)? betas = null, double eps = 1e-8, double weight_decay = 0, bool maximize = false)
        : base(groups, new Dictionary<string, object>
        {
            ["lr"] = lr, ["betas"] = betas ?? (0.9, 0.999), ["eps"] = eps, ["weight_decay"] = weight_decay, ["foreach"] = false, ["maximize"] = maximize, ["differentiable"] = false,
        })
    {
    }

    /// <inheritdoc/>
    protected override void ValidateGroup(ParamGroup g) => CheckAdamLike(g);

    internal static void CheckAdamLike(ParamGroup g)
    {
        var (b1, b2) = g.Pair("betas");
        Check(g.lr >= 0, "learning rate", g.lr);
        Check(g.Double("eps") >= 0, "epsilon value", g.Double("eps"));
        if (!(b1 >= 0 && b1 < 1)) throw new ArgumentException($"Invalid beta parameter at index 0: {Py(b1)}");
        if (!(b2 >= 0 && b2 < 1)) throw new ArgumentException($"Invalid beta parameter at index 1: {Py(b2)}");
        Check(g.Double("weight_decay") >= 0, "weight_decay value", g.Double("weight_decay"));
    }

    /// <inheritdoc/>
    protected override void Update(Tensor param, Tensor grad, ParamGroup group)
    {
        var (beta1, beta2) = group.Pair("betas");
        double eps = group.Double("eps"), wd = group.Double("weight_decay");
        var state = State(param);
        if (!state.ContainsKey("exp_avg"))
        {
            state["step"] = torch.tensor(0.0f).DetachFromDisposeScope();
            state["exp_avg"] = Zeros(param);
            state["exp_inf"] = Zeros(param);
        }
        double step = IncrementStep(state);
        if (group.Bool("maximize")) grad = grad.neg();
        if (wd != 0) grad = grad.add(param, wd);
        var expAvg = state["exp_avg"];
        var expInf = state["exp_inf"];
        expAvg.mul_(beta1).add_(grad, 1 - beta1);
        expInf.copy_(torch.maximum(expInf.mul_(beta2), grad.abs().add_(eps)));
        double clr = group.lr / (1 - Math.Pow(beta1, step));
        param.add_(expAvg.div(expInf), -clr);
    }
}

/// <summary>NAdam (<c>torch.optim.NAdam</c>): Adam with Nesterov momentum and momentum decay.</summary>
public sealed class NAdam : CheckedOptimizer
{
    /// <summary>Creates the optimizer; the arguments are the defaults of every group.</summary>
    /// <exception cref="ArgumentException">A negative lr, eps, weight decay or momentum decay, or a beta outside [0, 1).</exception>
    public NAdam(IEnumerable<ParamGroup> groups, double lr = 2e-3, (double, double)? betas = null, double eps = 1e-8, double weight_decay = 0, double momentum_decay = 4e-3)
        : base(groups, new Dictionary<string, object>
        {
            ["lr"] = lr, ["betas"] = betas ?? (0.9, 0.999), ["eps"] = eps, ["weight_decay"] = weight_decay, ["momentum_decay"] = momentum_decay, ["foreach"] = false,
        })
    {
    }

    /// <inheritdoc/>
    protected override void ValidateGroup(ParamGroup g)
    {
        Adamax.CheckAdamLike(g);
        Check(g.Double("momentum_decay") >= 0, "momentum_decay value", g.Double("momentum_decay"));
    }

    /// <inheritdoc/>
    protected override void Update(Tensor param, Tensor grad, ParamGroup group)
    {
        var (beta1, beta2) = group.Pair("betas");
        double lr = group.lr, eps = group.Double("eps"), wd = group.Double("weight_decay"), md = group.Double("momentum_decay");
        var state = State(param);
        if (!state.ContainsKey("exp_avg"))
        {
            state["step"] = torch.tensor(0.0f).DetachFromDisposeScope();
            state["mu_product"] = torch.tensor(1.0f).DetachFromDisposeScope();   // float32 in PyTorch 1.13: the products round to float
            state["exp_avg"] = Zeros(param);
            state["exp_avg_sq"] = Zeros(param);
        }
        double step = IncrementStep(state);
        double biasCorrection2 = 1 - Math.Pow(beta2, step);
        if (wd != 0) grad = grad.add(param, wd);
        double mu = beta1 * (1.0 - 0.5 * Math.Pow(0.96, step * md));
        double muNext = beta1 * (1.0 - 0.5 * Math.Pow(0.96, (step + 1) * md));
        var muProductT = state["mu_product"];
        float muProduct = muProductT.item<float>() * (float)mu;
        muProductT.fill_(muProduct);
        float muProductNext = muProduct * (float)mu * (float)muNext;   // PyTorch 1.13 multiplies by mu twice here (fixed in 2.0)
        var expAvg = state["exp_avg"];
        var expAvgSq = state["exp_avg_sq"];
        expAvg.mul_(beta1).add_(grad, 1 - beta1);
        expAvgSq.mul_(beta2).add_(grad.mul(grad), 1 - beta2);
        var denom = expAvgSq.div(biasCorrection2).sqrt().add_(eps);
        param.add_(grad.div(denom), -lr * (1.0 - mu) / (1.0 - muProduct));
        param.add_(expAvg.div(denom), -lr * muNext / (1.0 - muProductNext));
    }
}

/// <summary>RAdam (<c>torch.optim.RAdam</c>): Adam with the variance rectification of Liu et al.</summary>
public sealed class RAdam : CheckedOptimizer
{
    /// <summary>Creates the optimizer; the arguments are the defaults of every group.</summary>
    /// <exception cref="ArgumentException">A negative lr, eps or weight decay, or a beta outside [0, 1).</exception>
    public RAdam(IEnumerable<ParamGroup> groups, double lr = 1e-3, (double, double)? betas = null, double eps = 1e-8, double weight_decay = 0)
        : base(groups, new Dictionary<string, object>
        {
            ["lr"] = lr, ["betas"] = betas ?? (0.9, 0.999), ["eps"] = eps, ["weight_decay"] = weight_decay, ["foreach"] = false,
        })
    {
    }

    /// <inheritdoc/>
    protected override void ValidateGroup(ParamGroup g) => Adamax.CheckAdamLike(g);

    /// <inheritdoc/>
    protected override void Update(Tensor param, Tensor grad, ParamGroup group)
    {
        var (beta1, beta2) = group.Pair("betas");
        double lr = group.lr, eps = group.Double("eps"), wd = group.Double("weight_decay");
        var state = State(param);
        if (!state.ContainsKey("exp_avg"))
        {
            state["step"] = torch.tensor(0.0f).DetachFromDisposeScope();
            state["exp_avg"] = Zeros(param);
            state["exp_avg_sq"] = Zeros(param);
        }
        double step = IncrementStep(state);
        if (wd != 0) grad = grad.add(param, wd);
        var expAvg = state["exp_avg"];
        var expAvgSq = state["exp_avg_sq"];
        expAvg.mul_(beta1).add_(grad, 1 - beta1);
        expAvgSq.mul_(beta2).add_(grad.mul(grad), 1 - beta2);
        double biasCorrection1 = 1 - Math.Pow(beta1, step);
        double biasCorrection2 = 1 - Math.Pow(beta2, step);
        var corrected = expAvg.div(biasCorrection1);
        double rhoInf = 2 / (1 - beta2) - 1;
        double rhoT = rhoInf - 2 * step * Math.Pow(beta2, step) / biasCorrection2;
        if (rhoT > 5.0)
        {
            double rect = Math.Sqrt((rhoT - 4) * (rhoT - 2) * rhoInf / ((rhoInf - 4) * (rhoInf - 2) * rhoT));
            var expAvgSqSqrt = expAvgSq.sqrt().add_(eps);
            var adaptiveLr = expAvgSqSqrt.reciprocal().mul_(Math.Sqrt(biasCorrection2));
            param.add_(corrected.mul(lr).mul_(adaptiveLr).mul_(rect), -1.0);
        }
        else param.add_(corrected.mul(lr), -1.0);
    }
}
