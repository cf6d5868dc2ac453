using System.Runtime.InteropServices;

namespace Nabla.Backends.Cpu;

// Note [Aligned storage]
// A managed T[] starts 16 bytes past a 64-byte boundary, so every Vector512 load straddles two cache lines
// and a streaming sum runs at about half speed (shared/bench/WORKLOADS.md). Buffers of at least
// BufferPool.AlignThresholdBytes get 64 bytes of slack and the storage starts at the first 64-byte boundary
// inside the array. From BufferPool.PinThresholdBytes on they are pinned, so the aligned start stays aligned for
// the array's lifetime; smaller ones are ordinary arrays (pinned ones would land on the pinned heap, which only a
// gen-2 GC collects, and a training loop's temporaries then cost gen-2 collections): if the GC moves one, its
// start is no longer aligned, which costs speed, never correctness (kernels index from Start, and pin with
// `fixed` where they take pointers). Small buffers stay plain arrays with no slack. Buffers from the aligned
// sizes on are recycled through MemoryPool when their tensors are disposed (Note [Storage reference count]).

// Note [Storage reference count]
// The elements live in a BufferHandle<T> shared by every CpuStorage<T> over them (Alias() for .data shares it too).
// Every Tensor constructed over a storage adds one reference (Tensor's constructor and the .data setter);
// Tensor.Dispose() (directly or through a dispose scope) removes it once. When the count reaches zero the handle
// forgets its array and, if the array came from the pool, hands it back to MemoryPool for reuse. Any later access
// through a storage of that handle throws ObjectDisposedException instead of reading a buffer that may already
// belong to another tensor. Tensors that are never disposed keep their reference: their buffers go back to the
// GC, never to the pool, so the pool can only ever receive a buffer nobody can reach. Finalizers never return
// buffers (a kernel on another thread may still hold the array).

/// <summary>The shared, reference-counted owner of one element array (see Note [Storage reference count]).</summary>
internal sealed class BufferHandle<T> where T : unmanaged
{
    internal T[]? Array;
    internal int RefCount;
    internal readonly bool Pooled;

    /// <summary>
    /// Set once this buffer takes part in lazy fusion (a deferred result, or a source a deferred result still reads);
    /// then <see cref="Array"/> is only the published copy of <see cref="LazyBuffer{T}.Backing"/> (Note [Lazy fusion]).
    /// </summary>
    internal LazyBuffer<T>? Lazy;

    public BufferHandle(T[]? array, bool pooled)
    {
        Array = array;
        Pooled = pooled;
    }

    /// <summary>A handle with no array: every access throws.</summary>
    internal static readonly BufferHandle<T> Disposed = new(null, false);

    public void AddRef() => Interlocked.Increment(ref RefCount);

    public void Release()
    {
        if (Interlocked.Decrement(ref RefCount) != 0) return;
        if (Volatile.Read(ref Lazy) is { } lazy)
        {
            lazy.OnLastRelease(this);
            return;
        }
        var array = Interlocked.Exchange(ref Array, null);
        if (array is not null && Pooled) MemoryPool.Return(array);
    }
}

/// <summary>Typed storage: a reference-counted managed array plus the start of the tensor data inside it.</summary>
internal sealed class CpuStorage<T> : Storage where T : unmanaged
{
    readonly BufferHandle<T> _handle;
    internal readonly int Start;
    readonly int _length;

    public CpuStorage(int length, bool zero)
    {
        if (length < 0) throw new ArgumentException($"Trying to create tensor with negative dimension {length}");
        var (array, start, pooled) = BufferPool.Rent<T>(length, zero);
        _handle = new BufferHandle<T>(array, pooled);
        Serial = NextSerial();
        Start = start;
        _length = length;
    }

    /// <summary>Storage over a caller-owned array (never returned to the pool).</summary>
    public CpuStorage(T[] array, int start, int length)
    {
        _handle = new BufferHandle<T>(array, pooled: false);
        Start = start;
        _length = length;
    }

    CpuStorage(BufferHandle<T> handle, int start, int length)
    {
        _handle = handle;
        Start = start;
        _length = length;
    }

    /// <summary>The element array; throws <see cref="ObjectDisposedException"/> once the tensors over it were disposed.</summary>
    internal T[] Array
    {
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        get => _handle.Array ?? Resolve();
    }

