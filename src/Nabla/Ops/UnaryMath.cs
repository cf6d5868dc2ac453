using Nabla.Autograd;
using K = Nabla.Ops.MathKernels.Kind;

using Nabla.Backends.Cpu;

namespace Nabla.Ops;

// Pointwise math: forward via MathKernels/Dispatch, backward rules as in PyTorch's derivatives.yaml, written with
// differentiable tensor ops (so create_graph works to any order).

internal static class UnaryMath
{
    static Tensor Record(Tensor result, Tensor input, Node node)
    {
        node.SetNextEdges(input);
        return Autograd.Autograd.SetHistory(result, node);
    }

    public static Tensor Exp(Tensor a)
    {
        var r = MathKernels.Apply(K.Exp, a);
        return Autograd.Autograd.ShouldRecord(a) ? Record(r, a, new ResultNode("ExpBackward0", r, static (g, x, y) => g * y)) : r;
    }

    public static Tensor Log(Tensor a)
    {
        var r = MathKernels.Apply(K.Log, a);
        return Autograd.Autograd.ShouldRecord(a) ? Record(r, a, new InputNode("LogBackward0", a, static (g, x) => g / x)) : r;
    }

    public static Tensor Log1p(Tensor a)
    {
        var r = MathKernels.Apply(K.Log1p, a);
        return Autograd.Autograd.ShouldRecord(a) ? Record(r, a, new InputNode("Log1PBackward0", a, static (g, x) => g / (x + 1))) : r;
    }

    public static Tensor Expm1(Tensor a)
    {
        var r = MathKernels.Apply(K.Expm1, a);
        return Autograd.Autograd.ShouldRecord(a) ? Record(r, a, new ResultNode("Expm1Backward0", r, static (g, x, y) => g * (y + 1))) : r;
    }

    public static Tensor Sin(Tensor a)
    {
        var r = MathKernels.Apply(K.Sin, a);
        return Autograd.Autograd.ShouldRecord(a) ? Record(r, a, new InputNode("SinBackward0", a, static (g, x) => g * x.cos())) : r;
    }

    public static Tensor Cos(Tensor a)
    {
        var r = MathKernels.Apply(K.Cos, a);
        return Autograd.Autograd.ShouldRecord(a) ? Record(r, a, new InputNode("CosBackward0", a, static (g, x) => g * -x.sin())) : r;
    }

    public static Tensor Tanh(Tensor a)
    {
        var r = MathKernels.Apply(K.Tanh, a);
        return Autograd.Autograd.ShouldRecord(a) ? Record(r, a, new ResultNode("TanhBackward0", r, static (g, x, y) => g * (1 - y * y))) : r;
    }

    public static Tensor Sigmoid(Tensor a)
    {
        var r = MathKernels.Apply(K.Sigmoid, a);
        return Autograd.Autograd.ShouldRecord(a) ? Record(r, a, new ResultNode("SigmoidBackward0", r, static (g, x, y) => g * (y * (1 - y)))) : r;
    }

    public static Tensor Sqrt(Tensor a)
    {
        var r = MathKernels.Apply(K.Sqrt, a);
        return Autograd.Autograd.ShouldRecord(a) ? Record(r, a, new ResultNode("SqrtBackward0", r, static (g, x, y) => g / (2 * y))) : r;
    }

    public static Tensor Rsqrt(Tensor a)
    {
        var r = MathKernels.Apply(K.Rsqrt, a);
        return Autograd.Autograd.ShouldRecord(a) ? Record(r, a, new ResultNode("RsqrtBackward0", r, static (g, x, y) => -0.5 * g * y.pow(3))) : r;
    }

    public static Tensor Reciprocal(Tensor a)
    {
        var r = MathKernels.Apply(K.Reciprocal, a);
        return Autograd.Autograd.ShouldRecord(a) ? Record(r, a, new ResultNode("ReciprocalBackward0", r, static (g, x, y) => -g * (y * y))) : r;
    }

    public static Tensor Relu(Tensor a)
    {
        var r = Raw.Unary(UnaryOp.Relu, a);
        return Autograd.Autograd.ShouldRecord(a) ? Record(r, a, new ResultNode("ReluBackward0", r, static (g, x, y) => Raw.ThresholdGrad(g, y, 0))) : r;
    }

    public static Tensor Abs(Tensor a)
    {
        var r = Raw.Unary(UnaryOp.Abs, a);
        return Autograd.Autograd.ShouldRecord(a) ? Record(r, a, new InputNode("AbsBackward0", a, static (g, x) => g * x.sign())) : r;
    }

