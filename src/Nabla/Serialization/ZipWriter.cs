using System.Buffers.Binary;
using System.Text;

namespace Nabla.Serialization;

/// <summary>CRC-32 (IEEE 802.3, as zip uses), slicing by eight bytes.</summary>
internal static class Crc32
{
    static readonly uint[] Table = Build();

    static uint[] Build()
    {
        var t = new uint[8 * 256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[i] = c;
        }
        for (int i = 0; i < 256; i++)
            for (int s = 1; s < 8; s++) t[s * 256 + i] = (t[(s - 1) * 256 + i] >> 8) ^ t[t[(s - 1) * 256 + i] & 0xFF];
        return t;
    }

    /// <summary>Continues a CRC (start with 0) over <paramref name="data"/>.</summary>
    public static uint Update(uint crc, ReadOnlySpan<byte> data)
    {
        var t = Table;
        crc = ~crc;
        while (data.Length >= 8)
        {
            uint a = BinaryPrimitives.ReadUInt32LittleEndian(data) ^ crc;
            uint b = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
            crc = t[7 * 256 + (a & 0xFF)] ^ t[6 * 256 + ((a >> 8) & 0xFF)] ^ t[5 * 256 + ((a >> 16) & 0xFF)] ^ t[4 * 256 + (a >> 24)]
                ^ t[3 * 256 + (b & 0xFF)] ^ t[2 * 256 + ((b >> 8) & 0xFF)] ^ t[256 + ((b >> 16) & 0xFF)] ^ t[b >> 24];
            data = data[8..];
        }
        foreach (var x in data) crc = t[(crc ^ x) & 0xFF] ^ (crc >> 8);
        return ~crc;
    }
}

/// <summary>
/// Writes a zip archive of stored (uncompressed) members whose data starts on 64-byte boundaries, as PyTorch's
/// <c>PyTorchStreamWriter</c> does (padding in an extra field with id "FB"), with zip64 records when sizes or
/// offsets pass 4 GiB. Members are written one after the other; each one's size is known before its data.
/// </summary>
internal sealed class ZipWriter : IDisposable
{
    const int Alignment = 64;
    readonly Stream _out;
    readonly bool _leaveOpen;
    long _pos;
    readonly List<(string Name, long Offset, long Size, uint Crc)> _entries = new();

    public ZipWriter(Stream output, bool leaveOpen)
    {
        _out = output;
        _leaveOpen = leaveOpen;
    }

    /// <summary>Writes a small member from memory.</summary>
    public void Add(string name, ReadOnlySpan<byte> data)
    {
        var copy = data.ToArray();
        Add(name, copy.Length, write => write(copy));
    }

