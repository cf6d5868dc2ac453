namespace Nabla;

/// <summary>
/// Nabla's caching allocator for tensor storage, as PyTorch's CUDA caching allocator (<c>torch.cuda.memory_stats</c>,
/// <c>torch.cuda.empty_cache</c>) but for the CPU. Buffers of 4 KiB and more are recycled: when the last tensor
/// over a buffer is disposed (<see cref="Tensor.Dispose"/>, or the end of a <see cref="torch.NewDisposeScope"/>),
/// the buffer is kept here and handed to the next tensor of the same size, which saves both the allocation and the
/// page faults of touching fresh memory. Tensors that are never disposed are simply garbage collected; their
/// buffers never come back here, so a cached buffer is never still in use.
/// </summary>
public static class MemoryPool
{
    static readonly object Lock = new();
    static readonly Dictionary<(Type, int), Stack<Array>> Free = new();
    static long _cachedBytes, _allocatedBytes, _hits, _misses, _returned, _dropped;
    static long _maxCachedBytes = 2L << 30;

    /// <summary>Bytes held in the cache, ready for reuse (not used by any tensor).</summary>
    public static long CachedBytes
    {
        get { lock (Lock) return _cachedBytes; }
    }

    /// <summary>
    /// The most bytes the cache keeps (default 2 GiB); a buffer returned beyond it is left to the garbage collector.
    /// Lowering it does not evict buffers already cached: call <see cref="EmptyCache"/> for that.
    /// </summary>
    public static long MaxCachedBytes
    {
        get => Interlocked.Read(ref _maxCachedBytes);
        set
        {
            if (value < 0) throw new ArgumentOutOfRangeException(nameof(value), "MaxCachedBytes must be non-negative");
            Interlocked.Exchange(ref _maxCachedBytes, value);
        }
    }

    /// <summary>Drops every cached buffer (they become garbage), as <c>torch.cuda.empty_cache()</c>.</summary>
    public static void EmptyCache()
    {
        lock (Lock)
        {
            Free.Clear();
            _cachedBytes = 0;
        }
    }

    /// <summary>
    /// Counters of the allocator, as <c>torch.cuda.memory_stats()</c>: <c>cached_bytes</c> (held for reuse),
    /// <c>allocated_bytes.all.allocated</c> (bytes of fresh poolable buffers allocated so far), <c>pool.hits</c> / <c>pool.misses</c> (requests served from the cache / by a fresh allocation),
    /// <c>pool.returned</c> (buffers handed back by disposed tensors) and <c>pool.dropped</c> (returned buffers left to
    /// the GC because the cache was full).
    /// </summary>
    public static IReadOnlyDictionary<string, long> memory_stats()
    {
        lock (Lock)
        {
            return new Dictionary<string, long>
            {
                ["cached_bytes"] = _cachedBytes,
                ["allocated_bytes.all.allocated"] = _allocatedBytes,
                ["pool.hits"] = _hits,
                ["pool.misses"] = _misses,
                ["pool.returned"] = _returned,
                ["pool.dropped"] = _dropped,
            };
        }
    }

    internal static T[]? TryRent<T>(int arrayLength) where T : unmanaged
    {
        lock (Lock)
        {
            if (Free.TryGetValue((typeof(T), arrayLength), out var stack) && stack.Count > 0)
            {
                var a = (T[])stack.Pop();
                _cachedBytes -= (long)arrayLength * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
                _hits++;
                return a;
            }
            _misses++;
            return null;
        }
    }

    internal static void NoteAllocation(long bytes)
    {
        lock (Lock) _allocatedBytes += bytes;
    }

    internal static void Return<T>(T[] array) where T : unmanaged
    {
        long bytes = (long)array.Length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        lock (Lock)
        {
            _returned++;
            if (_cachedBytes + bytes > _maxCachedBytes)
            {
                _dropped++;
                return;
            }
            var key = (typeof(T), array.Length);
            if (!Free.TryGetValue(key, out var stack)) Free[key] = stack = new Stack<Array>();
            stack.Push(array);
            _cachedBytes += bytes;
        }
    }
}
