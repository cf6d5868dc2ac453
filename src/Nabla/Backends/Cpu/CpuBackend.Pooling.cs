using Nabla.Kernels.Cpu;

namespace Nabla.Backends.Cpu;

// The pooling primitives of the CPU backend: dense copies of the operands, dtype dispatch, and the plane kernels of
// Kernels/Cpu/Pooling.cs.
internal sealed partial class CpuBackend
{
    /// <summary>Number of (H, W) planes of a 3-D (C, H, W) or 4-D (N, C, H, W) shape.</summary>
    static int PoolPlanes(long[] shape) => (int)(shape.Length == 4 ? shape[0] * shape[1] : shape[0]);

    public override void MaxPool2d(in Operand y, in Operand indices, in Operand x, in SlidingWindow window)
    {
        var g = KernelWindow(window, x.Shape, y.Shape);
        var xc = ContiguousCopy(x);
        var (ia, io) = ArrayAt<long>(indices);
        if (x.DType == ScalarType.Float32)
        {
            var (xa, xo) = ArrayAt<float>(xc); var (ya, yo) = ArrayAt<float>(y);
            PoolingKernels.MaxForward(PoolPlanes(x.Shape), g, xa, xo, ya, yo, ia, io);
        }
        else
        {
            var (xa, xo) = ArrayAt<double>(xc); var (ya, yo) = ArrayAt<double>(y);
            PoolingKernels.MaxForward(PoolPlanes(x.Shape), g, xa, xo, ya, yo, ia, io);
        }
    }

    public override void MaxPool2dBackward(in Operand gx, in Operand gy, in Operand indices)
    {
        var gc = ContiguousCopy(gy);
        var ic = ContiguousCopy(indices);
        int planes = PoolPlanes(gx.Shape), inPlane = (int)(gx.Shape[^1] * gx.Shape[^2]), outPlane = (int)(indices.Shape[^1] * indices.Shape[^2]);
        var (ia, io) = ArrayAt<long>(ic);
        if (gx.DType == ScalarType.Float32)
        {
            var (ga, go) = ArrayAt<float>(gc); var (xa, xo) = ArrayAt<float>(gx);
            PoolingKernels.MaxBackward(planes, inPlane, outPlane, ga, go, ia, io, xa, xo);
        }
        else
        {
            var (ga, go) = ArrayAt<double>(gc); var (xa, xo) = ArrayAt<double>(gx);
            PoolingKernels.MaxBackward(planes, inPlane, outPlane, ga, go, ia, io, xa, xo);
        }
    }

    public override void AvgPool2d(in Operand y, in Operand x, in SlidingWindow window, bool countIncludePad)
    {
        var g = KernelWindow(window, x.Shape, y.Shape);
        var xc = ContiguousCopy(x);
        if (x.DType == ScalarType.Float32)
        {
            var (xa, xo) = ArrayAt<float>(xc); var (ya, yo) = ArrayAt<float>(y);
            PoolingKernels.AvgForward(PoolPlanes(x.Shape), g, countIncludePad, xa, xo, ya, yo);
        }
        else if (x.DType == ScalarType.Int64)
        {
            var (xa, xo) = ArrayAt<long>(xc); var (ya, yo) = ArrayAt<long>(y);
            PoolingKernels.AvgForward(PoolPlanes(x.Shape), g, countIncludePad, xa, xo, ya, yo);
        }
        else
        {
            var (xa, xo) = ArrayAt<double>(xc); var (ya, yo) = ArrayAt<double>(y);
            PoolingKernels.AvgForward(PoolPlanes(x.Shape), g, countIncludePad, xa, xo, ya, yo);
        }
    }

    public override void AvgPool2dBackward(in Operand gx, in Operand gy, in SlidingWindow window, bool countIncludePad)
    {
        var gc = ContiguousCopy(gy);
        var g = KernelWindow(window, gx.Shape, gy.Shape);
        if (gx.DType == ScalarType.Float32)
        {
            var (ga, go) = ArrayAt<float>(gc); var (xa, xo) = ArrayAt<float>(gx);
            PoolingKernels.AvgBackward(PoolPlanes(gx.Shape), g, countIncludePad, ga, go, xa, xo);
        }
        else
        {
            var (ga, go) = ArrayAt<double>(gc); var (xa, xo) = ArrayAt<double>(gx);
            PoolingKernels.AvgBackward(PoolPlanes(gx.Shape), g, countIncludePad, ga, go, xa, xo);
        }
    }

    public override void AdaptiveAvgPool2d(in Operand y, in Operand x)
    {
        var xc = ContiguousCopy(x);
        int h = (int)x.Shape[^2], w = (int)x.Shape[^1], oh = (int)y.Shape[^2], ow = (int)y.Shape[^1];
        if (x.DType == ScalarType.Float32)
        {
            var (xa, xo) = ArrayAt<float>(xc); var (ya, yo) = ArrayAt<float>(y);
            PoolingKernels.AdaptiveAvgForward(PoolPlanes(x.Shape), h, w, oh, ow, xa, xo, ya, yo);
        }
        else
        {
            var (xa, xo) = ArrayAt<double>(xc); var (ya, yo) = ArrayAt<double>(y);
            PoolingKernels.AdaptiveAvgForward(PoolPlanes(x.Shape), h, w, oh, ow, xa, xo, ya, yo);
        }
    }

    public override void AdaptiveAvgPool2dBackward(in Operand gx, in Operand gy)
    {
        var gc = ContiguousCopy(gy);
        int h = (int)gx.Shape[^2], w = (int)gx.Shape[^1], oh = (int)gy.Shape[^2], ow = (int)gy.Shape[^1];
        if (gx.DType == ScalarType.Float32)
        {
            var (ga, go) = ArrayAt<float>(gc); var (xa, xo) = ArrayAt<float>(gx);
            PoolingKernels.AdaptiveAvgBackward(PoolPlanes(gx.Shape), h, w, oh, ow, ga, go, xa, xo);
        }
        else
        {
            var (ga, go) = ArrayAt<double>(gc); var (xa, xo) = ArrayAt<double>(gx);
            PoolingKernels.AdaptiveAvgBackward(PoolPlanes(gx.Shape), h, w, oh, ow, ga, go, xa, xo);
        }
    }
}