    /// <summary>
    /// Writes a member of exactly <paramref name="size"/> bytes: <paramref name="produce"/> calls its argument with
    /// consecutive chunks. The CRC is computed on the way and patched into the local header (seekable output) or
    /// written in a data descriptor (other streams).
    /// </summary>
    public void Add(string name, long size, Action<Action<ReadOnlyMemory<byte>>> produce)
    {
        var nameBytes = Encoding.UTF8.GetBytes(name);
        bool zip64 = size >= 0xFFFFFFFF;
        bool seekable = _out.CanSeek;
        long headerAt = _pos;
        int z64Len = zip64 ? 20 : 0;
        int fixedLen = 30 + nameBytes.Length + z64Len + 4;          // + 4: the "FB" padding field header
        int pad = (int)((Alignment - (headerAt + fixedLen) % Alignment) % Alignment);
        var header = new byte[fixedLen + pad];
        var h = header.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(h, 0x04034b50);
        BinaryPrimitives.WriteUInt16LittleEndian(h[4..], (ushort)(zip64 ? 45 : 20));
        BinaryPrimitives.WriteUInt16LittleEndian(h[6..], (ushort)(seekable ? 0 : 0x08));
        BinaryPrimitives.WriteUInt16LittleEndian(h[8..], 0);                                   // stored
        BinaryPrimitives.WriteUInt16LittleEndian(h[10..], 0);                                  // time
        BinaryPrimitives.WriteUInt16LittleEndian(h[12..], 0x21);                               // date 1980-01-01
        BinaryPrimitives.WriteUInt32LittleEndian(h[14..], 0);                                  // crc (patched)
        BinaryPrimitives.WriteUInt32LittleEndian(h[18..], zip64 ? 0xFFFFFFFF : (uint)size);
        BinaryPrimitives.WriteUInt32LittleEndian(h[22..], zip64 ? 0xFFFFFFFF : (uint)size);
        BinaryPrimitives.WriteUInt16LittleEndian(h[26..], (ushort)nameBytes.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(h[28..], (ushort)(z64Len + 4 + pad));
        nameBytes.CopyTo(h[30..]);
        int x = 30 + nameBytes.Length;
        if (zip64)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(h[x..], 1);
            BinaryPrimitives.WriteUInt16LittleEndian(h[(x + 2)..], 16);
            BinaryPrimitives.WriteInt64LittleEndian(h[(x + 4)..], size);
            BinaryPrimitives.WriteInt64LittleEndian(h[(x + 12)..], size);
            x += 20;
        }
        BinaryPrimitives.WriteUInt16LittleEndian(h[x..], 0x4246);                              // "FB"
        BinaryPrimitives.WriteUInt16LittleEndian(h[(x + 2)..], (ushort)pad);
        h[(x + 4)..].Fill((byte)'Z');
        _out.Write(header);
        _pos += header.Length;

        uint crc = 0;
        long written = 0;
        produce(chunk =>
        {
            crc = Crc32.Update(crc, chunk.Span);
            _out.Write(chunk.Span);
            written += chunk.Length;
        });
        if (written != size) throw new InvalidOperationException($"zip member '{name}': wrote {written} bytes, expected {size}");
        _pos += size;

        if (seekable)
        {
            long end = _out.Position;
            _out.Position = end - size - header.Length + 14;
            Span<byte> c = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(c, crc);
            _out.Write(c);
            _out.Position = end;
        }
        else
        {
            Span<byte> d = stackalloc byte[24];
            BinaryPrimitives.WriteUInt32LittleEndian(d, 0x08074b50);
            BinaryPrimitives.WriteUInt32LittleEndian(d[4..], crc);
            int n;
            if (zip64) { BinaryPrimitives.WriteInt64LittleEndian(d[8..], size); BinaryPrimitives.WriteInt64LittleEndian(d[16..], size); n = 24; }
            else { BinaryPrimitives.WriteUInt32LittleEndian(d[8..], (uint)size); BinaryPrimitives.WriteUInt32LittleEndian(d[12..], (uint)size); n = 16; }
            _out.Write(d[..n]);
            _pos += n;
        }
        _entries.Add((name, headerAt, size, crc));
    }

