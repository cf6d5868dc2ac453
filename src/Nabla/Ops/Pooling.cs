using Nabla.Autograd;
using Nabla.Backends;

namespace Nabla.Ops;

// Note [Pooling double backward]
// Every pooling backward is linear in the incoming gradient, so its own derivative is the adjoint map:
//     max:      scatter into the argmax positions  <->  gather at the argmax positions
//     average:  spread grad/divisor over the window  <->  avg_pool2d of the gradient
//     adaptive: spread grad/area over the window     <->  adaptive_avg_pool2d of the gradient
// Each backward is a recorded op (MaxPool2DWithIndicesBackwardBackward0, AvgPool2DBackwardBackward0,
// AdaptiveAvgPool2DBackwardBackward0, edges [grad_output, self] as in PyTorch) whose Apply calls the adjoint, itself
// recorded, so derivatives of any order work. The gradient with respect to self of a backward is zero (null).

internal static class Pool
{
    static long[] Pair(long[] values, string message)
    {
        if (values.Length == 1) return new[] { values[0], values[0] };
        if (values.Length != 2) throw new ArgumentException(message);
        return values;
    }

    static long DivFloor(long a, long b) => a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);

    /// <summary>PyTorch's pooling_output_shape, with its checks.</summary>
    static long OutputSize(long input, long kernel, long pad, long stride, long dilation, bool ceilMode)
    {
        if (stride == 0) throw new ArgumentException("stride should not be zero");
        if (pad < 0) throw new ArgumentException($"pad must be non-negative, but got pad: {pad}");
        if (pad > kernel / 2)
            throw new ArgumentException($"pad should be at most half of kernel size, but got pad={pad} and kernel_size={kernel}");
        long size = DivFloor(input + 2 * pad - dilation * (kernel - 1) - 1 + (ceilMode ? stride - 1 : 0), stride) + 1;
        if (ceilMode && (size - 1) * stride >= input + pad) size--;
        return size;
    }

    /// <summary>PyTorch's pool2d_shape_check.</summary>
    static void ShapeCheck(Tensor input, long[] k, long[] s, long[] p, long[] d, long oh, long ow)
    {
        var shape = input._shape;
        if (k[0] <= 0 || k[1] <= 0) throw new ArgumentException($"kernel size should be greater than zero, but got kH: {k[0]} kW: {k[1]}");
        if (s[0] <= 0 || s[1] <= 0) throw new ArgumentException($"stride should be greater than zero, but got dH: {s[0]} dW: {s[1]}");
        if (d[0] <= 0 || d[1] <= 0)
            throw new ArgumentException($"dilation should be greater than zero, but got dilationH: {d[0]} dilationW: {d[1]}");
        int rank = shape.Length;
        bool validDims = shape[1] != 0 && shape[2] != 0;
        if (!((rank == 3 && shape[0] != 0 && validDims) || (rank == 4 && validDims && shape[3] != 0)))
            throw new ArgumentException(
                $"Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but got:{ShapeUtil.Format(shape)}");
        if (k[1] / 2 < p[1] || k[0] / 2 < p[0])
            throw new ArgumentException(
                $"pad should be smaller than or equal to half of kernel size, but got padW = {p[1]}, padH = {p[0]}, kW = {k[1]}, kH = {k[0]}");
        if (ow < 1 || oh < 1)
            throw new ArgumentException(
                $"Given input size: ({shape[^3]}x{shape[^2]}x{shape[^1]}). Calculated output size: ({shape[^3]}x{oh}x{ow}). Output size is too small");
    }

    static void CheckFloat(Tensor input, string op)
    {
        if (!input._dtype.IsFloatingPoint())
            throw new NotSupportedException($"\"{op}\" not implemented for '{input._dtype.CppScalarName()}'");
    }

    static long[] WithPlane(long[] shape, long h, long w)
    {
        var result = (long[])shape.Clone();
        result[^2] = h;
        result[^1] = w;
        return result;
    }

    static SlidingWindow Window(long[] k, long[] s, long[] p, long[] d) =>
        new((int)k[0], (int)k[1], (int)s[0], (int)s[1], (int)p[0], (int)p[1], (int)d[0], (int)d[1]);

    // ---- max pooling -----------------------------------------------------------------------------------------

    /// <summary>max_pool2d (recorded as <c>MaxPool2DWithIndicesBackward0</c>); an empty stride means the kernel size.</summary>
    public static Tensor MaxPool2d(Tensor input, long[] kernel, long[] stride, long[] padding, long[] dilation, bool ceilMode) =>
        MaxPool2dWithIndices(input, kernel, stride, padding, dilation, ceilMode).Output;

    /// <summary>max_pool2d_with_indices: the pooled values and the flat (h*W+w) index of each maximum (int64).</summary>
    public static (Tensor Output, Tensor Indices) MaxPool2dWithIndices(Tensor input, long[] kernel, long[] stride, long[] padding, long[] dilation, bool ceilMode)
    {
        var k = Pair(kernel, "max_pool2d: kernel_size must either be a single int, or a tuple of two ints");
        var s = stride.Length == 0 ? k : Pair(stride, "max_pool2d: stride must either be omitted, a single int, or a tuple of two ints");
        var p = Pair(padding, "max_pool2d: padding must either be a single int, or a tuple of two ints");
        var d = Pair(dilation, "max_pool2d: dilation must be either a single int, or a tuple of two ints");
        int rank = input._shape.Length;
        if (rank != 3 && rank != 4) throw new ArgumentException("non-empty 3D or 4D (batch mode) tensor expected for input");
        long oh = OutputSize(input._shape[^2], k[0], p[0], s[0], d[0], ceilMode);
        long ow = OutputSize(input._shape[^1], k[1], p[1], s[1], d[1], ceilMode);
        ShapeCheck(input, k, s, p, d, oh, ow);
        CheckFloat(input, "max_pool2d");
        var output = Tensor.EmptyLike(input, input._dtype, WithPlane(input._shape, oh, ow));
        var indices = Tensor.EmptyLike(input, ScalarType.Int64, output._shape);
        if (output._numel > 0) input.Backend.MaxPool2d(output.Raw, indices.Raw, input.Raw, Window(k, s, p, d));
        if (History.ShouldRecord(input))
        {
            var node = new MaxPool2DWithIndicesBackward0(input, indices);
            node.SetNextEdges(input);
            History.Set(output, node);
        }
        return (output, indices);
    }

    /// <summary>max_pool2d_with_indices_backward: scatters <paramref name="grad"/> to the argmax positions (see Note [Pooling double backward]).</summary>
    internal static Tensor MaxPoolBackward(Tensor grad, Tensor? self, long[] inputShape, ScalarType dtype, Tensor indices)
    {
        Raw.CheckSameDevice(grad, indices);
        var gx = new Tensor(grad.Backend, dtype, inputShape, zero: true);
        var gc = Raw.Cast(grad, dtype);
        if (gc._numel > 0) grad.Backend.MaxPool2dBackward(gx.Raw, gc.Raw, indices.Raw);
        if (History.ShouldRecord(self is null ? new[] { grad } : new[] { grad, self }))
        {
            var node = new MaxPool2DWithIndicesBackwardBackward0(indices);
            node.SetNextEdges(grad, self);
            History.Set(gx, node);
        }
        return gx;
    }

    /// <summary>Gathers <paramref name="grad"/> (input-shaped) at the argmax positions: flatten, gather (<c>GatherBackward0</c>), view.</summary>
    internal static Tensor MaxPoolGather(Tensor grad, Tensor indices)
    {
        var inShape = grad._shape;
        var flatShape = inShape[..^1];
        flatShape[^1] = inShape[^1] * inShape[^2];
        var flat = grad.reshape(flatShape);
        var outFlatShape = (long[])flatShape.Clone();
        outFlatShape[^1] = indices._shape[^1] * indices._shape[^2];
        Tensor result;
        using (torch.no_grad()) result = flat.gather(-1, indices.reshape(outFlatShape));
        if (History.ShouldRecord(flat))
        {
            var node = new MaxPoolGatherBackward(indices, inShape, flatShape);
            node.SetNextEdges(flat);
            History.Set(result, node);
        }
        return result.view(indices._shape);
    }

    // ---- average pooling -------------------------------------------------------------------------------------

    /// <summary>avg_pool2d (recorded as <c>AvgPool2DBackward0</c>); an empty stride means the kernel size.</summary>
    public static Tensor AvgPool2d(Tensor input, long[] kernel, long[] stride, long[] padding, bool ceilMode, bool countIncludePad)
    {
        var k = Pair(kernel, "avg_pool2d: kernel_size must either be a single int, or a tuple of two ints");
        var s = stride.Length == 0 ? k : Pair(stride, "avg_pool2d: stride must either be omitted, a single int, or a tuple of two ints");
        var p = Pair(padding, "avg_pool2d: padding must either be a single int, or a tuple of two ints");
        ShapeUtil.WrapDim(-3, input._shape.Length);
        long oh = OutputSize(input._shape[^2], k[0], p[0], s[0], 1, ceilMode);
        long ow = OutputSize(input._shape[^1], k[1], p[1], s[1], 1, ceilMode);
        var one = new long[] { 1, 1 };
        ShapeCheck(input, k, s, p, one, oh, ow);
        // PyTorch's CPU kernel also takes int64 (the window sum divided with C++ integer division, truncating).
        if (input._dtype != ScalarType.Int64) CheckFloat(input, "avg_pool2d");
        var args = new AvgArgs(k, s, p, ceilMode, countIncludePad);
        var output = Tensor.EmptyLike(input, input._dtype, WithPlane(input._shape, oh, ow));
        if (output._numel > 0) input.Backend.AvgPool2d(output.Raw, input.Raw, Window(k, s, p, one), countIncludePad);
        if (History.ShouldRecord(input))
        {
            var node = new AvgPool2DBackward0(input, args);
            node.SetNextEdges(input);
            History.Set(output, node);
        }
        return output;
    }

    /// <summary>The arguments of one avg_pool2d call (kept by its backward nodes).</summary>
    internal sealed record AvgArgs(long[] Kernel, long[] Stride, long[] Padding, bool CeilMode, bool CountIncludePad);

    /// <summary>avg_pool2d_backward: spreads each gradient over its window (see Note [Pooling double backward]).</summary>
    internal static Tensor AvgPoolBackward(Tensor grad, Tensor? self, long[] inputShape, ScalarType dtype, AvgArgs a)
    {
        var gx = new Tensor(grad.Backend, dtype, inputShape, zero: true);
        var gc = Raw.Cast(grad, dtype);
        if (gc._numel > 0)
            grad.Backend.AvgPool2dBackward(gx.Raw, gc.Raw, Window(a.Kernel, a.Stride, a.Padding, new long[] { 1, 1 }), a.CountIncludePad);
        if (History.ShouldRecord(self is null ? new[] { grad } : new[] { grad, self }))
        {
            var node = new PoolBackwardBackward("AvgPool2DBackwardBackward0", gg => AvgPool2d(gg, a.Kernel, a.Stride, a.Padding, a.CeilMode, a.CountIncludePad));
            node.SetNextEdges(grad, self);
            History.Set(gx, node);
        }
        return gx;
    }

    // ---- adaptive average pooling ----------------------------------------------------------------------------

    /// <summary>
    /// adaptive_avg_pool2d. An output size of 1x1 is computed as PyTorch does, as <c>mean((-1, -2), keepdim)</c>
    /// (recorded as <c>MeanBackward1</c>); other sizes are recorded as <c>AdaptiveAvgPool2DBackward0</c>.
    /// </summary>
    public static Tensor AdaptiveAvgPool2d(Tensor input, long[] outputSize)
    {
        if (outputSize.Length != 2) throw new ArgumentException("adaptive_avg_pool2d: output_size must be 2");
        if (outputSize[0] < 0 || outputSize[1] < 0)
            throw new ArgumentException(
                $"adaptive_avg_pool2d: elements of output_size must be greater than or equal to 0 but received {{{outputSize[0]}, {outputSize[1]}}}");
        if (outputSize[0] == 1 && outputSize[1] == 1) return input.mean(new long[] { -1, -2 }, keepdim: true);
        var shape = input._shape;
        if (shape.Length != 3 && shape.Length != 4)
            throw new ArgumentException($"adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got {ShapeUtil.Format(shape)}");
        for (int i = 1; i < shape.Length; i++)
            if (shape[i] == 0)
                throw new ArgumentException(
                    $"adaptive_avg_pool2d(): Expected input to have non-zero size for non-batch dimensions, but input has sizes {ShapeUtil.Format(shape)} with dimension {i} being empty");
        CheckFloat(input, "adaptive_avg_pool2d_cpu");
        var output = Tensor.EmptyLike(input, input._dtype, WithPlane(shape, outputSize[0], outputSize[1]));
        if (output._numel > 0) input.Backend.AdaptiveAvgPool2d(output.Raw, input.Raw);
        if (History.ShouldRecord(input))
        {
            var node = new AdaptiveAvgPool2DBackward0(input);
            node.SetNextEdges(input);
            History.Set(output, node);
        }
        return output;
    }

    /// <summary>adaptive_avg_pool2d_backward: spreads each gradient over its window (see Note [Pooling double backward]).</summary>
    internal static Tensor AdaptiveAvgPoolBackward(Tensor grad, Tensor? self, long[] inputShape, ScalarType dtype)
    {
        var gx = new Tensor(grad.Backend, dtype, inputShape, zero: true);
        var gc = Raw.Cast(grad, dtype);
        int oh = (int)grad._shape[^2], ow = (int)grad._shape[^1];
        if (gc._numel > 0) grad.Backend.AdaptiveAvgPool2dBackward(gx.Raw, gc.Raw);
        if (History.ShouldRecord(self is null ? new[] { grad } : new[] { grad, self }))
        {
            var outSize = new long[] { oh, ow };
            var node = new PoolBackwardBackward("AdaptiveAvgPool2DBackwardBackward0", gg => AdaptiveAvgPool2d(gg, outSize));
            node.SetNextEdges(grad, self);
            History.Set(gx, node);
        }
        return gx;
    }
}

