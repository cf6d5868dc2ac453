using Nabla.Autograd;
using Nabla.Backends;
using K = Nabla.Backends.MathOp;

namespace Nabla.Ops;

// Pointwise math: forward via backend primitives (ApplyMath, Unary, PowScalar, Pow), backward rules as in PyTorch's derivatives.yaml, written with
// differentiable tensor ops (so create_graph works to any order).

internal static class UnaryMath
{
    static Tensor Record(Tensor result, Tensor input, Node node)
    {
        node.SetNextEdges(input);
        return History.Set(result, node);
    }

    /// <summary>f(a) as a new contiguous tensor; integer inputs are computed in float32 as PyTorch does.</summary>
    static Tensor Apply(MathOp op, Tensor a)
    {
        if (!a._dtype.IsFloatingPoint()) a = Raw.ToDType(a, ScalarType.Float32);
        var result = Tensor.EmptyLike(a, a._dtype, a._shape);
        if (result._numel > 0) a.Backend.ApplyMath(op, result.Raw, a.Raw);
        return result;
    }

    public static Tensor Exp(Tensor a)
    {
        var r = Apply(K.Exp, a);
        return History.ShouldRecord(a) ? Record(r, a, new ResultNode("ExpBackward0", r, static (g, x, y) => g * y)) : r;
    }

    public static Tensor Log(Tensor a)
    {
        var r = Apply(K.Log, a);
        return History.ShouldRecord(a) ? Record(r, a, new InputNode("LogBackward0", a, static (g, x) => g / x)) : r;
    }

    public static Tensor Log1p(Tensor a)
    {
        var r = Apply(K.Log1p, a);
        return History.ShouldRecord(a) ? Record(r, a, new InputNode("Log1PBackward0", a, static (g, x) => g / (x + 1))) : r;
    }

    public static Tensor Expm1(Tensor a)
    {
        var r = Apply(K.Expm1, a);
        return History.ShouldRecord(a) ? Record(r, a, new ResultNode("Expm1Backward0", r, static (g, x, y) => g * (y + 1))) : r;
    }

    public static Tensor Sin(Tensor a)
    {
        var r = Apply(K.Sin, a);
        return History.ShouldRecord(a) ? Record(r, a, new InputNode("SinBackward0", a, static (g, x) => g * x.cos())) : r;
    }

    public static Tensor Cos(Tensor a)
    {
        var r = Apply(K.Cos, a);
        return History.ShouldRecord(a) ? Record(r, a, new InputNode("CosBackward0", a, static (g, x) => g * -x.sin())) : r;
    }

    public static Tensor Tanh(Tensor a)
    {
        var r = Apply(K.Tanh, a);
        return History.ShouldRecord(a) ? Record(r, a, new ResultNode("TanhBackward0", r, static (g, x, y) => g * (1 - y * y))) : r;
    }

    public static Tensor Sigmoid(Tensor a)
    {
        var r = Apply(K.Sigmoid, a);
        return History.ShouldRecord(a) ? Record(r, a, new ResultNode("SigmoidBackward0", r, static (g, x, y) => g * (y * (1 - y)))) : r;
    }

    public static Tensor Sqrt(Tensor a)
    {
        var r = Apply(K.Sqrt, a);
        return History.ShouldRecord(a) ? Record(r, a, new ResultNode("SqrtBackward0", r, static (g, x, y) => g / (2 * y))) : r;
    }

    public static Tensor Rsqrt(Tensor a)
    {
        var r = Apply(K.Rsqrt, a);
        return History.ShouldRecord(a) ? Record(r, a, new ResultNode("RsqrtBackward0", r, static (g, x, y) => -0.5 * g * y.pow(3))) : r;
    }

    public static Tensor Reciprocal(Tensor a)
    {
        var r = Apply(K.Reciprocal, a);
        return History.ShouldRecord(a) ? Record(r, a, new ResultNode("ReciprocalBackward0", r, static (g, x, y) => -g * (y * y))) : r;
    }

    public static Tensor Relu(Tensor a)
    {
        var r = Raw.Unary(UnaryOp.Relu, a);
        return History.ShouldRecord(a) ? Record(r, a, new ResultNode("ReluBackward0", r, static (g, x, y) => Raw.ThresholdGrad(g, y, 0))) : r;
    }

    public static Tensor Abs(Tensor a)
    {
        var r = Raw.Unary(UnaryOp.Abs, a);
        return History.ShouldRecord(a) ? Record(r, a, new InputNode("AbsBackward0", a, static (g, x) => g * x.sign())) : r;
    }