    public static Tensor Sign(Tensor a)
    {
        var r = Raw.Unary(UnaryOp.Sign, a);
        return Autograd.Autograd.ShouldRecord(a) ? Record(r, a, new InputNode("SignBackward0", a, static (g, x) => torch.zeros_like(g))) : r;
    }

    /// <summary>x ** exponent with a scalar exponent (PowBackward0). pow(x, 2) is computed as x*x exactly.</summary>
    public static Tensor Pow(Tensor a, Scalar exponent)
    {
        Tensor r;
        var dtype = Raw.ResultType(a, exponent);
        if (exponent.Value == 2) r = Raw.Binary(BinaryOp.Mul, a, a, dtype);
        else if (exponent.Value == 1) r = Raw.Cast(a, dtype).ContiguousRaw() is var c && ReferenceEquals(c, a) ? Raw.ToDType(a, dtype) : c;
        else r = PowKernel(Raw.Cast(a, dtype), exponent.Value);
        if (!Autograd.Autograd.ShouldRecord(a)) return r;
        double e = exponent.Value;
        return Record(r, a, new InputNode("PowBackward0", a, (g, x) =>
            e == 0 ? torch.zeros_like(x) : g * (e * x.pow(e - 1))));
    }

    static Tensor PowKernel(Tensor a, double e)
    {
        var x = a.ContiguousRaw();
        var r = Tensor.Empty(a._dtype, a._shape);
        switch (a._dtype)
        {
            case ScalarType.Float32:
            {
                var s = x.Contiguous<float>(); var d = r.Contiguous<float>();
                if (e == 3) System.Numerics.Tensors.TensorPrimitives.Multiply(s, s, d);
                if (e == 3) System.Numerics.Tensors.TensorPrimitives.Multiply(d, s, d);
                else if (e == 0.5) System.Numerics.Tensors.TensorPrimitives.Sqrt(s, d);
                else for (int i = 0; i < d.Length; i++) d[i] = MathF.Pow(s[i], (float)e);
                break;
            }
            case ScalarType.Float64:
            {
                var s = x.Contiguous<double>(); var d = r.Contiguous<double>();
                for (int i = 0; i < d.Length; i++) d[i] = Math.Pow(s[i], e);
                break;
            }
            case ScalarType.Int64:
            {
                var s = x.Contiguous<long>(); var d = r.Contiguous<long>();
                if (e < 0) throw new InvalidOperationException("Integers to negative integer powers are not allowed.");
                for (int i = 0; i < d.Length; i++) d[i] = IntPow(s[i], (long)e);
                break;
            }
            case ScalarType.Int32:
            {
                var s = x.Contiguous<int>(); var d = r.Contiguous<int>();
                if (e < 0) throw new InvalidOperationException("Integers to negative integer powers are not allowed.");
                for (int i = 0; i < d.Length; i++) d[i] = (int)IntPow(s[i], (long)e);
                break;
            }
            default: throw new NotSupportedException("pow is not implemented for bool tensors");
        }
        return r;
    }

    static long IntPow(long b, long e)
    {
        long r = 1;
        while (e > 0) { if ((e & 1) != 0) r *= b; b *= b; e >>= 1; }
        return r;
    }

    /// <summary>x ** y elementwise with a tensor exponent (PowBackward1).</summary>
    public static Tensor Pow(Tensor a, Tensor b)
    {
        var dtype = Raw.ResultType(a, b);
        var x = Raw.Cast(a, dtype); var y = Raw.Cast(b, dtype);
        var shape = ShapeUtil.Broadcast(x._shape, y._shape);
        var xe = Raw.ToDType(x.expand(shape), ScalarType.Float64).Contiguous<double>();
        var ye = Raw.ToDType(y.expand(shape), ScalarType.Float64).Contiguous<double>();
        var r64 = new Tensor(ScalarType.Float64, shape);
        var d = r64.Contiguous<double>();
        for (int i = 0; i < d.Length; i++) d[i] = Math.Pow(xe[i], ye[i]);
        var r = Raw.Cast(r64, dtype);
        if (!Autograd.Autograd.ShouldRecord(a, b)) return r;
        var node = new PowBackward1(a, b, r);
        node.SetNextEdges(a, b);
        return Autograd.Autograd.SetHistory(r, node);
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
        if (!Autograd.Autograd.ShouldRecord(a)) return r;
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
