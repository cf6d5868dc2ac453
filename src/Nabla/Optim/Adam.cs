using static Nabla.torch.optim;

namespace Nabla.Modules;

/// <summary>
/// Adam with PyTorch's update (<c>torch.optim.Adam</c>): m = β₁m + (1-β₁)g, v = β₂v + (1-β₂)g²,
/// p -= lr/(1-β₁ᵗ) · m / (√v / √(1-β₂ᵗ) + ε); AMSGrad uses the running maximum of v.
/// </summary>
public sealed class Adam : Optimizer
{
    /// <summary>Creates the optimizer.</summary>
    /// <exception cref="ArgumentException">A negative lr, eps or weight decay, or a beta outside [0, 1).</exception>
    public Adam(IEnumerable<Tensor> parameters, double lr = 1e-3, (double, double)? betas = null, double eps = 1e-8, double weight_decay = 0, bool amsgrad = false, bool maximize = false)
        : base(parameters, lr)
    {
        var (beta1, beta2) = betas ?? (0.9, 0.999);
        if (!(lr >= 0)) throw new ArgumentException($"Invalid learning rate: {Py(lr)}");
        if (!(eps >= 0)) throw new ArgumentException($"Invalid epsilon value: {Py(eps)}");
        if (!(beta1 >= 0 && beta1 < 1)) throw new ArgumentException($"Invalid beta parameter at index 0: {Py(beta1)}");
        if (!(beta2 >= 0 && beta2 < 1)) throw new ArgumentException($"Invalid beta parameter at index 1: {Py(beta2)}");
        if (!(weight_decay >= 0)) throw new ArgumentException($"Invalid weight_decay value: {Py(weight_decay)}");
        this.beta1 = beta1; this.beta2 = beta2; this.eps = eps; this.weight_decay = weight_decay;
        this.amsgrad = amsgrad; this.maximize = maximize;
    }

    /// <summary>Decay of the first moment.</summary>
    public double beta1 { get; }
    /// <summary>Decay of the second moment.</summary>
    public double beta2 { get; }
    /// <summary>Added to the denominator.</summary>
    public double eps { get; }
    /// <summary>L2 penalty (added to the gradient, as Adam, not AdamW).</summary>
    public double weight_decay { get; }
    /// <summary>Use the AMSGrad variant.</summary>
    public bool amsgrad { get; }
    /// <summary>Maximize the objective instead of minimizing.</summary>
    public bool maximize { get; }

    /// <inheritdoc/>
    protected override void Update(Tensor parameter, Tensor grad, double lr)
    {
        var state = State(parameter);
        if (!state.TryGetValue("step", out var stepTensor))
        {
            // Note [Dispose scopes]: optimizer state outlives the step.
            state["step"] = stepTensor = torch.tensor(0.0f).DetachFromDisposeScope();
            state["exp_avg"] = torch.zeros_like(parameter).DetachFromDisposeScope();
            state["exp_avg_sq"] = torch.zeros_like(parameter).DetachFromDisposeScope();
            if (amsgrad) state["max_exp_avg_sq"] = torch.zeros_like(parameter).DetachFromDisposeScope();
        }
        var expAvg = state["exp_avg"];
        var expAvgSq = state["exp_avg_sq"];
        stepTensor.add_(1);
        double step = stepTensor.item<float>();
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
