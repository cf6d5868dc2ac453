using Nabla.Autograd;
using Nabla.Kernels.Cpu;

using Nabla.Backends.Cpu;

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
    public Window2d Window(long[] input, long[] weight)
    {
        int h = (int)input[2], w = (int)input[3], kh = (int)weight[2], kw = (int)weight[3];
        int oh = (int)((h + 2 * Padding[0] - Dilation[0] * (kh - 1) - 1) / Stride[0] + 1);
        int ow = (int)((w + 2 * Padding[1] - Dilation[1] * (kw - 1) - 1) / Stride[1] + 1);
        return new Window2d(kh, kw, (int)Stride[0], (int)Stride[1], (int)Padding[0], (int)Padding[1],
            (int)Dilation[0], (int)Dilation[1], h, w, oh, ow);
    }

    public ConvolutionKernels.Problem Problem(long[] input, long[] weight) =>
        new((int)input[0], (int)input[1], (int)weight[0], (int)Groups, Window(input, weight));
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
        if (Autograd.Autograd.ShouldRecord(new[] { x, weight, bias ?? x }))
        {
            var node = new ConvolutionBackward0(x, weight, bias, p);
            node.SetNextEdges(new[] { x, weight, bias });
            Autograd.Autograd.SetHistory(result, node);
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

    static (T[] Array, int Offset) Data<T>(Tensor contiguous) where T : unmanaged
    {
        var s = (CpuStorage<T>)contiguous._storage;
        return (s.Array, s.Start + contiguous._offset);
    }

    /// <summary>Raw forward (no autograd) of a validated 4-D convolution.</summary>
    internal static Tensor Forward(Tensor x, Tensor w, Tensor? bias, ConvParams p)
    {
        var problem = p.Problem(x._shape, w._shape);
        var result = Tensor.Empty(x._dtype, new long[] { problem.N, problem.O, problem.G.OH, problem.G.OW });
        if (result._numel == 0) return result;
        x = x.ContiguousRaw(); w = w.ContiguousRaw(); bias = bias?.ContiguousRaw();
        switch (x._dtype)
        {
            case ScalarType.Float32: Forward<float>(problem, x, w, bias, result); break;
            case ScalarType.Float64: Forward<double>(problem, x, w, bias, result); break;
            case ScalarType.Int64: Forward<long>(problem, x, w, bias, result); break;
            case ScalarType.Int32: Forward<int>(problem, x, w, bias, result); break;
            default: throw new NotSupportedException($"\"slow_conv2d_cpu\" not implemented for '{x._dtype.CppScalarName()}'");
        }
        return result;
    }

    static void Forward<T>(ConvolutionKernels.Problem p, Tensor x, Tensor w, Tensor? bias, Tensor y) where T : unmanaged, System.Numerics.INumber<T>
    {
        var (xa, xo) = Data<T>(x); var (wa, wo) = Data<T>(w); var (ya, yo) = Data<T>(y);
        var (ba, bo) = bias is null ? (null, 0) : Data<T>(bias);
        if (x._numel == 0 || w._numel == 0)
        {
            // Empty reduction (zero input channels): the output is the bias (or zero).
            var dst = new Span<T>(ya, yo, y._numel);
            int plane = p.G.OutPlane;
            for (int i = 0; i < y._numel; i++) dst[i] = ba is null ? T.Zero : ba[bo + i / plane % p.O];
            return;
        }
        ConvolutionKernels.Forward(p, xa, xo, wa, wo, ba, bo, ya, yo);
    }

    /// <summary>
    /// convolution_backward: the gradients of a 4-D convolution for the inputs selected by <paramref name="mask"/>
    /// (input, weight, bias). Recorded as <c>ConvolutionBackwardBackward0</c> when grad mode is on (create_graph)
    /// and any of g, x, w requires grad (Note [Convolution double backward]).
    /// </summary>
    internal static Tensor?[] Backward(Tensor g, Tensor x, Tensor w, ConvParams p, bool[] mask)
    {
        var problem = p.Problem(x._shape, w._shape);
        if (g._dtype != x._dtype) g = Raw.Cast(g, x._dtype);
        var gc = g.ContiguousRaw();
        Tensor? gx = null, gw = null, gb = null;
        if (mask[0])
        {
            gx = new Tensor(x._dtype, x._shape, zero: false);
            if (gx._numel > 0)
            {
                if (x._dtype == ScalarType.Float32) BackwardInput<float>(problem, gc, w.ContiguousRaw(), gx);
                else BackwardInput<double>(problem, gc, w.ContiguousRaw(), gx);
            }
        }
        if (mask[1])
        {
            gw = new Tensor(w._dtype, w._shape, zero: true);
            if (gw._numel > 0 && g._numel > 0)
            {
                if (x._dtype == ScalarType.Float32) BackwardWeight<float>(problem, x.ContiguousRaw(), gc, gw);
                else BackwardWeight<double>(problem, x.ContiguousRaw(), gc, gw);
            }
        }
        if (mask[2]) gb = Reductions.SumRaw(gc, new[] { true, false, true, true }, false, gc._dtype);
        if (Autograd.Autograd.ShouldRecord(new[] { g, x, w }))
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

    static void BackwardInput<T>(ConvolutionKernels.Problem p, Tensor g, Tensor w, Tensor gx) where T : unmanaged, System.Numerics.INumber<T>
    {
        var (ga, go) = Data<T>(g); var (wa, wo) = Data<T>(w); var (xa, xo) = Data<T>(gx);
        if (g._numel == 0 || w._numel == 0) { new Span<T>(xa, xo, gx._numel).Clear(); return; }
        ConvolutionKernels.BackwardInput(p, ga, go, wa, wo, xa, xo);
    }

    static void BackwardWeight<T>(ConvolutionKernels.Problem p, Tensor x, Tensor g, Tensor gw) where T : unmanaged, System.Numerics.INumber<T>
    {
        var (xa, xo) = Data<T>(x); var (ga, go) = Data<T>(g); var (wa, wo) = Data<T>(gw);
        if (x._numel == 0) return;
        ConvolutionKernels.BackwardWeight(p, xa, xo, ga, go, wa, wo);
    }
}

/// <summary>Backward of conv2d: convolution_backward(grad, input, weight) (differentiable, see Note [Convolution double backward]).</summary>
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