    public static Tensor Sign(Tensor a)
    {
        var r = Raw.Unary(UnaryOp.Sign, a);
        return History.ShouldRecord(a) ? Record(r, a, new InputNode("SignBackward0", a, static (g, x) => torch.zeros_like(g))) : r;
    }

    /// <summary>x ** exponent with a scalar exponent (PowBackward0). pow(x, 2) is computed as x*x exactly.</summary>
    public static Tensor Pow(Tensor a, Scalar exponent)
    {
        Tensor r;
        var dtype = Raw.ResultType(a, exponent);
        if (exponent.Value == 2) r = Raw.Binary(BinaryOp.Mul, a, a, dtype);
        else if (exponent.Value == 1) r = Raw.Cast(a, dtype) is var c && ReferenceEquals(c, a) ? Raw.ToDType(a, dtype) : c;
        else r = PowKernel(Raw.Cast(a, dtype), exponent.Value);
        if (!History.ShouldRecord(a)) return r;
        double e = exponent.Value;
        return Record(r, a, new InputNode("PowBackward0", a, (g, x) =>
            e == 0 ? torch.zeros_like(x) : g * (e * x.pow(e - 1))));
    }

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
        if (!History.ShouldRecord(a, b)) return r;
        var node = new PowBackward1(a, b, r);
        node.SetNextEdges(a, b);
        return History.Set(r, node);
    }

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
        if (!History.ShouldRecord(a)) return r;
        double l = min?.Value ?? double.NegativeInfinity, h = max?.Value ?? double.PositiveInfinity;
        string name = nameOverride ?? "ClampBackward1";
        // Gradient passes where lo <= x <= hi (1 at both bounds, as PyTorch).
        return Record(r, a, new InputNode(name, a, (g, x) => Raw.ClampGrad(g, x, l, h)));
    }
}

/// <summary>A single-input node whose derivative needs the input (x): f'(g, x).</summary>
internal sealed class InputNode : Node
{
    readonly string _name;
    SavedTensor _self;
    readonly Func<Tensor, Tensor, Tensor> _backward;
    readonly ScalarType _selfType;

    public InputNode(string name, Tensor self, Func<Tensor, Tensor, Tensor> backward)
    {
        _name = name;
        _self = new SavedTensor(self);
        _backward = backward;
        _selfType = self._dtype;
    }

    public override string name() => _name;

    protected internal override Tensor?[] Apply(Tensor?[] g) => new[] { Reduce.CastGrad(_backward(g[0]!, _self.Unpack(this)), _selfType) };

    protected internal override void ReleaseVariables() => _self.Release();
}

/// <summary>A single-input node whose derivative is cheapest from the output (y): f'(g, x, y); x is not kept.</summary>
internal sealed class ResultNode : Node
{
    readonly string _name;
    SavedTensor _result;
    readonly Func<Tensor, Tensor?, Tensor, Tensor> _backward;

    public ResultNode(string name, Tensor result, Func<Tensor, Tensor?, Tensor, Tensor> backward)
    {
        _name = name;
        _result = new SavedTensor(result, isOutput: true);
        _backward = backward;
    }

    public override string name() => _name;

    protected internal override Tensor?[] Apply(Tensor?[] g) => new[] { _backward(g[0]!, null, _result.Unpack(this)) };

    protected internal override void ReleaseVariables() => _result.Release();
}

/// <summary>Backward of x ** y with tensor exponent.</summary>
internal sealed class PowBackward1 : Node
{
    SavedTensor _self, _exponent, _result;
    readonly long[] _selfShape, _expShape;
    readonly ScalarType _selfType, _expType;

    public PowBackward1(Tensor self, Tensor exponent, Tensor result)
    {
        _self = new SavedTensor(self);
        _exponent = new SavedTensor(exponent);
        _result = new SavedTensor(result, isOutput: true);
        _selfShape = self._shape; _expShape = exponent._shape; _selfType = self._dtype; _expType = exponent._dtype;
    }

    public override string name() => "PowBackward1";

    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var grad = g[0]!;
        var x = _self.Unpack(this); var e = _exponent.Unpack(this);
        Tensor? gx = null, ge = null;
        if (NeedsInputGrad(0))
            gx = Reduce.HandleBroadcast(torch.where(e == 0.0, torch.zeros_like(grad), grad * e * x.pow(e - 1)), _selfShape, _selfType);
        if (NeedsInputGrad(1))
        {
            var y = _result.Unpack(this);
            ge = Reduce.HandleBroadcast(torch.where((x == 0.0) & (e >= 0), torch.zeros_like(grad), grad * y * x.log()), _expShape, _expType);
        }
        return new[] { gx, ge };
    }

    protected internal override void ReleaseVariables()
    {
        _self.Release(); _exponent.Release(); _result.Release();
    }
}
