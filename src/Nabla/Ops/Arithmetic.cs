using Nabla.Autograd;
using static Nabla.Ops.Raw;

namespace Nabla.Ops;

// add / sub / mul / div / neg: forward (one kernel call) then the backward rule, written with differentiable
// tensor ops so create_graph gives higher derivatives. Tensor-scalar forms are the Scalar overloads (AddBackward1,
// MulBackward1, ...) as libtorch and R name them.

internal static class Arithmetic
{
    public static Tensor Add(Tensor a, Tensor b, Scalar alpha)
    {
        var dtype = ResultType(a, b);
        bool unitAlpha = alpha.Value == 1;
        Tensor result;
        if (!unitAlpha && a._dtype == dtype && b._dtype == dtype && TryAxpy(result = Tensor.EmptyLike(a, dtype, a._shape), a, b, alpha.Value)) { }
        else
        {
            var rhs = unitAlpha ? b : BinaryScalar(BinaryOp.Mul, b, alpha, dtype);
            result = Binary(BinaryOp.Add, a, rhs, dtype);
        }
        if (History.ShouldRecord(a, b))
        {
            var node = new AddBackward0(a, b, alpha);
            node.SetNextEdges(a, b);
            History.Set(result, node);
        }
        return result;
    }

    public static Tensor Sub(Tensor a, Tensor b, Scalar alpha)
    {
        if (a._dtype == ScalarType.Bool && b._dtype == ScalarType.Bool)
            throw new InvalidOperationException("Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or `logical_xor()` operator instead.");
        var dtype = ResultType(a, b);
        Tensor result;
        if (alpha.Value != 1 && a._dtype == dtype && b._dtype == dtype && TryAxpy(result = Tensor.EmptyLike(a, dtype, a._shape), a, b, -alpha.Value)) { }
        else
        {
            var rhs = alpha.Value == 1 ? b : BinaryScalar(BinaryOp.Mul, b, alpha, dtype);
            result = Binary(BinaryOp.Sub, a, rhs, dtype);
        }
        if (History.ShouldRecord(a, b))
        {
            var node = new SubBackward0(a, b, alpha);
            node.SetNextEdges(a, b);
            History.Set(result, node);
        }
        return result;
    }

    public static Tensor Mul(Tensor a, Tensor b)
    {
        var result = Binary(BinaryOp.Mul, a, b, ResultType(a, b));
        if (History.ShouldRecord(a, b))
        {
            var node = new MulBackward0(a, b);
            node.SetNextEdges(a, b);
            History.Set(result, node);
        }
        return result;
    }

    public static Tensor Div(Tensor a, Tensor b)
    {
        var dtype = ResultType(a, b);
        if (!dtype.IsFloatingPoint()) dtype = ScalarType.Float32; // true division
        var result = Binary(BinaryOp.Div, a, b, dtype);
        if (History.ShouldRecord(a, b))
        {
            var node = new DivBackward0(a, b);
            node.SetNextEdges(a, b);
            History.Set(result, node);
        }
        return result;
    }

    public static Tensor AddScalar(Tensor a, Scalar s, Scalar alpha)
    {
        var dtype = ResultType(a, s);
        var result = BinaryScalar(BinaryOp.Add, a, alpha.Value == 1 ? s : s.Value * alpha.Value, dtype);
        if (History.ShouldRecord(a))
        {
            var node = new ScalarOperandBackward("AddBackward1", a, 1.0);
            node.SetNextEdges(a);
            History.Set(result, node);
        }
        return result;
    }

    public static Tensor SubScalar(Tensor a, Scalar s, Scalar alpha)
    {
        var dtype = ResultType(a, s);
        var result = BinaryScalar(BinaryOp.Sub, a, alpha.Value == 1 ? s : s.Value * alpha.Value, dtype);
        if (History.ShouldRecord(a))
        {
            var node = new ScalarOperandBackward("SubBackward1", a, 1.0);
            node.SetNextEdges(a);
            History.Set(result, node);
        }
        return result;
    }

