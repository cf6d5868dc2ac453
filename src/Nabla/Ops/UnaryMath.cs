using Nabla.Autograd;
using Nabla.Backends;
using K = Nabla.Backends.MathOp;

namespace Nabla.Ops;

// Pointwise math: forward via backend primitives (ApplyMath, Unary, PowScalar, Pow), backward rules as in PyTorch's derivatives.yaml, written with
// differentiable tensor ops (so create_graph works to any order).

internal static class UnaryMath
{
    /// <summary>f(a) as a new contiguous tensor; integer inputs are computed in float32 as PyTorch does.</summary>
    static Tensor Apply(MathOp op, Tensor a)
    {
        if (!a._dtype.IsFloatingPoint()) a = Raw.ToDType(a, ScalarType.Float32);
        var result = Tensor.EmptyLike(a, a._dtype, a._shape);
        if (result._numel > 0) a.Backend.ApplyMath(op, result.Raw, a.Raw);
        return result;
    }

    static readonly Rule ExpRule = Rule.Unary("ExpBackward0", Needs.Result, static (g, s) => g * s.Result);
    public static Tensor Exp(Tensor a) => ExpRule.Record(Apply(K.Exp, a), a);

    static readonly Rule LogRule = Rule.Unary("LogBackward0", Needs.Self, static (g, s) => g / s.Self);
    public static Tensor Log(Tensor a) => LogRule.Record(Apply(K.Log, a), a);

    static readonly Rule Log1pRule = Rule.Unary("Log1PBackward0", Needs.Self, static (g, s) => g / (s.Self + 1));
    public static Tensor Log1p(Tensor a) => Log1pRule.Record(Apply(K.Log1p, a), a);

    static readonly Rule Expm1Rule = Rule.Unary("Expm1Backward0", Needs.Result, static (g, s) => g * (s.Result + 1));
    public static Tensor Expm1(Tensor a) => Expm1Rule.Record(Apply(K.Expm1, a), a);

    static readonly Rule SinRule = Rule.Unary("SinBackward0", Needs.Self, static (g, s) => g * s.Self.cos());
    public static Tensor Sin(Tensor a) => SinRule.Record(Apply(K.Sin, a), a);

    static readonly Rule CosRule = Rule.Unary("CosBackward0", Needs.Self, static (g, s) => g * -s.Self.sin());
    public static Tensor Cos(Tensor a) => CosRule.Record(Apply(K.Cos, a), a);

    static readonly Rule TanhRule = Rule.Unary("TanhBackward0", Needs.Result, static (g, s) => g * (1 - s.Result * s.Result));
    public static Tensor Tanh(Tensor a) => TanhRule.Record(Apply(K.Tanh, a), a);

    static readonly Rule SigmoidRule = Rule.Unary("SigmoidBackward0", Needs.Result, static (g, s) => g * (s.Result * (1 - s.Result)));
    public static Tensor Sigmoid(Tensor a) => SigmoidRule.Record(Apply(K.Sigmoid, a), a);

    static readonly Rule SqrtRule = Rule.Unary("SqrtBackward0", Needs.Result, static (g, s) => g / (2 * s.Result));
    public static Tensor Sqrt(Tensor a) => SqrtRule.Record(Apply(K.Sqrt, a), a);

    static readonly Rule RsqrtRule = Rule.Unary("RsqrtBackward0", Needs.Result, static (g, s) => -0.5 * g * s.Result.pow(3));
    public static Tensor Rsqrt(Tensor a) => RsqrtRule.Record(Apply(K.Rsqrt, a), a);

    static readonly Rule ReciprocalRule = Rule.Unary("ReciprocalBackward0", Needs.Result, static (g, s) => -g * (s.Result * s.Result));
    public static Tensor Reciprocal(Tensor a) => ReciprocalRule.Record(Apply(K.Reciprocal, a), a);

    static readonly Rule ReluRule = Rule.Unary("ReluBackward0", Needs.Result, static (g, s) => Raw.ThresholdGrad(g, s.Result, 0));
    public static Tensor Relu(Tensor a) => ReluRule.Record(Raw.Unary(UnaryOp.Relu, a), a);

    static readonly Rule AbsRule = Rule.Unary("AbsBackward0", Needs.Self, static (g, s) => g * s.Self.sign());
    public static Tensor Abs(Tensor a) => AbsRule.Record(Raw.Unary(UnaryOp.Abs, a), a);

    static readonly Rule SignRule = Rule.Unary("SignBackward0", Needs.None, static (g, s) => torch.zeros_like(g));
    public static Tensor Sign(Tensor a) => SignRule.Record(Raw.Unary(UnaryOp.Sign, a), a);


