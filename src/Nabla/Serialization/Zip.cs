using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Nabla.Serialization;

/// <summary>One member of a zip archive, located and range-checked.</summary>
internal sealed record ZipEntry(string Name, int Method, long CompressedSize, long Size, long DataOffset, uint Crc);

// Note [Own zip reader]
// PyTorch's checkpoints are zip archives of stored (uncompressed) members whose data starts on 64-byte boundaries.
// The reader here parses the end-of-central-directory record (and its zip64 form), the central directory and each
// member's local header itself, so that every size and offset is checked against the file's length before anything
// is read or allocated (System.IO.Compression.ZipArchive would surface forged sizes as exceptions of other types, or
// read data we never asked for). Members may be stored or deflated; a deflated member's claimed size must be
// reachable from its compressed size (deflate expands at most ~1032x), so a forged size cannot force a huge
// allocation. CRCs are not verified on load (PyTorch's own reader does not either for tensor data); they protect
// against corruption only, and the structural checks already bound what a corrupt file can do.

/// <summary>Reads the central directory of a zip archive (see Note [Own zip reader]).</summary>
internal static class ZipReader
{
    const uint EocdSig = 0x06054b50, Zip64EocdSig = 0x06064b50, Zip64LocatorSig = 0x07064b50, CentralSig = 0x02014b50, LocalSig = 0x04034b50;

    /// <summary>True when the source starts like a zip archive (a local file header).</summary>
    public static bool LooksLikeZip(ByteSource src)
    {
        if (src.Length < 4) return false;
        Span<byte> b = stackalloc byte[4];
        src.Read(0, b, "the file header");
        return BinaryPrimitives.ReadUInt32LittleEndian(b) == LocalSig;
    }

