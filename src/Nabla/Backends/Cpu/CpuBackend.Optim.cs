using Nabla.Kernels.Cpu;

namespace Nabla.Backends.Cpu;

// The fused optimizer primitives of the CPU backend: the one-pass kernels of Kernels/Cpu/OptimizerKernels.cs (Note
// [Fused optimizer steps]) over contiguous chunks of the parameter, in parallel for large ones.
internal sealed partial class CpuBackend
{
    const int OptimChunk = 1 << 15;

    struct SgdBody<T> : IRangeBody where T : unmanaged, System.Numerics.INumber<T>
    {
        public Operand P, G, B; public OptimizerKernels.SgdArgs<T> A;
        public void Invoke(int begin, int end) =>
            OptimizerKernels.SgdMomentum(Dense<T>(P).Slice(begin, end - begin), Dense<T>(G).Slice(begin, end - begin), Dense<T>(B).Slice(begin, end - begin), A);
    }

    public override void SgdMomentumStep(in Operand param, in Operand grad, in Operand buf, double lr, double momentum, double dampening,
        double weightDecay, bool nesterov, bool maximize)
    {
        if (param.DType == ScalarType.Float32)
            RunOptim(new SgdBody<float>
            {
                P = param, G = grad, B = buf,
                A = new() { Lr = (float)lr, Momentum = (float)momentum, OneMinusDampening = (float)(1 - dampening), WeightDecay = (float)weightDecay, HasWeightDecay = weightDecay != 0, Nesterov = nesterov, Maximize = maximize },
            }, param.Numel);
        else
            RunOptim(new SgdBody<double>
            {
                P = param, G = grad, B = buf,
                A = new() { Lr = lr, Momentum = momentum, OneMinusDampening = 1 - dampening, WeightDecay = weightDecay, HasWeightDecay = weightDecay != 0, Nesterov = nesterov, Maximize = maximize },
            }, param.Numel);
    }

    struct AdamBody<T> : IRangeBody where T : unmanaged, System.Numerics.INumber<T>
    {
        public Operand P, G, M, V; public Operand? VMax; public OptimizerKernels.AdamArgs<T> A;
        public void Invoke(int begin, int end) =>
            OptimizerKernels.Adam(Dense<T>(P).Slice(begin, end - begin), Dense<T>(G).Slice(begin, end - begin), Dense<T>(M).Slice(begin, end - begin),
                Dense<T>(V).Slice(begin, end - begin), VMax is { } vmax ? Dense<T>(vmax).Slice(begin, end - begin) : Span<T>.Empty, A);
    }

    public override void AdamStep(in Operand param, in Operand grad, in Operand expAvg, in Operand expAvgSq, Operand? maxExpAvgSq,
        double beta1, double beta2, double weightDecay, double bc2Sqrt, double eps, double stepSize, bool maximize)
    {
        if (param.DType == ScalarType.Float32)
            RunOptim(new AdamBody<float>
            {
                P = param, G = grad, M = expAvg, V = expAvgSq, VMax = maxExpAvgSq,
                A = new()
                {
                    Beta1 = (float)beta1, OneMinusBeta1 = (float)(1 - beta1), Beta2 = (float)beta2, OneMinusBeta2 = (float)(1 - beta2),
                    WeightDecay = (float)weightDecay, HasWeightDecay = weightDecay != 0, Bc2Sqrt = (float)bc2Sqrt, Eps = (float)eps,
                    NegStepSize = (float)-stepSize, Maximize = maximize, Amsgrad = maxExpAvgSq is not null,
                },
            }, param.Numel);
        else
            RunOptim(new AdamBody<double>
            {
                P = param, G = grad, M = expAvg, V = expAvgSq, VMax = maxExpAvgSq,
                A = new()
                {
                    Beta1 = beta1, OneMinusBeta1 = 1 - beta1, Beta2 = beta2, OneMinusBeta2 = 1 - beta2,
                    WeightDecay = weightDecay, HasWeightDecay = weightDecay != 0, Bc2Sqrt = bc2Sqrt, Eps = eps,
                    NegStepSize = -stepSize, Maximize = maximize, Amsgrad = maxExpAvgSq is not null,
                },
            }, param.Numel);
    }

    static void RunOptim<TBody>(TBody body, int n) where TBody : struct, IRangeBody
    {
        if (n == 0) return;
        if (n < 2 * OptimChunk) body.Invoke(0, n);
        else ParallelFor.For(n, OptimChunk, body);
    }
}
