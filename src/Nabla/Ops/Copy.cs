using Nabla.Autograd;

namespace Nabla.Ops;

/// <summary>The copy family: clone, dtype conversion and device transfer, each recorded for autograd.</summary>
internal static class Copy
{
    // clone: the identity. A dtype or device conversion: the gradient moved back to the input's device (args); the
    // engine casts it back to the input's dtype.
    static readonly Rule CloneRule = Rule.Unary("CloneBackward0", Needs.None, static (g, s) => g);
    static readonly Rule ToCopyRule = Rule.Unary("ToCopyBackward0", Needs.None, static (g, s) => g.to((Device)s.Args!));

    /// <summary>A copy with its own storage on the same device (recorded as <c>CloneBackward0</c>).</summary>
    public static Tensor Clone(Tensor self)
    {
        var result = Tensor.EmptyLike(self, self._dtype, self._shape);
        Raw.CopyInto(result, self);
        return CloneRule.Record(result, self);
    }

    /// <summary><paramref name="self"/> converted to <paramref name="dtype"/> (recorded as <c>ToCopyBackward0</c> for float results).</summary>
    public static Tensor ToDType(Tensor self, ScalarType dtype)
    {
        var result = Raw.ToDType(self, dtype);
        if (!dtype.IsFloatingPoint()) return result;
        return ToCopyRule.Record(result, self, args: self.device);
    }

    /// <summary>
    /// <paramref name="self"/> on <paramref name="device"/>: the tensor itself when already there (unless
    /// <paramref name="copy"/>), else a copy on the target device recorded as <c>ToCopyBackward0</c>.
    /// </summary>
    public static Tensor ToDevice(Tensor self, Device device, bool copy)
    {
        var target = Backend.For(device);
        if (ReferenceEquals(target, self.Backend) && !copy) return self;
        var result = Tensor.EmptyOn(target, self._dtype, self._shape);
        Transfer(result, self);
        return ToCopyRule.Record(result, self, args: self.device);
    }

    /// <summary>Copies the elements of <paramref name="src"/> into <paramref name="dst"/> (same shape and dtype) across devices.</summary>
    internal static void Transfer(Tensor dst, Tensor src)
    {
        if (ReferenceEquals(dst.Backend, src.Backend)) { Raw.CopyInto(dst, src); return; }
        if (dst._numel == 0) return;
        // Through host memory: the only cross-device path today (cpu <-> meta; meta has no data to give).
        switch (src._dtype)
        {
            case ScalarType.Float32: TransferT<float>(dst, src); break;
            case ScalarType.Float64: TransferT<double>(dst, src); break;
            case ScalarType.Int64: TransferT<long>(dst, src); break;
            case ScalarType.Int32: TransferT<int>(dst, src); break;
            default: TransferT<bool>(dst, src); break;
        }
    }

    static void TransferT<T>(Tensor dst, Tensor src) where T : unmanaged
    {
        if (dst.is_meta) return;
        var host = new T[src._numel];
        src.Backend.CopyToHost<T>(src.Raw, host);
        dst.Backend.CopyFromHost<T>(dst.Raw, host);
    }
}
