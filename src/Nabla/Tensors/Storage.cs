using System.Runtime.InteropServices;

namespace Nabla;

/// <summary>
/// The flat buffer behind one or more tensors (views share it). Elements live in a managed array so the GC owns
/// them; large buffers are pinned and start on a 64-byte boundary (see Note [Aligned storage]).
/// </summary>
internal abstract class Storage
{
    /// <summary>Bumped by every in-place write through a tensor that shares this storage object (the version counter).</summary>
    internal int Version;

    /// <summary>Number of elements.</summary>
    public abstract int Length { get; }

    /// <summary>Element type.</summary>
    public abstract ScalarType DType { get; }

    /// <summary>A storage object over the same elements with its own version counter (<c>tensor.data</c>).</summary>
    public abstract Storage Alias();

    /// <summary>Allocates <paramref name="length"/> elements of <paramref name="dtype"/>, zero-filled when asked.</summary>
    public static Storage Allocate(ScalarType dtype, int length, bool zero = true) => dtype switch
    {
        ScalarType.Float32 => new Storage<float>(length, zero),
        ScalarType.Float64 => new Storage<double>(length, zero),
        ScalarType.Int64 => new Storage<long>(length, zero),
        ScalarType.Int32 => new Storage<int>(length, zero),
        ScalarType.Bool => new Storage<bool>(length, zero),
        _ => throw new NotSupportedException($"dtype {dtype} is not supported"),
    };
}

// Note [Aligned storage]
// A managed T[] starts 16 bytes past a 64-byte boundary, so every Vector512 load straddles two cache lines
// and a streaming sum runs at about half speed (shared/bench/WORKLOADS.md). Buffers of at least
// BufferPool.AlignThresholdBytes are allocated pinned on the pinned object heap with 64 bytes of slack, and
// the storage starts at the first 64-byte boundary inside the array. Small buffers stay ordinary arrays: for
// them the allocation cost matters more than alignment. Pinned arrays never move, so the aligned start stays
// aligned for the array's lifetime, and the GC still owns the memory (no Dispose needed for correctness).

/// <summary>Typed storage: a managed array plus the start of the tensor data inside it.</summary>
internal sealed class Storage<T> : Storage where T : unmanaged
{
    internal readonly T[] Array;
    internal readonly int Start;
    readonly int _length;

    public Storage(int length, bool zero)
    {
        if (length < 0) throw new ArgumentException($"Trying to create tensor with negative dimension {length}");
        (Array, Start) = BufferPool.Rent<T>(length, zero);
        _length = length;
    }

    public Storage(T[] array, int start, int length)
    {
        Array = array;
        Start = start;
        _length = length;
    }

    public override int Length => _length;

    public override ScalarType DType => DTypeOf<T>.Value;

    public Span<T> Span => new(Array, Start, _length);

    public override Storage Alias() => new Storage<T>(Array, Start, _length);
}

/// <summary>Maps a C# element type to its <see cref="ScalarType"/>.</summary>
internal static class DTypeOf<T>
{
    public static readonly ScalarType Value =
        typeof(T) == typeof(float) ? ScalarType.Float32 :
        typeof(T) == typeof(double) ? ScalarType.Float64 :
        typeof(T) == typeof(long) ? ScalarType.Int64 :
        typeof(T) == typeof(int) ? ScalarType.Int32 :
        typeof(T) == typeof(bool) ? ScalarType.Bool :
        (ScalarType)(-1);
}

/// <summary>Where storage buffers come from.</summary>
internal static class BufferPool
{
    /// <summary>Buffers at least this large are pinned and 64-byte aligned.</summary>
    public const int AlignThresholdBytes = 4096;

    public static (T[] Array, int Start) Rent<T>(int length, bool zero) where T : unmanaged
    {
        int size = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        if ((long)length * size < AlignThresholdBytes)
            return (length == 0 ? System.Array.Empty<T>() : new T[length], 0);
        int slack = 64 / size;
        T[] array = zero
            ? GC.AllocateArray<T>(length + slack, pinned: true)
            : GC.AllocateUninitializedArray<T>(length + slack, pinned: true);
        long address = Marshal.UnsafeAddrOfPinnedArrayElement(array, 0).ToInt64();
        int misalignment = (int)(address & 63);
        int start = misalignment == 0 ? 0 : (64 - misalignment) / size;
        return (array, start);
    }
}
