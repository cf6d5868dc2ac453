namespace Nabla;

public static partial class torch
{
    internal const string FactoryRequiresGradMessage = "Only Tensors of floating point and complex dtype can require gradients";

    /// <summary>The default floating-point dtype (float32), used when a float is made from integers or scalars.</summary>
    public static ScalarType get_default_dtype() => ScalarType.Float32;

    /// <summary>torch.float32</summary>
    public static readonly ScalarType float32 = ScalarType.Float32;
    /// <summary>torch.float (float32)</summary>
    public static readonly ScalarType @float = ScalarType.Float32;
    /// <summary>torch.float64</summary>
    public static readonly ScalarType float64 = ScalarType.Float64;
    /// <summary>torch.double (float64)</summary>
    public static readonly ScalarType @double = ScalarType.Float64;
    /// <summary>torch.int64</summary>
    public static readonly ScalarType int64 = ScalarType.Int64;
    /// <summary>torch.long (int64)</summary>
    public static readonly ScalarType @long = ScalarType.Int64;
    /// <summary>torch.int32</summary>
    public static readonly ScalarType int32 = ScalarType.Int32;
    /// <summary>torch.int (int32)</summary>
    public static readonly ScalarType @int = ScalarType.Int32;
    /// <summary>torch.bool</summary>
    public static readonly ScalarType @bool = ScalarType.Bool;

    // ---- from data ----------------------------------------------------------------------------------------

    /// <summary>The backend of <paramref name="device"/> (the default device's when none is given).</summary>
    internal static Backend BackendFor(Device? device) => device is { } d ? Backend.For(d) : t_scopeBackend ?? s_defaultBackend;

    static Backend s_defaultBackend = Backend.Default;
    [ThreadStatic] static Backend? t_scopeBackend;

    /// <summary>
    /// Factories on this thread use <paramref name="device"/> when no <c>device:</c> is given, until the returned scope
    /// is disposed (PyTorch's <c>with torch.device("meta"):</c>). Scopes nest.
    /// </summary>
    public static IDisposable default_device(Device device)
    {
        var previous = t_scopeBackend;
        t_scopeBackend = Backend.For(device);
        return new DeviceScope(previous);
    }

    sealed class DeviceScope(Backend? previous) : IDisposable
    {
        bool _done;

        public void Dispose()
        {
            if (_done) return;
            _done = true;
            t_scopeBackend = previous;
        }
    }

    /// <summary>
    /// Sets the device that factories use when no <c>device:</c> is given (<c>torch.set_default_device</c>; for the
    /// whole process, as in PyTorch). <c>torch.set_default_device("meta")</c> builds models without allocating data.
    /// </summary>
    public static void set_default_device(Device device) => s_defaultBackend = Backend.For(device);

    /// <summary>The device factories use when no <c>device:</c> is given (<c>cpu</c> unless set).</summary>
    public static Device get_default_device() => (t_scopeBackend ?? s_defaultBackend).Device;

    static Tensor FromArray<T>(T[] data, long[] shape, ScalarType? dtype, bool requires_grad, Device? device = null) where T : unmanaged
    {
        var backend = BackendFor(device);
        var t = new Tensor(backend, DTypeOf<T>.Value, shape, zero: false);
        backend.CopyFromHost<T>(t.Raw, data);
        if (dtype is { } d && d != t.dtype) t = t.to(d);
        if (requires_grad) t.SetRequiresGrad(true, FactoryRequiresGradMessage);
        return t;
    }

    static T[] Flatten<T>(Array data, out long[] shape)
    {
        shape = new long[data.Rank];
        for (int i = 0; i < data.Rank; i++) shape[i] = data.GetLength(i);
        var flat = new T[data.Length];
        int k = 0;
        foreach (T v in data) flat[k++] = v;
        return flat;
    }

