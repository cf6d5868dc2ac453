using Nabla.Autograd;

namespace Nabla.Ops;

// Note [Batch norm backward]
// NativeBatchNormBackward0 has two implementations of the same formula. Without create_graph (grad mode off while
// the engine runs it) it calls the BatchNormBackward primitive (the CPU backend's raw per-channel kernel: two passes
// over (x, g), double accumulators) with the mean and invstd the forward saved. With
// create_graph it evaluates the formula with differentiable tensor ops, recomputing mean and invstd from x, so
// second derivatives are exact (their nodes are the composite's MulBackward0, MeanBackward1, ... rather than
// PyTorch's single NativeBatchNormBackwardBackward0).

internal static class Norm
{
    // PyTorch 1.13's CPU check (Normalization.cpp, mixed_data_type.h): when the first defined parameter (in the order
    // weight, bias, running_mean, running_var) differs from the input's dtype the call is "mixed type", allowed only for
    // a BFloat16 input with Float parameters; any other mismatch fails when the kernel reads the parameter.
    static void CheckParameterDTypes(Tensor input, params Tensor?[] parameters)
    {
        Tensor? first = null;
        foreach (var p in parameters)
            if (p is not null) { first = p; break; }
        if (first is null) return;
        if (first._dtype != input._dtype)
        {
            foreach (var p in parameters)
                if (p is not null && p._dtype != ScalarType.Float32)
                    throw new InvalidOperationException("mixed dtype (CPU): expect parameter to have scalar type of Float");
            throw new InvalidOperationException("mixed dtype (CPU): expect input to have scalar type of BFloat16");
        }
        foreach (var p in parameters)
            if (p is not null && p._dtype != input._dtype)
                throw new InvalidOperationException(
                    $"expected scalar type {input._dtype.CppScalarName()} but found {p._dtype.CppScalarName()}");
    }

    static void CheckFeatures(string name, long features, Tensor? t)
    {
        if (t is not null && t._numel != features)
            throw new ArgumentException($"{name} should contain {features} elements not {t._numel}");
    }

    /// <summary>
    /// batch_norm over dim 1 of an (N, C), (N, C, L) or (N, C, H, W) input, as <c>torch.nn.functional.batch_norm</c>.
    /// In training mode normalises with the batch statistics and, when running stats are given, updates them in
    /// place (momentum, unbiased variance); otherwise normalises with the running stats. Recorded as
    /// <c>NativeBatchNormBackward0</c> with edges [input, weight, bias].
    /// </summary>
    public static Tensor BatchNorm(Tensor input, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias,
        bool training, double momentum, double eps)
    {
        var shape = input._shape;
        if (training)
        {
            long prod = shape.Length > 0 ? shape[0] : 1;
            for (int i = 2; i < shape.Length; i++) prod *= shape[i];
            if (prod == 1)
                throw new ArgumentException(
                    $"Expected more than 1 value per channel when training, got input size {ShapeUtil.SizeString(shape)}");
        }
        long features = shape.Length >= 2 ? shape[1] : 0;
        if (runningMean is not null) CheckFeatures("running_mean", features, runningMean);
        else if (!training) throw new InvalidOperationException("running_mean must be defined in evaluation mode");
        if (runningVar is not null) CheckFeatures("running_var", features, runningVar);
        else if (!training) throw new InvalidOperationException("running_var must be defined in evaluation mode");
        CheckFeatures("weight", features, weight);
        CheckFeatures("bias", features, bias);
        if (shape.Length < 2) throw new ArgumentException($"batch_norm: expected at least 2-D input, but got input of size {ShapeUtil.Format(shape)}");
        if (!input._dtype.IsFloatingPoint())
            throw new NotSupportedException($"\"batch_norm_cpu\" not implemented for '{input._dtype.CppScalarName()}'");
        CheckParameterDTypes(input, weight, bias, runningMean, runningVar);

        if (weight is not null) Ops.Raw.CheckSameDevice(input, weight);
        if (bias is not null) Ops.Raw.CheckSameDevice(input, bias);
        if (runningMean is not null) Ops.Raw.CheckSameDevice(input, runningMean);
        if (runningVar is not null) Ops.Raw.CheckSameDevice(input, runningVar);

        int n = (int)shape[0], c = (int)features, s = (int)(input._numel / Math.Max(1L, (long)n * c));
        var mean = Tensor.EmptyLike(input, ScalarType.Float64, new long[] { c });
        var invstd = Tensor.EmptyLike(input, ScalarType.Float64, new long[] { c });
        var result = Tensor.EmptyLike(input, input._dtype, shape);
        input.Backend.BatchNorm(result.Raw, mean.Raw, invstd.Raw, input.Raw, weight?.Raw, bias?.Raw, runningMean?.Raw, runningVar?.Raw,
            training, momentum, eps);
        if (training)
        {
            // The primitive updated the running stats in place (running_var only from a non-empty batch).
            runningMean?.BumpVersion();
            if ((long)n * s > 0) runningVar?.BumpVersion();
        }
        if (History.ShouldRecord(new[] { input, weight ?? input, bias ?? input }))
        {
            // The saved statistics live as long as the node (Note [Dispose scopes]: no scope may capture them).
            mean.DetachFromDisposeScope();
            invstd.DetachFromDisposeScope();
            var node = new NativeBatchNormBackward0(input, weight, training ? null : runningMean, training ? null : runningVar,
                training, eps, mean, invstd);
            node.SetNextEdges(new[] { input, weight, bias });
            History.Set(result, node);
        }
        return result;
    }
}

