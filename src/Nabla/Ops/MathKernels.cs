using System.Numerics.Tensors;

namespace Nabla.Ops;

/// <summary>Floating-point unary math on contiguous data through TensorPrimitives (vectorised exp, log, tanh, ...).</summary>
internal static class MathKernels
{
    /// <summary>Which function to apply.</summary>
    public enum Kind { Exp, Log, Log1p, Expm1, Sin, Cos, Tanh, Sigmoid, Sqrt, Rsqrt, Reciprocal, Square }

    /// <summary>f(a) as a new contiguous tensor; integer inputs are computed in float32 as PyTorch does.</summary>
    public static Tensor Apply(Kind kind, Tensor a)
    {
        if (!a._dtype.IsFloatingPoint()) a = Dispatch.ToDType(a, ScalarType.Float32);
        else if (!a.is_contiguous()) a = a.ContiguousRaw();
        var result = Tensor.Empty(a._dtype, a._shape);
        if (result._numel == 0) return result;
        if (a._dtype == ScalarType.Float32) Run(kind, a.Contiguous<float>(), result.Contiguous<float>());
        else Run(kind, a.Contiguous<double>(), result.Contiguous<double>());
        return result;
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
