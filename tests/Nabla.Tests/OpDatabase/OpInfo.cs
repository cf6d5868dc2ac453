using static Nabla.torch;

namespace Nabla.Tests.OpDatabase;

/// <summary>
/// One op of the op database (as PyTorch's OpInfo): what to call, the grad_fn it must record, and its sample inputs.
/// Adding an op is one line in <see cref="OpDb.All"/> plus the same line in tools/fixtures/opdb.py (see README.md).
/// </summary>
/// <param name="Name">Unique key, shared with the fixture generator.</param>
/// <param name="Op">The op applied to the sample inputs (scalar arguments are written into the lambda).</param>
/// <param name="GradFn">PyTorch's grad_fn name of the output (a sample may override it with "|Name").</param>
/// <param name="Samples">Sample specs (grammar in <see cref="SampleSpec"/>).</param>
public sealed record OpInfo(string Name, Func<Tensor[], Tensor> Op, string GradFn, string[] Samples)
{
    /// <summary>Whether gradgradcheck runs (the backward formula is itself differentiable).</summary>
    public bool SupportsGradGrad { get; init; } = true;

    /// <summary>Floating dtypes the op supports (float32 enables the float32-vs-float64 forward check).</summary>
    public ScalarType[] Dtypes { get; init; } = { ScalarType.Float32, ScalarType.Float64 };

    /// <summary>Central-difference step for gradcheck (raise it for ops whose output is float32).</summary>
    public double GradcheckEps { get; init; } = 1e-6;

    /// <summary>Absolute tolerance for gradcheck.</summary>
    public double GradcheckAtol { get; init; } = 1e-5;

    /// <inheritdoc/>
    public override string ToString() => Name;
}

/// <summary>The op table. Keep it in step with OPS in tools/fixtures/opdb.py.</summary>
public static class OpDb
{
    // Sample sets (mirrored in opdb.py).
    static readonly string[] Unary = { "2x3", "[]", "0x3", "3x2T", "4x3S" };
    static readonly string[] UnaryPos = { "2x3+", "[]+", "0x3+", "3x2T+", "4x3S+" };
    static readonly string[] UnaryNonZero = { "2x3~", "[]~", "0x3~", "3x2T~", "4x3S~" };
    static readonly string[] Binary = { "2x3,2x3", "2x3,3", "3,2x1", "[],2x3", "2x3,[]", "3x2T,3x2", "4x3S,4x3", "0x3,3" };
    static readonly string[] BinaryDiv = { "2x3,2x3~", "2x3,3~", "3,2x1~", "[],2x3~", "2x3,[]~", "3x2T,3x2T~", "4x3S,4x3~", "0x3,3~" };
    static readonly string[] BinaryPow = { "2x3+,2x3", "2x3+,3", "3+,2x1", "[]+,2x3", "2x3+,[]", "3x2T+,3x2", "0x3+,3" };
    static readonly string[] Where = { "2x3b,2x3,2x3", "2x3b,3,[]", "3b,2x1,2x3", "3x2b,3x2T,3x2", "0x3b,0x3,3" };
    static readonly string[] Reduce = { "2x3x4", "3x4T", "[]", "0x3" };
    static readonly string[] ReduceDim = { "2x3x4", "2x4x3T", "2x0x4" };
    static readonly string[] Cube = { "2x3x4", "2x4x3T" };

