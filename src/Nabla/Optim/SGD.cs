using static Nabla.torch.optim;

namespace Nabla.Modules;

/// <summary>
/// SGD with PyTorch's update (<c>torch.optim.SGD</c>): d = g (+ wd·p); with momentum b = d on the first step,
/// then b = μ b + (1 - dampening) d; d = b (or d + μ b with Nesterov); p -= lr · d.
/// </summary>
public sealed class SGD : Optimizer
{
    /// <summary>Creates the optimizer.</summary>
    /// <exception cref="ArgumentException">A negative lr, momentum or weight decay, or Nesterov without momentum / with dampening.</exception>
    public SGD(IEnumerable<Tensor> parameters, double lr, double momentum = 0, double dampening = 0, double weight_decay = 0, bool nesterov = false, bool maximize = false)
        : base(parameters, lr)
    {
        if (lr < 0) throw new ArgumentException($"Invalid learning rate: {Py(lr)}");
        if (momentum < 0) throw new ArgumentException($"Invalid momentum value: {Py(momentum)}");
        if (weight_decay < 0) throw new ArgumentException($"Invalid weight_decay value: {Py(weight_decay)}");
        if (nesterov && (momentum <= 0 || dampening != 0)) throw new ArgumentException("Nesterov momentum requires a momentum and zero dampening");
        this.momentum = momentum; this.dampening = dampening; this.weight_decay = weight_decay;
        this.nesterov = nesterov; this.maximize = maximize;
    }

    /// <summary>Momentum factor μ.</summary>
    public double momentum { get; }
    /// <summary>Dampening of the momentum.</summary>
    public double dampening { get; }
    /// <summary>L2 penalty.</summary>
    public double weight_decay { get; }
    /// <summary>Nesterov momentum.</summary>
    public bool nesterov { get; }
    /// <summary>Maximize the objective instead of minimizing.</summary>
    public bool maximize { get; }

    /// <inheritdoc/>
    protected override void Update(Tensor parameter, Tensor grad, double lr)
    {
        if (momentum != 0 && State(parameter).TryGetValue("momentum_buffer", out var buf)
            && Ops.FusedOptim.SgdMomentum(parameter, grad, buf, lr, momentum, dampening, weight_decay, nesterov, maximize))
        {
            // Note [Fused optimizer steps]: the same arithmetic as below, in one pass.
            buf.BumpVersion();
            parameter.BumpVersion();
            return;
        }
        var d = maximize ? grad.neg() : grad;
        if (weight_decay != 0) d = d.add(parameter, weight_decay);
        if (momentum != 0)
        {
            var state = State(parameter);
            if (!state.TryGetValue("momentum_buffer", out var buffer))
                state["momentum_buffer"] = buffer = d.clone().DetachFromDisposeScope();
            else
                buffer.mul_(momentum).add_(d, 1 - dampening);
            d = nesterov ? d.add(buffer, momentum) : buffer;
        }
        parameter.add_(d, -lr);
    }
}