/// <summary>Backward of batch_norm (see Note [Batch norm backward]).</summary>
// Kept as a Node: three gradients from fused kernels and saved statistics.
internal sealed class NativeBatchNormBackward0 : Node
{
    SavedTensor _input, _weight, _runningMean, _runningVar;
    readonly bool _hasWeight, _training;
    readonly double _eps;
    readonly Tensor _mean, _invstd;   // float64 [C]: the statistics the forward normalised with

    public NativeBatchNormBackward0(Tensor input, Tensor? weight, Tensor? runningMean, Tensor? runningVar, bool training,
        double eps, Tensor mean, Tensor invstd)
    {
        _input = new SavedTensor(input);
        _hasWeight = weight is not null;
        if (weight is not null) _weight = new SavedTensor(weight);
        if (runningMean is not null) _runningMean = new SavedTensor(runningMean);
        if (runningVar is not null) _runningVar = new SavedTensor(runningVar);
        _training = training;
        _eps = eps;
        _mean = mean;
        _invstd = invstd;
    }

    public override string name() => "NativeBatchNormBackward0";

    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var grad = g[0]!;
        var x = _input.Unpack(this);
        var w = _hasWeight ? _weight.Unpack(this) : null;
        if (!_training) { _runningMean.Unpack(this); _runningVar.Unpack(this); }
        return GradMode.IsEnabled ? Composite(grad, x, w) : Raw(grad, x, w);
    }

    Tensor?[] Raw(Tensor grad, Tensor x, Tensor? w)
    {
        var shape = x._shape;
        var paramShape = new[] { shape[1] };
        var paramType = w?._dtype ?? x._dtype;
        var gx = NeedsInputGrad(0) ? Tensor.EmptyLike(x, x._dtype, shape) : null;
        var gw = NeedsInputGrad(1) ? Tensor.EmptyLike(x, paramType, paramShape) : null;
        var gb = NeedsInputGrad(2) ? Tensor.EmptyLike(x, paramType, paramShape) : null;
        var gc = Ops.Raw.Cast(grad, x._dtype);
        Ops.Raw.CheckSameDevice(gc, x);
        x.Backend.BatchNormBackward(gx?.Raw, gw?.Raw, gb?.Raw, gc.Raw, x.Raw, w?.Raw, _mean.Raw, _invstd.Raw, _training);
        return new[] { gx, gw, gb };
    }

    Tensor?[] Composite(Tensor grad, Tensor x, Tensor? w)
    {
        int rank = x._shape.Length;
        var dims = new List<long> { 0 };
        for (int i = 2; i < rank; i++) dims.Add(i);
        var reduce = dims.ToArray();
        var bc = new long[rank];
        Array.Fill(bc, 1L);
        bc[1] = x._shape[1];
        Tensor xhat, invstd;
        if (_training)
        {
            var centered = x.sub(x.mean(reduce, keepdim: true));
            invstd = centered.mul(centered).mean(reduce, keepdim: true).add(_eps).rsqrt();
            xhat = centered.mul(invstd);
        }
        else
        {
            invstd = _runningVar.Unpack(this).add(_eps).rsqrt().view(bc);
            xhat = x.sub(_runningMean.Unpack(this).view(bc)).mul(invstd);
        }
        Tensor? gx = null, gw = null, gb = null;
        var gxhat = grad.mul(xhat);
        if (NeedsInputGrad(0))
        {
            var dx = _training
                ? grad.sub(grad.mean(reduce, keepdim: true)).sub(xhat.mul(gxhat.mean(reduce, keepdim: true))).mul(invstd)
                : grad.mul(invstd);
            gx = w is null ? dx : dx.mul(w.view(bc));
        }
        if (NeedsInputGrad(1)) gw = gxhat.sum(reduce);
        if (NeedsInputGrad(2)) gb = grad.sum(reduce);
        return new[] { gx, gw, gb };
    }

    protected internal override void ReleaseVariables()
    {
        _input.Release(); _weight.Release(); _runningMean.Release(); _runningVar.Release();
    }
}
