namespace Nabla.Backends.Cpu;

/// <summary>
/// Direct element access to CPU tensors, for the op files that still run their own loops instead of calling a
/// backend primitive. Every file that uses it is listed as unfinished in the architecture test
/// (tests/Nabla.Tests/ArchitectureTests.cs); moving its loop behind the wall removes it from that list.
/// </summary>
internal static class CpuTensorAccess
{
    /// <summary>The storage span starting at element 0 of the storage (not at the tensor's offset).</summary>
    internal static Span<T> StorageSpan<T>(this Tensor t) where T : unmanaged => ((CpuStorage<T>)t._storage).Span;

    /// <summary>The elements of a contiguous tensor, in order. The caller must ensure contiguity.</summary>
    internal static Span<T> Contiguous<T>(this Tensor t) where T : unmanaged
    {
        var s = (CpuStorage<T>)t._storage;
        return new Span<T>(s.Array, s.Start + t._offset, t._numel);
    }
}