    /// <summary>A 1-D float32 tensor copied from <paramref name="data"/>.</summary>
    public static Tensor tensor(float[] data, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) => FromArray(data, new long[] { data.Length }, dtype, requires_grad, device);
    /// <summary>A 1-D float64 tensor copied from <paramref name="data"/>.</summary>
    public static Tensor tensor(double[] data, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) => FromArray(data, new long[] { data.Length }, dtype, requires_grad, device);
    /// <summary>A 1-D int64 tensor copied from <paramref name="data"/>.</summary>
    public static Tensor tensor(long[] data, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) => FromArray(data, new long[] { data.Length }, dtype, requires_grad, device);
    /// <summary>A 1-D int32 tensor copied from <paramref name="data"/>.</summary>
    public static Tensor tensor(int[] data, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) => FromArray(data, new long[] { data.Length }, dtype, requires_grad, device);
    /// <summary>A 1-D bool tensor copied from <paramref name="data"/>.</summary>
    public static Tensor tensor(bool[] data, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) => FromArray(data, new long[] { data.Length }, dtype, requires_grad, device);

    /// <summary>A tensor of the given shape over a copy of <paramref name="data"/> (row-major).</summary>
    public static Tensor tensor(float[] data, long[] shape, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) => FromArray(data, CheckShape(data.Length, shape), dtype, requires_grad, device);
    /// <summary>A tensor of the given shape over a copy of <paramref name="data"/> (row-major).</summary>
    public static Tensor tensor(double[] data, long[] shape, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) => FromArray(data, CheckShape(data.Length, shape), dtype, requires_grad, device);
    /// <summary>A tensor of the given shape over a copy of <paramref name="data"/> (row-major).</summary>
    public static Tensor tensor(long[] data, long[] shape, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) => FromArray(data, CheckShape(data.Length, shape), dtype, requires_grad, device);
    /// <summary>A tensor of the given shape over a copy of <paramref name="data"/> (row-major).</summary>
    public static Tensor tensor(int[] data, long[] shape, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) => FromArray(data, CheckShape(data.Length, shape), dtype, requires_grad, device);
    /// <summary>A tensor of the given shape over a copy of <paramref name="data"/> (row-major).</summary>
    public static Tensor tensor(bool[] data, long[] shape, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) => FromArray(data, CheckShape(data.Length, shape), dtype, requires_grad, device);

    static long[] CheckShape(int length, long[] shape)
    {
        if (ShapeUtil.Numel(shape) != length)
            throw new ArgumentException($"shape '{ShapeUtil.Format(shape)}' is invalid for input of size {length}");
        return (long[])shape.Clone();
    }

    /// <summary>A 2-D float32 tensor copied from a rectangular array.</summary>
    public static Tensor tensor(float[,] data, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) { var f = Flatten<float>(data, out var s); return FromArray(f, s, dtype, requires_grad, device); }
    /// <summary>A 2-D float64 tensor copied from a rectangular array.</summary>
    public static Tensor tensor(double[,] data, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) { var f = Flatten<double>(data, out var s); return FromArray(f, s, dtype, requires_grad, device); }
    /// <summary>A 2-D int64 tensor copied from a rectangular array.</summary>
    public static Tensor tensor(long[,] data, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) { var f = Flatten<long>(data, out var s); return FromArray(f, s, dtype, requires_grad, device); }
    /// <summary>A 2-D int32 tensor copied from a rectangular array.</summary>
    public static Tensor tensor(int[,] data, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) { var f = Flatten<int>(data, out var s); return FromArray(f, s, dtype, requires_grad, device); }
    /// <summary>A 2-D bool tensor copied from a rectangular array.</summary>
    public static Tensor tensor(bool[,] data, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) { var f = Flatten<bool>(data, out var s); return FromArray(f, s, dtype, requires_grad, device); }
    /// <summary>A 3-D float32 tensor copied from a rectangular array.</summary>
    public static Tensor tensor(float[,,] data, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) { var f = Flatten<float>(data, out var s); return FromArray(f, s, dtype, requires_grad, device); }
    /// <summary>A 3-D float64 tensor copied from a rectangular array.</summary>
    public static Tensor tensor(double[,,] data, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) { var f = Flatten<double>(data, out var s); return FromArray(f, s, dtype, requires_grad, device); }
    /// <summary>A 3-D int64 tensor copied from a rectangular array.</summary>
    public static Tensor tensor(long[,,] data, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) { var f = Flatten<long>(data, out var s); return FromArray(f, s, dtype, requires_grad, device); }
    /// <summary>A 4-D float32 tensor copied from a rectangular array.</summary>
    public static Tensor tensor(float[,,,] data, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) { var f = Flatten<float>(data, out var s); return FromArray(f, s, dtype, requires_grad, device); }
    /// <summary>A 4-D float64 tensor copied from a rectangular array.</summary>
    public static Tensor tensor(double[,,,] data, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) { var f = Flatten<double>(data, out var s); return FromArray(f, s, dtype, requires_grad, device); }