    /// <summary>
    /// s - a, as libtorch's <c>operator-(Scalar, Tensor)</c> computes it: the scalar becomes a 0-d tensor of the
    /// promoted dtype and the tensor-tensor op is recorded (<c>SubBackward0</c>, next_functions [(None, 0), a]).
    /// </summary>
    public static Tensor ScalarMinus(Scalar s, Tensor a) => Sub(Wrap(s, ResultType(a, s)), a, 1);

    /// <summary>s / a, as libtorch's <c>operator/(Scalar, Tensor)</c>: <c>DivBackward0</c> with the scalar as a constant input.</summary>
    public static Tensor ScalarDivide(Scalar s, Tensor a) => Div(Wrap(s, ResultType(a, s)), a);

    static Tensor Wrap(Scalar s, ScalarType dtype)
    {
        var t = new Tensor(dtype, System.Array.Empty<long>(), zero: false);
        t.FillUnchecked(s);
        return t;
    }

    public static Tensor MulScalar(Tensor a, Scalar s)
    {
        var dtype = ResultType(a, s);
        var result = BinaryScalar(BinaryOp.Mul, a, s, dtype);
        if (History.ShouldRecord(a))
        {
            var node = new ScalarOperandBackward("MulBackward1", a, s);
            node.SetNextEdges(a);
            History.Set(result, node);
        }
        return result;
    }

    public static Tensor DivScalar(Tensor a, Scalar s)
    {
        var dtype = ResultType(a, s);
        if (!dtype.IsFloatingPoint()) dtype = ScalarType.Float32;
        var result = BinaryScalar(BinaryOp.Div, a, s, dtype);
        if (History.ShouldRecord(a))
        {
            var node = new ScalarOperandBackward("DivBackward1", a, s, divide: true);
            node.SetNextEdges(a);
            History.Set(result, node);
        }
        return result;
    }

    public static Tensor Neg(Tensor a)
    {
        if (a._dtype == ScalarType.Bool)
            throw new InvalidOperationException("Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.");
        var result = Unary(UnaryOp.Neg, a);
        if (History.ShouldRecord(a))
        {
            var node = new NegBackward0();
            node.SetNextEdges(a);
            History.Set(result, node);
        }
        return result;
    }
}

/// <summary>Backward of tensor + alpha * tensor.</summary>
internal sealed class AddBackward0 : Node
{
    readonly long[] _selfShape, _otherShape;
    readonly ScalarType _selfType, _otherType;
    readonly Scalar _alpha;

    public AddBackward0(Tensor self, Tensor other, Scalar alpha)
    {
        _selfShape = self._shape; _otherShape = other._shape; _selfType = self._dtype; _otherType = other._dtype; _alpha = alpha;
    }

    public override string name() => "AddBackward0";

    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var grad = g[0]!;
        return new[]
        {
            NeedsInputGrad(0) ? Reduce.HandleBroadcast(grad, _selfShape, _selfType) : null,
            NeedsInputGrad(1) ? Reduce.HandleBroadcast(_alpha.Value == 1 ? grad : grad.mul(_alpha), _otherShape, _otherType) : null,
        };
    }
}

/// <summary>Backward of tensor - alpha * tensor.</summary>
internal sealed class SubBackward0 : Node
{
    readonly long[] _selfShape, _otherShape;
    readonly ScalarType _selfType, _otherType;
    readonly Scalar _alpha;

    public SubBackward0(Tensor self, Tensor other, Scalar alpha)
    {
        _selfShape = self._shape; _otherShape = other._shape; _selfType = self._dtype; _otherType = other._dtype; _alpha = alpha;
    }

    public override string name() => "SubBackward0";

    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var grad = g[0]!;
        return new[]
        {
            NeedsInputGrad(0) ? Reduce.HandleBroadcast(grad, _selfShape, _selfType) : null,
            NeedsInputGrad(1) ? Reduce.HandleBroadcast(grad.mul(-_alpha.Value), _otherShape, _otherType) : null,
        };
    }
}

