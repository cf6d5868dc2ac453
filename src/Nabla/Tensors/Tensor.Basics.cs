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
        return Kernels.Cpu.Convert.FromDouble<T>(ToDouble());
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
    internal double GetFlat(int linear)
    {
        int offset = _offset;
        for (int d = _shape.Length - 1; d >= 0; d--)
        {
            int size = (int)_shape[d];
            offset += (int)(linear % size * _strides[d]);
            linear /= size;
        }
        return _dtype switch
        {
            ScalarType.Float32 => ((Storage<float>)_storage).Span[offset],
            ScalarType.Float64 => ((Storage<double>)_storage).Span[offset],
            ScalarType.Int64 => ((Storage<long>)_storage).Span[offset],
            ScalarType.Int32 => ((Storage<int>)_storage).Span[offset],
            _ => ((Storage<bool>)_storage).Span[offset] ? 1 : 0,
        };
    }

    /// <summary>Sets element <paramref name="linear"/> (row-major) of a contiguous tensor, bypassing autograd.</summary>
    internal void SetFlat(int linear, double value)
    {
        int i = _offset + linear;
        switch (_dtype)
        {
            case ScalarType.Float32: ((Storage<float>)_storage).Span[i] = (float)value; break;
            case ScalarType.Float64: ((Storage<double>)_storage).Span[i] = value; break;
            case ScalarType.Int64: ((Storage<long>)_storage).Span[i] = (long)value; break;
            case ScalarType.Int32: ((Storage<int>)_storage).Span[i] = (int)value; break;
            default: ((Storage<bool>)_storage).Span[i] = value != 0; break;
        }
    }

    /// <summary>All elements in row-major order as doubles (for printing and tests).</summary>
    internal double[] ToDoubleArray()
    {
        var result = new double[_numel];
        var c = Dispatch.Cast(ContiguousRaw(), ScalarType.Float64);
        c.Contiguous<double>().CopyTo(result);
        return result;
    }

    /// <summary>The elements copied into a flat array of <typeparamref name="T"/> (row-major; the dtype must match).</summary>
    public T[] ToArray<T>() where T : unmanaged
    {
        CheckDType<T>();
        return ContiguousRaw().Contiguous<T>().ToArray();
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
        var result = Empty(_dtype, _shape);
        Dispatch.CopyInto(result, this);
        return result;
    }

    /// <summary>A copy with its own storage (recorded as <c>CloneBackward0</c>).</summary>
    public Tensor clone()
    {
        var result = Empty(_dtype, _shape);
        Dispatch.CopyInto(result, this);
        if (Autograd.Autograd.ShouldRecord(this))
        {
            var node = new CloneBackward0();
            node.SetNextEdges(this);
            Autograd.Autograd.SetHistory(result, node);
        }
        return result;
    }

    /// <summary>
    /// This tensor converted to <paramref name="dtype"/> (the same tensor when it already has it; recorded as
    /// <c>ToCopyBackward0</c> otherwise).
    /// </summary>
    public Tensor to(ScalarType dtype)
    {
        if (dtype == _dtype) return this;
        var result = Dispatch.ToDType(this, dtype);
        if (Autograd.Autograd.ShouldRecord(this) && dtype.IsFloatingPoint())
        {
            var node = new ToCopyBackward0(_dtype);
            node.SetNextEdges(this);
            Autograd.Autograd.SetHistory(result, node);
        }
        return result;
    }

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

    internal void FillUnchecked(Scalar value)
    {
        switch (_dtype)
        {
            case ScalarType.Float32: FillT(value.As<float>()); break;
            case ScalarType.Float64: FillT(value.As<double>()); break;
            case ScalarType.Int64: FillT(value.As<long>()); break;
            case ScalarType.Int32: FillT(value.As<int>()); break;
            case ScalarType.Bool: FillT(value.Value != 0); break;
        }
    }

    void FillT<T>(T v) where T : unmanaged
    {
        if (is_contiguous()) { Contiguous<T>().Fill(v); return; }
        var src = new Tensor(new Storage<T>(new[] { v }, 0, 1), System.Array.Empty<long>(), System.Array.Empty<long>(), 0);
        Dispatch.CopyInto(this, src);
    }

    /// <summary>this += other without autograd (gradient accumulation).</summary>
    internal void AddInPlaceUnchecked(Tensor other)
    {
        var o = other._dtype == _dtype ? other : Dispatch.ToDType(other, _dtype);
        Dispatch.BinaryInto(Dispatch.BinaryKind.Add, this, this, o);
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
