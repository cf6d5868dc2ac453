using static Nabla.torch;
using F = Nabla.torch.nn.functional;
using TI = Nabla.TensorIndex;

namespace Nabla.Tests.OpDatabase;

/// <summary>
/// One op of the op database (as PyTorch's OpInfo): what to call, the grad_fn it must record, and its sample inputs.
/// Adding an op is one line in <see cref="OpDb.All"/> plus the same line in tools/fixtures/opdb.py (see README.md).
/// </summary>
/// <param name="Name">Unique key, shared with the fixture generator.</param>
/// <param name="Op">The op applied to the sample inputs (scalar arguments are written into the lambda).</param>
/// <param name="GradFn">PyTorch's grad_fn name of the output (null: the op returns its input leaf; a sample may override it with "|Name").</param>
/// <param name="Samples">Sample specs (grammar in <see cref="SampleSpec"/>).</param>
public sealed record OpInfo(string Name, Func<Tensor[], Tensor> Op, string? GradFn, string[] Samples)
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
    static readonly string[] MinMax = { "2x3x3", "3x4T", "[]", "4x3S" };
    static readonly string[] MinMaxDim = { "2x3x3", "2x4x2T", "4x3S" };
    static readonly string[] SoftmaxSamples = { "2x3x2", "2x3T", "4x3S" };
    static readonly string[] SoftmaxLast = { "2x3x2", "2x3T", "4x3S", "[]", "2x0" };

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
        new("rsub_scalar", a => 2.5 - a[0], "SubBackward0", Unary),
        new("mul", a => a[0] * a[1], "MulBackward0", Binary),
        new("mul_scalar", a => a[0].mul(2.5), "MulBackward1", Unary),
        new("div", a => a[0] / a[1], "DivBackward0", BinaryDiv),
        new("div_scalar", a => a[0].div(2.5), "DivBackward1", Unary),
        new("rdiv_scalar", a => 2.5 / a[0], "DivBackward0", UnaryNonZero),
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
        // min / max reductions (at most 23 elements per input, so no ties)
        new("max", a => a[0].max(), "MaxBackward1", MinMax),
        new("min", a => a[0].min(), "MinBackward1", MinMax),
        new("max_dim", a => a[0].max(1).values, "MaxBackward0", MinMaxDim),
        new("max_dim_keepdim", a => a[0].max(-1, keepdim: true).values, "MaxBackward0", MinMaxDim),
        new("min_dim", a => a[0].min(0).values, "MinBackward0", MinMaxDim),
        new("amax", a => a[0].amax(1), "AmaxBackward0", MinMaxDim),
        new("amax_dims", a => a[0].amax(new long[] { 0, 2 }, keepdim: true), "AmaxBackward0", new[] { "2x3x3", "2x4x2T" }),
        new("amin", a => a[0].amin(-1), "AminBackward0", MinMaxDim),
        // other reductions
        new("prod", a => a[0].prod(), "ProdBackward0", new[] { "2x3x3", "3x4T", "[]", "0x3" }),
        new("prod_dim", a => a[0].prod(1), "ProdBackward1", new[] { "2x3x3", "2x4x2T", "2x0x4" }),
        new("prod_dim_keepdim", a => a[0].prod(-1, keepdim: true), "ProdBackward1", new[] { "2x3x3", "4x3S" }),
        new("var", a => a[0].var(), "VarBackward0", new[] { "2x3x3", "3x4T" }),
        new("var_dims", a => a[0].var(new long[] { 0, 2 }), "VarBackward0", new[] { "2x3x3", "2x4x3T" }),
        new("var_dim_biased", a => a[0].var(1, unbiased: false, keepdim: true), "VarBackward0", new[] { "2x3x3", "2x4x3T" }),
        new("var_correction", a => a[0].var(new long[] { 1 }, correction: 2), "VarBackward0", new[] { "2x4x3", "2x4x3T" }),
        new("std", a => a[0].std(), "StdBackward0", new[] { "2x3x3", "3x4T" }),
        new("std_dims", a => a[0].std(new long[] { 0, 2 }, keepdim: true), "StdBackward0", new[] { "2x3x3", "2x4x3T" }),
        new("std_dim_biased", a => a[0].std(1, unbiased: false), "StdBackward0", new[] { "2x3x3", "2x4x3T" }),
        new("logsumexp", a => a[0].logsumexp(1), "LogsumexpBackward0", new[] { "2x3x4", "2x4x3T", "3x0" }),
        new("logsumexp_dims", a => a[0].logsumexp(new long[] { 0, 2 }, keepdim: true), "LogsumexpBackward0", new[] { "2x3x4", "2x4x3T" }),
        new("norm", a => a[0].norm(), "NormBackward1", new[] { "2x3x3", "3x4T", "4x3S" }),
        new("norm_dim_p1", a => a[0].norm(1, p: 1), "NormBackward1", new[] { "2x3x3", "2x4x3T" }),
        new("norm_dim_p3", a => a[0].norm(-1, keepdim: true, p: 3), "NormBackward1", new[] { "2x3x3", "2x4x3T" }),
        new("cumsum", a => a[0].cumsum(1), "CumsumBackward0", new[] { "2x3x4", "2x4x3T", "4x3S", "2x0" }),
        new("cumsum_0d", a => a[0].cumsum(0), "CumsumBackward0", new[] { "[]", "5" }),
        new("softmax_dim0", a => a[0].softmax(0), "SoftmaxBackward0", SoftmaxSamples),
        new("softmax_dim1", a => a[0].softmax(1), "SoftmaxBackward0", SoftmaxSamples),
        new("softmax_last", a => a[0].softmax(-1), "SoftmaxBackward0", SoftmaxLast),
        new("log_softmax_dim0", a => a[0].log_softmax(0), "LogSoftmaxBackward0", SoftmaxSamples),
        new("log_softmax_last", a => a[0].log_softmax(-1), "LogSoftmaxBackward0", SoftmaxLast),
        new("mean_dims", a => a[0].mean(new long[] { 0, 1 }), "MeanBackward1", new[] { "2x3x4", "2x4x3T", "4x3S" }),
        // joining and splitting
        new("cat", a => cat(new[] { a[0], a[1] }), "CatBackward0", new[] { "2x3,1x3", "3x2T,2x2", "0x3,2x3" }),
        new("cat_dim1", a => cat(new[] { a[0], a[1], a[2] }, 1), "CatBackward0", new[] { "2x3,2x1,2x2", "2x3T,2x2,2x2S" }),
        new("stack", a => stack(new[] { a[0], a[1] }), "StackBackward0", new[] { "2x3,2x3", "3x2T,3x2", "[],[]" }),
        new("stack_last", a => stack(new[] { a[0], a[1] }, -1), "StackBackward0", new[] { "2x3,2x3", "3x2T,3x2" }),
        new("split", a => a[0].split(2, 1)[1], "SplitBackward0", new[] { "2x5", "3x4T" }),
        new("split_sizes", a => a[0].split(new long[] { 1, 3 }, 0)[1], "SplitWithSizesBackward0", new[] { "4x3", "4x2T" }),
        new("chunk", a => a[0].chunk(2, 1)[0], "SplitBackward0", new[] { "2x5", "3x4T" }),
        new("unbind", a => a[0].unbind(1)[2], "UnbindBackward0", new[] { "2x3", "3x3T", "2x3x2" }),
        new("repeat", a => a[0].repeat(2, 1, 3), "RepeatBackward0", new[] { "2x3", "3x2T", "[]" }),
        new("flip", a => a[0].flip(0, -1), "FlipBackward0", new[] { "2x3", "3x2T", "2x3x2", "4x3S" }),
        // aliases and *_as forms
        new("clip", a => a[0].clip(-0.5, 0.5), "ClampBackward1", Unary),
        new("concat", a => concat(new[] { a[0], a[1] }, 1), "CatBackward0", new[] { "2x3,2x2", "3x2T,3x1" }),
        new("contiguous", a => a[0].contiguous(), "CloneBackward0", new[] { "3x2T", "4x3S" }),
        new("expand_as", a => a[0].expand_as(a[1]), "ExpandBackward0", new[] { "3x1,3x4", "[],2x3" }),
        new("view_as", a => a[0].view_as(a[1]), "ViewBackward0", new[] { "2x6,3x4", "6,2x3" }),
        new("reshape_as", a => a[0].reshape_as(a[1]), "ReshapeAliasBackward0", new[] { "2x6,3x4", "6x2T,3x4|UnsafeViewBackward0" }),
        new("type_as_f32", a => a[0].type_as(a[1].to(float32)), "ToCopyBackward0", new[] { "2x3,2x3n", "3x2T,[]n" }) { GradcheckEps = 1e-3, GradcheckAtol = 1e-4 },
        // gathering and scattering ("#" inputs are fixed int64 tensors)
        new("gather", a => a[0].gather(1, a[1]), "GatherBackward0", new[] { "2x3,2x2#0;2;1;1", "3x2T,3x3#1;0;0;0;1;1;1;1;0", "2x3,2x0#" }),
        new("gather_dim0", a => a[0].gather(0, a[1]), "GatherBackward0", new[] { "3x2,2x2#2;0;1;2" }),
        new("scatter", a => a[0].scatter(1, a[1], a[2]), "ScatterBackward0", new[] { "2x3,2x2#2;0;1;2,2x2", "3x2T,3x1#1;0;1,3x1" }),
        new("scatter_value", a => a[0].scatter(1, a[1], 0.5), "ScatterBackward1", new[] { "2x3,2x2#2;0;1;2", "3x2T,3x1#1;0;1" }),
        new("scatter_add", a => a[0].scatter_add(1, a[1], a[2]), "ScatterAddBackward0", new[] { "2x3,2x3#2;0;2;1;1;1,2x3", "3x2T,3x1#1;0;1,3x1" }),
        new("index_select", a => a[0].index_select(1, a[1]), "IndexSelectBackward0", new[] { "2x3,4#2;0;2;1", "3x2T,1#1", "2x3,0#" }),
        new("index_select_dim0", a => a[0].index_select(0, a[1]), "IndexSelectBackward0", new[] { "3x2,2#2;0", "3,2#1;1" }),
        new("masked_fill", a => a[0].masked_fill(a[1], 0.5), "MaskedFillBackward0", new[] { "2x3,2x3b", "2x3,3b", "3x2T,3x2b" }),
        new("masked_fill_tensor", a => a[0].masked_fill(a[1], a[2]), "MaskedFillBackward1", new[] { "2x3,2x3b,[]", "3x2T,2b,[]" }),
        // indexing
        new("index_int", a => a[0][1], "SelectBackward0", new[] { "2x3", "3x2T" }),
        new("index_slice", a => a[0][TI.Colon, TI.Slice(1, 3)], "SliceBackward0", new[] { "2x4", "3x4T" }),
        new("index_none", a => a[0][TI.None], "UnsqueezeBackward0", new[] { "2x3", "[]" }),
        new("index_ellipsis", a => a[0][TI.Ellipsis, 1], "SelectBackward0", new[] { "2x3x2", "3x2T" }),
        new("index_ellipsis_only", a => a[0][TI.Ellipsis], "AliasBackward0", new[] { "2x3", "[]" }),
        new("index_mixed", a => a[0][0, TI.None, TI.Slice(1)], "SliceBackward0", new[] { "2x3", "2x3x2" }),
        new("index_tensor", a => a[0][a[1]], "IndexBackward0", new[] { "4x2,3#3;0;-1", "3x2T,2x2#0;2;1;0", "3,0#" }),
        new("index_tensor_dim1", a => a[0][TI.Colon, a[1]], "IndexBackward0", new[] { "2x4,3#3;0;1", "3x2T,1#1" }),
        new("index_two_tensors", a => a[0][a[1], a[2]], "IndexBackward0", new[] { "3x4,2#0;2,2#3;1", "3x4,2x1#0;2,3#0;1;3" }),
        new("index_mask", a => a[0][a[1]], "IndexBackward0", new[] { "2x3,2x3b", "3x2T,3x2b", "2x3,2b" }),
        new("index_put", a => a[0].index_put(new Tensor?[] { a[1] }, a[2]), "IndexPutBackward0", new[] { "4x2,2#3;0,2x2", "4x2,2#3;1,2", "3x2T,1#1,[]" }),
        new("index_put_accumulate", a => a[0].index_put(new Tensor?[] { a[1] }, a[2], accumulate: true), "IndexPutBackward0", new[] { "4x2,3#3;0;3,3x2", "3,4#0;2;0;1,4" }),
        new("index_put_two", a => a[0].index_put(new Tensor?[] { a[1], a[2] }, a[3]), "IndexPutBackward0", new[] { "3x4,2#0;2,2#3;1,2" }),
        // nn.functional: activations, linear, dropout
        new("F_relu", a => F.relu(a[0]), "ReluBackward0", new[] { "2x3", "3x2T" }),
        new("F_sigmoid", a => F.sigmoid(a[0]), "SigmoidBackward0", new[] { "2x3", "3x2T" }),
        new("F_tanh", a => F.tanh(a[0]), "TanhBackward0", new[] { "2x3", "3x2T" }),
        new("F_softmax", a => F.softmax(a[0], 1), "SoftmaxBackward0", new[] { "2x3", "3x2T" }),
        new("F_log_softmax", a => F.log_softmax(a[0], 1), "LogSoftmaxBackward0", new[] { "2x3", "3x2T" }),
        new("linear", a => F.linear(a[0], a[1], a[2]), "AddmmBackward0", new[]
        {
            "2x3,4x3,4", "2x3T,4x3,4", "2x2x3,4x3,4|ViewBackward0", "3,4x3,4|AddBackward0", "2x2x3T,4x3,4|AddBackward0",
        }),
        new("linear_nobias", a => F.linear(a[0], a[1]), "MmBackward0", new[] { "2x3,4x3", "2x2x3,4x3|UnsafeViewBackward0", "3,4x3|SqueezeBackward3" }),
        // p = 0 and eval return the input itself (a leaf: no grad_fn).
        new("dropout_p0", a => F.dropout(a[0], 0.0, true), null, new[] { "2x3" }),
        new("dropout_eval", a => F.dropout(a[0], 0.5, false), null, new[] { "2x3" }),
        // The generator is bit-identical to PyTorch's: seeding right before the op gives PyTorch's mask.
        new("dropout_train", a => { manual_seed(0); return F.dropout(a[0], 0.5, true); }, "MulBackward0", new[] { "2x3", "3x4T", "4x3S" }),
        // nn.functional: losses ("p" inputs are probabilities, "n" inputs do not require grad)
        new("mse_loss", a => F.mse_loss(a[0], a[1]), "MseLossBackward0", new[] { "2x3,2x3", "3x2T,3x2", "[],[]" }),
        new("mse_loss_sum", a => F.mse_loss(a[0], a[1], reduction: "sum"), "MseLossBackward0", new[] { "2x3,2x3" }),
        new("mse_loss_none", a => F.mse_loss(a[0], a[1], reduction: "none"), "MseLossBackward0", new[] { "2x3,2x3", "3x2T,3x2" }),
        new("l1_loss", a => F.l1_loss(a[0], a[1]), "MeanBackward0", new[] { "2x3,2x3", "3x2T,3x2" }),
        new("l1_loss_none", a => F.l1_loss(a[0], a[1], reduction: "none"), "AbsBackward0", new[] { "2x3,2x3" }),
        new("binary_cross_entropy", a => F.binary_cross_entropy(a[0], a[1]), "BinaryCrossEntropyBackward0", new[] { "2x3p,2x3p", "3x2Tp,3x2p" }),
        new("binary_cross_entropy_weight", a => F.binary_cross_entropy(a[0], a[1], a[2], reduction: "sum"), "BinaryCrossEntropyBackward0", new[] { "2x3p,2x3p,2x3+n" }),
        new("binary_cross_entropy_none", a => F.binary_cross_entropy(a[0], a[1], reduction: "none"), "BinaryCrossEntropyBackward0", new[] { "2x3p,2x3p" }),
        new("bce_with_logits", a => F.binary_cross_entropy_with_logits(a[0], a[1]), "BinaryCrossEntropyWithLogitsBackward0", new[] { "2x3,2x3p", "3x2T,3x2p" }),
        new("bce_with_logits_weights", a => F.binary_cross_entropy_with_logits(a[0], a[1], a[2], pos_weight: a[3]), "BinaryCrossEntropyWithLogitsBackward0", new[] { "2x3,2x3p,2x3+n,3+n", "2x3,2x3p,3+n,[]+n" }),
        new("bce_with_logits_none", a => F.binary_cross_entropy_with_logits(a[0], a[1], pos_weight: a[2], reduction: "none"), "BinaryCrossEntropyWithLogitsBackward0", new[] { "2x3,2x3p,3+n" }),
        new("cross_entropy", a => F.cross_entropy(a[0], a[1]), "NllLossBackward0", new[] { "2x3,2#0;2", "4x3T,4#1;0;2;2", "3,[]#1", "2x3x2,2x2#0;2;1;1|NllLoss2DBackward0" }),
        new("cross_entropy_weight", a => F.cross_entropy(a[0], a[1], a[2]), "NllLossBackward0", new[] { "4x3,4#1;0;2;2,3+n" }),
        new("cross_entropy_ignore_sum", a => F.cross_entropy(a[0], a[1], ignore_index: 0, reduction: "sum"), "NllLossBackward0", new[] { "4x3,4#1;0;2;0" }),
        new("cross_entropy_none", a => F.cross_entropy(a[0], a[1], reduction: "none"), "NllLossBackward0", new[] { "4x3,4#1;0;2;2" }),
        new("cross_entropy_smoothing", a => F.cross_entropy(a[0], a[1], label_smoothing: 0.25), "AddBackward0", new[] { "4x3,4#1;0;2;2" }),
        new("cross_entropy_probs", a => F.cross_entropy(a[0], a[1]), "DivBackward1", new[] { "2x3,2x3p" }),
        new("nll_loss", a => F.nll_loss(a[0], a[1]), "NllLossBackward0", new[] { "2x3,2#0;2", "4x3T,4#1;0;2;2", "3,[]#1" }),
        new("nll_loss_weight_none", a => F.nll_loss(a[0], a[1], a[2], reduction: "none"), "NllLossBackward0", new[] { "4x3,4#1;0;2;2,3+n" }),
        new("nll_loss_ignore", a => F.nll_loss(a[0], a[1], ignore_index: 2), "NllLossBackward0", new[] { "4x3,4#1;0;2;2" }),
        // convolution, pooling, normalisation
        new("conv2d", a => F.conv2d(a[0], a[1], a[2]), "ConvolutionBackward0", new[] { "1x2x4x4,3x2x2x2,3", "2x1x3x3,2x1x2x2,2" }),
        new("conv2d_nobias", a => F.conv2d(a[0], a[1]), "ConvolutionBackward0", new[] { "1x2x4x4,3x2x2x2", "2x3x3T,2x2x2x2|SqueezeBackward1" }),
        new("conv2d_stride_pad", a => F.conv2d(a[0], a[1], a[2], stride: new long[] { 2 }, padding: new long[] { 1 }), "ConvolutionBackward0", new[] { "1x2x4x4,3x2x3x3,3" }),
        new("conv2d_dilation", a => F.conv2d(a[0], a[1], null, new long[] { 1 }, new long[] { 1, 0 }, new long[] { 2 }), "ConvolutionBackward0", new[] { "1x1x5x4,2x1x2x2" }),
        new("conv2d_groups", a => F.conv2d(a[0], a[1], a[2], groups: 2), "ConvolutionBackward0", new[] { "1x4x3x3,4x2x2x2,4" }),
        new("max_pool2d", a => F.max_pool2d(a[0], new long[] { 2 }), "MaxPool2DWithIndicesBackward0", new[] { "1x2x4x4", "2x4x4", "1x2x4x4T" }),
        new("max_pool2d_stride_pad", a => F.max_pool2d(a[0], new long[] { 3 }, new long[] { 2 }, new long[] { 1 }), "MaxPool2DWithIndicesBackward0", new[] { "1x1x5x4", "2x4x4" }),
        new("avg_pool2d", a => F.avg_pool2d(a[0], new long[] { 2 }), "AvgPool2DBackward0", new[] { "1x2x4x4", "2x4x4", "1x2x4x4T" }),
        new("avg_pool2d_pad", a => F.avg_pool2d(a[0], new long[] { 3 }, new long[] { 2 }, new long[] { 1 }, count_include_pad: false), "AvgPool2DBackward0", new[] { "1x1x5x4" }),
        new("adaptive_avg_pool2d", a => F.adaptive_avg_pool2d(a[0], new long[] { 2, 3 }), "AdaptiveAvgPool2DBackward0", new[] { "1x2x5x5", "2x4x4" }),
        new("adaptive_avg_pool2d_1", a => F.adaptive_avg_pool2d(a[0], new long[] { 1 }), "MeanBackward1", new[] { "1x2x3x3" }),
        new("batch_norm_train", a => F.batch_norm(a[0], a[1], a[2], a[3], a[4], training: true), "NativeBatchNormBackward0", new[] { "4x3,3n,3+n,3,3", "2x3x2,3n,3+n,3,3" }),
        new("batch_norm_train_no_affine", a => F.batch_norm(a[0], null, null, training: true), "NativeBatchNormBackward0", new[] { "4x3", "2x2x2x2" }),
        new("batch_norm_eval", a => F.batch_norm(a[0], a[1], a[2], a[3], a[4], training: false), "NativeBatchNormBackward0", new[] { "4x3,3n,3+n,3,3", "2x3x2,3n,3+n,3,3" }),
        // everyday ops of issue 12: shape and structure
        new("tril", a => a[0].tril(), "TrilBackward0", new[] { "3x4", "2x3x3T", "4x3S", "0x3", "2x0x2" }),
        new("tril_k", a => a[0].tril(1), "TrilBackward0", new[] { "3x4", "4x3T" }),
        new("tril_neg_k", a => a[0].tril(-1), "TrilBackward0", new[] { "3x4", "2x4x3T" }),
        new("triu", a => a[0].triu(), "TriuBackward0", new[] { "3x4", "2x3x3T", "4x3S", "0x3" }),
        new("triu_k", a => a[0].triu(2), "TriuBackward0", new[] { "3x4", "4x3T" }),
        new("triu_neg_k", a => a[0].triu(-1), "TriuBackward0", new[] { "3x4", "2x4x3T" }),
        new("diagonal", a => a[0].diagonal(), "DiagonalBackward0", new[] { "3x4", "4x3T", "2x3x4", "4x3S", "0x3" }),
        new("diagonal_offset", a => a[0].diagonal(1, 1, 2), "DiagonalBackward0", new[] { "2x3x4", "2x4x3T" }),
        new("diagonal_neg_offset", a => a[0].diagonal(-1, -1, 0), "DiagonalBackward0", new[] { "3x4x2", "4x3T", "2x5" }),
        new("diag_1d", a => a[0].diag(), "DiagBackward0", new[] { "3", "3S", "0", "1" }),
        new("diag_1d_k", a => a[0].diag(-2), "DiagBackward0", new[] { "3", "3S" }),
        new("diag_2d", a => a[0].diag(), "DiagBackward0", new[] { "3x4", "4x3T", "4x3S" }),
        new("diag_2d_k", a => a[0].diag(1), "DiagBackward0", new[] { "3x4", "4x3T" }),
        new("trace", a => a[0].trace(), "TraceBackward0", new[] { "3x4", "4x3T", "3x3", "0x2" }),
        new("roll", a => a[0].roll(1, 1), "RollBackward0", new[] { "2x3", "3x4T", "4x3S", "2x0" }),
        new("roll_neg_big", a => a[0].roll(-7, 0), "RollBackward0", new[] { "3x2", "3x4T" }),
        new("roll_dims", a => a[0].roll(new long[] { 1, -2 }, new long[] { 0, 2 }), "RollBackward0", new[] { "2x3x4", "2x4x3T" }),
        new("roll_flat", a => a[0].roll(2), "RollBackward0", new[] { "2x3", "3x2T", "[]", "4" }),
        new("repeat_interleave", a => a[0].repeat_interleave(2), "IndexSelectBackward0", new[] { "2x3", "3x2T", "[]", "0x2" }),
        new("repeat_interleave_dim", a => a[0].repeat_interleave(3, 1), "IndexSelectBackward0", new[] { "2x3", "3x2T", "4x3S" }),
        new("repeat_interleave_neg_dim", a => a[0].repeat_interleave(2, -3), "IndexSelectBackward0", new[] { "2x3x2", "2x2x3T" }),
        new("movedim", a => a[0].movedim(0, -1), "PermuteBackward0", new[] { "2x3x4", "2x4x3T", "4x3S" }),
        new("movedim_multi", a => a[0].movedim(new long[] { 0, 1 }, new long[] { 2, 0 }), "PermuteBackward0", new[] { "2x3x4", "2x4x3T" }),
        new("swapaxes", a => a[0].swapaxes(0, 2), "TransposeBackward0", Cube),
        new("swapdims", a => a[0].swapdims(-1, 0), "TransposeBackward0", new[] { "2x3", "3x2T" }),
        // everyday ops of issue 12: sorting and scans (gather through the indices checks them against PyTorch's)
        new("sort", a => a[0].sort().values, "SortBackward0", new[] { "2x3x4", "2x4x3T", "4x3S", "[]", "2x0" }),
        new("sort_dim0_desc", a => a[0].sort(0, descending: true).values, "SortBackward0", new[] { "3x4", "4x3T", "5" }),
        new("sort_stable", a => a[0].sort(stable: true, dim: 1).values, "SortBackward1", new[] { "2x3x4", "2x4x3T" }),
        new("sort_indices", a => a[0].gather(1, a[0].sort(1, descending: true).indices), "GatherBackward0", new[] { "2x3x4", "4x3S" }),
        new("argsort", a => a[0].gather(-1, a[0].argsort()), "GatherBackward0", new[] { "2x3x4", "2x4x3T", "2x0" }),
        new("msort", a => a[0].msort(), "SortBackward0", new[] { "4x3", "3x4T" }),
        new("topk", a => a[0].topk(2).values, "TopkBackward0", new[] { "2x3x4", "2x4x3T", "4x3S" }),
        new("topk_smallest_dim0", a => a[0].topk(3, 0, largest: false).values, "TopkBackward0", new[] { "4x3", "3x4T", "5" }),
        new("topk_0d", a => a[0].topk(1, 0).values, "TopkBackward0", new[] { "[]" }),
        new("topk_k0", a => a[0].topk(0).values, "TopkBackward0", new[] { "2x3" }),
        new("topk_indices", a => a[0].gather(1, a[0].topk(2, 1).indices), "GatherBackward0", new[] { "2x3x4", "2x4x3T" }),
        new("cummax", a => a[0].cummax(1).values, "CummaxBackward0", new[] { "2x3x4", "2x4x3T", "4x3S", "2x0" }),
        new("cummax_0d", a => a[0].cummax(0).values, "CummaxBackward0", new[] { "[]", "5" }),
        new("cummin", a => a[0].cummin(-1).values, "CumminBackward0", new[] { "2x3x4", "2x4x3T", "4x3S" }),
        new("cummax_indices", a => a[0].gather(0, a[0].cummax(0).indices), "GatherBackward0", new[] { "4x3", "3x4T" }),
        // everyday ops of issue 12: elementwise composites
        new("logaddexp", a => a[0].logaddexp(a[1]), "LogaddexpBackward0", Binary),
        new("lerp_scalar", a => a[0].lerp(a[1], 0.25), "LerpBackward0", new[] { "2x3,2x3", "2x3,3", "3x2T,3x2", "[],2x3", "0x3,3" }),
        new("lerp_scalar_high", a => a[0].lerp(a[1], 0.75), "LerpBackward0", new[] { "2x3,2x3", "3x2T,3x2" }),
        new("lerp_tensor", a => a[0].lerp(a[1], a[2]), "LerpBackward1", new[] { "2x3,2x3,2x3p", "2x3,3,2x1p", "3x2T,3x2,[]p" }),
        new("addcmul", a => a[0].addcmul(a[1], a[2]), "AddcmulBackward0", new[] { "2x3,2x3,2x3", "3,2x3,2x1", "3x2T,3x2,[]", "[],2x3,3" }),
        new("addcmul_value", a => a[0].addcmul(a[1], a[2], value: 0.5), "AddcmulBackward0", new[] { "2x3,2x3,2x3", "3x2T,3x2,3x2S" }),
        new("addcdiv", a => a[0].addcdiv(a[1], a[2]), "AddcdivBackward0", new[] { "2x3,2x3,2x3~", "3,2x3,2x1~", "3x2T,3x2,[]~" }),
        new("addcdiv_value", a => a[0].addcdiv(a[1], a[2], value: -2), "AddcdivBackward0", new[] { "2x3,2x3,2x3~" }),
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
