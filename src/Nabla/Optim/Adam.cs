using static Nabla.torch.optim;

namespace Nabla.Modules;

/// <summary>
/// Adam with PyTorch's update (<c>torch.optim.Adam</c>): m = β₁m + (1-β₁)g, v = β₂v + (1-β₂)g²,
/// p -= lr/(1-β₁ᵗ) · m / (√v / √(1-β₂ᵗ) + ε); AMSGrad uses the running maximum of v. Options are per group.
/// </summary>
public class Adam : Optimizer
{
    /// <summary>Creates the optimizer over one group of parameters.</summary>
    /// <exception cref="ArgumentException">A negative lr, eps or weight decay, or a beta outside [0, 1).</exception>
    public Adam(IEnumerable<Tensor> parameters, double lr = 1e-3, (double, double)? betas = null, double eps = 1e-8, double weight_decay = 0, bool amsgrad = false, bool maximize = false)
        : this(GroupsOf(parameters), lr, betas, eps, weight_decay, amsgrad, maximize) { }

    /// <summary>Creates the optimizer over parameter groups; the arguments are the defaults.</summary>
    /// <exception cref="ArgumentException">As the other constructor.</exception>
    public Adam(IEnumerable<ParamGroup> groups, double lr = 1e-3, (double, double)? betas = null, double eps = 1e-8, double weight_decay = 0, bool amsgrad = false, bool maximize = false)
        : base(groups, new Dictionary<string, object>
        {
            ["lr"] = lr, ["betas"] = betas ?? (0.9, 0.999), ["eps"] = eps, ["weight_decay"] = weight_decay,
            ["amsgrad"] = amsgrad, ["maximize"] = maximize, ["foreach"] = false, ["capturable"] = false, ["differentiable"] = false, ["fused"] = false,
        })
    {
    }

    /// <summary>Whether the weight decay is decoupled (AdamW).</summary>
    protected virtual bool Decoupled => false;

    /// <inheritdoc/>
    protected override void ValidateGroup(ParamGroup g)
    {
        var (beta1, beta2) = g.Pair("betas");
        if (!(g.lr >= 0)) throw new ArgumentException($"Invalid learning rate: {Py(g.lr)}");
        if (!(g.Double("eps") >= 0)) throw new ArgumentException($"Invalid epsilon value: {Py(g.Double("eps"))}");
        if (!(beta1 >= 0 && beta1 < 1)) throw new ArgumentException($"Invalid beta parameter at index 0: {Py(beta1)}");
        if (!(beta2 >= 0 && beta2 < 1)) throw new ArgumentException($"Invalid beta parameter at index 1: {Py(beta2)}");
        if (!(g.Double("weight_decay") >= 0)) throw new ArgumentException($"Invalid weight_decay value: {Py(g.Double("weight_decay"))}");
    }

    /// <summary>Decay of the first moment (first group).</summary>
    public double beta1 => param_groups[0].Pair("betas").Item1;
    /// <summary>Decay of the second moment (first group).</summary>
    public double beta2 => param_groups[0].Pair("betas").Item2;
    /// <summary>Added to the denominator (first group).</summary>
    public double eps => param_groups[0].Double("eps");
    /// <summary>Weight decay (first group).</summary>
    public double weight_decay => param_groups[0].Double("weight_decay");
    /// <summary>AMSGrad variant (first group).</summary>
    public bool amsgrad => param_groups[0].Bool("amsgrad");
    /// <summary>Maximize the objective (first group).</summary>
    public bool maximize => param_groups[0].Bool("maximize");

    /// <inheritdoc/>
    protected override void Update(Tensor parameter, Tensor grad, ParamGroup group)
    {
        double lr = group.lr, eps = group.Double("eps"), weight_decay = group.Double("weight_decay");
        var (beta1, beta2) = group.Pair("betas");
        bool amsgrad = group.Bool("amsgrad"), maximize = group.Bool("maximize");
        var state = State(parameter);
        if (!state.ContainsKey("exp_avg"))
        {
            // Note [Dispose scopes]: optimizer state outlives the step.
            state["step"] = torch.tensor(0.0f).DetachFromDisposeScope();
            state["exp_avg"] = torch.zeros_like(parameter).DetachFromDisposeScope();
            state["exp_avg_sq"] = torch.zeros_like(parameter).DetachFromDisposeScope();
            if (amsgrad) state["max_exp_avg_sq"] = torch.zeros_like(parameter).DetachFromDisposeScope();
        }
        var expAvg = state["exp_avg"];
        var expAvgSq = state["exp_avg_sq"];
        double step = IncrementStep(state);
        if (Decoupled)
        {
            if (maximize) grad = grad.neg();
            maximize = false;
            parameter.mul_(1 - lr * weight_decay);
            weight_decay = 0;
        }
        double biasCorrection1 = 1 - Math.Pow(beta1, step);
        double biasCorrection2 = 1 - Math.Pow(beta2, step);
        double stepSize = lr / biasCorrection1;
        double biasCorrection2Sqrt = Math.Sqrt(biasCorrection2);
        var maxExpAvgSq = amsgrad ? state["max_exp_avg_sq"] : null;
        if (Ops.FusedOptim.Adam(parameter, grad, expAvg, expAvgSq, maxExpAvgSq, beta1, beta2, weight_decay, biasCorrection2Sqrt, eps, stepSize, maximize))
        {
            // Note [Fused optimizer steps]: the same arithmetic as below, in one pass.
            expAvg.BumpVersion();
            expAvgSq.BumpVersion();
            maxExpAvgSq?.BumpVersion();
            parameter.BumpVersion();
            return;
        }
        if (maximize) grad = grad.neg();
        if (weight_decay != 0) grad = grad.add(parameter, weight_decay);
        expAvg.mul_(beta1).add_(grad, 1 - beta1);
        expAvgSq.mul_(beta2).add_(grad.mul(1 - beta2).mul(grad));          // addcmul_(grad, grad, value = 1 - β₂)
        Tensor denom;
        if (maxExpAvgSq is not null)
        {
            maxExpAvgSq.copy_(torch.maximum(maxExpAvgSq, expAvgSq));
            denom = (maxExpAvgSq.sqrt() / biasCorrection2Sqrt).add_(eps);
        }
        else denom = (expAvgSq.sqrt() / biasCorrection2Sqrt).add_(eps);
        parameter.add_(expAvg.div(denom).mul(-stepSize));                 // addcdiv_(exp_avg, denom, value = -step_size)
    }
}

/// <summary>
/// AdamW (<c>torch.optim.AdamW</c>, Loshchilov and Hutter): p *= 1 - lr·wd, then Adam's update without L2 in the
/// gradient. Weight decay defaults to 0.01.
/// </summary>
public sealed class AdamW : Adam
{
    /// <summary>Creates the optimizer over parameter groups; the arguments are the defaults.</summary>
    /// <exception cref="ArgumentException">A negative lr, eps or weight decay, or a beta outside [0, 1).</exception>
    public AdamW(IEnumerable<ParamGroup> groups, double lr = 1e-3, (double, double)? betas = null, double eps = 1e-8, double weight_decay = 1e-2, bool amsgrad = false, bool maximize = false)
        : base(groups, lr, betas, eps, weight_decay, amsgrad, maximize) { }

    /// <inheritdoc/>
    protected override bool Decoupled => true;
}
