using Microsoft.Win32.SafeHandles;

namespace Nabla.Serialization;

/// <summary>
/// Random-access bytes of a file being loaded: every read names its offset and is bounds-checked against the
/// length, so a forged offset surfaces as <see cref="InvalidDataException"/>, never as an out-of-range read.
/// </summary>
internal abstract class ByteSource : IDisposable
{
    /// <summary>Total number of bytes.</summary>
    public abstract long Length { get; }

    /// <summary>Reads exactly <c>buffer.Length</c> bytes at <paramref name="offset"/> (callers check the range first).</summary>
    protected abstract void ReadCore(long offset, Span<byte> buffer);

    /// <summary>Reads exactly <c>buffer.Length</c> bytes at <paramref name="offset"/>, or throws <see cref="InvalidDataException"/> naming <paramref name="what"/>.</summary>
    public void Read(long offset, Span<byte> buffer, string what)
    {
        if (offset < 0 || offset > Length || buffer.Length > Length - offset)
            throw new InvalidDataException($"{what} lies outside the file (bytes {offset}..{offset + (long)buffer.Length} of {Length}): the file is truncated or corrupt");
        ReadCore(offset, buffer);
    }

    /// <summary>Reads <paramref name="count"/> bytes at <paramref name="offset"/> into a new array (range checked before allocating).</summary>
    public byte[] ReadArray(long offset, long count, string what)
    {
        if (count < 0 || offset < 0 || offset > Length || count > Length - offset)
            throw new InvalidDataException($"{what} lies outside the file (bytes {offset}..{offset + count} of {Length}): the file is truncated or corrupt");
        if (count > Array.MaxLength) throw new InvalidDataException($"{what} is too large ({count} bytes)");
        var result = new byte[count];
        ReadCore(offset, result);
        return result;
    }

    /// <inheritdoc/>
    public virtual void Dispose() { }

    /// <summary>A source over a file opened for reading.</summary>
    public static ByteSource OpenFile(string path) => new FileSource(File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess));

    /// <summary>A source over a stream: seekable streams are read in place, others are read into memory first.</summary>
    public static ByteSource FromStream(Stream stream)
    {
        if (stream.CanSeek) return new StreamSource(stream);
        var copy = new MemoryStream();
        stream.CopyTo(copy);
        return new MemorySource(copy.GetBuffer(), (int)copy.Length);
    }

    sealed class FileSource(SafeFileHandle handle) : ByteSource
    {
        readonly long _length = RandomAccess.GetLength(handle);
        public override long Length => _length;

        protected override void ReadCore(long offset, Span<byte> buffer)
        {
            while (buffer.Length > 0)
            {
                int n = RandomAccess.Read(handle, buffer, offset);
                if (n <= 0) throw new InvalidDataException("the file ended early (it was truncated while being read)");
                buffer = buffer[n..];
                offset += n;
            }
        }

        public override void Dispose() => handle.Dispose();
    }

    sealed class StreamSource(Stream stream) : ByteSource
    {
        readonly long _start = stream.Position;
        readonly long _length = stream.Length - stream.Position;
        public override long Length => _length;

        protected override void ReadCore(long offset, Span<byte> buffer)
        {
            stream.Position = _start + offset;
            stream.ReadExactly(buffer);
        }
    }

    internal sealed class MemorySource(byte[] bytes, int length) : ByteSource
    {
        public override long Length => length;
        protected override void ReadCore(long offset, Span<byte> buffer) => bytes.AsSpan((int)offset, buffer.Length).CopyTo(buffer);
    }
}
