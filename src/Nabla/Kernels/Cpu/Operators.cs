using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Nabla.Kernels.Cpu;

/// <summary>An elementwise binary operator with scalar and vector forms (the TensorPrimitives pattern).</summary>
internal interface IBinaryOp<T> where T : unmanaged
{
    static abstract bool Vectorizable { get; }
    static abstract T Invoke(T x, T y);
    static abstract Vector128<T> Invoke(Vector128<T> x, Vector128<T> y);
    static abstract Vector256<T> Invoke(Vector256<T> x, Vector256<T> y);
    static abstract Vector512<T> Invoke(Vector512<T> x, Vector512<T> y);
}

/// <summary>An elementwise unary operator with scalar and vector forms.</summary>
internal interface IUnaryOp<T> where T : unmanaged
{
    static abstract bool Vectorizable { get; }
    static abstract T Invoke(T x);
    static abstract Vector128<T> Invoke(Vector128<T> x);
    static abstract Vector256<T> Invoke(Vector256<T> x);
    static abstract Vector512<T> Invoke(Vector512<T> x);
}

/// <summary>
/// An elementwise comparison producing bool, with vector forms that return lane masks (all bits set where true), the
/// same rule as the scalar form lane by lane (NaN compares false except for !=).
/// </summary>
internal interface ICompareOp<T> where T : unmanaged
{
    static abstract bool Vectorizable { get; }
    static abstract bool Invoke(T x, T y);
    static abstract Vector128<T> Invoke(Vector128<T> x, Vector128<T> y);
    static abstract Vector256<T> Invoke(Vector256<T> x, Vector256<T> y);
    static abstract Vector512<T> Invoke(Vector512<T> x, Vector512<T> y);
}

// x + y
internal readonly struct AddOp<T> : IBinaryOp<T> where T : unmanaged, INumber<T>
{
    public static bool Vectorizable => Vector512<T>.IsSupported;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Invoke(T x, T y) => x + y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) => x + y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => x + y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => x + y;
}

// x - y
internal readonly struct SubOp<T> : IBinaryOp<T> where T : unmanaged, INumber<T>
{
    public static bool Vectorizable => Vector512<T>.IsSupported;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Invoke(T x, T y) => x - y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) => x - y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => x - y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => x - y;
}

// x * y
internal readonly struct MulOp<T> : IBinaryOp<T> where T : unmanaged, INumber<T>
{
    public static bool Vectorizable => Vector512<T>.IsSupported;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Invoke(T x, T y) => x * y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) => x * y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => x * y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => x * y;
}

// x / y (floating point only; integer true division is computed in float)
internal readonly struct DivOp<T> : IBinaryOp<T> where T : unmanaged, INumber<T>
{
    public static bool Vectorizable => Vector512<T>.IsSupported && (typeof(T) == typeof(float) || typeof(T) == typeof(double));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Invoke(T x, T y) => x / y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) => x / y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => x / y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => x / y;
}

// max(x, y), NaN-propagating as torch.maximum
internal readonly struct MaxOp<T> : IBinaryOp<T> where T : unmanaged, INumber<T>
{
    public static bool Vectorizable => Vector512<T>.IsSupported;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Invoke(T x, T y) => T.IsNaN(x) || T.IsNaN(y) ? x + y : (x > y ? x : y);
    // The scalar rule lane by lane: x > y ? x : y, and x + y (NaN) where either is NaN (x == x is false only for NaN).
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) =>
        Vector128.ConditionalSelect(Vector128.Equals(x, x) & Vector128.Equals(y, y), Vector128.ConditionalSelect(Vector128.GreaterThan(x, y), x, y), x + y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) =>
        Vector256.ConditionalSelect(Vector256.Equals(x, x) & Vector256.Equals(y, y), Vector256.ConditionalSelect(Vector256.GreaterThan(x, y), x, y), x + y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) =>
        Vector512.ConditionalSelect(Vector512.Equals(x, x) & Vector512.Equals(y, y), Vector512.ConditionalSelect(Vector512.GreaterThan(x, y), x, y), x + y);
}

// min(x, y), NaN-propagating as torch.minimum
internal readonly struct MinOp<T> : IBinaryOp<T> where T : unmanaged, INumber<T>
{
    public static bool Vectorizable => Vector512<T>.IsSupported;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Invoke(T x, T y) => T.IsNaN(x) || T.IsNaN(y) ? x + y : (x < y ? x : y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) =>
        Vector128.ConditionalSelect(Vector128.Equals(x, x) & Vector128.Equals(y, y), Vector128.ConditionalSelect(Vector128.LessThan(x, y), x, y), x + y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) =>
        Vector256.ConditionalSelect(Vector256.Equals(x, x) & Vector256.Equals(y, y), Vector256.ConditionalSelect(Vector256.LessThan(x, y), x, y), x + y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) =>
        Vector512.ConditionalSelect(Vector512.Equals(x, x) & Vector512.Equals(y, y), Vector512.ConditionalSelect(Vector512.LessThan(x, y), x, y), x + y);
}

