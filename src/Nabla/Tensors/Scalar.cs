using System.Globalization;

namespace Nabla;

/// <summary>
/// A number passed where PyTorch takes a <c>Scalar</c> (<c>x * 2</c>, <c>x.add(1, alpha: 2)</c>). It remembers
/// whether it was written as an integer, a float or a bool, which decides the result dtype: an int64 tensor times
/// <c>2</c> stays int64, times <c>2.5</c> becomes float32.
/// </summary>
public readonly struct Scalar
{
    /// <summary>The value as a double.</summary>
    public readonly double Value;

    internal readonly long IntegerValue;

    /// <summary>The category of the literal: Float64 for floats, Int64 for integers, Bool for booleans.</summary>
    public readonly ScalarType Kind;

    Scalar(double value, long integer, ScalarType kind)
    {
        Value = value;
        IntegerValue = integer;
        Kind = kind;
    }

    /// <summary>True when written as a floating-point number.</summary>
    public bool IsFloatingPoint => Kind == ScalarType.Float64;

    /// <summary>An integer scalar.</summary>
    public static implicit operator Scalar(long v) => new(v, v, ScalarType.Int64);

    /// <summary>An integer scalar.</summary>
    public static implicit operator Scalar(int v) => new(v, v, ScalarType.Int64);

    /// <summary>A floating-point scalar.</summary>
    public static implicit operator Scalar(double v) => new(v, (long)v, ScalarType.Float64);

    /// <summary>A floating-point scalar.</summary>
    public static implicit operator Scalar(float v) => new(v, (long)v, ScalarType.Float64);

    /// <summary>A boolean scalar.</summary>
    public static implicit operator Scalar(bool v) => new(v ? 1 : 0, v ? 1 : 0, ScalarType.Bool);

    /// <summary>The value as <typeparamref name="T"/> (exact for integers of integer scalars).</summary>
    internal T As<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(long) && Kind != ScalarType.Float64)
        {
            long v = IntegerValue;
            return System.Runtime.CompilerServices.Unsafe.As<long, T>(ref v);
        }
        return ScalarConvert.FromDouble<T>(Value);
    }

    /// <summary>Prints as Python prints the number.</summary>
    public override string ToString() => Kind switch
    {
        ScalarType.Bool => Value != 0 ? "True" : "False",
        ScalarType.Int64 => IntegerValue.ToString(CultureInfo.InvariantCulture),
        _ => Value.ToString("R", CultureInfo.InvariantCulture),
    };
}