    /// <summary>A 0-d float32 tensor.</summary>
    public static Tensor tensor(float value, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) => FromArray(new[] { value }, System.Array.Empty<long>(), dtype, requires_grad, device);
    /// <summary>A 0-d float64 tensor.</summary>
    public static Tensor tensor(double value, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) => FromArray(new[] { value }, System.Array.Empty<long>(), dtype, requires_grad, device);
    /// <summary>A 0-d int64 tensor.</summary>
    public static Tensor tensor(long value, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) => FromArray(new[] { value }, System.Array.Empty<long>(), dtype, requires_grad, device);
    /// <summary>A 0-d int32 tensor.</summary>
    public static Tensor tensor(int value, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) => FromArray(new[] { value }, System.Array.Empty<long>(), dtype, requires_grad, device);
    /// <summary>A 0-d bool tensor.</summary>
    public static Tensor tensor(bool value, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) => FromArray(new[] { value }, System.Array.Empty<long>(), dtype, requires_grad, device);

    /// <summary>
    /// A tensor whose values are copied from other tensors' values (each must hold one element), as
    /// <c>torch.tensor([y1, y2])</c>: the result has no history (it does not require grad).
    /// </summary>
    public static Tensor tensor(Tensor[] values, ScalarType? dtype = null, bool requires_grad = false, Device? device = null)
    {
        var d = dtype ?? (values.Length == 0 ? ScalarType.Float32 : values[0].dtype);
        var flat = new double[values.Length];
        for (int i = 0; i < values.Length; i++) flat[i] = values[i].ToDouble();
        return FromArray(flat, new long[] { values.Length }, d, requires_grad, device);
    }

    /// <summary>Copies a 1-D array into a tensor (TorchSharp's <c>from_array</c>).</summary>
    public static Tensor from_array(Array data, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) => data switch
    {
        float[] f => tensor(f, dtype, requires_grad),
        double[] d => tensor(d, dtype, requires_grad),
        long[] l => tensor(l, dtype, requires_grad),
        int[] i => tensor(i, dtype, requires_grad),
        bool[] b => tensor(b, dtype, requires_grad),
        _ => data.GetType().GetElementType() switch
        {
            Type t when t == typeof(float) => FromArray(Flatten<float>(data, out var s1), s1, dtype, requires_grad, device),
            Type t when t == typeof(double) => FromArray(Flatten<double>(data, out var s2), s2, dtype, requires_grad, device),
            Type t when t == typeof(long) => FromArray(Flatten<long>(data, out var s3), s3, dtype, requires_grad, device),
            Type t when t == typeof(int) => FromArray(Flatten<int>(data, out var s4), s4, dtype, requires_grad, device),
            Type t when t == typeof(bool) => FromArray(Flatten<bool>(data, out var s5), s5, dtype, requires_grad, device),
            _ => throw new ArgumentException($"can't convert an array of {data.GetType().GetElementType()} to a tensor"),
        },
    };

    // ---- filled --------------------------------------------------------------------------------------------