// -x
internal readonly struct NegOp<T> : IUnaryOp<T> where T : unmanaged, INumber<T>
{
    public static bool Vectorizable => Vector512<T>.IsSupported;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Invoke(T x) => -x;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Invoke(Vector128<T> x) => -x;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Invoke(Vector256<T> x) => -x;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Invoke(Vector512<T> x) => -x;
}

// max(x, 0); NaN stays NaN
internal readonly struct ReluOp<T> : IUnaryOp<T> where T : unmanaged, INumber<T>
{
    public static bool Vectorizable => Vector512<T>.IsSupported;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Invoke(T x) => x > T.Zero ? x : (T.IsNaN(x) ? x : T.Zero);
    // Keep x where x > 0 or x is NaN (x != x), else +0: the scalar rule, branch-free.
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Invoke(Vector128<T> x) =>
        Vector128.ConditionalSelect(Vector128.GreaterThan(x, Vector128<T>.Zero) | ~Vector128.Equals(x, x), x, Vector128<T>.Zero);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Invoke(Vector256<T> x) =>
        Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<T>.Zero) | ~Vector256.Equals(x, x), x, Vector256<T>.Zero);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Invoke(Vector512<T> x) =>
        Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<T>.Zero) | ~Vector512.Equals(x, x), x, Vector512<T>.Zero);
}

// |x|
internal readonly struct AbsOp<T> : IUnaryOp<T> where T : unmanaged, INumber<T>
{
    public static bool Vectorizable => Vector512<T>.IsSupported;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Invoke(T x) => T.Abs(x);
    public static Vector128<T> Invoke(Vector128<T> x) => Vector128.Abs(x);
    public static Vector256<T> Invoke(Vector256<T> x) => Vector256.Abs(x);
    public static Vector512<T> Invoke(Vector512<T> x) => Vector512.Abs(x);
}

// sign(x): -1, 0 or 1 (NaN stays NaN)
internal readonly struct SignOp<T> : IUnaryOp<T> where T : unmanaged, INumber<T>
{
    public static bool Vectorizable => false;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Invoke(T x) => x > T.Zero ? T.One : x < T.Zero ? -T.One : (T.IsNaN(x) ? x : T.Zero);
    public static Vector128<T> Invoke(Vector128<T> x) => throw new NotSupportedException();
    public static Vector256<T> Invoke(Vector256<T> x) => throw new NotSupportedException();
    public static Vector512<T> Invoke(Vector512<T> x) => throw new NotSupportedException();
}

internal readonly struct EqOp<T> : ICompareOp<T> where T : unmanaged, INumber<T>
{
    public static bool Vectorizable => Vector512<T>.IsSupported;
    public static bool Invoke(T x, T y) => x == y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) => Vector128.Equals(x, y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => Vector256.Equals(x, y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => Vector512.Equals(x, y);
}

// x != y: the complement of ==, so NaN != anything is true as in the scalar rule.
internal readonly struct NeOp<T> : ICompareOp<T> where T : unmanaged, INumber<T>
{
    public static bool Vectorizable => Vector512<T>.IsSupported;
    public static bool Invoke(T x, T y) => x != y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) => ~Vector128.Equals(x, y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => ~Vector256.Equals(x, y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => ~Vector512.Equals(x, y);
}

internal readonly struct LtOp<T> : ICompareOp<T> where T : unmanaged, INumber<T>
{
    public static bool Vectorizable => Vector512<T>.IsSupported;
    public static bool Invoke(T x, T y) => x < y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) => Vector128.LessThan(x, y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => Vector256.LessThan(x, y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => Vector512.LessThan(x, y);
}

internal readonly struct LeOp<T> : ICompareOp<T> where T : unmanaged, INumber<T>
{
    public static bool Vectorizable => Vector512<T>.IsSupported;
    public static bool Invoke(T x, T y) => x <= y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) => Vector128.LessThanOrEqual(x, y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => Vector256.LessThanOrEqual(x, y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => Vector512.LessThanOrEqual(x, y);
}

internal readonly struct GtOp<T> : ICompareOp<T> where T : unmanaged, INumber<T>
{
    public static bool Vectorizable => Vector512<T>.IsSupported;
    public static bool Invoke(T x, T y) => x > y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) => Vector128.GreaterThan(x, y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => Vector256.GreaterThan(x, y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => Vector512.GreaterThan(x, y);
}

internal readonly struct GeOp<T> : ICompareOp<T> where T : unmanaged, INumber<T>
{
    public static bool Vectorizable => Vector512<T>.IsSupported;
    public static bool Invoke(T x, T y) => x >= y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) => Vector128.GreaterThanOrEqual(x, y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => Vector256.GreaterThanOrEqual(x, y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => Vector512.GreaterThanOrEqual(x, y);
}
