using System.Numerics;
using Nabla.Kernels.Cpu;

namespace Nabla.Backends.Cpu;

// The convolution primitives of the CPU backend: dense copies of the operands, dtype dispatch, and the kernels of
// Kernels/Cpu/Convolution.cs (im2col GEMM, implicit GEMM, Winograd; chosen there per problem).
internal sealed partial class CpuBackend
{
    /// <summary>The kernels' window: <paramref name="window"/> over the planes of <paramref name="input"/> and <paramref name="output"/>.</summary>
    static Window2d KernelWindow(in SlidingWindow window, long[] input, long[] output) =>
        new(window.KH, window.KW, window.SH, window.SW, window.PH, window.PW, window.DH, window.DW,
            (int)input[^2], (int)input[^1], (int)output[^2], (int)output[^1]);

    static ConvolutionKernels.Problem ConvProblem(long[] input, long[] weight, long[] output, in SlidingWindow window, int groups) =>
        new((int)input[0], (int)input[1], (int)weight[0], groups, KernelWindow(window, input, output));

    /// <summary>The array and first element of a dense operand.</summary>
    static (T[] Array, int Offset) ArrayAt<T>(in Operand dense) where T : unmanaged
    {
        var s = (CpuStorage<T>)dense.Storage;
        return (s.Array, s.Start + dense.Offset);
    }

    public override void ConvForward(in Operand y, in Operand x, in Operand w, Operand? bias, in SlidingWindow window, int groups)
    {
        var problem = ConvProblem(x.Shape, w.Shape, y.Shape, window, groups);
        var xc = ContiguousCopy(x);
        var wc = ContiguousCopy(w);
        Operand? bc = bias is { } b ? ContiguousCopy(b) : null;
        switch (x.DType)
        {
            case ScalarType.Float32: ConvForward<float>(problem, xc, wc, bc, y); break;
            case ScalarType.Float64: ConvForward<double>(problem, xc, wc, bc, y); break;
            case ScalarType.Int64: ConvForward<long>(problem, xc, wc, bc, y); break;
            case ScalarType.Int32: ConvForward<int>(problem, xc, wc, bc, y); break;
            default: throw new NotSupportedException($"\"slow_conv2d_cpu\" not implemented for '{x.DType.CppScalarName()}'");
        }
    }

    static void ConvForward<T>(ConvolutionKernels.Problem p, in Operand x, in Operand w, Operand? bias, in Operand y) where T : unmanaged, INumber<T>
    {
        var (xa, xo) = ArrayAt<T>(x); var (wa, wo) = ArrayAt<T>(w); var (ya, yo) = ArrayAt<T>(y);
        var (ba, bo) = bias is { } b ? ArrayAt<T>(b) : (null, 0);
        if (x.Numel == 0 || w.Numel == 0)
        {
            // Empty reduction (zero input channels): the output is the bias (or zero).
            var dst = new Span<T>(ya, yo, y.Numel);
            int plane = p.G.OutPlane;
            for (int i = 0; i < y.Numel; i++) dst[i] = ba is null ? T.Zero : ba[bo + i / plane % p.O];
            return;
        }
        ConvolutionKernels.Forward(p, xa, xo, wa, wo, ba, bo, ya, yo);
    }

    public override void ConvBackwardInput(in Operand gx, in Operand gy, in Operand w, in SlidingWindow window, int groups)
    {
        var problem = ConvProblem(gx.Shape, w.Shape, gy.Shape, window, groups);
        var gc = ContiguousCopy(gy);
        var wc = ContiguousCopy(w);
        if (gx.DType == ScalarType.Float32) ConvBackwardInput<float>(problem, gc, wc, gx);
        else ConvBackwardInput<double>(problem, gc, wc, gx);
    }

    static void ConvBackwardInput<T>(ConvolutionKernels.Problem p, in Operand g, in Operand w, in Operand gx) where T : unmanaged, INumber<T>
    {
        var (ga, go) = ArrayAt<T>(g); var (wa, wo) = ArrayAt<T>(w); var (xa, xo) = ArrayAt<T>(gx);
        if (g.Numel == 0 || w.Numel == 0) { new Span<T>(xa, xo, gx.Numel).Clear(); return; }
        ConvolutionKernels.BackwardInput(p, ga, go, wa, wo, xa, xo);
    }

    public override void ConvBackwardWeight(in Operand gw, in Operand x, in Operand gy, in SlidingWindow window, int groups)
    {
        var problem = ConvProblem(x.Shape, gw.Shape, gy.Shape, window, groups);
        var xc = ContiguousCopy(x);
        var gc = ContiguousCopy(gy);
        if (gw.DType == ScalarType.Float32) ConvBackwardWeight<float>(problem, xc, gc, gw);
        else ConvBackwardWeight<double>(problem, xc, gc, gw);
    }

    static void ConvBackwardWeight<T>(ConvolutionKernels.Problem p, in Operand x, in Operand g, in Operand gw) where T : unmanaged, INumber<T>
    {
        var (xa, xo) = ArrayAt<T>(x); var (ga, go) = ArrayAt<T>(g); var (wa, wo) = ArrayAt<T>(gw);
        if (x.Numel == 0 || g.Numel == 0) { new Span<T>(wa, wo, gw.Numel).Clear(); return; }
        ConvolutionKernels.BackwardWeight(p, xa, xo, ga, go, wa, wo);
    }
}