    static Tensor Filled(long[] size, Scalar value, ScalarType? dtype, bool requires_grad, Device? device)
    {
        foreach (var s in size)
            if (s < 0) throw new ArgumentException($"Trying to create tensor with negative dimension {s}: {ShapeUtil.Format(size)}");
        var d = dtype ?? (value.Kind == ScalarType.Bool ? ScalarType.Bool : value.IsFloatingPoint ? get_default_dtype() : ScalarType.Int64);
        var t = new Tensor(BackendFor(device), d, (long[])size.Clone(), zero: value.Value == 0);
        if (value.Value != 0) t.FillUnchecked(value);
        if (requires_grad) t.SetRequiresGrad(true, FactoryRequiresGradMessage);
        return t;
    }

    /// <summary>A tensor of zeros (float32 unless <paramref name="dtype"/> says otherwise).</summary>
    public static Tensor zeros(long[] size, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) => Filled(size, 0.0, dtype, requires_grad, device);
    /// <summary>A 1-D tensor of zeros.</summary>
    public static Tensor zeros(long size0, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) => zeros(new[] { size0 }, dtype, requires_grad, device);
    /// <summary>A 2-D tensor of zeros.</summary>
    public static Tensor zeros(long size0, long size1, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) => zeros(new[] { size0, size1 }, dtype, requires_grad, device);
    /// <summary>A 3-D tensor of zeros.</summary>
    public static Tensor zeros(long size0, long size1, long size2, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) => zeros(new[] { size0, size1, size2 }, dtype, requires_grad, device);
    /// <summary>A 4-D tensor of zeros.</summary>
    public static Tensor zeros(long size0, long size1, long size2, long size3, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) => zeros(new[] { size0, size1, size2, size3 }, dtype, requires_grad, device);

    /// <summary>A tensor of ones (float32 unless <paramref name="dtype"/> says otherwise).</summary>
    public static Tensor ones(long[] size, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) => Filled(size, 1.0, dtype, requires_grad, device);
    /// <summary>A 1-D tensor of ones.</summary>
    public static Tensor ones(long size0, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) => ones(new[] { size0 }, dtype, requires_grad, device);
    /// <summary>A 2-D tensor of ones.</summary>
    public static Tensor ones(long size0, long size1, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) => ones(new[] { size0, size1 }, dtype, requires_grad, device);
    /// <summary>A 3-D tensor of ones.</summary>
    public static Tensor ones(long size0, long size1, long size2, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) => ones(new[] { size0, size1, size2 }, dtype, requires_grad, device);
    /// <summary>A 4-D tensor of ones.</summary>
    public static Tensor ones(long size0, long size1, long size2, long size3, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) => ones(new[] { size0, size1, size2, size3 }, dtype, requires_grad, device);

    /// <summary>An uninitialised tensor (its contents are whatever the buffer held; here always zeros or reused data).</summary>
    public static Tensor empty(long[] size, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) => Filled(size, 0.0, dtype, requires_grad, device);
    /// <summary>An uninitialised 1-D tensor.</summary>
    public static Tensor empty(long size0, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) => empty(new[] { size0 }, dtype, requires_grad, device);
    /// <summary>An uninitialised 2-D tensor.</summary>
    public static Tensor empty(long size0, long size1, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) => empty(new[] { size0, size1 }, dtype, requires_grad, device);

    /// <summary>A tensor filled with <paramref name="value"/>; the dtype follows the value (int64 for integers, float32 for floats, bool) unless given.</summary>
    public static Tensor full(long[] size, Scalar value, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) => Filled(size, value, dtype, requires_grad, device);

