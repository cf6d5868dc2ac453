using System.Buffers.Binary;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Nabla.Backends;

namespace Nabla.Serialization;

// Note [Serialization through the backend wall]
// Loaders and savers move bytes between a file and a tensor's storage with the two host-transfer primitives of the
// backend (Backend.CopyFromHost / CopyToHost) over a 1-D window of the storage, one bounded chunk at a time. They
// never see Storage<T> arrays, so the same code works for any backend that implements those primitives, and a
// checkpoint is copied exactly once between the file buffer and the tensor (no per-element parsing).

/// <summary>Raw byte transfer between host memory and a tensor's storage (see Note [Serialization through the backend wall]).</summary>
internal static class TensorBytes
{
    /// <summary>True for the dtypes Nabla can hold today.</summary>
    public static bool IsSupported(ScalarType dtype) =>
        dtype is ScalarType.Float32 or ScalarType.Float64 or ScalarType.Int64 or ScalarType.Int32 or ScalarType.Bool;

    /// <summary>A fresh, uninitialised, contiguous 1-D CPU tensor of <paramref name="numel"/> elements (the "storage").</summary>
    public static Tensor NewStorage(ScalarType dtype, int numel) => Tensor.Empty(dtype, new long[] { numel });

    /// <summary>
    /// A tensor that uses the storage of <paramref name="storage"/> with the given geometry, as PyTorch's
    /// <c>tensor.set_(storage, offset, size, stride)</c>: not a view (no base), but sharing the elements.
    /// The caller has validated that every reachable element lies inside the storage.
    /// </summary>
    public static Tensor OverStorage(Tensor storage, long[] shape, long[] strides, int offset) =>
        new(storage._storage, shape, strides, offset);

    /// <summary>Number of elements of the storage behind <paramref name="t"/>.</summary>
    public static int StorageLength(Tensor t) => t._storage.Length;

    /// <summary>An object identifying the buffer behind <paramref name="t"/> (equal for tensors sharing elements).</summary>
    public static object StorageId(Tensor t) => t._storage.BufferId;

    /// <summary>A 1-D tensor over the whole storage of <paramref name="t"/> (shares the elements).</summary>
    public static Tensor WholeStorage(Tensor t) => new(t._storage, new long[] { t._storage.Length }, new long[] { 1 }, 0);

    /// <summary>
    /// Writes little-endian (or, with <paramref name="bigEndian"/>, big-endian) element bytes into elements
    /// [<paramref name="elementOffset"/>, + bytes.Length / size) of the 1-D contiguous tensor <paramref name="flat"/>.
    /// Bool bytes other than 0 read as true (a forged file cannot make an invalid bool).
    /// </summary>
    public static void Write(Tensor flat, int elementOffset, Span<byte> bytes, bool bigEndian)
    {
        var dtype = flat.dtype;
        int size = dtype.ElementSize();
        int count = bytes.Length / size;
        if (count == 0) return;
        var dst = new Operand(flat._storage, new long[] { count }, new long[] { 1 }, flat._offset + elementOffset);
        var backend = flat._storage.Backend;
        bool swap = bigEndian == BitConverter.IsLittleEndian;
        switch (dtype)
        {
            case ScalarType.Float32:
            {
                if (swap) BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, int>(bytes), MemoryMarshal.Cast<byte, int>(bytes));
                backend.CopyFromHost<float>(dst, MemoryMarshal.Cast<byte, float>(bytes));
                break;
            }
            case ScalarType.Float64:
            {
                if (swap) BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, long>(bytes), MemoryMarshal.Cast<byte, long>(bytes));
                backend.CopyFromHost<double>(dst, MemoryMarshal.Cast<byte, double>(bytes));
                break;
            }
            case ScalarType.Int64:
            {
                if (swap) BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, long>(bytes), MemoryMarshal.Cast<byte, long>(bytes));
                backend.CopyFromHost<long>(dst, MemoryMarshal.Cast<byte, long>(bytes));
                break;
            }
            case ScalarType.Int32:
            {
                if (swap) BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, int>(bytes), MemoryMarshal.Cast<byte, int>(bytes));
                backend.CopyFromHost<int>(dst, MemoryMarshal.Cast<byte, int>(bytes));
                break;
            }
            case ScalarType.Bool:
            {
                TensorPrimitives.Min(bytes, (byte)1, bytes);   // any non-zero byte -> 1: only valid bools reach the storage
                backend.CopyFromHost<bool>(dst, MemoryMarshal.Cast<byte, bool>(bytes));
                break;
            }
            default:
                throw new NotSupportedException($"dtype {dtype} is not supported");
        }
    }

    /// <summary>Reads elements [<paramref name="elementOffset"/>, + bytes.Length / size) of the 1-D tensor <paramref name="flat"/> as little-endian bytes.</summary>
    public static void Read(Tensor flat, int elementOffset, Span<byte> bytes)
    {
        var dtype = flat.dtype;
        int count = bytes.Length / dtype.ElementSize();
        if (count == 0) return;
        var src = new Operand(flat._storage, new long[] { count }, new long[] { 1 }, flat._offset + elementOffset);
        var backend = flat._storage.Backend;
        switch (dtype)
        {
            case ScalarType.Float32: backend.CopyToHost(src, MemoryMarshal.Cast<byte, float>(bytes)); break;
            case ScalarType.Float64: backend.CopyToHost(src, MemoryMarshal.Cast<byte, double>(bytes)); break;
            case ScalarType.Int64: backend.CopyToHost(src, MemoryMarshal.Cast<byte, long>(bytes)); break;
            case ScalarType.Int32: backend.CopyToHost(src, MemoryMarshal.Cast<byte, int>(bytes)); break;
            case ScalarType.Bool: backend.CopyToHost(src, MemoryMarshal.Cast<byte, bool>(bytes)); break;
            default: throw new NotSupportedException($"dtype {dtype} is not supported");
        }
        if (!BitConverter.IsLittleEndian && dtype != ScalarType.Bool)
        {
            if (dtype.ElementSize() == 8) BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, long>(bytes), MemoryMarshal.Cast<byte, long>(bytes));
            else BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, int>(bytes), MemoryMarshal.Cast<byte, int>(bytes));
        }
    }

    /// <summary>
    /// True when every element reachable through (shape, strides, offset) lies in [0, storageLength): PyTorch's
    /// storage-size check for <c>set_</c>. Strides must be non-negative; an empty tensor reaches nothing.
    /// </summary>
    public static bool FitsStorage(long[] shape, long[] strides, long offset, long storageLength)
    {
        if (offset < 0 || shape.Length != strides.Length) return false;
        long last = offset;
        foreach (var s in shape) if (s < 0) return false;
        foreach (var s in strides) if (s < 0) return false;
        foreach (var s in shape) if (s == 0) return offset <= storageLength;
        for (int i = 0; i < shape.Length; i++)
        {
            // (size - 1) * stride, overflow-checked (a forged stride must not wrap around into range)
            if (strides[i] != 0 && shape[i] - 1 > (long.MaxValue - last) / strides[i]) return false;
            last += (shape[i] - 1) * strides[i];
        }
        return last < storageLength;
    }
}

internal static partial class TensorBytesExtensions
{
    /// <summary>A 1-D contiguous tensor over the values of <paramref name="t"/> in row-major order (a copy only when <paramref name="t"/> is not contiguous).</summary>
    public static Tensor FlatValues(this Tensor t)
    {
        var c = t.contiguous();
        return new Tensor(c._storage, new long[] { c._numel }, new long[] { 1 }, c._offset);
    }
}
