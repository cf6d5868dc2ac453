using System.Numerics;
using Nabla.Kernels.Cpu;

namespace Nabla.Backends.Cpu;

// The batch-norm primitives of the CPU backend: per-channel statistics and parameters as double arrays on the host,
// and the two-pass kernels of Kernels/Cpu/BatchNorm.cs over a dense (N, C, S) copy of the input.
internal sealed partial class CpuBackend
{
    /// <summary>The elements of <paramref name="a"/> (any dtype and layout) as a new double array.</summary>
    static double[] HostDoubles(in Operand a)
    {
        var result = new double[a.Numel];
        Instance.CopyToHost<double>(a, result);
        return result;
    }

    /// <summary>A dense float64 CPU operand over <paramref name="values"/>, shaped <paramref name="shape"/>.</summary>
    static Operand DoubleOperand(double[] values, long[] shape) =>
        new(new CpuStorage<double>(values, 0, values.Length), Layout.Contiguous(shape));

    static (int N, int C, int S) ChannelLayout(in Operand x)
    {
        int n = (int)x.Shape[0], c = (int)x.Shape[1], s = (int)(x.Numel / Math.Max(1L, (long)n * c));
        return (n, c, s);
    }

    public override void BatchNorm(in Operand y, in Operand saveMean, in Operand saveInvstd, in Operand x, Operand? weight, Operand? bias,
        Operand? runningMean, Operand? runningVar, bool training, double momentum, double eps)
    {
        var (n, c, s) = ChannelLayout(x);
        // The kernels take arrays: the statistics are computed in pooled scratch (only channels below c are read or
        // written) and copied to saveMean / saveInvstd at the end.
        var mean = System.Buffers.ArrayPool<double>.Shared.Rent(c);
        var invstd = System.Buffers.ArrayPool<double>.Shared.Rent(c);
        try
        {
            BatchNorm(y, x, weight, bias, runningMean, runningVar, training, momentum, eps, n, c, s, mean, invstd);
            mean.AsSpan(0, c).CopyTo(Dense<double>(saveMean));
            invstd.AsSpan(0, c).CopyTo(Dense<double>(saveInvstd));
        }
        finally
        {
            System.Buffers.ArrayPool<double>.Shared.Return(mean);
            System.Buffers.ArrayPool<double>.Shared.Return(invstd);
        }
    }

    void BatchNorm(in Operand y, in Operand x, Operand? weight, Operand? bias, Operand? runningMean, Operand? runningVar, bool training,
        double momentum, double eps, int n, int c, int s, double[] mean, double[] invstd)
    {
        if (training)
        {
            var var = new double[c];
            var xc = ContiguousCopy(x);
            if (x.Numel > 0)
            {
                if (xc.DType == ScalarType.Float32) { var (xa, xo) = ArrayAt<float>(xc); BatchNormKernels.Stats(xa, xo, n, c, s, mean, var); }
                else { var (xa, xo) = ArrayAt<double>(xc); BatchNormKernels.Stats(xa, xo, n, c, s, mean, var); }
            }
            else System.Array.Clear(mean, 0, c);
            for (int i = 0; i < c; i++) invstd[i] = var[i] == 0 && eps == 0 ? 0 : 1 / Math.Sqrt(var[i] + eps);
            long count = (long)n * s;
            if (runningMean is { } rm) UpdateRunning(rm, mean, momentum, 1.0);
            if (runningVar is { } rv && count > 0) UpdateRunning(rv, var, momentum, count > 1 ? (double)count / (count - 1) : double.PositiveInfinity);
        }
        else
        {
            var rm = HostDoubles(runningMean!.Value);
            var rv = HostDoubles(runningVar!.Value);
            for (int i = 0; i < c; i++) { mean[i] = rm[i]; invstd[i] = 1 / Math.Sqrt(rv[i] + eps); }
        }
        var w = weight is { } wo ? HostDoubles(wo) : null;
        var b = bias is { } bo ? HostDoubles(bo) : null;
        if (x.Numel > 0)
        {
            if (x.DType == ScalarType.Float32) BatchNormTransform<float>(x, y, n, c, s, mean, invstd, w, b);
            else BatchNormTransform<double>(x, y, n, c, s, mean, invstd, w, b);
        }
    }

