namespace Nabla.Backends.Cpu;

// The loss primitives of the CPU backend: scalar loops in float64 on the host, which validate the values they read.
internal sealed partial class CpuBackend
{
    public override void BinaryCrossEntropy(in Operand loss, in Operand x, in Operand target, Operand? weight)
    {
        var xs = HostDoubles(x);
        var t = HostDoubles(target);
        var w = weight is { } wo ? HostDoubles(wo) : null;
        var result = new double[xs.Length];
        for (int i = 0; i < xs.Length; i++)
        {
            double xi = xs[i];
            if (!(xi >= 0 && xi <= 1)) throw new InvalidOperationException("all elements of input should be between 0 and 1");
            // L = -w (t ln(x) + (1 - t) ln(1 - x)), each log clamped to >= -100 as PyTorch does.
            double l = (t[i] - 1) * Math.Max(Math.Log(1 - xi), -100) - t[i] * Math.Max(Math.Log(xi), -100);
            result[i] = w is null ? l : l * w[i];
        }
        Copy(loss, DoubleOperand(result, loss.Shape));
    }

    public override void NllLoss(in Operand dst, Operand? coefficients, in Operand x, in Operand target, Operand? weight, bool reduce,
        bool mean, long ignoreIndex)
    {
        int rank = x.Rank;
        long batch = rank == 1 ? 1 : x.Shape[0];
        long classes = rank == 1 ? x.Shape[0] : x.Shape[1];
        long spatial = 1;
        for (int i = 2; i < rank; i++) spatial *= x.Shape[i];
        var targets = Read<long>(target);
        var w = weight is { } wo ? HostDoubles(wo) : null;
        // Only the targeted elements are read (no conversion of the whole input), and the coefficients of the backward
        // are written straight into a tensor of the input's dtype: the math stays in float64.
        var xin = ContiguousCopy(x);
        bool f32 = xin.DType == ScalarType.Float32;
        if (!f32 && xin.DType != ScalarType.Float64) xin = ToDType(xin, ScalarType.Float64);
        var perItem = reduce ? null : new double[batch * spatial];
        double totalWeight = 0, sum = 0;
        for (long n = 0; n < batch; n++)
        {
            for (long s = 0; s < spatial; s++)
            {
                long t = targets[(int)(n * spatial + s)];
                if (t == ignoreIndex) continue;
                if (t < 0 || t >= classes) throw new IndexOutOfRangeException($"Target {t} is out of bounds.");
                double wt = w is null ? 1 : w[t];
                int at = (int)((n * classes + t) * spatial + s);
                double xv = f32 ? Dense<float>(xin)[at] : Dense<double>(xin)[at];
                double item = -wt * xv;
                if (perItem is not null) perItem[n * spatial + s] = item;
                else sum += item;
                totalWeight += wt;
            }
        }
        double scale = 1;
        if (perItem is not null) Copy(dst, DoubleOperand(perItem, dst.Shape));
        else
        {
            if (mean) { scale = totalWeight == 0 ? 0 : 1 / totalWeight; sum /= totalWeight; }
            Copy(dst, DoubleOperand(new[] { sum }, dst.Shape));
        }
        if (coefficients is not { } c) return;
        for (long n = 0; n < batch; n++)
        {
            for (long s = 0; s < spatial; s++)
            {
                long t = targets[(int)(n * spatial + s)];
                if (t == ignoreIndex) continue;
                double coef = -(w is null ? 1 : w[t]);
                if (scale != 1) coef *= scale;
                int at = (int)((n * classes + t) * spatial + s);
                if (c.DType == ScalarType.Float32) Dense<float>(c)[at] = (float)coef;
                else if (c.DType == ScalarType.Float64) Dense<double>(c)[at] = coef;
                else throw new NotSupportedException($"nll_loss is not implemented for {c.DType.CppScalarName()}");
            }
        }
    }
}
