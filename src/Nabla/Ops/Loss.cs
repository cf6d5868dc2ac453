using Nabla.Autograd;

namespace Nabla.Ops;

// Loss functions with fused nodes, as PyTorch records them (MseLossBackward0, BinaryCrossEntropyBackward0,
// BinaryCrossEntropyWithLogitsBackward0, NllLossBackward0 / NllLoss2DBackward0). Forward values are computed
// without recording (binary_cross_entropy and nll_loss, which validate the values they read, by backend primitives);
// backward rules follow derivatives.yaml / FunctionsManual.cpp and use differentiable ops.

/// <summary>
/// How a loss reduces its per-element values, at the op level (ATen's at::Reduction). The public spelling is
/// <c>torch.nn.Reduction</c> (NN/), which maps onto this one value for value; Ops does not depend on NN.
/// </summary>
internal enum LossReduction
{
    /// <summary>No reduction.</summary>
    None = 0,
    /// <summary>The (weighted) mean.</summary>
    Mean = 1,
    /// <summary>The sum.</summary>
    Sum = 2,
}

internal static class Loss
{
    /// <summary>Parses "none" / "mean" / "sum" as PyTorch's _Reduction.get_enum does.</summary>
    public static LossReduction ParseReduction(string reduction) => reduction switch
    {
        "none" => LossReduction.None,
        "mean" => LossReduction.Mean,
        "sum" => LossReduction.Sum,
        _ => throw new ArgumentException($"{reduction} is not a valid value for reduction"),
    };

    public static Tensor Reduce(Tensor loss, LossReduction reduction) => reduction switch
    {
        LossReduction.Mean => loss.mean(),
        LossReduction.Sum => loss.sum(),
        _ => loss,
    };

    // ---- mse_loss ----------------------------------------------------------------------------------------------

    // norm * (x - y) * grad for the input, its negation for the target (norm, the rule's scalar: 2, or 2 / N for "mean").
    static readonly Rule MseLossRule = Rule.Binary("MseLossBackward0",
        Needs.Self | Needs.Other, static (g, s) => (s.Self - s.Other) * s.Scalar.Value * g,
        Needs.Self | Needs.Other, static (g, s) => ((s.Self - s.Other) * s.Scalar.Value * g).neg());

    public static Tensor MseLoss(Tensor input, Tensor target, LossReduction reduction)
    {
        var dtype = Raw.ResultType(input, target);
        if (!dtype.IsFloatingPoint())
            throw new InvalidOperationException($"\"mse_cpu\" not implemented for '{dtype.CppScalarName()}'");
        Tensor result;
        using (torch.no_grad())
        {
            var d = input - target;
            result = Reduce(d * d, reduction);
        }
        return MseLossRule.Record(result, input, target, reduction == LossReduction.Mean ? 2.0 / input._numel : 2.0);
    }

    // ---- binary_cross_entropy ----------------------------------------------------------------------------------

    public static Tensor BinaryCrossEntropy(Tensor input, Tensor target, Tensor? weight, LossReduction reduction)
    {
        if (target._dtype != input._dtype)
            throw new InvalidOperationException($"Found dtype {target._dtype.CppScalarName()} but expected {input._dtype.CppScalarName()}");
        Raw.CheckSameDevice(input, target);
        if (weight is not null) Raw.CheckSameDevice(input, weight);
        var elementwise = Tensor.EmptyLike(input, input._dtype, input._shape);
        input.Backend.BinaryCrossEntropy(elementwise.Raw, input.Raw, target.expand(input._shape).Raw, weight?.expand(input._shape).Raw);
        Tensor result;
        using (torch.no_grad()) result = Reduce(elementwise, reduction);
        if (History.ShouldRecord(input, target))
        {
            var node = new BinaryCrossEntropyBackward0(input, target, weight, reduction);
            node.SetNextEdges(input, target);
            History.Set(result, node);
        }
        return result;
    }

    // ---- binary_cross_entropy_with_logits ----------------------------------------------------------------------