    /// <summary>Writes the central directory and end records.</summary>
    public void Finish()
    {
        long cdStart = _pos;
        using var cd = new MemoryStream();
        Span<byte> b = stackalloc byte[46];
        Span<byte> z = stackalloc byte[28];
        foreach (var (name, offset, size, crc) in _entries)
        {
            var nameBytes = Encoding.UTF8.GetBytes(name);
            bool bigSize = size >= 0xFFFFFFFF, bigOffset = offset >= 0xFFFFFFFF;
            int z64Len = (bigSize ? 16 : 0) + (bigOffset ? 8 : 0);
            b.Clear();
            BinaryPrimitives.WriteUInt32LittleEndian(b, 0x02014b50);
            BinaryPrimitives.WriteUInt16LittleEndian(b[4..], (ushort)(z64Len > 0 ? 45 : 20));
            BinaryPrimitives.WriteUInt16LittleEndian(b[6..], (ushort)(z64Len > 0 ? 45 : 20));
            BinaryPrimitives.WriteUInt16LittleEndian(b[8..], (ushort)(_out.CanSeek ? 0 : 0x08));
            BinaryPrimitives.WriteUInt16LittleEndian(b[14..], 0x21);
            BinaryPrimitives.WriteUInt32LittleEndian(b[16..], crc);
            BinaryPrimitives.WriteUInt32LittleEndian(b[20..], bigSize ? 0xFFFFFFFF : (uint)size);
            BinaryPrimitives.WriteUInt32LittleEndian(b[24..], bigSize ? 0xFFFFFFFF : (uint)size);
            BinaryPrimitives.WriteUInt16LittleEndian(b[28..], (ushort)nameBytes.Length);
            BinaryPrimitives.WriteUInt16LittleEndian(b[30..], (ushort)(z64Len > 0 ? z64Len + 4 : 0));
            BinaryPrimitives.WriteUInt32LittleEndian(b[42..], bigOffset ? 0xFFFFFFFF : (uint)offset);
            cd.Write(b);
            cd.Write(nameBytes);
            if (z64Len > 0)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(z, 1);
                BinaryPrimitives.WriteUInt16LittleEndian(z[2..], (ushort)z64Len);
                int k = 4;
                if (bigSize) { BinaryPrimitives.WriteInt64LittleEndian(z[k..], size); BinaryPrimitives.WriteInt64LittleEndian(z[(k + 8)..], size); k += 16; }
                if (bigOffset) { BinaryPrimitives.WriteInt64LittleEndian(z[k..], offset); k += 8; }
                cd.Write(z[..k]);
            }
        }
        long cdSize = cd.Length;
        cd.Position = 0;
        cd.CopyTo(_out);
        _pos += cdSize;
        bool zip64 = _entries.Count >= 0xFFFF || cdStart >= 0xFFFFFFFF || cdSize >= 0xFFFFFFFF;
        if (zip64)
        {
            long recAt = _pos;
            Span<byte> r = stackalloc byte[56 + 20];
            r.Clear();
            BinaryPrimitives.WriteUInt32LittleEndian(r, 0x06064b50);
            BinaryPrimitives.WriteInt64LittleEndian(r[4..], 44);
            BinaryPrimitives.WriteUInt16LittleEndian(r[12..], 45);
            BinaryPrimitives.WriteUInt16LittleEndian(r[14..], 45);
            BinaryPrimitives.WriteInt64LittleEndian(r[24..], _entries.Count);
            BinaryPrimitives.WriteInt64LittleEndian(r[32..], _entries.Count);
            BinaryPrimitives.WriteInt64LittleEndian(r[40..], cdSize);
            BinaryPrimitives.WriteInt64LittleEndian(r[48..], cdStart);
            BinaryPrimitives.WriteUInt32LittleEndian(r[56..], 0x07064b50);
            BinaryPrimitives.WriteInt64LittleEndian(r[64..], recAt);
            BinaryPrimitives.WriteUInt32LittleEndian(r[72..], 1);
            _out.Write(r);
            _pos += r.Length;
        }
        Span<byte> e = stackalloc byte[22];
        e.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(e, 0x06054b50);
        BinaryPrimitives.WriteUInt16LittleEndian(e[8..], (ushort)Math.Min(_entries.Count, 0xFFFF));
        BinaryPrimitives.WriteUInt16LittleEndian(e[10..], (ushort)Math.Min(_entries.Count, 0xFFFF));
        BinaryPrimitives.WriteUInt32LittleEndian(e[12..], zip64 ? 0xFFFFFFFF : (uint)cdSize);
        BinaryPrimitives.WriteUInt32LittleEndian(e[16..], zip64 ? 0xFFFFFFFF : (uint)cdStart);
        _out.Write(e);
        _pos += 22;
        _out.Flush();
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (!_leaveOpen) _out.Dispose();
    }
}
