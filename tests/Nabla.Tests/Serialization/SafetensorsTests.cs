using System.Buffers.Binary;
using System.Text;
using Xunit;
using static Nabla.Tests.Serialization.SerializationTestUtil;

namespace Nabla.Tests.Serialization;

/// <summary>safetensors: round trips, metadata, lazy loading, and header validation per the format's rules.</summary>
public class SafetensorsTests
{
    static byte[] File(string header, byte[] data)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var r = new byte[8 + h.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(r, (ulong)h.Length);
        h.CopyTo(r, 8);
        data.CopyTo(r, 8 + h.Length);
        return r;
    }

    [Fact]
    public void RoundTripWithMetadataAndLazyLoading()
    {
        var tensors = new Dictionary<string, Tensor>
        {
            ["w"] = torch.arange(0, 12, ScalarType.Float32).reshape(3, 4).t(),   // non-contiguous: written row-major
            ["d"] = torch.tensor(new[] { 1.5, -2.5 }),
            ["i"] = torch.tensor(new long[] { long.MaxValue, -3 }),
            ["j"] = torch.tensor(new[] { 4, 5, 6 }),
            ["m"] = torch.tensor(new[] { true, false }),
            ["s"] = torch.tensor(3.0f),
            ["e"] = torch.zeros(new long[] { 0, 2 }),
        };
        var meta = new Dictionary<string, string> { ["format"] = "pt", ["note"] = "ünïcode" };
        var path = Path.Combine(Path.GetTempPath(), $"nabla-{Guid.NewGuid():N}.safetensors");
        try
        {
            safetensors.save_file(tensors, path, meta);
            var back = safetensors.load_file(path);
            Assert.Equal(tensors.Keys.OrderBy(k => k, StringComparer.Ordinal), back.Keys);
            foreach (var (k, v) in tensors) AssertSameTensor(v, back[k], k, layout: false);
            Assert.True(back["w"].is_contiguous());
            using var f = safetensors.safe_open(path);
            Assert.Equal(meta, f.metadata());
            Assert.Equal("F32", f.dtype("w"));
            Assert.Equal(new long[] { 4, 3 }, f.shape("w"));
            AssertSameTensor(tensors["d"], f.get_tensor("d"), "lazy d");
            Assert.Throws<KeyNotFoundException>(() => f.get_tensor("nope"));
            // The header is padded to a multiple of 8 and the data ordered by element size, then name.
            var bytes = System.IO.File.ReadAllBytes(path);
            Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes) % 8);
            Assert.Equal(bytes, safetensors.save(tensors, meta));
        }
        finally { System.IO.File.Delete(path); }
    }

    [Fact]
    public void ReadsAHandWrittenFile()
    {
        var data = BitConverter.GetBytes(1.0f).Concat(BitConverter.GetBytes(2.0f)).Concat(new byte[] { 1, 0, 7 }).ToArray();
        var t = safetensors.load(File("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"m\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[8,11]}}  ", data));
        Assert.Equal(new[] { 1f, 2f }, t["x"].ToArray<float>());
        Assert.Equal(new[] { true, false, true }, t["m"].ToArray<bool>());   // a byte of 7 reads as true
    }

    public static IEnumerable<object[]> BadHeaders() => new[]
    {
        new object[] { "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"y\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "overlaps" },
        new object[] { "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "hole" },
        new object[] { "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8, "cover 4 bytes" },
        new object[] { "{\"x\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8, "beyond" },
        new object[] { "{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "needs 12 bytes" },
        new object[] { "{\"x\":{\"dtype\":\"F32\",\"shape\":[1000000000000,1000000000000],\"data_offsets\":[0,8]}}", 8, "overflows" },
        new object[] { "{\"x\":{\"dtype\":\"Q7\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "unknown dtype" },
        new object[] { "{\"x\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "shape" },
        new object[] { "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, "data_offsets" },
        new object[] { "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[\"0\",8]}}", 8, "data_offsets" },
        new object[] { "{\"x\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "data_offsets" },
        new object[] { "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "duplicate" },
        new object[] { "{\"__metadata__\":{\"a\":1}}", 0, "not a string" },
        new object[] { "[1,2]", 0, "JSON object" },
        new object[] { "{\"x\":", 0, "not valid JSON" },
    };

    [Theory]
    [MemberData(nameof(BadHeaders))]
    public void InvalidHeadersAreRefused(string header, int dataBytes, string why)
    {
        var e = Assert.Throws<InvalidDataException>(() => safetensors.load(File(header, new byte[dataBytes])));
        Assert.Contains(why, e.Message);
    }

    [Fact]
    public void HeaderLengthIsBounded()
    {
        var r = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(r, 200_000_000);
        Assert.Contains("limit", Assert.Throws<InvalidDataException>(() => safetensors.load(r)).Message);
        BinaryPrimitives.WriteUInt64LittleEndian(r, 1000);
        Assert.Contains("only 8", Assert.Throws<InvalidDataException>(() => safetensors.load(r)).Message);
        Assert.Throws<InvalidDataException>(() => safetensors.load(new byte[3]));
    }

    [Theory]
    [InlineData("F16", 2)]
    [InlineData("BF16", 2)]
    [InlineData("I16", 2)]
    [InlineData("I8", 1)]
    [InlineData("U8", 1)]
    public void UnsupportedDtypesRaiseNotSupportedNamingThem(string dtype, int size)
    {
        var bytes = File($"{{\"x\":{{\"dtype\":\"{dtype}\",\"shape\":[2],\"data_offsets\":[0,{2 * size}]}}}}", new byte[2 * size]);
        Assert.Contains(dtype, Assert.Throws<NotSupportedException>(() => safetensors.load(bytes)).Message);
    }
}