    public static Tensor BinaryCrossEntropyWithLogits(Tensor input, Tensor target, Tensor? weight, Tensor? posWeight, LossReduction reduction)
    {
        // PyTorch's formula runs in place ((1 - t).mul_(x), exp_() on a tensor of the input's dtype): an integer
        // input or target cannot hold the floating result.
        if (!input._dtype.IsFloatingPoint())
            throw new InvalidOperationException($"result type Float can't be cast to the desired output type {input._dtype.CppScalarName()}");
        if (!target._dtype.IsFloatingPoint())
            throw new InvalidOperationException(
                $"result type {input._dtype.CppScalarName()} can't be cast to the desired output type {target._dtype.CppScalarName()}");
        Tensor result;
        using (torch.no_grad())
        {
            // PyTorch's formula (Loss.cpp): max_val = clamp_min(-x, 0);
            // loss = (1 - t) x + lw * (log(exp(-max_val) + exp(-x - max_val)) + max_val), lw = 1 + (pw - 1) t.
            var maxVal = input.neg().clamp_min(0);
            var softplus = (maxVal.neg().exp() + (input.neg() - maxVal).exp()).log();
            Tensor loss;
            if (posWeight is not null)
            {
                var logWeight = (posWeight - 1) * target + 1;
                loss = (1 - target) * input + logWeight * (softplus + maxVal);
            }
            else
            {
                loss = (1 - target) * input + maxVal + softplus;
            }
            if (weight is not null) loss = loss * weight;
            result = Reduce(loss, reduction);
        }
        if (History.ShouldRecord(input, target))
        {
            var node = new BinaryCrossEntropyWithLogitsBackward0(input, target, weight, posWeight, reduction);
            node.SetNextEdges(input, target);
            History.Set(result, node);
        }
        return result;
    }

    // ---- nll_loss ----------------------------------------------------------------------------------------------

    /// <summary>
    /// Negative log likelihood over class dim 1 (or 0 for a 1-D input). The loss is linear in the input, so it is
    /// computed as sum(coefficients * input) where coefficient[n, t_n, s] = -w[t_n]; backward is coefficients * grad.
    /// </summary>
    public static Tensor NllLoss(Tensor input, Tensor target, Tensor? weight, LossReduction reduction, long ignoreIndex)
    {
        int rank = input._shape.Length;
        if (rank < 1) throw new ArgumentException($"Expected 1 or more dimensions (got {rank})");
        if (target._dtype != ScalarType.Int64)
            throw new InvalidOperationException($"expected scalar type Long but found {target._dtype.CppScalarName()}");
        long batch = rank == 1 ? 1 : input._shape[0];
        long classes = rank == 1 ? input._shape[0] : input._shape[1];
        if (rank >= 2 && (target._shape.Length == 0 || target._shape[0] != batch))
            throw new ArgumentException($"Expected input batch_size ({batch}) to match target batch_size ({(target._shape.Length == 0 ? 1 : target._shape[0])}).");
        if (rank <= 2 && target._shape.Length > 1)
            throw new InvalidOperationException("0D or 1D target tensor expected, multi-target not supported");
        if (rank == 1 && target._shape.Length != 0)
            throw new InvalidOperationException("0D or 1D target tensor expected, multi-target not supported");
        var outShape = new List<long>();
        if (rank >= 2) outShape.Add(batch);
        for (int i = 2; i < rank; i++) outShape.Add(input._shape[i]);
        if (rank > 2 && !ShapeUtil.SameShape(target._shape, outShape.ToArray()))
            throw new InvalidOperationException($"Expected target size {ShapeUtil.Format(outShape.ToArray())}, got {ShapeUtil.Format(target._shape)}");
        if (weight is not null && (weight._shape.Length != 1 || weight._shape[0] != classes))
            throw new InvalidOperationException(
                $"weight tensor should be defined either for all {classes} classes or no classes but got weight tensor of shape: {ShapeUtil.Format(weight._shape)}");

        if (!input._dtype.IsFloatingPoint())
            throw new InvalidOperationException(
                $"\"{(rank > 2 ? "nll_loss2d_forward_out_frame" : "nll_loss_out_frame")}\" not implemented for '{input._dtype.CppScalarName()}'");

        Raw.CheckSameDevice(input, target);
        if (weight is not null) Raw.CheckSameDevice(input, weight);
        bool record = History.ShouldRecord(input);
        bool reduce = reduction != LossReduction.None;
        var result = Tensor.EmptyLike(input, input._dtype, reduce ? System.Array.Empty<long>() : outShape.ToArray());
        var c = record ? new Tensor(input.Backend, input._dtype, input._shape, zero: true) : null;
        input.Backend.NllLoss(result.Raw, c?.Raw, input.Raw, target.Raw, weight?.Raw, reduce, reduction == LossReduction.Mean, ignoreIndex);
        if (c is not null)
        {
            var node = new NllLossBackward(c, reduction, rank > 2 ? "NllLoss2DBackward0" : "NllLossBackward0");
            node.SetNextEdges(input);
            History.Set(result, node);
        }
        return result;
    }
}

