using Nabla.Autograd;
using Nabla.Backends;

namespace Nabla.Ops;

/// <summary>where, maximum, minimum: selections whose gradients are masks.</summary>
internal static class Elementary
{
    public static Tensor Where(Tensor condition, Tensor x, Tensor y)
    {
        if (condition._dtype != ScalarType.Bool)
            throw new ArgumentException($"where expected condition to be a boolean tensor, but got a tensor with dtype {condition._dtype.CppScalarName()}");
        var dtype = Raw.ResultType(x, y);
        var shape = ShapeUtil.Broadcast(ShapeUtil.Broadcast(condition._shape, x._shape), y._shape);
        Raw.CheckSameDevice(condition, x, y);
        var result = Tensor.EmptyLike(x, dtype, shape);
        if (result._numel > 0) x.Backend.Where(result.Raw, condition.Raw, Raw.Cast(x, dtype).Raw, Raw.Cast(y, dtype).Raw);
        if (History.ShouldRecord(x, y))
        {
            var node = new WhereBackward0(condition, x, y);
            node.SetNextEdges(x, y);
            History.Set(result, node);
        }
        return result;
    }

    public static Tensor Maximum(Tensor a, Tensor b) => MaxMin(a, b, true);

    public static Tensor Minimum(Tensor a, Tensor b) => MaxMin(a, b, false);

    static Tensor MaxMin(Tensor a, Tensor b, bool max)
    {
        var dtype = Raw.ResultType(a, b);
        var result = Raw.Binary(max ? BinaryOp.Max : BinaryOp.Min, a, b, dtype);
        if (History.ShouldRecord(a, b))
        {
            var node = new MaxMinBackward(a, b, max);
            node.SetNextEdges(a, b);
            History.Set(result, node);
        }
        return result;
    }
}

/// <summary>Backward of where: the gradient masked into each branch.</summary>
internal sealed class WhereBackward0 : Node
{
    readonly Tensor _condition;
    readonly long[] _xShape, _yShape;
    readonly ScalarType _xType, _yType;
    public WhereBackward0(Tensor condition, Tensor x, Tensor y)
    {
        _condition = condition; _xShape = x._shape; _yShape = y._shape; _xType = x._dtype; _yType = y._dtype;
    }
    public override string name() => "WhereBackward0";
    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var grad = g[0]!;
        var zero = torch.zeros_like(grad);
        return new[]
        {
            NeedsInputGrad(0) ? Reduce.HandleBroadcast(torch.where(_condition, grad, zero), _xShape, _xType) : null,
            NeedsInputGrad(1) ? Reduce.HandleBroadcast(torch.where(_condition, zero, grad), _yShape, _yType) : null,
        };
    }
}

/// <summary>Backward of maximum/minimum: the winner gets the gradient; a tie gives half to each.</summary>
internal sealed class MaxMinBackward : Node
{
    SavedTensor _self, _other;
    readonly bool _max;
    readonly long[] _selfShape, _otherShape;
    readonly ScalarType _selfType, _otherType;
    public MaxMinBackward(Tensor self, Tensor other, bool max)
    {
        _self = new SavedTensor(self); _other = new SavedTensor(other); _max = max;
        _selfShape = self._shape; _otherShape = other._shape; _selfType = self._dtype; _otherType = other._dtype;
    }
    public override string name() => _max ? "MaximumBackward0" : "MinimumBackward0";
    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var grad = g[0]!;
        var a = _self.Unpack(this); var b = _other.Unpack(this);
        var win = (_max ? a > b : a < b).to(grad.dtype);
        var tie = (a == b).to(grad.dtype) * 0.5;
        return new[]
        {
            NeedsInputGrad(0) ? Reduce.HandleBroadcast(grad * (win + tie), _selfShape, _selfType) : null,
            NeedsInputGrad(1) ? Reduce.HandleBroadcast(grad * (1 - win - tie), _otherShape, _otherType) : null,
        };
    }
    protected internal override void ReleaseVariables() { _self.Release(); _other.Release(); }
}
