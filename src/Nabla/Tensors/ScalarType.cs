namespace Nabla;

/// <summary>The element type of a tensor. Values match TorchSharp's <c>ScalarType</c> numbering.</summary>
public enum ScalarType : sbyte
{
    /// <summary>32-bit signed integer (<c>torch.int32</c>).</summary>
    Int32 = 3,
    /// <summary>64-bit signed integer (<c>torch.int64</c>, <c>torch.long</c>).</summary>
    Int64 = 4,
    /// <summary>32-bit IEEE float (<c>torch.float32</c>), the default dtype.</summary>
    Float32 = 6,
    /// <summary>64-bit IEEE float (<c>torch.float64</c>, <c>torch.double</c>).</summary>
    Float64 = 7,
    /// <summary>Boolean, one byte per element (<c>torch.bool</c>).</summary>
    Bool = 11,
}

/// <summary>Facts about <see cref="ScalarType"/> values: size, category, names and promotion.</summary>
public static class ScalarTypeExtensions
{
    /// <summary>True for float32 and float64.</summary>
    public static bool IsFloatingPoint(this ScalarType t) => t is ScalarType.Float32 or ScalarType.Float64;

    /// <summary>True for int32 and int64 (not bool).</summary>
    public static bool IsIntegral(this ScalarType t) => t is ScalarType.Int32 or ScalarType.Int64;

    /// <summary>Bytes per element.</summary>
    public static int ElementSize(this ScalarType t) => t switch
    {
        ScalarType.Bool => 1,
        ScalarType.Int32 or ScalarType.Float32 => 4,
        _ => 8,
    };

    /// <summary>PyTorch's Python name, e.g. <c>torch.float64</c>.</summary>
    public static string PythonName(this ScalarType t) => t switch
    {
        ScalarType.Float32 => "torch.float32",
        ScalarType.Float64 => "torch.float64",
        ScalarType.Int32 => "torch.int32",
        ScalarType.Int64 => "torch.int64",
        ScalarType.Bool => "torch.bool",
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    /// <summary>PyTorch's legacy tensor type name, e.g. <c>torch.FloatTensor</c> (used in error messages).</summary>
    public static string LegacyTypeName(this ScalarType t) => t switch
    {
        ScalarType.Float32 => "torch.FloatTensor",
        ScalarType.Float64 => "torch.DoubleTensor",
        ScalarType.Int32 => "torch.IntTensor",
        ScalarType.Int64 => "torch.LongTensor",
        ScalarType.Bool => "torch.BoolTensor",
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    /// <summary>libtorch's type string, e.g. <c>CPUFloatType</c> (the footer of C++ printing).</summary>
    public static string CppTypeName(this ScalarType t) => t switch
    {
        ScalarType.Float32 => "CPUFloatType",
        ScalarType.Float64 => "CPUDoubleType",
        ScalarType.Int32 => "CPUIntType",
        ScalarType.Int64 => "CPULongType",
        ScalarType.Bool => "CPUBoolType",
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    /// <summary>The C++ scalar name used in some PyTorch error messages (<c>Float</c>, <c>Double</c>, <c>Long</c>, ...).</summary>
    public static string CppScalarName(this ScalarType t) => t switch
    {
        ScalarType.Float32 => "Float",
        ScalarType.Float64 => "Double",
        ScalarType.Int32 => "Int",
        ScalarType.Int64 => "Long",
        ScalarType.Bool => "Bool",
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    // Order of the promotion lattice: bool < int32 < int64 < float32 < float64.
    static int Rank(ScalarType t) => t switch
    {
        ScalarType.Bool => 0,
        ScalarType.Int32 => 1,
        ScalarType.Int64 => 2,
        ScalarType.Float32 => 3,
        _ => 4,
    };

    /// <summary>PyTorch's <c>torch.promote_types</c> over the supported dtypes.</summary>
    public static ScalarType Promote(ScalarType a, ScalarType b) => Rank(a) >= Rank(b) ? a : b;

    internal static int Category(ScalarType t) => t switch
    {
        ScalarType.Bool => 0,
        ScalarType.Int32 or ScalarType.Int64 => 1,
        _ => 2,
    };
}

/// <summary>Maps a C# element type to its <see cref="ScalarType"/>.</summary>
internal static class DTypeOf<T>
{
    public static readonly ScalarType Value =
        typeof(T) == typeof(float) ? ScalarType.Float32 :
        typeof(T) == typeof(double) ? ScalarType.Float64 :
        typeof(T) == typeof(long) ? ScalarType.Int64 :
        typeof(T) == typeof(int) ? ScalarType.Int32 :
        typeof(T) == typeof(bool) ? ScalarType.Bool :
        (ScalarType)(-1);
}

/// <summary>Converts a double to an element type with the cast rules of the kernels (float: rounding; integers: truncation; bool: non-zero or NaN).</summary>
internal static class ScalarConvert
{
    public static T FromDouble<T>(double d) where T : unmanaged
    {
        if (typeof(T) == typeof(double)) return System.Runtime.CompilerServices.Unsafe.As<double, T>(ref d);
        if (typeof(T) == typeof(float)) { float f = (float)d; return System.Runtime.CompilerServices.Unsafe.As<float, T>(ref f); }
        if (typeof(T) == typeof(long)) { long l = (long)d; return System.Runtime.CompilerServices.Unsafe.As<long, T>(ref l); }
        if (typeof(T) == typeof(int)) { int i = (int)(long)d; return System.Runtime.CompilerServices.Unsafe.As<int, T>(ref i); }
        if (typeof(T) == typeof(bool)) { bool b = d != 0 || double.IsNaN(d); return System.Runtime.CompilerServices.Unsafe.As<bool, T>(ref b); }
        throw new NotSupportedException(typeof(T).Name);
    }
}
