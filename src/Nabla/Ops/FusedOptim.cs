using Nabla.Kernels.Cpu;

using Nabla.Backends.Cpu;

namespace Nabla.Ops;

/// <summary>
/// Layout checks and parallel chunking for the one-pass optimizer kernels (Note [Fused optimizer steps]); each entry
/// returns false, having written nothing, when the tensors are not dense float tensors of one dtype and size, and the
/// optimizer then runs its op-by-op update.
/// </summary>
internal static class FusedOptim
{
    static bool Dense(Tensor reference, Tensor? t) =>
        t is null || (t._dtype == reference._dtype && t._numel == reference._numel && Tensor.ShapesEqual(t, reference) && t.is_contiguous());

    static bool Eligible(Tensor p, params Tensor?[] others)
    {
        if ((p._dtype != ScalarType.Float32 && p._dtype != ScalarType.Float64) || !p.is_contiguous()) return false;
        foreach (var t in others) if (!Dense(p, t)) return false;
        return true;
    }

    static Span<T> S<T>(Tensor t) where T : unmanaged
    {
        var s = (CpuStorage<T>)t._storage;
        return s.Array.AsSpan(s.Start + t._offset, t._numel);
    }

    const int Chunk = 1 << 15;

    struct SgdBody<T> : IRangeBody where T : unmanaged, System.Numerics.INumber<T>
    {
        public Tensor P, G, B; public OptimizerKernels.SgdArgs<T> A;
        public void Invoke(int begin, int end) =>
            OptimizerKernels.SgdMomentum(S<T>(P).Slice(begin, end - begin), S<T>(G).Slice(begin, end - begin), S<T>(B).Slice(begin, end - begin), A);
    }

    /// <summary>One SGD step with an existing momentum buffer, fused.</summary>
    public static bool SgdMomentum(Tensor p, Tensor g, Tensor buf, double lr, double momentum, double dampening, double weightDecay, bool nesterov, bool maximize)
    {
        if (!Eligible(p, g, buf)) return false;
        if (p._dtype == ScalarType.Float32)
            Run(new SgdBody<float>
            {
                P = p, G = g, B = buf,
                A = new() { Lr = (float)lr, Momentum = (float)momentum, OneMinusDampening = (float)(1 - dampening), WeightDecay = (float)weightDecay, HasWeightDecay = weightDecay != 0, Nesterov = nesterov, Maximize = maximize },
            }, p._numel);
        else
            Run(new SgdBody<double>
            {
                P = p, G = g, B = buf,
                A = new() { Lr = lr, Momentum = momentum, OneMinusDampening = 1 - dampening, WeightDecay = weightDecay, HasWeightDecay = weightDecay != 0, Nesterov = nesterov, Maximize = maximize },
            }, p._numel);
        return true;
    }

    struct AdamBody<T> : IRangeBody where T : unmanaged, System.Numerics.INumber<T>
    {
        public Tensor P, G, M, V; public Tensor? VMax; public OptimizerKernels.AdamArgs<T> A;
        public void Invoke(int begin, int end) =>
            OptimizerKernels.Adam(S<T>(P).Slice(begin, end - begin), S<T>(G).Slice(begin, end - begin), S<T>(M).Slice(begin, end - begin),
                S<T>(V).Slice(begin, end - begin), VMax is null ? Span<T>.Empty : S<T>(VMax).Slice(begin, end - begin), A);
    }

    /// <summary>One Adam step, fused (bias corrections computed by the caller exactly as the unfused path does).</summary>
    public static bool Adam(Tensor p, Tensor g, Tensor m, Tensor v, Tensor? vmax, double beta1, double beta2, double weightDecay,
        double bc2Sqrt, double eps, double stepSize, bool maximize)
    {
        if (!Eligible(p, g, m, v, vmax)) return false;
        if (p._dtype == ScalarType.Float32)
            Run(new AdamBody<float>
            {
                P = p, G = g, M = m, V = v, VMax = vmax,
                A = new()
                {
                    Beta1 = (float)beta1, OneMinusBeta1 = (float)(1 - beta1), Beta2 = (float)beta2, OneMinusBeta2 = (float)(1 - beta2),
                    WeightDecay = (float)weightDecay, HasWeightDecay = weightDecay != 0, Bc2Sqrt = (float)bc2Sqrt, Eps = (float)eps,
                    NegStepSize = (float)-stepSize, Maximize = maximize, Amsgrad = vmax is not null,
                },
            }, p._numel);
        else
            Run(new AdamBody<double>
            {
                P = p, G = g, M = m, V = v, VMax = vmax,
                A = new()
                {
                    Beta1 = beta1, OneMinusBeta1 = 1 - beta1, Beta2 = beta2, OneMinusBeta2 = 1 - beta2,
                    WeightDecay = weightDecay, HasWeightDecay = weightDecay != 0, Bc2Sqrt = bc2Sqrt, Eps = eps,
                    NegStepSize = -stepSize, Maximize = maximize, Amsgrad = vmax is not null,
                },
            }, p._numel);
        return true;
    }

    static void Run<TBody>(TBody body, int n) where TBody : struct, IRangeBody
    {
        if (n == 0) return;
        if (n < 2 * Chunk) body.Invoke(0, n);
        else ParallelFor.For(n, Chunk, body);
    }
}
