using Nabla.Autograd;
using Nabla.Backends;

namespace Nabla.Ops;

// Note [Convolution double backward]
// conv2d is bilinear in (input, weight). Its backward, convolution_backward(g, x, w) -> (gx, gw, gb), is linear in g
// and bilinear in (g, w) for gx and (x, g) for gw, so its own derivative is again made of conv2d and
// convolution_backward:
//     d/dg = conv2d(ggx, w) + conv2d(x, ggw) + ggb (broadcast)
//     d/dx = convolution_backward(g, ., ggw).gx        d/dw = convolution_backward(g, ggx, .).gw
// ConvolutionBackward0.Apply therefore calls the recorded op Conv.Backward (node ConvolutionBackwardBackward0, edges
// [grad_output, input, weight], three outputs, as PyTorch records it), whose Apply calls Conv2d and Conv.Backward
// again: derivatives of every order work, and each is computed by the same convolution kernels.

/// <summary>Convolution parameters after validation: two strides, paddings, dilations and the group count.</summary>
internal readonly record struct ConvParams(long[] Stride, long[] Padding, long[] Dilation, long Groups)
{
    /// <summary>The window of a convolution with a weight of shape <paramref name="weight"/>, for the backend.</summary>
    public SlidingWindow Window(long[] weight) =>
        new((int)weight[2], (int)weight[3], (int)Stride[0], (int)Stride[1], (int)Padding[0], (int)Padding[1], (int)Dilation[0], (int)Dilation[1]);

    /// <summary>The (N, O, OH, OW) shape of the convolution of an <paramref name="input"/>-shaped input.</summary>
    public long[] OutputShape(long[] input, long[] weight)
    {
        int h = (int)input[2], w = (int)input[3], kh = (int)weight[2], kw = (int)weight[3];
        int oh = (int)((h + 2 * Padding[0] - Dilation[0] * (kh - 1) - 1) / Stride[0] + 1);
        int ow = (int)((w + 2 * Padding[1] - Dilation[1] * (kw - 1) - 1) / Stride[1] + 1);
        return new long[] { (int)input[0], (int)weight[0], oh, ow };
    }
}

internal static class Conv
{
    static long[] Expand(long[] values, string name, int dims)
    {
        if (values.Length == 1) return new[] { values[0], values[0] };
        if (values.Length != dims)
            throw new InvalidOperationException(
                $"expected {name} to be a single integer value or a list of {dims} values to match the convolution dimensions, but got {name}={ShapeUtil.Format(values)}");
        return values;
    }

