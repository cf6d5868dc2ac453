using Nabla.Autograd;
using Nabla.Ops;

namespace Nabla;

// Note [In-place ops]
// Without recording (no_grad, or nothing requires grad) an in-place op runs its kernel straight into this tensor's
// storage and bumps the version counter. When the op must be recorded, the out-of-place op runs on a snapshot of
// this tensor that carries the same history (so the new node's edges point where this tensor's did), the values
// are copied back, and this tensor takes over the new node as its grad_fn. A leaf that requires grad may not be
// modified in place outside no_grad; views of tensors that require grad cannot be rebased yet (CopySlices) and say so.

public sealed partial class Tensor
{
    bool RecordInplace(Tensor? other)
    {
        History.CheckInplace(this);
        bool record = GradMode.IsEnabled && (requires_grad || (other is not null && other.requires_grad));
        if (record && _base is not null && (_base.requires_grad || requires_grad))
            throw new NotSupportedException(
                "in-place operations on views of tensors that require grad are not supported by Nabla yet; use an out-of-place op (e.g. x = x.add(y)) or clone() the view first");
        return record;
    }

    Tensor Snapshot()
    {
        var copy = EmptyLike(this, _dtype, _shape);
        Ops.Raw.CopyInto(copy, this);
        copy._gradFn = _gradFn;
        copy._outputNr = _outputNr;
        copy._requiresGrad = _requiresGrad;
        return copy;
    }

    Tensor TakeOver(Tensor result)
    {
        Ops.Raw.CopyInto(this, result);
        BumpVersion();
        if (result._gradFn is not null)
        {
            var (oldFn, oldNr) = (_gradFn, _outputNr);
            _gradFn = result._gradFn;
            _outputNr = result._outputNr;
            _gradFn.OutputShapes = new[] { _shape };
            History.MoveRetainsGrad(this, oldFn, oldNr);
        }
        return this;
    }

    static void CheckCast(ScalarType result, ScalarType self)
    {
        if (ScalarTypeExtensions.Category(result) > ScalarTypeExtensions.Category(self))
            throw new InvalidOperationException($"result type {result.CppScalarName()} can't be cast to the desired output type {self.CppScalarName()}");
    }

    Tensor InplaceBinary(BinaryOp kind, Tensor other, Func<Tensor, Tensor> outOfPlace)
    {
        CheckCast(Ops.Raw.ResultType(this, other), _dtype);
        if (RecordInplace(other)) return TakeOver(outOfPlace(Snapshot()));
        var o = Ops.Raw.Cast(other, _dtype);
        ShapeUtil.Broadcast(_shape, o._shape); // validates
        Ops.Raw.BroadcastStrides(o, _shape);
        Ops.Raw.BinaryInto(kind, this, this, o);
        BumpVersion();
        return this;
    }

    Tensor InplaceScalar(BinaryOp kind, Scalar s, Func<Tensor, Tensor> outOfPlace)
    {
        CheckCast(Ops.Raw.ResultType(this, s), _dtype);
        if (RecordInplace(null)) return TakeOver(outOfPlace(Snapshot()));
        var t = ScalarTensor(s);
        Ops.Raw.BinaryInto(kind, this, this, Ops.Raw.Cast(t, _dtype));
        BumpVersion();
        return this;
    }

    /// <summary>this += alpha * other in one fused pass (no temporary) when the layouts allow; false otherwise.</summary>
    bool FusedAxpyInPlace(Tensor other, double alpha)
    {
        History.CheckInplace(this);
        if (!is_floating_point() || other._dtype != _dtype) return false;
        if (!Ops.Raw.TryAxpy(this, this, other, alpha)) return false;
        BumpVersion();
        return true;
    }

    /// <summary>In-place this += alpha * other.</summary>
    public Tensor add_(Tensor other, Scalar? alpha = null)
    {
        var a = alpha ?? 1;
        if (a.Value != 1 && !RecordsWith(other))
        {
            if (FusedAxpyInPlace(other, a.Value)) return this;
            return add_(other.mul(a));
        }
        return InplaceBinary(BinaryOp.Add, other, s => s.add(other, a));
    }

    /// <summary>In-place this += alpha * scalar.</summary>
    public Tensor add_(Scalar other, Scalar? alpha = null)
    {
        Scalar v = alpha is { } a && a.Value != 1 ? other.Value * a.Value : other;
        return InplaceScalar(BinaryOp.Add, v, s => s.add(v));
    }