    /// <summary>Zeros with the shape and dtype of <paramref name="input"/>.</summary>
    public static Tensor zeros_like(Tensor input, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) => Filled(input._shape, 0.0, dtype ?? input.dtype, requires_grad, device ?? input.device);
    /// <summary>Ones with the shape and dtype of <paramref name="input"/>.</summary>
    public static Tensor ones_like(Tensor input, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) => Filled(input._shape, 1.0, dtype ?? input.dtype, requires_grad, device ?? input.device);
    /// <summary>An uninitialised tensor with the shape and dtype of <paramref name="input"/>.</summary>
    public static Tensor empty_like(Tensor input, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) => Filled(input._shape, 0.0, dtype ?? input.dtype, requires_grad, device ?? input.device);
    /// <summary>A tensor shaped like <paramref name="input"/> filled with <paramref name="value"/>.</summary>
    public static Tensor full_like(Tensor input, Scalar value, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) => Filled(input._shape, value, dtype ?? input.dtype, requires_grad, device ?? input.device);

    /// <summary>A 2-D tensor with ones on the diagonal (<c>n</c> rows, <c>m</c> columns, default <c>m = n</c>).</summary>
    public static Tensor eye(long n, long m = -1, ScalarType? dtype = null, bool requires_grad = false, Device? device = null)
    {
        if (m < 0) m = n;
        if (n < 0) throw new ArgumentException($"n must be greater or equal to 0, got {n}");
        var t = new Tensor(dtype ?? get_default_dtype(), new[] { n, m });
        for (long i = 0; i < Math.Min(n, m); i++) t.SetFlat((int)(i * m + i), 1.0);
        if (device is { } dev && dev.type != DeviceType.CPU) t = t.to(dev);
        if (requires_grad) t.SetRequiresGrad(true, FactoryRequiresGradMessage);
        return t;
    }

    /// <summary>Values <c>start, start+step, ...</c> below <paramref name="end"/>; int64 when all arguments are integers, else float32.</summary>
    public static Tensor arange(Scalar start, Scalar end, Scalar step, ScalarType? dtype = null, bool requires_grad = false, Device? device = null)
    {
        if (step.Value == 0) throw new ArgumentException("step must be nonzero");
        if ((step.Value > 0 && start.Value > end.Value) || (step.Value < 0 && start.Value < end.Value))
            throw new ArgumentException("upper bound and larger bound inconsistent with step sign");
        bool integral = !start.IsFloatingPoint && !end.IsFloatingPoint && !step.IsFloatingPoint;
        var d = dtype ?? (integral ? ScalarType.Int64 : get_default_dtype());
        long n = (long)Math.Ceiling((end.Value - start.Value) / step.Value);
        var t = new Tensor(d, new[] { Math.Max(0, n) });
        for (long i = 0; i < n; i++) t.SetFlat((int)i, start.Value + i * step.Value);
        if (device is { } dev && dev.type != DeviceType.CPU) t = t.to(dev);
        if (requires_grad) t.SetRequiresGrad(true, FactoryRequiresGradMessage);
        return t;
    }

    /// <summary>Values <c>start, start+1, ...</c> below <paramref name="end"/>.</summary>
    public static Tensor arange(Scalar start, Scalar end, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) => arange(start, end, 1, dtype, requires_grad, device);

    /// <summary>Values <c>0, 1, ...</c> below <paramref name="end"/>.</summary>
    public static Tensor arange(Scalar end, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) => arange(0, end, 1, dtype, requires_grad, device);

    /// <summary><paramref name="steps"/> evenly spaced values from <paramref name="start"/> to <paramref name="end"/> inclusive.</summary>
    public static Tensor linspace(double start, double end, long steps, ScalarType? dtype = null, bool requires_grad = false, Device? device = null)
    {
        if (steps < 0) throw new ArgumentException("number of steps must be non-negative");
        var t = new Tensor(dtype ?? get_default_dtype(), new[] { steps });
        double step = steps > 1 ? (end - start) / (steps - 1) : 0;
        // PyTorch fills the first half from the start and the second half from the end (symmetric rounding).
        long half = steps / 2;
        for (long i = 0; i < steps; i++)
            t.SetFlat((int)i, i < half ? start + step * i : end - step * (steps - 1 - i));
        if (device is { } dev && dev.type != DeviceType.CPU) t = t.to(dev);
        if (requires_grad) t.SetRequiresGrad(true, FactoryRequiresGradMessage);
        return t;
    }
}
