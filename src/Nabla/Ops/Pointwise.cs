namespace Nabla.Ops;

/// <summary>
/// Elementwise composites of issue 12 (Note [Everyday ops as composites]): logaddexp, lerp, addcmul, addcdiv and the
/// isnan / isinf / isfinite tests, with derivatives.yaml's formulas as differentiable tensor code (gradients at the
/// broadcast shape: the engine sums them back to each input's shape).
/// </summary>
internal static class Pointwise
{
    /// <summary>log(exp(a) + exp(b)), computed stably (LogaddexpBackward0).</summary>
    public static Tensor Logaddexp(Tensor a, Tensor b)
    {
        var dtype = Raw.ResultType(a, b);
        if (!dtype.IsFloatingPoint()) throw new InvalidOperationException($"\"logaddexp_cpu\" not implemented for '{dtype.CppScalarName()}'");
        Raw.CheckSameDevice(a, b);
        return Structure.Composite(
            () =>
            {
                var x = a.to(dtype); var y = b.to(dtype);
                var m = torch.maximum(x, y);
                var r = m + (-(x - y).abs()).exp().log1p();
                // Equal infinities: log(exp(inf) + exp(inf)) = inf and -inf for -inf (the formula gives NaN there).
                var sameInf = (x == y) & (x.abs() == double.PositiveInfinity);
                return torch.where(sameInf, x.expand(r._shape), r);
            },
            () => new FnNode("LogaddexpBackward0", new[] { a, b }, (g, s) => new[]
            {
                g / (1 + (s[1] - s[0]).exp()),
                g / (1 + (s[0] - s[1]).exp()),
            }),
            a, b);
    }

    static void CheckLerp(Tensor start, Tensor end, Tensor? weight)
    {
        if (end._dtype != start._dtype)
            throw new ArgumentException($"expected dtype {start._dtype.CppScalarName().ToLowerInvariant()} for `end` but got dtype {end._dtype.CppScalarName().ToLowerInvariant()}");
        if (weight is not null && weight._dtype != start._dtype)
            throw new ArgumentException($"expected dtype {start._dtype.CppScalarName().ToLowerInvariant()} for `weight` but got dtype {weight._dtype.CppScalarName().ToLowerInvariant()}");
        if (!start._dtype.IsFloatingPoint())
            throw new InvalidOperationException($"\"lerp_kernel_{(weight is null ? "scalar" : "tensor")}\" not implemented for '{start._dtype.CppScalarName()}'");
    }

    /// <summary>start + weight * (end - start) with a scalar weight (LerpBackward0).</summary>
    public static Tensor Lerp(Tensor start, Tensor end, double weight)
    {
        CheckLerp(start, end, null);
        Raw.CheckSameDevice(start, end);
        return Structure.Composite(
            // PyTorch's two-sided form keeps lerp(a, b, 1) == b exactly.
            () => Math.Abs(weight) < 0.5 ? start + weight * (end - start) : end - (end - start) * (1 - weight),
            () => new FnNode("LerpBackward0", new[] { start, end }, (g, s) => new[]
            {
                g * (1 - weight),
                g * weight,
            }),
            start, end);
    }

    /// <summary>start + weight * (end - start) with a tensor weight (LerpBackward1).</summary>
    public static Tensor Lerp(Tensor start, Tensor end, Tensor weight)
    {
        CheckLerp(start, end, weight);
        Raw.CheckSameDevice(start, end, weight);
        return Structure.Composite(
            () =>
            {
                var diff = end - start;
                return torch.where(weight.abs() < 0.5, start + weight * diff, end - diff * (1 - weight));
            },
            () => new FnNode("LerpBackward1", new[] { start, end, weight }, (g, s) => new[]
            {
                g * (1 - s[2]),
                g * s[2],
                g * (s[1] - s[0]),
            }),
            start, end, weight);
    }

    /// <summary>self + value * tensor1 * tensor2 (AddcmulBackward0).</summary>
    public static Tensor Addcmul(Tensor self, Tensor t1, Tensor t2, Scalar value)
    {
        Raw.CheckSameDevice(self, t1, t2);
        return Structure.Composite(
            () =>
            {
                var prod = t1 * t2;
                // An integer result takes value converted to its dtype (PyTorch: addcmul(int, ..., value=0.5) adds 0 * t1 * t2).
                var v = Raw.ResultType(self, prod).IsFloatingPoint() ? value : (Scalar)(long)value.Value;
                return self + prod * v;
            },
            () => new FnNode("AddcmulBackward0", new[] { t1, t2 }, (g, s) => new[]
            {
                g,
                g * s[1] * value,
                g * s[0] * value,
            }),
            self, t1, t2);
    }

    /// <summary>self + value * tensor1 / tensor2 (AddcdivBackward0).</summary>
    public static Tensor Addcdiv(Tensor self, Tensor t1, Tensor t2, Scalar value)
    {
        if (!t1._dtype.IsFloatingPoint() && !t2._dtype.IsFloatingPoint())
            throw new InvalidOperationException(
                "Integer division with addcdiv is no longer supported, and in a future release addcdiv will perform a true division of tensor1 and tensor2. " +
                "The historic addcdiv behavior can be implemented as (input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer inputs " +
                "and as (input + value * tensor1 / tensor2) for float inputs. The future addcdiv behavior is just the latter implementation: (input + value * tensor1 / tensor2), for all dtypes.");
        Raw.CheckSameDevice(self, t1, t2);
        return Structure.Composite(
            () => self + t1 / t2 * value,
            () => new FnNode("AddcdivBackward0", new[] { t1, t2 }, (g, s) => new[]
            {
                g,
                g * value / s[1],
                -g * value * s[0] / (s[1] * s[1]),
            }),
            self, t1, t2);
    }

    /// <summary>True where the element is NaN (bool; never for integer/bool inputs).</summary>
    public static Tensor IsNan(Tensor x) => x.ne(x);

    /// <summary>True where the element is +inf or -inf (bool; never for integer/bool inputs).</summary>
    public static Tensor IsInf(Tensor x) =>
        x._dtype.IsFloatingPoint() ? x.abs().eq(double.PositiveInfinity) : torch.zeros(x._shape, ScalarType.Bool, device: x.device);

    /// <summary>True where the element is neither NaN nor infinite (bool; always for integer/bool inputs).</summary>
    public static Tensor IsFinite(Tensor x) =>
        x._dtype.IsFloatingPoint() ? (x - x).eq(0) : torch.ones(x._shape, ScalarType.Bool, device: x.device);
}
