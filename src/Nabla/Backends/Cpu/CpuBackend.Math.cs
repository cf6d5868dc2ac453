using System.Numerics.Tensors;
using Nabla.Kernels.Cpu;

namespace Nabla.Backends.Cpu;

// Pointwise math of the CPU backend: floating-point unary functions on contiguous data through TensorPrimitives
// (vectorised exp, log, tanh, ...), powers and where.
internal sealed partial class CpuBackend
{
    public override void ApplyMath(MathOp op, in Operand dst, in Operand a)
    {
        var x = ContiguousCopy(a);
        if (dst.DType == ScalarType.Float32) MathKernels.RunParallel<float>(op, x, dst);
        else MathKernels.RunParallel<double>(op, x, dst);
    }

    public override void PowScalar(in Operand dst, in Operand a, double e)
    {
        var x = ContiguousCopy(a);
        switch (dst.DType)
        {
            case ScalarType.Float32:
            {
                var s = Dense<float>(x); var d = Dense<float>(dst);
                if (e == 3) TensorPrimitives.Multiply(s, s, d);
                if (e == 3) TensorPrimitives.Multiply(d, s, d);
                else if (e == 0.5) TensorPrimitives.Sqrt(s, d);
                else for (int i = 0; i < d.Length; i++) d[i] = MathF.Pow(s[i], (float)e);
                break;
            }
            case ScalarType.Float64:
            {
                var s = Dense<double>(x); var d = Dense<double>(dst);
                for (int i = 0; i < d.Length; i++) d[i] = Math.Pow(s[i], e);
                break;
            }
            case ScalarType.Int64:
            {
                var s = Dense<long>(x); var d = Dense<long>(dst);
                for (int i = 0; i < d.Length; i++) d[i] = MathKernels.IntPow(s[i], (long)e);
                break;
            }
            case ScalarType.Int32:
            {
                var s = Dense<int>(x); var d = Dense<int>(dst);
                for (int i = 0; i < d.Length; i++) d[i] = (int)MathKernels.IntPow(s[i], (long)e);
                break;
            }
            default: throw new NotSupportedException("pow is not implemented for bool tensors");
        }
    }

    public override void Pow(in Operand dst, in Operand a, in Operand b)
    {
        // Both operands broadcast and converted to float64, std's pow per element, converted back into dst.
        var xe = Empty(ScalarType.Float64, dst.Shape);
        Copy(xe, a);
        var ye = Empty(ScalarType.Float64, dst.Shape);
        Copy(ye, b);
        var r64 = Empty(ScalarType.Float64, dst.Shape);
        Span<double> x = Dense<double>(xe), y = Dense<double>(ye), d = Dense<double>(r64);
        for (int i = 0; i < d.Length; i++) d[i] = Math.Pow(x[i], y[i]);
        Copy(dst, r64);
    }

    public override void Where(in Operand dst, in Operand condition, in Operand x, in Operand y)
    {
        var c = DenseAs(condition, dst.Shape);
        var xs = DenseAs(x, dst.Shape);
        var ys = DenseAs(y, dst.Shape);
        switch (dst.DType)
        {
            case ScalarType.Float32: SelectKernels.Select(Dense<bool>(c), Dense<float>(xs), default, false, Dense<float>(ys), Dense<float>(dst)); break;
            case ScalarType.Float64: SelectKernels.Select(Dense<bool>(c), Dense<double>(xs), default, false, Dense<double>(ys), Dense<double>(dst)); break;
            case ScalarType.Int64: SelectKernels.Select(Dense<bool>(c), Dense<long>(xs), default, false, Dense<long>(ys), Dense<long>(dst)); break;
            case ScalarType.Int32: SelectKernels.Select(Dense<bool>(c), Dense<int>(xs), default, false, Dense<int>(ys), Dense<int>(dst)); break;
            default: SelectKernels.Select(Dense<bool>(c), Dense<bool>(xs), default, false, Dense<bool>(ys), Dense<bool>(dst)); break;
        }
    }

    /// <summary>t as a dense operand of <paramref name="shape"/>: itself when it already is one, else a broadcast copy.</summary>
    internal static Operand DenseAs(in Operand t, long[] shape)
    {
        if (t.IsContiguous && ShapeUtil.SameShape(t.Shape, shape)) return t;
        var r = Empty(t.DType, shape);
        Instance.Copy(r, t);
        return r;
    }
}

/// <summary>The unary math kernels: TensorPrimitives over contiguous chunks, split across threads when large.</summary>
file static class MathKernels
{
    /// <summary>Above this many elements the work is split across threads (transcendentals are compute-bound).</summary>
    internal const int ParallelMin = 32768;

    // Chunks are whole multiples of Block elements, so every chunk but a short tail takes TensorPrimitives' vector path
    // and the results do not depend on the split (the functions are elementwise).
    const int Block = 64, BlockGrain = 16384 / Block;

    internal static void RunParallel<T>(MathOp kind, in Operand a, in Operand result) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        int n = result.Numel;
        if (n < ParallelMin || ParallelFor.NumThreads == 1)
        {
            Run(kind, CpuBackend.Dense<T>(a), CpuBackend.Dense<T>(result));
            return;
        }
        var (sa, sr) = ((CpuStorage<T>)a.Storage, (CpuStorage<T>)result.Storage);
        ParallelFor.For((n + Block - 1) / Block, BlockGrain,
            new Body<T>(kind, sa.Array, sa.Start + a.Offset, sr.Array, sr.Start + result.Offset, n));
    }

    readonly struct Body<T>(MathOp kind, T[] x, int xOff, T[] d, int dOff, int n) : IRangeBody
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        public void Invoke(int begin, int end)
        {
            int from = begin * Block, to = Math.Min(n, end * Block);
            Run(kind, new ReadOnlySpan<T>(x, xOff + from, to - from), new Span<T>(d, dOff + from, to - from));
        }
    }

    // One generic body for float and double: the generic TensorPrimitives overloads specialise per element type.
    static void Run<T>(MathOp kind, ReadOnlySpan<T> x, Span<T> d) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        switch (kind)
        {
            case MathOp.Exp: TensorPrimitives.Exp(x, d); break;
            case MathOp.Log: TensorPrimitives.Log(x, d); break;
            case MathOp.Log1p: TensorPrimitives.LogP1(x, d); break;
            case MathOp.Expm1: TensorPrimitives.ExpM1(x, d); break;
            case MathOp.Sin: TensorPrimitives.Sin(x, d); break;
            case MathOp.Cos: TensorPrimitives.Cos(x, d); break;
            case MathOp.Tanh: TensorPrimitives.Tanh(x, d); break;
            case MathOp.Sigmoid: TensorPrimitives.Sigmoid(x, d); break;
            case MathOp.Sqrt: TensorPrimitives.Sqrt(x, d); break;
            case MathOp.Rsqrt: TensorPrimitives.ReciprocalSqrt(x, d); break;
            case MathOp.Reciprocal: TensorPrimitives.Reciprocal(x, d); break;
            case MathOp.Square: TensorPrimitives.Multiply(x, x, d); break;
        }
    }

    internal static long IntPow(long b, long e)
    {
        long r = 1;
        while (e > 0) { if ((e & 1) != 0) r *= b; b *= b; e >>= 1; }
        return r;
    }
}