    /// <summary>The members of the archive, in central-directory order.</summary>
    public static List<ZipEntry> ReadEntries(ByteSource src)
    {
        long length = src.Length;
        int tailLength = (int)Math.Min(length, 22 + 65535);
        var tail = src.ReadArray(length - tailLength, tailLength, "the zip end record");
        int eocd = -1;
        for (int i = tailLength - 22; i >= 0; i--)
            if (BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(i)) == EocdSig) { eocd = i; break; }
        if (eocd < 0) throw new InvalidDataException("not a valid zip archive: no end of central directory record (the file is truncated or not a PyTorch zip checkpoint)");
        var e = tail.AsSpan(eocd);
        long count = BinaryPrimitives.ReadUInt16LittleEndian(e[10..]);
        long cdSize = BinaryPrimitives.ReadUInt32LittleEndian(e[12..]);
        long cdOffset = BinaryPrimitives.ReadUInt32LittleEndian(e[16..]);
        long eocdPos = length - tailLength + eocd;
        if (count == 0xFFFF || cdSize == 0xFFFFFFFF || cdOffset == 0xFFFFFFFF)
        {
            if (eocdPos < 20) throw new InvalidDataException("zip64 archive without its zip64 end record locator");
            Span<byte> loc = stackalloc byte[20];
            src.Read(eocdPos - 20, loc, "the zip64 end record locator");
            if (BinaryPrimitives.ReadUInt32LittleEndian(loc) != Zip64LocatorSig) throw new InvalidDataException("zip64 archive without its zip64 end record locator");
            long z64 = (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(loc[8..]), long.MaxValue);
            Span<byte> rec = stackalloc byte[56];
            src.Read(z64, rec, "the zip64 end record");
            if (BinaryPrimitives.ReadUInt32LittleEndian(rec) != Zip64EocdSig) throw new InvalidDataException("corrupt zip64 end of central directory record");
            count = (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(rec[32..]), long.MaxValue);
            cdSize = (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(rec[40..]), long.MaxValue);
            cdOffset = (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(rec[48..]), long.MaxValue);
        }
        if (cdOffset > length || cdSize > length - cdOffset || count > cdSize / 46)
            throw new InvalidDataException($"corrupt zip central directory ({count} entries, {cdSize} bytes at {cdOffset}, file of {length} bytes)");
        var cd = src.ReadArray(cdOffset, cdSize, "the zip central directory");
        var entries = new List<ZipEntry>((int)count);
        int p = 0;
        Span<byte> local = stackalloc byte[30];
        for (long n = 0; n < count; n++)
        {
            if (cd.Length - p < 46 || BinaryPrimitives.ReadUInt32LittleEndian(cd.AsSpan(p)) != CentralSig)
                throw new InvalidDataException("corrupt zip central directory entry");
            var h = cd.AsSpan(p);
            int method = BinaryPrimitives.ReadUInt16LittleEndian(h[10..]);
            uint crc = BinaryPrimitives.ReadUInt32LittleEndian(h[16..]);
            long comp = BinaryPrimitives.ReadUInt32LittleEndian(h[20..]);
            long size = BinaryPrimitives.ReadUInt32LittleEndian(h[24..]);
            int nameLen = BinaryPrimitives.ReadUInt16LittleEndian(h[28..]);
            int extraLen = BinaryPrimitives.ReadUInt16LittleEndian(h[30..]);
            int commentLen = BinaryPrimitives.ReadUInt16LittleEndian(h[32..]);
            long lho = BinaryPrimitives.ReadUInt32LittleEndian(h[42..]);
            if (cd.Length - p - 46 < nameLen + extraLen + commentLen) throw new InvalidDataException("corrupt zip central directory entry (name or extra field past its end)");
            string name = Encoding.UTF8.GetString(h.Slice(46, nameLen));
            var extra = h.Slice(46 + nameLen, extraLen);
            while (extra.Length >= 4)
            {
                int id = BinaryPrimitives.ReadUInt16LittleEndian(extra);
                int len = BinaryPrimitives.ReadUInt16LittleEndian(extra[2..]);
                if (len > extra.Length - 4) throw new InvalidDataException($"corrupt zip extra field in entry '{name}'");
                if (id == 1)
                {
                    var z = extra.Slice(4, len);
                    long Next(ref Span<byte> s)
                    {
                        if (s.Length < 8) throw new InvalidDataException($"corrupt zip64 extra field in entry '{name}'");
                        long v = (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(s), long.MaxValue);
                        s = s[8..];
                        return v;
                    }
                    if (size == 0xFFFFFFFF) size = Next(ref z);
                    if (comp == 0xFFFFFFFF) comp = Next(ref z);
                    if (lho == 0xFFFFFFFF) lho = Next(ref z);
                }
                extra = extra[(4 + len)..];
            }
            p += 46 + nameLen + extraLen + commentLen;

            src.Read(lho, local, $"the local header of zip entry '{name}'");
            if (BinaryPrimitives.ReadUInt32LittleEndian(local) != LocalSig) throw new InvalidDataException($"corrupt local header of zip entry '{name}'");
            long dataOffset = lho + 30 + BinaryPrimitives.ReadUInt16LittleEndian(local[26..]) + BinaryPrimitives.ReadUInt16LittleEndian(local[28..]);
            if (dataOffset > length || comp > length - dataOffset)
                throw new InvalidDataException($"zip entry '{name}' claims {comp} bytes at offset {dataOffset}, beyond the end of the file ({length} bytes): the file is truncated or corrupt");
            if (method == 0 && comp != size) throw new InvalidDataException($"stored zip entry '{name}' has compressed size {comp} != size {size}");
            if (method == 8 && size / 1032 > comp + 1) throw new InvalidDataException($"deflated zip entry '{name}' claims {size} bytes from {comp} compressed bytes");
            if (method != 0 && method != 8) throw new InvalidDataException($"zip entry '{name}' uses compression method {method}; only stored and deflated entries can be read");
            entries.Add(new ZipEntry(name, method, comp, size, dataOffset, crc));
        }
        return entries;
    }

    /// <summary>Chunk size for streaming member data into tensors.</summary>
    public const int ChunkBytes = 1 << 20;

    /// <summary>
    /// Streams the member's bytes to <paramref name="sink"/> in chunks (each a whole number of
    /// <paramref name="granule"/>-byte elements except possibly the last).
    /// </summary>
    public static void ReadEntry(ByteSource src, ZipEntry entry, int granule, Action<Span<byte>, long> sink)
    {
        int chunk = ChunkBytes - ChunkBytes % granule;
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(chunk, Math.Max(entry.Size, granule)));
        try
        {
            if (entry.Method == 0)
            {
                for (long done = 0; done < entry.Size;)
                {
                    int n = (int)Math.Min(Math.Min(chunk, buffer.Length - buffer.Length % granule), entry.Size - done);
                    var span = buffer.AsSpan(0, n);
                    src.Read(entry.DataOffset + done, span, $"zip entry '{entry.Name}'");
                    sink(span, done);
                    done += n;
                }
            }
            else
            {
                using var deflate = new DeflateStream(new RangeStream(src, entry.DataOffset, entry.CompressedSize), CompressionMode.Decompress);
                int cap = buffer.Length - buffer.Length % granule;
                for (long done = 0; done < entry.Size;)
                {
                    int n = (int)Math.Min(cap, entry.Size - done);
                    var span = buffer.AsSpan(0, n);
                    try { deflate.ReadExactly(span); }
                    catch (EndOfStreamException) { throw new InvalidDataException($"deflated zip entry '{entry.Name}' is shorter than its claimed size {entry.Size}"); }
                    sink(span, done);
                    done += n;
                }
            }
        }
        finally { ArrayPool<byte>.Shared.Return(buffer); }
    }

    /// <summary>The whole member as an array (for small members such as data.pkl; the size was checked against the file).</summary>
    public static byte[] ReadAll(ByteSource src, ZipEntry entry)
    {
        if (entry.Size > Array.MaxLength) throw new InvalidDataException($"zip entry '{entry.Name}' is too large ({entry.Size} bytes)");
        var result = new byte[entry.Size];
        ReadEntry(src, entry, 1, (span, at) => span.CopyTo(result.AsSpan((int)at)));
        return result;
    }

    /// <summary>A read-only stream over a byte range of a source (feeds DeflateStream).</summary>
    sealed class RangeStream(ByteSource src, long start, long length) : Stream
    {
        long _pos;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _pos; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
        public override int Read(Span<byte> buffer)
        {
            int n = (int)Math.Min(buffer.Length, length - _pos);
            if (n <= 0) return 0;
            src.Read(start + _pos, buffer[..n], "deflated zip data");
            _pos += n;
            return n;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