/// <summary>Backward of max_pool2d: scatter the gradient to the argmax positions.</summary>
// Kept as a Node: saves the argmax indices for double backward.
internal sealed class MaxPool2DWithIndicesBackward0 : Node
{
    SavedTensor _self, _indices;
    readonly long[] _shape;
    readonly ScalarType _dtype;

    public MaxPool2DWithIndicesBackward0(Tensor self, Tensor indices)
    {
        _self = new SavedTensor(self);
        _indices = new SavedTensor(indices, isOutput: true);
        _shape = self._shape;
        _dtype = self._dtype;
    }

    public override string name() => "MaxPool2DWithIndicesBackward0";

    protected internal override Tensor?[] Apply(Tensor?[] g) =>
        new[] { Pool.MaxPoolBackward(g[0]!, _self.Unpack(this), _shape, _dtype, _indices.Unpack(this)) };

    protected internal override void ReleaseVariables() { _self.Release(); _indices.Release(); }
}

/// <summary>Backward of max pooling's backward: gather at the argmax positions.</summary>
// Kept as a Node: saves the argmax indices.
internal sealed class MaxPool2DWithIndicesBackwardBackward0(Tensor indices) : Node
{
    public override string name() => "MaxPool2DWithIndicesBackwardBackward0";

    protected internal override Tensor?[] Apply(Tensor?[] g) =>
        new[] { NeedsInputGrad(0) ? Pool.MaxPoolGather(g[0]!, indices) : null, null };
}

