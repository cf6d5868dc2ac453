namespace Nabla.Backends;

// Pointwise math beyond the simple UnaryOp set: transcendental functions, powers and where (Note [The backend wall]).
internal abstract partial class Backend
{
    /// <summary>dst = f(a) for a floating dtype; a has dst's dtype and shape (any strides).</summary>
    public abstract void ApplyMath(MathOp op, in Operand dst, in Operand a);

    /// <summary>
    /// dst = a ** <paramref name="exponent"/>; a has dst's dtype and shape (any strides). Integer dtypes take a
    /// non-negative exponent (the op checks); bool is not supported.
    /// </summary>
    public abstract void PowScalar(in Operand dst, in Operand a, double exponent);

    /// <summary>dst = a ** b elementwise, computed in float64; a and b (dst's dtype) broadcast to dst's shape.</summary>
    public abstract void Pow(in Operand dst, in Operand a, in Operand b);

    /// <summary>dst = condition ? x : y; condition (bool), x and y (dst's dtype) broadcast to dst's shape.</summary>
    public abstract void Where(in Operand dst, in Operand condition, in Operand x, in Operand y);
}

/// <summary>The functions of <see cref="Backend.ApplyMath"/>.</summary>
internal enum MathOp { Exp, Log, Log1p, Expm1, Sin, Cos, Tanh, Sigmoid, Sqrt, Rsqrt, Reciprocal, Square }
