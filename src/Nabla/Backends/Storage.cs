namespace Nabla.Backends;

/// <summary>
/// The flat buffer behind one or more tensors (views share it), on some device: its backend, element type, element
/// count, version counter and reference count. What the elements are made of is the backend's business
/// (<see cref="Cpu.CpuStorage{T}"/>: a pooled managed array; <see cref="Meta.MetaStorage"/>: nothing).
/// </summary>
internal abstract class Storage
{
    /// <summary>The backend that owns these elements and runs primitives on them.</summary>
    public abstract Backend Backend { get; }

    /// <summary>The device the elements live on.</summary>
    public Device Device => Backend.Device;

    /// <summary>Bumped by every in-place write through a tensor that shares this storage object (the version counter).</summary>
    internal int Version;

    /// <summary>Number of elements.</summary>
    public abstract int Length { get; }

    /// <summary>Element type.</summary>
    public abstract ScalarType DType { get; }

    /// <summary>A storage object over the same elements with its own version counter (<c>tensor.data</c>).</summary>
    public abstract Storage Alias();

    /// <summary>One more tensor uses these elements (Note [Storage reference count]).</summary>
    internal abstract void AddRef();

    /// <summary>A tensor using these elements was disposed; at zero the buffer may be recycled.</summary>
    internal abstract void Release();

    /// <summary>Allocation order of this buffer (0 for wrapped caller arrays); see Note [Stealing gradients].</summary>
    internal long Serial;

    // Serials count per thread (no interlocked operation per allocation) and carry the thread's index in their high
    // bits, so a serial taken on one thread only compares "newer" with buffers that same thread allocated later.
    [ThreadStatic] static long t_serial;
    static int s_threads;

    /// <summary>This thread's latest allocation serial; buffers this thread allocates later compare greater.</summary>
    internal static long CurrentSerial => t_serial != 0 ? t_serial : (t_serial = (long)Interlocked.Increment(ref s_threads) << 40);

    /// <summary>A new allocation serial for this thread.</summary>
    protected static long NextSerial()
    {
        if (t_serial == 0) _ = CurrentSerial;
        return ++t_serial;
    }

    /// <summary>True when this buffer was allocated by the current thread after <paramref name="serial"/> was taken.</summary>
    internal bool AllocatedSince(long serial) => Serial > serial && Serial <= t_serial;

    /// <summary>Identifies the buffer: storages that alias one buffer (views, <c>.data</c>) return the same object.</summary>
    internal abstract object BufferId { get; }

    /// <summary>A storage of the same dtype that throws <see cref="ObjectDisposedException"/> on any element access.</summary>
    internal abstract Storage DisposedSentinel { get; }

    /// <summary>
    /// Moves the buffer to a new handle held by one tensor only, leaving this storage's handle empty: other tensors
    /// over it (unreachable intermediates; see Note [Stealing gradients]) then own nothing, so disposing them is a
    /// no-op and the buffer returns to the pool when its one remaining owner is disposed.
    /// </summary>
    internal abstract Storage Rehome();

    /// <summary>True when exactly one tensor counts a reference to this buffer.</summary>
    internal abstract bool IsSoleOwner { get; }
}
