using System.Text;
using Xunit;

namespace Nabla.Tests.Serialization;

internal static class SerializationTestUtil
{
    public static string FixturePath(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "serialization", name);

    /// <summary>Exact equality of dtype, shape, strides, offset and values.</summary>
    public static void AssertSameTensor(Tensor expected, Tensor actual, string what, bool layout = true)
    {
        Assert.True(expected.dtype == actual.dtype, $"{what}: dtype {actual.dtype} != {expected.dtype}");
        Assert.True(expected.shape.SequenceEqual(actual.shape), $"{what}: shape [{string.Join(",", actual.shape)}] != [{string.Join(",", expected.shape)}]");
        if (layout)
        {
            Assert.True(expected.stride().SequenceEqual(actual.stride()), $"{what}: stride [{string.Join(",", actual.stride())}] != [{string.Join(",", expected.stride())}]");
            Assert.Equal(expected.storage_offset(), actual.storage_offset());
        }
        var e = expected.ToDoubleArray();
        var a = actual.ToDoubleArray();
        Assert.Equal(e.Length, a.Length);
        for (int i = 0; i < e.Length; i++)
            Assert.True(e[i].Equals(a[i]), $"{what}[{i}]: {a[i]:R} != {e[i]:R}");
    }

    /// <summary>A pickle built from raw opcodes (protocol 2 header and STOP added).</summary>
    public static byte[] Pickle(params object[] parts)
    {
        var ms = new MemoryStream();
        ms.WriteByte(0x80); ms.WriteByte(2);
        foreach (var p in parts)
        {
            switch (p)
            {
                case byte b: ms.WriteByte(b); break;
                case char c: ms.WriteByte((byte)c); break;
                case string s: ms.Write(Encoding.Latin1.GetBytes(s)); break;
                case byte[] bytes: ms.Write(bytes); break;
                default: throw new ArgumentException(p.GetType().Name);
            }
        }
        ms.WriteByte((byte)'.');
        return ms.ToArray();
    }

    /// <summary>A unicode string opcode (BINUNICODE).</summary>
    public static byte[] Str(string s)
    {
        var b = Encoding.UTF8.GetBytes(s);
        var r = new byte[5 + b.Length];
        r[0] = (byte)'X';
        BitConverter.TryWriteBytes(r.AsSpan(1), b.Length);
        b.CopyTo(r, 5);
        return r;
    }

    /// <summary>A zip checkpoint whose data.pkl is <paramref name="pickle"/> (plus the given data records).</summary>
    public static byte[] Checkpoint(byte[] pickle, params (string Name, byte[] Data)[] records)
    {
        var ms = new MemoryStream();
        using (var zip = new Nabla.Serialization.ZipWriter(ms, leaveOpen: true))
        {
            zip.Add("archive/data.pkl", pickle);
            foreach (var (name, data) in records) zip.Add("archive/" + name, data);
            zip.Add("archive/version", "3\n"u8);
            zip.Finish();
        }
        return ms.ToArray();
    }
}
