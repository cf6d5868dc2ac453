using System.Numerics.Tensors;

using Nabla.Backends.Cpu;

namespace Nabla.Ops;

/// <summary>Floating-point unary math on contiguous data through TensorPrimitives (vectorised exp, log, tanh, ...).</summary>
internal static class MathKernels
{
    /// <summary>Which function to apply.</summary>
    public enum Kind { Exp, Log, Log1p, Expm1, Sin, Cos, Tanh, Sigmoid, Sqrt, Rsqrt, Reciprocal, Square }

    /// <summary>f(a) as a new contiguous tensor; integer inputs are computed in float32 as PyTorch does.</summary>
    public static Tensor Apply(Kind kind, Tensor a)
    {
        if (!a._dtype.IsFloatingPoint()) a = Raw.ToDType(a, ScalarType.Float32);
        else if (!a.is_contiguous()) a = a.ContiguousRaw();
        var result = Tensor.Empty(a._dtype, a._shape);
        if (result._numel == 0) return result;
        if (a._dtype == ScalarType.Float32) RunParallel<float>(kind, a, result);
        else RunParallel<double>(kind, a, result);
        return result;
    }

    /// <summary>Above this many elements the work is split across threads (transcendentals are compute-bound).</summary>
    internal const int ParallelMin = 32768;

    // Chunks are whole multiples of Block elements, so every chunk but a short tail takes TensorPrimitives' vector path
    // and the results do not depend on the split (the functions are elementwise).
    const int Block = 64, BlockGrain = 16384 / Block;

    static void RunParallel<T>(Kind kind, Tensor a, Tensor result) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        int n = result._numel;
        if (n < ParallelMin || Nabla.Kernels.Cpu.ParallelFor.NumThreads == 1)
        {
            Run(kind, a.Contiguous<T>(), result.Contiguous<T>());
            return;
        }
        var (sa, sr) = ((CpuStorage<T>)a._storage, (CpuStorage<T>)result._storage);
        Nabla.Kernels.Cpu.ParallelFor.For((n + Block - 1) / Block, BlockGrain,
            new Body<T>(kind, sa.Array, sa.Start + a._offset, sr.Array, sr.Start + result._offset, n));
    }

    readonly struct Body<T>(Kind kind, T[] x, int xOff, T[] d, int dOff, int n) : Nabla.Kernels.Cpu.IRangeBody
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        public void Invoke(int begin, int end)
        {
            int from = begin * Block, to = Math.Min(n, end * Block);
            Run(kind, new ReadOnlySpan<T>(x, xOff + from, to - from), new Span<T>(d, dOff + from, to - from));
        }
    }

    // One generic body for float and double: the generic TensorPrimitives overloads specialise per element type.
    static void Run<T>(Kind kind, ReadOnlySpan<T> x, Span<T> d) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        switch (kind)
        {
            case Kind.Exp: TensorPrimitives.Exp(x, d); break;
            case Kind.Log: TensorPrimitives.Log(x, d); break;
            case Kind.Log1p: TensorPrimitives.LogP1(x, d); break;
            case Kind.Expm1: TensorPrimitives.ExpM1(x, d); break;
            case Kind.Sin: TensorPrimitives.Sin(x, d); break;
            case Kind.Cos: TensorPrimitives.Cos(x, d); break;
            case Kind.Tanh: TensorPrimitives.Tanh(x, d); break;
            case Kind.Sigmoid: TensorPrimitives.Sigmoid(x, d); break;
            case Kind.Sqrt: TensorPrimitives.Sqrt(x, d); break;
            case Kind.Rsqrt: TensorPrimitives.ReciprocalSqrt(x, d); break;
            case Kind.Reciprocal: TensorPrimitives.Reciprocal(x, d); break;
            case Kind.Square: TensorPrimitives.Multiply(x, x, d); break;
        }
    }
}
