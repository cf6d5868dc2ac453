using System.Numerics;
using Nabla.Autograd;
using Nabla.Kernels.Cpu;

using Nabla.Backends.Cpu;

namespace Nabla.Ops;

// Note [Batch norm backward]
// NativeBatchNormBackward0 has two implementations of the same formula. Without create_graph (grad mode off while
// the engine runs it) it calls the raw per-channel kernel: two passes over (x, g), double accumulators. With
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

        int n = (int)shape[0], c = (int)features, s = (int)(input._numel / Math.Max(1L, (long)n * c));
        var mean = new double[c];
        var invstd = new double[c];
        if (training)
        {
            var var = new double[c];
            var x = input.ContiguousRaw();
            if (input._numel > 0)
            {
                if (x._dtype == ScalarType.Float32) BatchNormKernels.Stats(((CpuStorage<float>)x._storage).Array, ((CpuStorage<float>)x._storage).Start + x._offset, n, c, s, mean, var);
                else BatchNormKernels.Stats(((CpuStorage<double>)x._storage).Array, ((CpuStorage<double>)x._storage).Start + x._offset, n, c, s, mean, var);
            }
            for (int i = 0; i < c; i++) invstd[i] = var[i] == 0 && eps == 0 ? 0 : 1 / Math.Sqrt(var[i] + eps);
            long count = (long)n * s;
            if (runningMean is not null) UpdateRunning(runningMean, mean, momentum, 1.0);
            if (runningVar is not null && count > 0) UpdateRunning(runningVar, var, momentum, count > 1 ? (double)count / (count - 1) : double.PositiveInfinity);
        }
        else
        {
            var rm = runningMean!.ToDoubleArray();
            var rv = runningVar!.ToDoubleArray();
            for (int i = 0; i < c; i++) { mean[i] = rm[i]; invstd[i] = 1 / Math.Sqrt(rv[i] + eps); }
        }
        var w = weight?.ToDoubleArray();
        var b = bias?.ToDoubleArray();
        var result = Tensor.Empty(input._dtype, shape);
        if (input._numel > 0)
        {
            if (input._dtype == ScalarType.Float32) Transform<float>(input, result, n, c, s, mean, invstd, w, b);
            else Transform<double>(input, result, n, c, s, mean, invstd, w, b);
        }
        if (Autograd.Autograd.ShouldRecord(new[] { input, weight ?? input, bias ?? input }))
        {
            var node = new NativeBatchNormBackward0(input, weight, training ? null : runningMean, training ? null : runningVar,
                training, eps, mean, invstd);
            node.SetNextEdges(new[] { input, weight, bias });
            Autograd.Autograd.SetHistory(result, node);
        }
        return result;
    }

    /// <summary>running = (1 - momentum) * running + momentum * stat * correction, in place (bumps the version).</summary>
    static void UpdateRunning(Tensor running, double[] stat, double momentum, double correction)
    {
        var current = running.ToDoubleArray();
        var updated = new double[current.Length];
        for (int i = 0; i < updated.Length; i++) updated[i] = momentum * stat[i] * correction + (1 - momentum) * current[i];
        var src = new Tensor(new CpuStorage<double>(updated, 0, updated.Length), running._shape, ShapeUtil.ContiguousStrides(running._shape), 0);
        Ops.Raw.CopyInto(running, src);
        running.BumpVersion();
    }

    static void Transform<T>(Tensor input, Tensor result, int n, int c, int s, double[] mean, double[] invstd, double[]? w, double[]? b)
        where T : unmanaged, INumber<T>
    {
        var alpha = new T[c];
        var beta = new T[c];
        for (int i = 0; i < c; i++)
        {
            T m = T.CreateTruncating(mean[i]), inv = T.CreateTruncating(invstd[i]);
            T wv = w is null ? T.One : T.CreateTruncating(w[i]), bv = b is null ? T.Zero : T.CreateTruncating(b[i]);
            alpha[i] = inv * wv;
            beta[i] = bv - m * inv * wv;
        }
        var x = input.ContiguousRaw();
        var xs = (CpuStorage<T>)x._storage;
        var ys = (CpuStorage<T>)result._storage;
        BatchNormKernels.Transform(xs.Array, xs.Start + x._offset, ys.Array, ys.Start + result._offset, n, c, s, alpha, beta);
    }
}

/// <summary>Backward of batch_norm (see Note [Batch norm backward]).</summary>
internal sealed class NativeBatchNormBackward0 : Node
{
    SavedTensor _input, _weight, _runningMean, _runningVar;
    readonly bool _hasWeight, _training;
    readonly double _eps;
    readonly double[] _mean, _invstd;

    public NativeBatchNormBackward0(Tensor input, Tensor? weight, Tensor? runningMean, Tensor? runningVar, bool training,
        double eps, double[] mean, double[] invstd)
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
        int n = (int)shape[0], c = (int)shape[1], s = (int)(x._numel / Math.Max(1L, (long)n * c));
        var weight = w?.ToDoubleArray() ?? Ones(c);
        var xc = x.ContiguousRaw();
        var gc = Ops.Raw.Cast(grad, x._dtype).ContiguousRaw();
        var gx = NeedsInputGrad(0) ? Tensor.Empty(x._dtype, shape) : null;
        var sumG = new double[c];
        var dotp = new double[c];
        if (x._numel > 0)
        {
            if (x._dtype == ScalarType.Float32) Run<float>(xc, gc, n, c, s, weight, gx, sumG, dotp);
            else Run<double>(xc, gc, n, c, s, weight, gx, sumG, dotp);
        }
        Tensor? gw = null, gb = null;
        var paramType = w?._dtype ?? x._dtype;
        if (NeedsInputGrad(1))
        {
            var v = new double[c];
            for (int i = 0; i < c; i++) v[i] = dotp[i] * _invstd[i];
            gw = Ops.Raw.Cast(Vector(v), paramType);
        }
        if (NeedsInputGrad(2)) gb = Ops.Raw.Cast(Vector(sumG), paramType);
        return new[] { gx, gw, gb };
    }

    static double[] Ones(int c)
    {
        var r = new double[c];
        Array.Fill(r, 1.0);
        return r;
    }

    static Tensor Vector(double[] values) => new(new CpuStorage<double>(values, 0, values.Length), new long[] { values.Length }, new long[] { 1 }, 0);

    void Run<T>(Tensor x, Tensor g, int n, int c, int s, double[] weight, Tensor? gx, double[] sumG, double[] dotp) where T : unmanaged, INumber<T>
    {
        var xs = (CpuStorage<T>)x._storage;
        var gs = (CpuStorage<T>)g._storage;
        var ds = (CpuStorage<T>?)gx?._storage;
        BatchNormKernels.Backward(xs.Array, xs.Start + x._offset, gs.Array, gs.Start + g._offset, n, c, s, _mean, _invstd, weight,
            _training, ds?.Array, ds is null ? 0 : ds.Start + gx!._offset, sumG, dotp);
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