    /// <summary>In-place this -= alpha * other.</summary>
    public Tensor sub_(Tensor other, Scalar? alpha = null)
    {
        var a = alpha ?? 1;
        if (a.Value != 1 && !RecordsWith(other))
        {
            if (FusedAxpyInPlace(other, -a.Value)) return this;
            return sub_(other.mul(a));
        }
        return InplaceBinary(BinaryOp.Sub, other, s => s.sub(other, a));
    }

    /// <summary>In-place this -= alpha * scalar.</summary>
    public Tensor sub_(Scalar other, Scalar? alpha = null)
    {
        Scalar v = alpha is { } a && a.Value != 1 ? other.Value * a.Value : other;
        return InplaceScalar(BinaryOp.Sub, v, s => s.sub(v));
    }

    /// <summary>In-place this *= other.</summary>
    public Tensor mul_(Tensor other) => InplaceBinary(BinaryOp.Mul, other, s => s.mul(other));
    /// <summary>In-place this *= scalar.</summary>
    public Tensor mul_(Scalar other) => InplaceScalar(BinaryOp.Mul, other, s => s.mul(other));
    /// <summary>In-place this /= other.</summary>
    public Tensor div_(Tensor other) => InplaceBinary(BinaryOp.Div, other.is_floating_point() || is_floating_point() ? other : other, s => s.div(other));
    /// <summary>In-place this /= scalar.</summary>
    public Tensor div_(Scalar other) => InplaceScalar(BinaryOp.Div, other, s => s.div(other));

    /// <summary>In-place negation.</summary>
    public Tensor neg_() => mul_(-1);

    /// <summary>In-place clamp.</summary>
    public Tensor clamp_(Scalar? min = null, Scalar? max = null)
    {
        if (RecordInplace(null)) return TakeOver(Snapshot().clamp(min, max));
        var r = UnaryMath.Clamp(this, min, max);
        Ops.Raw.CopyInto(this, r);
        BumpVersion();
        return this;
    }

    /// <summary>In-place ReLU.</summary>
    public Tensor relu_()
    {
        if (RecordInplace(null)) return TakeOver(Snapshot().relu());
        Ops.Raw.CopyInto(this, UnaryMath.Relu(this));
        BumpVersion();
        return this;
    }

    /// <summary>Fills with zeros in place.</summary>
    public Tensor zero_() => fill_(0);

    /// <summary>Fills with <paramref name="value"/> in place.</summary>
    public Tensor fill_(Scalar value)
    {
        if (RecordInplace(null))
        {
            var r = torch.full_like(this, value);
            var node = new FillBackward(value.Value == 0 ? "ZeroBackward0" : "FillBackward2");
            node.SetNextEdges(this);
            History.Set(r, node);
            return TakeOver(r);
        }
        FillUnchecked(value);
        BumpVersion();
        return this;
    }

    /// <summary>Copies <paramref name="src"/>'s values (broadcast, converted) into this tensor in place.</summary>
    public Tensor copy_(Tensor src)
    {
        if (RecordInplace(src))
        {
            var r = src.expand(_shape).to(_dtype).clone();
            var node = new CopyBackwards(src._shape, src._dtype);
            node.SetNextEdges(this, src);
            var result = EmptyLike(this, _dtype, _shape);
            Ops.Raw.CopyInto(result, r);
            History.Set(result, node);
            return TakeOver(result);
        }
        Ops.Raw.CopyInto(this, src);
        BumpVersion();
        return this;
    }

    bool RecordsWith(Tensor other) => GradMode.IsEnabled && (requires_grad || other.requires_grad);
}

/// <summary>Backward of fill_/zero_: no gradient flows to the overwritten values.</summary>
internal sealed class FillBackward : Node
{
    readonly string _name;
    public FillBackward(string name) => _name = name;
    public override string name() => _name;
    protected internal override Tensor?[] Apply(Tensor?[] g) => new Tensor?[] { torch.zeros_like(g[0]!) };
}

/// <summary>Backward of copy_: nothing to the overwritten tensor, the gradient (summed to shape) to the source.</summary>
internal sealed class CopyBackwards : Node
{
    readonly long[] _srcShape;
    readonly ScalarType _srcType;
    public CopyBackwards(long[] srcShape, ScalarType srcType) { _srcShape = srcShape; _srcType = srcType; }
    public override string name() => "torch::autograd::CopyBackwards";
    protected internal override Tensor?[] Apply(Tensor?[] g) =>
        new Tensor?[] { torch.zeros_like(g[0]!), Reduce.HandleBroadcast(g[0]!, _srcShape, _srcType) };
}
