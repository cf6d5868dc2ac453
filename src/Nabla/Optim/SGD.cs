using static Nabla.torch.optim;

namespace Nabla.Modules;

/// <summary>
/// SGD with PyTorch's update (<c>torch.optim.SGD</c>): d = g (+ wd·p); with momentum b = d on the first step,
/// then b = μ b + (1 - dampening) d; d = b (or d + μ b with Nesterov); p -= lr · d. Options are per group.
/// </summary>
public sealed class SGD : Optimizer
{
    /// <summary>Creates the optimizer over one group of parameters.</summary>
    /// <exception cref="ArgumentException">A negative lr, momentum or weight decay, or Nesterov without momentum / with dampening.</exception>
    public SGD(IEnumerable<Tensor> parameters, double lr, double momentum = 0, double dampening = 0, double weight_decay = 0, bool nesterov = false, bool maximize = false)
        : this(GroupsOf(parameters), lr, momentum, dampening, weight_decay, nesterov, maximize) { }

    /// <summary>Creates the optimizer over parameter groups; the arguments are the defaults.</summary>
    /// <exception cref="ArgumentException">As the other constructor.</exception>
    public SGD(IEnumerable<ParamGroup> groups, double lr, double momentum = 0, double dampening = 0, double weight_decay = 0, bool nesterov = false, bool maximize = false)
        : base(groups, new Dictionary<string, object>
        {
            ["lr"] = lr, ["momentum"] = momentum, ["dampening"] = dampening, ["weight_decay"] = weight_decay,
            ["nesterov"] = nesterov, ["maximize"] = maximize, ["foreach"] = false,
        })
    {
        // PyTorch checks Nesterov on the constructor's arguments only (a group may turn momentum off).
        if (nesterov && (momentum <= 0 || dampening != 0)) throw new ArgumentException("Nesterov momentum requires a momentum and zero dampening");
    }

    /// <inheritdoc/>
    protected override void ValidateGroup(ParamGroup g)
    {
        if (g.lr < 0) throw new ArgumentException($"Invalid learning rate: {Py(g.lr)}");
        if (g.Double("momentum") < 0) throw new ArgumentException($"Invalid momentum value: {Py(g.Double("momentum"))}");
        if (g.Double("weight_decay") < 0) throw new ArgumentException($"Invalid weight_decay value: {Py(g.Double("weight_decay"))}");
    }

    /// <summary>Momentum factor μ of the first group.</summary>
    public double momentum => param_groups[0].Double("momentum");
    /// <summary>Dampening of the first group.</summary>
    public double dampening => param_groups[0].Double("dampening");
    /// <summary>L2 penalty of the first group.</summary>
    public double weight_decay => param_groups[0].Double("weight_decay");
    /// <summary>Nesterov momentum (first group).</summary>
    public bool nesterov => param_groups[0].Bool("nesterov");
    /// <summary>Maximize the objective (first group).</summary>
    public bool maximize => param_groups[0].Bool("maximize");

    /// <inheritdoc/>
    protected override void Update(Tensor parameter, Tensor grad, ParamGroup group)
    {
        double lr = group.lr, momentum = group.Double("momentum"), dampening = group.Double("dampening"), weight_decay = group.Double("weight_decay");
        bool nesterov = group.Bool("nesterov"), maximize = group.Bool("maximize");
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
