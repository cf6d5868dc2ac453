using Nabla.Backends;

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

    internal void FillUnchecked(Scalar value) => _storage.Backend.Fill(Raw, value);

    /// <summary>this += other without autograd (gradient accumulation).</summary>
    internal void AddInPlaceUnchecked(Tensor other)
    {
        CheckSameDevice(this, other);
        var o = other;
        if (o._dtype != _dtype)
        {
            o = EmptyOn(other.Backend, _dtype, other._shape);
            other.Backend.Copy(o.Raw, other.Raw);
        }
        if (_numel > 0) Backend.Binary(BinaryOp.Add, Raw, Raw, o.Raw);
    }

    /// <summary>Copies <paramref name="src"/> (broadcast to this shape, any dtype) into this tensor without autograd.</summary>
    internal void CopyUnchecked(Tensor src)
    {
        CheckSameDevice(this, src);
        Backend.Copy(Raw, src.Raw);
    }

    /// <summary>
    /// PyTorch's device check for ops over several tensors (<c>Expected all tensors to be on the same device ...</c>).
    /// </summary>
    internal static void CheckSameDevice(Tensor a, Tensor b)
    {
        if (!ReferenceEquals(a._storage.Backend, b._storage.Backend)) throw DeviceMismatch(a._storage.Device, b._storage.Device);
    }

    /// <summary>PyTorch's error for operands on different devices.</summary>
    internal static InvalidOperationException DeviceMismatch(Device a, Device b) =>
        new($"Expected all tensors to be on the same device, but found at least two devices, {a} and {b}!");

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