    /// <summary>running = (1 - momentum) * running + momentum * stat * correction, in place.</summary>
    void UpdateRunning(in Operand running, double[] stat, double momentum, double correction)
    {
        var current = HostDoubles(running);
        var updated = new double[current.Length];
        for (int i = 0; i < updated.Length; i++) updated[i] = momentum * stat[i] * correction + (1 - momentum) * current[i];
        Copy(running, DoubleOperand(updated, running.Shape));
    }

    static void BatchNormTransform<T>(in Operand x, in Operand y, int n, int c, int s, double[] mean, double[] invstd, double[]? w, double[]? b)
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
        var (xa, xo) = ArrayAt<T>(ContiguousCopy(x));
        var (ya, yo) = ArrayAt<T>(y);
        BatchNormKernels.Transform(xa, xo, ya, yo, n, c, s, alpha, beta);
    }

    public override void BatchNormBackward(Operand? gx, Operand? gw, Operand? gb, in Operand gy, in Operand x, Operand? weight,
        in Operand saveMean, in Operand saveInvstd, bool training)
    {
        var (n, c, s) = ChannelLayout(x);
        var mean = System.Buffers.ArrayPool<double>.Shared.Rent(c);
        var invstd = System.Buffers.ArrayPool<double>.Shared.Rent(c);
        try
        {
            CopyToHost<double>(saveMean, mean.AsSpan(0, c));
            CopyToHost<double>(saveInvstd, invstd.AsSpan(0, c));
            BatchNormBackward(gx, gw, gb, gy, x, weight, training, n, c, s, mean, invstd);
        }
        finally
        {
            System.Buffers.ArrayPool<double>.Shared.Return(mean);
            System.Buffers.ArrayPool<double>.Shared.Return(invstd);
        }
    }

    void BatchNormBackward(Operand? gx, Operand? gw, Operand? gb, in Operand gy, in Operand x, Operand? weight, bool training,
        int n, int c, int s, double[] mean, double[] invstd)
    {
        var w = weight is { } wo ? HostDoubles(wo) : OnesArray(c);
        var xc = ContiguousCopy(x);
        var gc = ContiguousCopy(gy);
        var sumG = new double[c];
        var dotp = new double[c];
        if (x.Numel > 0)
        {
            if (x.DType == ScalarType.Float32) BatchNormBackward<float>(xc, gc, n, c, s, mean, invstd, w, training, gx, sumG, dotp);
            else BatchNormBackward<double>(xc, gc, n, c, s, mean, invstd, w, training, gx, sumG, dotp);
        }
        if (gw is { } gwo)
        {
            var v = new double[c];
            for (int i = 0; i < c; i++) v[i] = dotp[i] * invstd[i];
            Copy(gwo, DoubleOperand(v, gwo.Shape));
        }
        if (gb is { } gbo) Copy(gbo, DoubleOperand(sumG, gbo.Shape));
    }

    static double[] OnesArray(int c)
    {
        var r = new double[c];
        System.Array.Fill(r, 1.0);
        return r;
    }

    static void BatchNormBackward<T>(in Operand x, in Operand g, int n, int c, int s, double[] mean, double[] invstd, double[] weight,
        bool training, Operand? gx, double[] sumG, double[] dotp) where T : unmanaged, INumber<T>
    {
        var (xa, xo) = ArrayAt<T>(x);
        var (ga, go) = ArrayAt<T>(g);
        var (da, dOff) = gx is { } d ? ArrayAt<T>(d) : (null, 0);
        BatchNormKernels.Backward(xa, xo, ga, go, n, c, s, mean, invstd, weight, training, da, dOff, sumG, dotp);
    }
}
