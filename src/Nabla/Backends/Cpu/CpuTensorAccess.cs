namespace Nabla.Backends.Cpu;

/// <summary>
/// Direct element access to CPU tensors, for the op files that still run their own loops instead of calling a
/// backend primitive. Every file that uses it is listed as unfinished in the architecture test
/// (tests/Nabla.Tests/ArchitectureTests.cs); moving its loop behind the wall removes it from that list.
/// </summary>
internal static class CpuTensorAccess
{
    /// <summary>The storage span starting at element 0 of the storage (not at the tensor's offset).</summary>
    internal static Span<T> StorageSpan<T>(this Tensor t) where T : unmanaged => Cpu<T>(t).Span;

    /// <summary>The CPU storage of <paramref name="t"/>; a clear error for a tensor on another device.</summary>
    static CpuStorage<T> Cpu<T>(Tensor t) where T : unmanaged => t._storage as CpuStorage<T> ?? throw NotOnCpu<T>(t);

    static Exception NotOnCpu<T>(Tensor t) where T : unmanaged => t._storage.Device.type == DeviceType.CPU
        ? new InvalidOperationException($"expected scalar type {DTypeOf<T>.Value.CppScalarName()} but found {t._dtype.CppScalarName()}")
        : new NotSupportedException($"This operation is not implemented for device '{t._storage.Device}' yet: it still runs on the CPU only.");

    /// <summary>The elements of a contiguous tensor, in order. The caller must ensure contiguity.</summary>
    internal static Span<T> Contiguous<T>(this Tensor t) where T : unmanaged
    {
        var s = Cpu<T>(t);
        return new Span<T>(s.Array, s.Start + t._offset, t._numel);
    }
}