    /// <summary>
    /// 2-D convolution of an NCHW (or unbatched CHW) input with an (O, C/groups, KH, KW) weight, as
    /// <c>torch.nn.functional.conv2d</c>; recorded as <c>ConvolutionBackward0</c> with edges [input, weight, bias].
    /// </summary>
    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias, long[] stride, long[] padding, long[] dilation, long groups)
    {
        int rank = input._shape.Length;
        if (rank != 3 && rank != 4)
            throw new ArgumentException(
                $"Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: {ShapeUtil.Format(input._shape)}");
        bool unbatched = rank == 3;
        var x = unbatched ? input.unsqueeze(0) : input;
        int dims = Math.Max(weight._shape.Length - 2, 0);
        var p = new ConvParams(Expand(stride, "stride", dims), Expand(padding, "padding", dims), Expand(dilation, "dilation", dims), groups);
        Check(x, weight, bias, p);
        var result = Forward(x, weight, bias, p);
        if (History.ShouldRecord(new[] { x, weight, bias ?? x }))
        {
            var node = new ConvolutionBackward0(x, weight, bias, p);
            node.SetNextEdges(new[] { x, weight, bias });
            History.Set(result, node);
        }
        return unbatched ? result.squeeze(0) : result;
    }

    /// <summary>PyTorch's checks (check_shape_forward), in its order and with its messages.</summary>
    static void Check(Tensor x, Tensor w, Tensor? bias, ConvParams p)
    {
        foreach (var s in p.Stride) if (s <= 0) throw new ArgumentException("non-positive stride is not supported");
        foreach (var s in p.Padding) if (s < 0) throw new ArgumentException("negative padding is not supported");
        foreach (var s in p.Dilation)
            if (s <= 0) throw new ArgumentException($"dilation should be greater than zero, but got {ShapeUtil.Format(p.Dilation)}");
        if (p.Groups <= 0) throw new ArgumentException("non-positive groups is not supported");
        if (w._shape.Length != 4)
            throw new ArgumentException(
                $"Expected {x._shape.Length}-dimensional input for {x._shape.Length}-dimensional weight {ShapeUtil.Format(w._shape)}, but got {w._shape.Length}-dimensional input of size {ShapeUtil.Format(x._shape)} instead");
        if (w._shape[0] < p.Groups)
            throw new ArgumentException(
                $"Given groups={p.Groups}, expected weight to be at least {p.Groups} at dimension 0, but got weight of size {ShapeUtil.Format(w._shape)} instead");
        if (w._shape[0] % p.Groups != 0)
            throw new ArgumentException(   // PyTorch prints the sizes inside an extra pair of brackets here
                $"Given groups={p.Groups}, expected weight to be divisible by {p.Groups} at dimension 0, but got weight of size [{ShapeUtil.Format(w._shape)}] instead");
        if (x._shape[1] != w._shape[1] * p.Groups)
            throw new ArgumentException(
                $"Given groups={p.Groups}, weight of size {ShapeUtil.Format(w._shape)}, expected input{ShapeUtil.Format(x._shape)} to have {w._shape[1] * p.Groups} channels, but got {x._shape[1]} channels instead");
        if (bias is not null && (bias._shape.Length != 1 || bias._shape[0] != w._shape[0]))
            throw new ArgumentException(
                $"Given weight of size {ShapeUtil.Format(w._shape)}, expected bias to be 1-dimensional with {w._shape[0]} elements, but got bias of size {ShapeUtil.Format(bias._shape)} instead");
        long ph = x._shape[2] + 2 * p.Padding[0], pw = x._shape[3] + 2 * p.Padding[1];
        long kh = p.Dilation[0] * (w._shape[2] - 1) + 1, kw = p.Dilation[1] * (w._shape[3] - 1) + 1;
        if (ph < kh || pw < kw)
            throw new ArgumentException(
                $"Calculated padded input size per channel: ({ph} x {pw}). Kernel size: ({kh} x {kw}). Kernel size can't be greater than actual input size");
        if (x._dtype != w._dtype || (bias is not null && bias._dtype != x._dtype))
            throw new InvalidOperationException(
                $"expected scalar type {x._dtype.CppScalarName()} but found {(x._dtype != w._dtype ? w : bias!)._dtype.CppScalarName()}");
        if (x._dtype == ScalarType.Bool)
            throw new NotSupportedException($"\"slow_conv2d_cpu\" not implemented for '{x._dtype.CppScalarName()}'");
    }

    /// <summary>Raw forward (no autograd) of a validated 4-D convolution.</summary>
    internal static Tensor Forward(Tensor x, Tensor w, Tensor? bias, ConvParams p)
    {
        Raw.CheckSameDevice(x, w);
        if (bias is not null) Raw.CheckSameDevice(x, bias);
        var result = Tensor.EmptyLike(x, x._dtype, p.OutputShape(x._shape, w._shape));
        if (result._numel == 0) return result;
        x.Backend.ConvForward(result.Raw, x.Raw, w.Raw, bias?.Raw, p.Window(w._shape), (int)p.Groups);
        return result;
    }

    /// <summary>
    /// convolution_backward: the gradients of a 4-D convolution for the inputs selected by <paramref name="mask"/>
    /// (input, weight, bias). Recorded as <c>ConvolutionBackwardBackward0</c> when grad mode is on (create_graph)
    /// and any of g, x, w requires grad (Note [Convolution double backward]).
    /// </summary>
    internal static Tensor?[] Backward(Tensor g, Tensor x, Tensor w, ConvParams p, bool[] mask)
    {
        if (g._dtype != x._dtype) g = Raw.Cast(g, x._dtype);
        Raw.CheckSameDevice(g, x, w);
        var window = p.Window(w._shape);
        var gc = Raw.Contiguous(g);
        Tensor? gx = null, gw = null, gb = null;
        if (mask[0])
        {
            gx = Tensor.EmptyLike(x, x._dtype, x._shape);
            if (gx._numel > 0) x.Backend.ConvBackwardInput(gx.Raw, gc.Raw, w.Raw, window, (int)p.Groups);
        }
        if (mask[1])
        {
            gw = new Tensor(w.Backend, w._dtype, w._shape, zero: true);
            if (gw._numel > 0 && g._numel > 0) x.Backend.ConvBackwardWeight(gw.Raw, x.Raw, gc.Raw, window, (int)p.Groups);
        }
        if (mask[2]) gb = Reductions.SumRaw(gc, new[] { true, false, true, true }, false, gc._dtype);
        if (History.ShouldRecord(new[] { g, x, w }))
        {
            var node = new ConvolutionBackwardBackward0(g, x, w, p);
            node.SetNextEdges(new[] { g, x, w });
            node.OutputShapes = new[] { x._shape, w._shape, new[] { w._shape[0] } };
            node.OutputDTypes = new[] { x._dtype, x._dtype, x._dtype };
            var outputs = new[] { gx, gw, gb };
            for (int i = 0; i < 3; i++)
                if (outputs[i] is { } o) { o._gradFn = node; o._outputNr = i; }
        }
        return new[] { gx, gw, gb };
    }
}