/// <summary>Backward of tensor * tensor: grad * other, grad * self.</summary>
internal sealed class MulBackward0 : Node
{
    SavedTensor _self, _other;
    readonly long[] _selfShape, _otherShape;
    readonly ScalarType _selfType, _otherType;

    public MulBackward0(Tensor self, Tensor other)
    {
        if (History.ShouldRecord(other)) _self = new SavedTensor(self);
        if (History.ShouldRecord(self)) _other = new SavedTensor(other);
        _selfShape = self._shape; _otherShape = other._shape; _selfType = self._dtype; _otherType = other._dtype;
    }

    public override string name() => "MulBackward0";

    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var grad = g[0]!;
        return new[]
        {
            NeedsInputGrad(0) ? Reduce.HandleBroadcast(grad * _other.Unpack(this), _selfShape, _selfType) : null,
            NeedsInputGrad(1) ? Reduce.HandleBroadcast(grad * _self.Unpack(this), _otherShape, _otherType) : null,
        };
    }

    protected internal override void ReleaseVariables()
    {
        _self.Release();
        _other.Release();
    }
}

/// <summary>Backward of tensor / tensor: grad / other, -grad * self / other².</summary>
internal sealed class DivBackward0 : Node
{
    SavedTensor _self, _other;
    readonly long[] _selfShape, _otherShape;
    readonly ScalarType _selfType, _otherType;

    public DivBackward0(Tensor self, Tensor other)
    {
        if (History.ShouldRecord(other)) _self = new SavedTensor(self);
        _other = new SavedTensor(other);
        _selfShape = self._shape; _otherShape = other._shape; _selfType = self._dtype; _otherType = other._dtype;
    }

    public override string name() => "DivBackward0";

    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var grad = g[0]!;
        var other = _other.Unpack(this);
        return new[]
        {
            NeedsInputGrad(0) ? Reduce.HandleBroadcast(grad / other, _selfShape, _selfType) : null,
            NeedsInputGrad(1) ? Reduce.HandleBroadcast(-grad * _self.Unpack(this) / (other * other), _otherShape, _otherType) : null,
        };
    }

    protected internal override void ReleaseVariables()
    {
        _self.Release();
        _other.Release();
    }
}

/// <summary>
/// Backward of the tensor-scalar overloads (AddBackward1, SubBackward1, MulBackward1, DivBackward1):
/// the gradient times a constant factor (1, -1, the scalar) or divided by the scalar, cast back to the input's dtype.
/// </summary>
internal sealed class ScalarOperandBackward : Node
{
    readonly string _name;
    readonly ScalarType _selfType;
    readonly Scalar _factor;
    readonly bool _divide;

    public ScalarOperandBackward(string name, Tensor self, Scalar factor, bool divide = false)
    {
        _name = name; _selfType = self._dtype; _factor = factor; _divide = divide;
    }

    public override string name() => _name;

    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var grad = g[0]!;
        if (_divide) grad = grad.div(_factor);
        else if (_factor.Value == -1) grad = -grad;
        else if (_factor.Value != 1) grad = grad.mul(_factor);
        return new[] { Reduce.CastGrad(grad, _selfType) };
    }
}

/// <summary>Backward of -tensor.</summary>
internal sealed class NegBackward0 : Node
{
    public override string name() => "NegBackward0";
    protected internal override Tensor?[] Apply(Tensor?[] g) => new[] { -g[0]! };
}

/// <summary>Shared helpers for backward rules.</summary>
internal static class Reduce
{
    /// <summary>Sums a gradient over broadcast dimensions back to the input's shape and casts it to the input's dtype.</summary>
    public static Tensor HandleBroadcast(Tensor grad, long[] shape, ScalarType dtype)
    {
        if (!ShapeUtil.SameShape(grad._shape, shape)) grad = grad.SumToSize(shape);
        return CastGrad(grad, dtype);
    }

    public static Tensor CastGrad(Tensor grad, ScalarType dtype) => grad._dtype == dtype || !dtype.IsFloatingPoint() ? grad : grad.to(dtype);
}