/// <summary>Backward of the argmax gather (named <c>GatherBackward0</c> as PyTorch's gather): scatter back.</summary>
// Kept as a Node: saves the argmax indices.
internal sealed class MaxPoolGatherBackward(Tensor indices, long[] inputShape, long[] flatShape) : Node
{
    public override string name() => "GatherBackward0";

    protected internal override Tensor?[] Apply(Tensor?[] g) =>
        new[] { Pool.MaxPoolBackward(g[0]!.view(indices._shape), null, inputShape, g[0]!._dtype, indices).reshape(flatShape) };
}

/// <summary>Backward of avg_pool2d: spread the gradient over each window.</summary>
// Kept as a Node: pooling backward kernel with its own double-backward node.
internal sealed class AvgPool2DBackward0 : Node
{
    SavedTensor _self;
    readonly long[] _shape;
    readonly ScalarType _dtype;
    readonly Pool.AvgArgs _args;

    public AvgPool2DBackward0(Tensor self, Pool.AvgArgs args)
    {
        _self = new SavedTensor(self);
        _shape = self._shape;
        _dtype = self._dtype;
        _args = args;
    }

    public override string name() => "AvgPool2DBackward0";

    protected internal override Tensor?[] Apply(Tensor?[] g) =>
        new[] { Pool.AvgPoolBackward(g[0]!, _self.Unpack(this), _shape, _dtype, _args) };