/// <summary>Backward of conv2d: convolution_backward(grad, input, weight) (differentiable, see Note [Convolution double backward]).</summary>
// Kept as a Node: convolution with its fused backward kernels and its own double-backward node.
internal sealed class ConvolutionBackward0 : Node
{
    SavedTensor _input, _weight;
    readonly ConvParams _params;
    readonly bool _hasBias;

    public ConvolutionBackward0(Tensor input, Tensor weight, Tensor? bias, ConvParams p)
    {
        _input = new SavedTensor(input);
        _weight = new SavedTensor(weight);
        _params = p;
        _hasBias = bias is not null;
    }

    public override string name() => "ConvolutionBackward0";

    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var mask = new[] { NeedsInputGrad(0), NeedsInputGrad(1), _hasBias && NeedsInputGrad(2) };
        return Conv.Backward(g[0]!, _input.Unpack(this), _weight.Unpack(this), _params, mask);
    }

    protected internal override void ReleaseVariables() { _input.Release(); _weight.Release(); }
}

/// <summary>Backward of convolution_backward (Note [Convolution double backward]).</summary>
// Kept as a Node: the double backward of convolution, with fused kernels.
internal sealed class ConvolutionBackwardBackward0 : Node
{
    SavedTensor _grad, _input, _weight;
    readonly ConvParams _params;

    public ConvolutionBackwardBackward0(Tensor grad, Tensor input, Tensor weight, ConvParams p)
    {
        _grad = new SavedTensor(grad);
        _input = new SavedTensor(input);
        _weight = new SavedTensor(weight);
        _params = p;
    }

    public override string name() => "ConvolutionBackwardBackward0";

    protected internal override Tensor?[] Apply(Tensor?[] gg)
    {
        Tensor? ggx = gg[0], ggw = gg[1], ggb = gg[2];
        var p = _params;
        Tensor? dg = null, dx = null, dw = null;
        var grad = _grad.Unpack(this);
        if (NeedsInputGrad(0))
        {
            if (ggx is not null) dg = Conv.Conv2d(ggx, _weight.Unpack(this), null, p.Stride, p.Padding, p.Dilation, p.Groups);
            if (ggw is not null)
            {
                var t = Conv.Conv2d(_input.Unpack(this), ggw, null, p.Stride, p.Padding, p.Dilation, p.Groups);
                dg = dg is null ? t : dg.add(t);
            }
            if (ggb is not null)
            {
                var t = ggb.view(1, ggb._shape[0], 1, 1);
                dg = dg is null ? t.expand(grad._shape) : dg.add(t);
            }
        }
        if (NeedsInputGrad(1) && ggw is not null)
            dx = Conv.Backward(grad, _input.Unpack(this), ggw, p, new[] { true, false, false })[0];
        if (NeedsInputGrad(2) && ggx is not null)
            dw = Conv.Backward(grad, ggx, _weight.Unpack(this), p, new[] { false, true, false })[1];
        return new[] { dg, dx, dw };
    }

    protected internal override void ReleaseVariables() { _grad.Release(); _input.Release(); _weight.Release(); }
}