    /// <summary>Every op of the database.</summary>
    public static readonly OpInfo[] All =
    {
        // arithmetic
        new("add", a => a[0] + a[1], "AddBackward0", Binary),
        new("add_alpha", a => a[0].add(a[1], alpha: 2), "AddBackward0", Binary),
        new("add_scalar", a => a[0].add(2.5), "AddBackward1", Unary),
        new("add_scalar_alpha", a => a[0].add(2.5, alpha: 3), "AddBackward1", Unary),
        new("sub", a => a[0] - a[1], "SubBackward0", Binary),
        new("sub_alpha", a => a[0].sub(a[1], alpha: 2), "SubBackward0", Binary),
        new("sub_scalar", a => a[0].sub(2.5), "SubBackward1", Unary),
        new("rsub_scalar", a => 2.5 - a[0], "RsubBackward1", Unary),
        new("mul", a => a[0] * a[1], "MulBackward0", Binary),
        new("mul_scalar", a => a[0].mul(2.5), "MulBackward1", Unary),
        new("div", a => a[0] / a[1], "DivBackward0", BinaryDiv),
        new("div_scalar", a => a[0].div(2.5), "DivBackward1", Unary),
        new("rdiv_scalar", a => 2.5 / a[0], "MulBackward1", UnaryNonZero),
        new("neg", a => -a[0], "NegBackward0", Unary),
        new("pow_scalar_int", a => a[0].pow(3), "PowBackward0", Unary),
        new("pow_scalar_frac", a => a[0].pow(2.5), "PowBackward0", UnaryPos),
        new("pow_scalar_neg", a => a[0].pow(-1.5), "PowBackward0", UnaryPos),
        new("pow_scalar_zero", a => a[0].pow(0), "PowBackward0", Unary),
        new("pow_tensor", a => a[0].pow(a[1]), "PowBackward1", BinaryPow),
        new("square", a => a[0].square(), "PowBackward0", Unary),
        new("reciprocal", a => a[0].reciprocal(), "ReciprocalBackward0", UnaryNonZero),
        // unary math
        new("sqrt", a => a[0].sqrt(), "SqrtBackward0", UnaryPos),
        new("rsqrt", a => a[0].rsqrt(), "RsqrtBackward0", UnaryPos),
        new("exp", a => a[0].exp(), "ExpBackward0", Unary),
        new("log", a => a[0].log(), "LogBackward0", UnaryPos),
        new("log1p", a => a[0].log1p(), "Log1PBackward0", UnaryPos),
        new("expm1", a => a[0].expm1(), "Expm1Backward0", Unary),
        new("sin", a => a[0].sin(), "SinBackward0", Unary),
        new("cos", a => a[0].cos(), "CosBackward0", Unary),
        new("tanh", a => a[0].tanh(), "TanhBackward0", Unary),
        new("sigmoid", a => a[0].sigmoid(), "SigmoidBackward0", Unary),
        new("relu", a => a[0].relu(), "ReluBackward0", Unary),
        new("abs", a => a[0].abs(), "AbsBackward0", Unary),
        new("sign", a => a[0].sign(), "SignBackward0", Unary),
        new("clamp", a => a[0].clamp(-0.5, 0.5), "ClampBackward1", Unary),
        new("clamp_min_only", a => a[0].clamp(min: -0.5), "ClampBackward1", Unary),
        new("clamp_min", a => a[0].clamp_min(0.25), "ClampMinBackward0", Unary),
        new("clamp_max", a => a[0].clamp_max(0.25), "ClampMaxBackward0", Unary),
        new("maximum", a => maximum(a[0], a[1]), "MaximumBackward0", Binary),
        new("minimum", a => minimum(a[0], a[1]), "MinimumBackward0", Binary),
        new("where", a => where(a[0], a[1], a[2]), "WhereBackward0", Where),
        // reductions
        new("sum", a => a[0].sum(), "SumBackward0", Reduce),
        new("sum_dim", a => a[0].sum(1), "SumBackward1", ReduceDim),
        new("sum_dims_keepdim", a => a[0].sum(new long[] { 0, 2 }, keepdim: true), "SumBackward1", ReduceDim),
        new("sum_neg_dim", a => a[0].sum(-1), "SumBackward1", ReduceDim),
        new("mean", a => a[0].mean(), "MeanBackward0", new[] { "2x3x4", "3x4T", "[]" }),
        new("mean_dim", a => a[0].mean(1), "MeanBackward1", ReduceDim),
        new("mean_dims_keepdim", a => a[0].mean(new long[] { 0, 2 }, keepdim: true), "MeanBackward1", ReduceDim),
        // views and shape ops
        new("view", a => a[0].view(4, 6), "ViewBackward0", new[] { "2x3x4", "4x6", "2x12S|ViewBackward0" }),
        new("reshape", a => a[0].reshape(4, 6), "ReshapeAliasBackward0", new[] { "2x3x4", "6x4T|UnsafeViewBackward0" }),
        new("t", a => a[0].t(), "TBackward0", new[] { "2x3", "3", "[]", "3x2T" }),
        new("transpose", a => a[0].transpose(0, 2), "TransposeBackward0", Cube),
        new("permute", a => a[0].permute(2, 0, 1), "PermuteBackward0", Cube),
        new("expand", a => a[0].expand(2, 3, 4), "ExpandBackward0", new[] { "2x1x4", "3x1", "[]", "1x3x4T" }),
        new("squeeze", a => a[0].squeeze(), "SqueezeBackward0", new[] { "2x1x3x1", "1", "[]", "2x3" }),
        new("squeeze_dim", a => a[0].squeeze(1), "SqueezeBackward1", new[] { "2x1x3", "2x3" }),
        new("unsqueeze", a => a[0].unsqueeze(0), "UnsqueezeBackward0", new[] { "2x3", "[]", "3x2T" }),
        new("unsqueeze_last", a => a[0].unsqueeze(-1), "UnsqueezeBackward0", new[] { "2x3", "3x2T" }),
        new("select", a => a[0].select(1, -1), "SelectBackward0", new[] { "2x3", "2x3x4", "3x2T", "4x3S" }),
        new("narrow", a => a[0].narrow(1, 1, 2), "SliceBackward0", new[] { "2x3", "2x4x3T", "4x3S" }),
        new("flatten", a => a[0].flatten(), "ReshapeAliasBackward0", new[] { "2x3x4", "3x2T|UnsafeViewBackward0" }),
        new("flatten_partial", a => a[0].flatten(1), "ReshapeAliasBackward0", new[] { "2x3x4", "2x4x3T|UnsafeViewBackward0" }),
        new("slice_step", a => a[0].slice(1, 0, 4, 2), "SliceBackward0", new[] { "2x5", "5x3T" }),
        new("clone", a => a[0].clone(), "CloneBackward0", Unary),
        new("to_float32", a => a[0].to(float32), "ToCopyBackward0", new[] { "2x3", "[]", "3x2T" }) { GradcheckEps = 1e-3, GradcheckAtol = 1e-4 },
        // matrix products
        new("mm", a => a[0].mm(a[1]), "MmBackward0", new[] { "2x3,3x4", "2x3T,3x4", "0x3,3x4", "2x0,0x4" }),
        new("bmm", a => a[0].bmm(a[1]), "BmmBackward0", new[] { "2x2x3,2x3x4", "2x2x3T,2x3x4" }),
        new("mv", a => a[0].mv(a[1]), "MvBackward0", new[] { "2x3,3", "3x2T,2" }),
        new("dot", a => a[0].dot(a[1]), "DotBackward0", new[] { "3,3", "0,0", "3S,3" }),
        new("matmul", a => a[0].matmul(a[1]), "UnsafeViewBackward0", new[]
        {
            "3,3|DotBackward0", "2x3,3|MvBackward0", "3,3x4|SqueezeBackward3", "2x3,3x4|MmBackward0",
            "2x2x3,3x4", "2x2x3,3", "3,2x3x4", "2x3,2x3x4|CloneBackward0", "2x2x3,2x3x4", "2x1x2x3,3x3x4", "2x2x3T,3x4",
        }),
        new("addmm", a => addmm(a[0], a[1], a[2]), "AddmmBackward0", new[] { "2x4,2x3,3x4", "4,2x3,3x4", "[],2x3,3x4" }),
        new("addmm_beta_alpha", a => addmm(a[0], a[1], a[2], beta: 0.5, alpha: 2), "AddmmBackward0", new[] { "2x4,2x3,3x4", "4,2x3,3x4" }),
        new("outer", a => outer(a[0], a[1]), "MulBackward0", new[] { "3,4", "0,4", "3S,2" }),
    };

    /// <summary>The op named <paramref name="name"/>.</summary>
    public static OpInfo Get(string name)
    {
        foreach (var op in All)
            if (op.Name == name) return op;
        throw new KeyNotFoundException($"no op '{name}' in OpDb.All");
    }

    /// <summary>(op name, sample spec) pairs for xunit's MemberData.</summary>
    public static IEnumerable<object[]> Cases()
    {
        foreach (var op in All)
            foreach (var spec in op.Samples)
                yield return new object[] { op.Name, spec };
    }

    /// <summary>Cases of ops that support double backward.</summary>
    public static IEnumerable<object[]> GradGradCases()
    {
        foreach (var op in All)
            if (op.SupportsGradGrad)
                foreach (var spec in op.Samples)
                    yield return new object[] { op.Name, spec };
    }
}