    /// <summary>x ** exponent with a scalar exponent (PowBackward0). pow(x, 2) is computed as x*x exactly.</summary>
    public static Tensor Pow(Tensor a, Scalar exponent)
    {
        Tensor r;
        var dtype = Raw.ResultType(a, exponent);
        if (exponent.Value == 2) r = Raw.Binary(BinaryOp.Mul, a, a, dtype);
        else if (exponent.Value == 1) r = Raw.Cast(a, dtype) is var c && ReferenceEquals(c, a) ? Raw.ToDType(a, dtype) : c;
        else r = PowKernel(Raw.Cast(a, dtype), exponent.Value);
        return PowRule.Record(r, a, exponent);
    }

    static readonly Rule PowRule = Rule.Unary("PowBackward0", Needs.Self,
        static (g, s) => s.Scalar.Value == 0 ? torch.zeros_like(s.Self) : g * (s.Scalar.Value * s.Self.pow(s.Scalar.Value - 1)));

    static Tensor PowKernel(Tensor a, double e)
    {
        if (a._dtype == ScalarType.Bool) throw new NotSupportedException("pow is not implemented for bool tensors");
        if (!a._dtype.IsFloatingPoint() && e < 0) throw new InvalidOperationException("Integers to negative integer powers are not allowed.");
        var r = Tensor.EmptyLike(a, a._dtype, a._shape);
        if (r._numel > 0) a.Backend.PowScalar(r.Raw, a.Raw, e);
        return r;
    }

    /// <summary>x ** y elementwise with a tensor exponent (PowBackward1).</summary>
    public static Tensor Pow(Tensor a, Tensor b)
    {
        var dtype = Raw.ResultType(a, b);
        var x = Raw.Cast(a, dtype); var y = Raw.Cast(b, dtype);
        Raw.CheckSameDevice(x, y);
        var shape = ShapeUtil.Broadcast(x._shape, y._shape);
        var r = Tensor.EmptyLike(x, dtype, shape);
        if (r._numel > 0) x.Backend.Pow(r.Raw, x.Raw, y.Raw);
        return PowTensorRule.Record(r, a, b);
    }

    static readonly Rule PowTensorRule = Rule.Binary("PowBackward1",
        Needs.Self | Needs.Other, static (g, s) => { var e = s.Other; return torch.where(e == 0.0, torch.zeros_like(g), g * e * s.Self.pow(e - 1)); },
        Needs.Self | Needs.Other | Needs.Result, static (g, s) => { var x = s.Self; return torch.where((x == 0.0) & (s.Other >= 0), torch.zeros_like(g), g * s.Result * x.log()); });

    /// <summary>Clamps into [min, max] (either bound optional): ClampBackward1, or ClampMin/ClampMaxBackward0.</summary>
    public static Tensor Clamp(Tensor a, Scalar? min, Scalar? max, string? nameOverride = null)
    {
        if (min is null && max is null) throw new ArgumentException("torch.clamp: At least one of 'min' or 'max' must not be None");
        var dtype = a._dtype;
        if (min is { } mn) dtype = ScalarTypeExtensions.Promote(dtype, Raw.ResultType(a, mn));
        if (max is { } mx) dtype = ScalarTypeExtensions.Promote(dtype, Raw.ResultType(a, mx));
        var r = a;
        if (min is { } lo) r = Raw.BinaryScalar(BinaryOp.Max, r, lo, dtype);
        if (max is { } hi) r = Raw.BinaryScalar(BinaryOp.Min, r, hi, dtype);
        var rule = nameOverride switch { null => ClampRule, "ClampMinBackward0" => ClampMinRule, "ClampMaxBackward0" => ClampMaxRule, _ => throw new ArgumentException(nameOverride) };
        return rule.Record(r, a, min ?? double.NegativeInfinity, max ?? double.PositiveInfinity);
    }

    // Gradient passes where lo <= x <= hi (1 at both bounds, as PyTorch).
    static readonly Rule ClampRule = Rule.Unary("ClampBackward1", Needs.Self, static (g, s) => Raw.ClampGrad(g, s.Self, s.Scalar.Value, s.Scalar2.Value));
    static readonly Rule ClampMinRule = Rule.Unary("ClampMinBackward0", Needs.Self, static (g, s) => Raw.ClampGrad(g, s.Self, s.Scalar.Value, s.Scalar2.Value));
    static readonly Rule ClampMaxRule = Rule.Unary("ClampMaxBackward0", Needs.Self, static (g, s) => Raw.ClampGrad(g, s.Self, s.Scalar.Value, s.Scalar2.Value));
}
