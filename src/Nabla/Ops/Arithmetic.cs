using Nabla.Autograd;
using static Nabla.Ops.Raw;

namespace Nabla.Ops;

// add / sub / mul / div / neg: forward (one kernel call) then the backward rule, written with differentiable
// tensor ops so create_graph gives higher derivatives. Tensor-scalar forms are the Scalar overloads (AddBackward1,
// MulBackward1, ...) as libtorch and R name them.

internal static class Arithmetic
{
    // The rules, as derivatives.yaml states them (Note [Derivative rules]); the engine sums broadcast gradients back.
    static readonly Rule AddRule = Rule.Binary("AddBackward0",
        Needs.None, static (g, s) => g,
        Needs.None, static (g, s) => s.Scalar.Value == 1 ? g : g.mul(s.Scalar));
    static readonly Rule SubRule = Rule.Binary("SubBackward0",
        Needs.None, static (g, s) => g,
        Needs.None, static (g, s) => g.mul(-s.Scalar.Value));
    static readonly Rule MulRule = Rule.Binary("MulBackward0",
        Needs.Other, static (g, s) => g * s.Other,
        Needs.Self, static (g, s) => g * s.Self);
    static readonly Rule DivRule = Rule.Binary("DivBackward0",
        Needs.Other, static (g, s) => g / s.Other,
        Needs.Self | Needs.Other, static (g, s) => { var other = s.Other; return -g * s.Self / (other * other); });
    static readonly Rule AddScalarRule = Rule.Unary("AddBackward1", Needs.None, static (g, s) => g);
    static readonly Rule SubScalarRule = Rule.Unary("SubBackward1", Needs.None, static (g, s) => g);
    static readonly Rule MulScalarRule = Rule.Unary("MulBackward1", Needs.None, static (g, s) => s.Scalar.Value == 1 ? g : g.mul(s.Scalar));
    static readonly Rule DivScalarRule = Rule.Unary("DivBackward1", Needs.None, static (g, s) => g.div(s.Scalar));
    static readonly Rule NegRule = Rule.Unary("NegBackward0", Needs.None, static (g, s) => -g);

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
        return AddRule.Record(result, a, b, alpha);
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
        return SubRule.Record(result, a, b, alpha);
    }

    public static Tensor Mul(Tensor a, Tensor b)
    {
        var result = Binary(BinaryOp.Mul, a, b, ResultType(a, b));
        return MulRule.Record(result, a, b);
    }

    public static Tensor Div(Tensor a, Tensor b)
    {
        var dtype = ResultType(a, b);
        if (!dtype.IsFloatingPoint()) dtype = ScalarType.Float32; // true division
        var result = Binary(BinaryOp.Div, a, b, dtype);
        return DivRule.Record(result, a, b);
    }

    public static Tensor AddScalar(Tensor a, Scalar s, Scalar alpha)
    {
        var dtype = ResultType(a, s);
        var result = BinaryScalar(BinaryOp.Add, a, alpha.Value == 1 ? s : s.Value * alpha.Value, dtype);
        return AddScalarRule.Record(result, a);
    }

    public static Tensor SubScalar(Tensor a, Scalar s, Scalar alpha)
    {
        var dtype = ResultType(a, s);
        var result = BinaryScalar(BinaryOp.Sub, a, alpha.Value == 1 ? s : s.Value * alpha.Value, dtype);
        return SubScalarRule.Record(result, a);
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
        return MulScalarRule.Record(result, a, s);
    }

    public static Tensor DivScalar(Tensor a, Scalar s)
    {
        var dtype = ResultType(a, s);
        if (!dtype.IsFloatingPoint()) dtype = ScalarType.Float32;
        var result = BinaryScalar(BinaryOp.Div, a, s, dtype);
        return DivScalarRule.Record(result, a, s);
    }

    public static Tensor Neg(Tensor a)
    {
        if (a._dtype == ScalarType.Bool)
            throw new InvalidOperationException("Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.");
        var result = Unary(UnaryOp.Neg, a);
        return NegRule.Record(result, a);
    }
}

/// <summary>
/// The last hand-written undoing of broadcasting, kept only for Tensors/Tensor.Inplace.cs' CopyBackwards (owned by
/// the in-place rewrite, which moves copy_ into an op family): delete it with that call. Every other backward leaves
/// this to the engine's ValidateGradient.
/// </summary>
internal static class Reduce
{
    /// <summary>Sums a gradient over broadcast dimensions back to the input's shape and casts it to the input's dtype.</summary>
    public static Tensor HandleBroadcast(Tensor grad, long[] shape, ScalarType dtype)
    {
        if (!ShapeUtil.SameShape(grad._shape, shape)) grad = grad.SumToSize(shape);
        return grad._dtype == dtype || !dtype.IsFloatingPoint() ? grad : grad.to(dtype);
    }
}