    /// <summary>The slow path of <see cref="Array"/>: a deferred result is computed, the deferred results still reading this buffer are computed first (Note [Lazy fusion]), else the buffer was disposed.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    T[] Resolve() => Volatile.Read(ref _handle.Lazy) is { } lazy ? lazy.Resolve(_handle) : ThrowDisposed();

    internal BufferHandle<T> Handle => _handle;

    /// <summary>A storage whose elements a deferred expression will write on first access (Note [Lazy fusion]).</summary>
    internal static CpuStorage<T> Deferred(int length, PendingExpr<T> expr)
    {
        var (array, start, pooled) = BufferPool.Rent<T>(length, zero: false);
        var handle = new BufferHandle<T>(null, pooled);
        handle.Lazy = new LazyBuffer<T>(handle, array, start, length, expr);
        return new CpuStorage<T>(handle, start, length) { Serial = NextSerial() };
    }

    internal static T[] ThrowDisposed() => throw new ObjectDisposedException("Tensor",
        "Cannot access a disposed tensor: it was disposed (Tensor.Dispose() or the end of its torch.NewDisposeScope()) " +
        "and its buffer may already hold another tensor's data. Keep it with MoveToOuterDisposeScope() or DetachFromDisposeScope().");

    public override int Length => _length;

    public override ScalarType DType => DTypeOf<T>.Value;

    public override Backend Backend => CpuBackend.Instance;

    public Span<T> Span => new(Array, Start, _length);

    public override Storage Alias() => new CpuStorage<T>(_handle, Start, _length) { Serial = Serial };

    internal override void AddRef() => _handle.AddRef();

    internal override void Release() => _handle.Release();

    internal override object BufferId => _handle;

    internal override bool IsSoleOwner => Volatile.Read(ref _handle.RefCount) == 1;

    internal override Storage Rehome()
    {
        T[] array;
        if (Volatile.Read(ref _handle.Lazy) is { } lazy)
        {
            _ = Array; // compute a deferred result / the deferred results reading this buffer first
            array = lazy.Detach(_handle) ?? ThrowDisposed();
        }
        else array = Interlocked.Exchange(ref _handle.Array, null) ?? ThrowDisposed();
        var handle = new BufferHandle<T>(array, _handle.Pooled) { RefCount = 1 };
        return new CpuStorage<T>(handle, Start, _length) { Serial = Serial, Version = Version };
    }

    static readonly CpuStorage<T> Sentinel = new(BufferHandle<T>.Disposed, 0, 0);

    internal override Storage DisposedSentinel => Sentinel;
}

/// <summary>Where storage buffers come from.</summary>
internal static class BufferPool
{
    /// <summary>Buffers at least this large are 64-byte aligned and pooled (Note [Aligned storage]).</summary>
    public const int AlignThresholdBytes = 4096;

    /// <summary>Buffers at least this large are pinned (they live on the large/pinned heaps, which never compact).</summary>
    public const int PinThresholdBytes = 1 << 20;

    public static (T[] Array, int Start, bool Pooled) Rent<T>(int length, bool zero) where T : unmanaged
    {
        int size = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        if ((long)length * size < AlignThresholdBytes)
            return (length == 0 ? System.Array.Empty<T>() : new T[length], 0, false);
        int slack = 64 / size;
        int arrayLength = length + slack;
        T[]? array = MemoryPool.TryRent<T>(arrayLength);
        if (array is not null)
        {
            int s = AlignedStart(array, size);
            if (zero) System.Array.Clear(array, s, length);
            return (array, s, true);
        }
        bool pinned = (long)arrayLength * size >= PinThresholdBytes;
        array = zero
            ? GC.AllocateArray<T>(arrayLength, pinned)
            : GC.AllocateUninitializedArray<T>(arrayLength, pinned);
        MemoryPool.NoteAllocation((long)arrayLength * size);
        return (array, AlignedStart(array, size), true);
    }

    /// <summary>The first index at a 64-byte boundary (exact while the array does not move: see Note [Aligned storage]).</summary>
    static unsafe int AlignedStart<T>(T[] array, int size) where T : unmanaged
    {
        long address = (long)System.Runtime.CompilerServices.Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
        int misalignment = (int)(address & 63);
        return misalignment == 0 ? 0 : (64 - misalignment) / size;
    }
}
