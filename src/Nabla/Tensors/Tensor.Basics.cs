using Nabla.Autograd;
using Nabla.Ops;


namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>The value of a one-element tensor as <typeparamref name="T"/>.</summary>
    public T item<T>() where T : unmanaged
    {
        if (_numel != 1)
            throw new InvalidOperationException($"a Tensor with {_numel} elements cannot be converted to Scalar");
        return ScalarConvert.FromDouble<T>(ToDouble());
    }

    /// <summary>The value of a one-element tensor as a double.</summary>
    public double ToDouble()
    {
        if (_numel != 1)
            throw new InvalidOperationException($"a Tensor with {_numel} elements cannot be converted to Scalar");
        return GetFlat(0);
    }

    /// <summary>The value of a one-element tensor as a float.</summary>
    public float ToSingle() => (float)ToDouble();

    /// <summary>The value of a one-element tensor as a long.</summary>
    public long ToInt64() => item<long>();

    /// <summary>Element <paramref name="linear"/> in row-major order (any layout), as double.</summary>
    internal double GetFlat(int linear) => _storage.Backend.ReadElement(Raw, linear);

    /// <summary>Sets element <paramref name="linear"/> (row-major) of a contiguous tensor, bypassing autograd.</summary>
    internal void SetFlat(int linear, double value) => _storage.Backend.WriteElement(Raw, linear, value);

    /// <summary>All elements in row-major order as doubles (for printing and tests).</summary>
    internal double[] ToDoubleArray()
    {
        var result = new double[_numel];
        _storage.Backend.CopyToHost<double>(Raw, result);
        return result;
    }

    /// <summary>The elements copied into a flat array of <typeparamref name="T"/> (row-major; the dtype must match).</summary>
    public T[] ToArray<T>() where T : unmanaged
    {
        CheckDType<T>();
        var result = new T[_numel];
        _storage.Backend.CopyToHost<T>(Raw, result);
        return result;
    }

    /// <summary>A contiguous tensor with the same values: this tensor itself when already contiguous.</summary>
    public Tensor contiguous()
    {
        if (is_contiguous()) return this;
        return clone();
    }

    /// <summary>Contiguous data without recording (for kernels).</summary>
    internal Tensor ContiguousRaw()
    {
        if (is_contiguous()) return this;
        var result = EmptyLike(this, _dtype, _shape);
        Ops.Raw.CopyInto(result, this);
        return result;
    }

    /// <summary>A copy with its own storage (recorded as <c>CloneBackward0</c>).</summary>
    public Tensor clone() => Ops.Copy.Clone(this);

    /// <summary>
    /// This tensor converted to <paramref name="dtype"/> (the same tensor when it already has it; recorded as
    /// <c>ToCopyBackward0</c> otherwise).
    /// </summary>
    public Tensor to(ScalarType dtype) => dtype == _dtype ? this : Ops.Copy.ToDType(this, dtype);

    /// <summary>
    /// This tensor on <paramref name="device"/> (the same tensor when it is already there; a copy recorded as
    /// <c>ToCopyBackward0</c> otherwise). <c>t.to("meta")</c> keeps shape and dtype and drops the data; copying
    /// out of the meta device raises PyTorch's error.
    /// </summary>
    public Tensor to(Device device) => Ops.Copy.ToDevice(this, device, copy: false);

    /// <summary>This tensor on <paramref name="device"/> converted to <paramref name="dtype"/>.</summary>
    public Tensor to(Device device, ScalarType dtype) => to(device).to(dtype);

    /// <summary>This tensor on the CPU (the same tensor when it is already there).</summary>
    public Tensor cpu() => to(Device.CPU);

    /// <summary>This tensor on a CUDA device (raises: Nabla has no CUDA backend yet).</summary>
    public Tensor cuda(int index = -1) => to(new Device(DeviceType.CUDA, index));

    /// <summary>Converts to float32.</summary>
    public Tensor @float() => to(ScalarType.Float32);
    /// <summary>Converts to float64.</summary>
    public Tensor @double() => to(ScalarType.Float64);
    /// <summary>Converts to int64.</summary>
    public Tensor @long() => to(ScalarType.Int64);
    /// <summary>Converts to int32.</summary>
    public Tensor @int() => to(ScalarType.Int32);
    /// <summary>Converts to bool.</summary>
    public Tensor @bool() => to(ScalarType.Bool);
    /// <summary>Converts to the given dtype (TorchSharp spelling).</summary>
    public Tensor to_type(ScalarType dtype) => to(dtype);
    /// <summary>Converts to the dtype of <paramref name="other"/>.</summary>
    public Tensor type_as(Tensor other) => to(other._dtype);

    internal void FillUnchecked(Scalar value) => _storage.Backend.Fill(Raw, value);

    /// <summary>this += other without autograd (gradient accumulation).</summary>
    internal void AddInPlaceUnchecked(Tensor other)
    {
        var o = other._dtype == _dtype ? other : Ops.Raw.ToDType(other, _dtype);
        Ops.Raw.BinaryInto(BinaryOp.Add, this, this, o);
    }

    /// <summary>Sums a broadcast gradient back down to <paramref name="shape"/> (the backward of broadcasting).</summary>
    internal Tensor SumToSize(long[] shape)
    {
        if (ShapeUtil.SameShape(_shape, shape)) return this;
        int lead = _shape.Length - shape.Length;
        var dims = new List<long>();
        for (int i = 0; i < _shape.Length; i++)
        {
            if (i < lead) dims.Add(i);
            else if (shape[i - lead] == 1 && _shape[i] != 1) dims.Add(i);
        }
        var r = dims.Count == 0 ? this : sum(dims.ToArray(), keepdim: true);
        if (lead > 0 || !ShapeUtil.SameShape(r._shape, shape)) r = r.view(shape);
        return r;
    }
}