/// <summary>
/// Backward of binary_cross_entropy: w (x - t) / max((1 - x) x, 1e-12) * grad for the input,
/// w (log(1 - x) - log(x)) * grad for the target.
/// </summary>
// Kept as a Node: it saves an optional weight that is no input edge (a Rule saves only its inputs).
internal sealed class BinaryCrossEntropyBackward0 : Node
{
    SavedTensor _self, _target, _weight;
    readonly bool _hasWeight;
    readonly LossReduction _reduction;
    public BinaryCrossEntropyBackward0(Tensor self, Tensor target, Tensor? weight, LossReduction reduction)
    {
        _self = new SavedTensor(self); _target = new SavedTensor(target); _reduction = reduction;
        if (weight is not null) { _weight = new SavedTensor(weight); _hasWeight = true; }
    }
    public override string name() => "BinaryCrossEntropyBackward0";
    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var x = _self.Unpack(this);
        var t = _target.Unpack(this);
        var grad = g[0]!;
        if (_reduction == LossReduction.Mean) grad = grad / x._numel;
        if (_hasWeight) grad = grad * _weight.Unpack(this);
        Tensor? gi = null, gt = null;
        if (NeedsInputGrad(0)) gi = grad * (x - t) / ((1 - x) * x).clamp_min(1e-12);
        if (NeedsInputGrad(1)) gt = grad * ((1 - x).log() - x.log());
        return new[] { gi, gt };
    }
    protected internal override void ReleaseVariables() { _self.Release(); _target.Release(); _weight.Release(); }
}

/// <summary>
/// Backward of binary_cross_entropy_with_logits: ((pw t + 1 - t) sigmoid(x) - pw t) * grad for the input
/// (sigmoid(x) - t without pos_weight); logsigmoid(-x) - pw logsigmoid(x) (or -x) times grad for the target.
/// </summary>
// Kept as a Node: it saves optional weight and pos_weight tensors that are no input edges.
internal sealed class BinaryCrossEntropyWithLogitsBackward0 : Node
{
    SavedTensor _self, _target, _weight, _posWeight;
    readonly bool _hasWeight, _hasPosWeight;
    readonly LossReduction _reduction;
    public BinaryCrossEntropyWithLogitsBackward0(Tensor self, Tensor target, Tensor? weight, Tensor? posWeight, LossReduction reduction)
    {
        _self = new SavedTensor(self); _target = new SavedTensor(target); _reduction = reduction;
        if (weight is not null) { _weight = new SavedTensor(weight); _hasWeight = true; }
        if (posWeight is not null) { _posWeight = new SavedTensor(posWeight); _hasPosWeight = true; }
    }
    public override string name() => "BinaryCrossEntropyWithLogitsBackward0";
    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var x = _self.Unpack(this);
        var t = _target.Unpack(this);
        var grad = g[0]!;
        if (_hasWeight) grad = grad * _weight.Unpack(this);
        if (_reduction == LossReduction.Mean) grad = grad / x._numel;
        Tensor? gi = null, gt = null;
        if (NeedsInputGrad(0))
        {
            Tensor d;
            if (_hasPosWeight)
            {
                var pt = _posWeight.Unpack(this) * t;
                d = (pt + 1 - t) * x.sigmoid() - pt;
            }
            else d = x.sigmoid() - t;
            gi = d * grad;
        }
        if (NeedsInputGrad(1))
        {
            Tensor d;
            if (_hasPosWeight)
            {
                // log(sigmoid(x)) = -(max(-x, 0) + log(exp(-max(-x,0)) + exp(-x - max(-x,0)))), computed stably.
                d = LogSigmoid(x.neg()) - _posWeight.Unpack(this) * LogSigmoid(x);
            }
            else d = x.neg();
            gt = d * grad;
        }
        return new[] { gi, gt };
    }

    static Tensor LogSigmoid(Tensor x)
    {
        var m = x.neg().clamp_min(0);
        return (m + (m.neg().exp() + (x.neg() - m).exp()).log()).neg();
    }

    protected internal override void ReleaseVariables() { _self.Release(); _target.Release(); _weight.Release(); _posWeight.Release(); }
}

/// <summary>
/// Backward of nll_loss: the loss is linear in the input, so the gradient is the saved coefficient tensor
/// (-w[t] at each target position, already divided by the total weight for "mean") times the incoming gradient.
/// </summary>
// Kept as a Node: it saves a coefficient tensor computed by the forward kernel, which no Rule slot holds.
internal sealed class NllLossBackward : Node
{
    Tensor? _coefficients;
    readonly LossReduction _reduction;
    readonly string _name;
    public NllLossBackward(Tensor coefficients, LossReduction reduction, string name) { _coefficients = coefficients; _reduction = reduction; _name = name; }
    public override string name() => _name;
    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var c = _coefficients ?? throw new InvalidOperationException(SavedTensor.SecondBackwardMessage);
        var grad = g[0]!;
        if (_reduction == LossReduction.None && c._shape.Length >= 2) grad = grad.unsqueeze(1);
        return new Tensor?[] { c * grad };
    }
    protected internal override void ReleaseVariables() => _coefficients = null;
}