    protected internal override void ReleaseVariables() => _self.Release();
}

/// <summary>Backward of adaptive_avg_pool2d: spread the gradient over each window.</summary>
// Kept as a Node: pooling backward kernel with its own double-backward node.
internal sealed class AdaptiveAvgPool2DBackward0 : Node
{
    SavedTensor _self;
    readonly long[] _shape;
    readonly ScalarType _dtype;

    public AdaptiveAvgPool2DBackward0(Tensor self)
    {
        _self = new SavedTensor(self);
        _shape = self._shape;
        _dtype = self._dtype;
    }

    public override string name() => "AdaptiveAvgPool2DBackward0";

    protected internal override Tensor?[] Apply(Tensor?[] g) =>
        new[] { Pool.AdaptiveAvgPoolBackward(g[0]!, _self.Unpack(this), _shape, _dtype) };

    protected internal override void ReleaseVariables() => _self.Release();
}

/// <summary>
/// Backward of an average-pooling backward (edges [grad_output, self]): the pooling forward applied to the incoming
/// gradient; zero for self.
/// </summary>
// Kept as a Node: a closure over the forward pool.
internal sealed class PoolBackwardBackward(string nodeName, Func<Tensor, Tensor> pool) : Node
{
    public override string name() => nodeName;

    protected internal override Tensor?[] Apply(Tensor?[] g) => new[] { NeedsInputGrad(0) ? pool(g[0]!) : null, null };
}
