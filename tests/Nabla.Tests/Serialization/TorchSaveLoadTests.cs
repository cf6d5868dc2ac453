using Xunit;
using static Nabla.Tests.Serialization.SerializationTestUtil;

namespace Nabla.Tests.Serialization;

/// <summary>torch.save then torch.load in Nabla: every supported dtype, layouts, sharing, containers.</summary>
[Collection("GlobalGenerator")]
public class TorchSaveLoadTests
{
    static object? RoundTrip(object? obj)
    {
        var ms = new MemoryStream();
        torch.save(obj, ms);
        ms.Position = 0;
        return torch.load(ms);
    }

    [Fact]
    public void EveryDtypeRoundTripsExactly()
    {
        torch.manual_seed(3);
        var tensors = new Dictionary<string, Tensor>
        {
            ["f32"] = torch.randn(3, 4),
            ["f64"] = torch.randn(new long[] { 2, 3 }, ScalarType.Float64),
            ["i64"] = torch.tensor(new long[] { long.MinValue, -1, 0, 1, long.MaxValue }),
            ["i32"] = torch.tensor(new[] { int.MinValue, -7, 0, 7, int.MaxValue }),
            ["b"] = torch.tensor(new[] { true, false, true }),
            ["special"] = torch.tensor(new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0.0f, float.Epsilon }),
            ["scalar"] = torch.tensor(2.5),
            ["empty"] = torch.zeros(new long[] { 0, 3 }),
        };
        var back = torch.serialization.as_state_dict(RoundTrip(tensors));
        Assert.Equal(tensors.Keys, back.Keys);
        foreach (var (k, v) in tensors) AssertSameTensor(v, back[k], k);
        Assert.True(BitConverter.SingleToInt32Bits(back["special"].ToArray<float>()[3]) == BitConverter.SingleToInt32Bits(-0.0f));
    }

    [Fact]
    public void NonContiguousTensorsKeepTheirStridesAndOffset()
    {
        var baseT = torch.arange(0, 24, ScalarType.Float32).reshape(4, 6);
        var t = baseT.t();                                  // transposed
        var s = baseT.narrow(1, 2, 3);                      // offset 2, strides (6, 1)
        var e = baseT[TensorIndex.Slice(null, null, 2)];    // every other row
        var back = (List<object?>)RoundTrip(new List<object?> { t, s, e })!;
        AssertSameTensor(t, (Tensor)back[0]!, "t");
        AssertSameTensor(s, (Tensor)back[1]!, "narrow");
        AssertSameTensor(e, (Tensor)back[2]!, "step");
    }

    [Fact]
    public void SharedStoragesStayShared()
    {
        var w = torch.arange(0, 12, ScalarType.Float64).reshape(3, 4);
        var view = w.narrow(0, 1, 2);
        var back = (Dictionary<string, object?>)RoundTrip(new Dictionary<string, object?> { ["w"] = w, ["view"] = view, ["again"] = w })!;
        var w2 = (Tensor)back["w"]!;
        var v2 = (Tensor)back["view"]!;
        Assert.Same(w2, back["again"]);                      // the same object twice stays one object
        AssertSameTensor(view, v2, "view");
        using (torch.no_grad()) w2[1, 0] = torch.tensor(100.0, ScalarType.Float64);
        Assert.Equal(100.0, v2[0, 0].ToDouble());            // one storage: writes through one are seen by the other
    }

    [Fact]
    public void ContainersAndScalarsRoundTrip()
    {
        var obj = new Dictionary<string, object?>
        {
            ["epoch"] = 7L,
            ["loss"] = 0.125,
            ["name"] = "résnet ✓",
            ["flags"] = new List<object?> { true, false, null },
            ["tuple"] = new object?[] { 1L, "a", new object?[] { 2.0 } },
            ["size"] = new long[] { 2, 3 },
            ["big"] = (System.Numerics.BigInteger)long.MaxValue * 4,
            ["neg"] = -300000L,
            ["dtype"] = ScalarType.Float64,
            ["bytes"] = new byte[] { 0, 1, 255 },
            ["nested"] = new Dictionary<object, object?> { [0L] = new Dictionary<string, object?> { ["x"] = torch.ones(2) }, [1L] = "one" },
        };
        var back = (Dictionary<string, object?>)RoundTrip(obj)!;
        Assert.Equal(obj.Keys, back.Keys);                  // insertion order kept
        Assert.Equal(7L, back["epoch"]);
        Assert.Equal(0.125, back["loss"]);
        Assert.Equal("résnet ✓", back["name"]);
        Assert.Equal(new object?[] { true, false, null }, ((List<object?>)back["flags"]!).ToArray());
        var tuple = (object?[])back["tuple"]!;
        Assert.Equal(1L, tuple[0]);
        Assert.Equal(2.0, ((object?[])tuple[2]!)[0]);
        Assert.Equal(new object?[] { 2L, 3L }, (object?[])back["size"]!);
        Assert.Equal((System.Numerics.BigInteger)long.MaxValue * 4, back["big"]);
        Assert.Equal(-300000L, back["neg"]);
        Assert.Equal(ScalarType.Float64, back["dtype"]);
        Assert.Equal(new byte[] { 0, 1, 255 }, back["bytes"]);
        var nested = (Dictionary<object, object?>)back["nested"]!;
        Assert.Equal(new object[] { 0L, 1L }, nested.Keys.ToArray());
        AssertSameTensor(torch.ones(2), (Tensor)((Dictionary<string, object?>)nested[0L]!)["x"]!, "nested");
    }

    [Fact]
    public void RequiresGradAndParametersSurvive()
    {
        var p = torch.nn.Parameter(torch.randn(3));
        var g = torch.randn(2).requires_grad_();
        var plain = torch.randn(2);
        var back = (List<object?>)RoundTrip(new List<object?> { p, g, plain })!;
        Assert.True(((Tensor)back[0]!).requires_grad);
        Assert.True(((Tensor)back[0]!)._isParameter);
        Assert.True(((Tensor)back[1]!).requires_grad);
        Assert.True(((Tensor)back[1]!).is_leaf);
        Assert.False(((Tensor)back[2]!).requires_grad);
    }

    [Fact]
    public void ModuleStateDictRoundTripsThroughAFile()
    {
        torch.manual_seed(0);
        var model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2));
        var path = Path.Combine(Path.GetTempPath(), $"nabla-{Guid.NewGuid():N}.pt");
        try
        {
            torch.save(model.state_dict(), path);
            torch.manual_seed(1);
            var other = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2));
            other.load_state_dict(torch.serialization.as_state_dict(torch.load(path)));
            var x = torch.randn(5, 4);
            AssertSameTensor(model.call(x), other.call(x), "outputs", layout: false);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void SavedFilesAreDeterministicAndAligned()
    {
        var sd = new Dictionary<string, Tensor> { ["a"] = torch.arange(0, 10, ScalarType.Float32), ["b"] = torch.ones(3, ScalarType.Int64) };
        var m1 = new MemoryStream(); torch.save(sd, m1);
        var m2 = new MemoryStream(); torch.save(sd, m2);
        Assert.Equal(m1.ToArray(), m2.ToArray());
        using var src = new Nabla.Serialization.ByteSource.MemorySource(m1.ToArray(), (int)m1.Length);
        var entries = Nabla.Serialization.ZipReader.ReadEntries(src);
        Assert.Equal(new[] { "archive/data.pkl", "archive/byteorder", "archive/data/0", "archive/data/1", "archive/version" }, entries.Select(e => e.Name).ToArray());
        foreach (var e in entries) Assert.Equal(0, e.DataOffset % 64);
        // The CRCs written are those of the data (checked against System.IO.Compression's reader).
        using var archive = new System.IO.Compression.ZipArchive(new MemoryStream(m1.ToArray()));
        foreach (var entry in archive.Entries)
        {
            using var s = entry.Open();
            var data = new MemoryStream(); s.CopyTo(data);
            Assert.Equal(entry.Crc32, Nabla.Serialization.Crc32.Update(0, data.ToArray()));
        }
    }

    [Fact]
    public void NonSeekableStreamsWork()
    {
        var sd = new Dictionary<string, Tensor> { ["w"] = torch.arange(0, 6, ScalarType.Float64).reshape(2, 3) };
        var sink = new ForwardOnly(new MemoryStream());
        torch.save(sd, sink);
        var bytes = ((MemoryStream)sink.Inner).ToArray();
        var back = torch.serialization.as_state_dict(torch.load(new ForwardOnly(new MemoryStream(bytes))));
        AssertSameTensor(sd["w"], back["w"], "w");
    }

    [Fact]
    public void AsStateDictExplainsWhatIsWrong()
    {
        var e = Assert.Throws<ArgumentException>(() => torch.serialization.as_state_dict(new Dictionary<string, object?> { ["epoch"] = 1L }));
        Assert.Contains("'epoch'", e.Message);
        Assert.Throws<ArgumentException>(() => torch.serialization.as_state_dict(new List<object?>()));
        Assert.Throws<ArgumentException>(() => torch.save(new object(), new MemoryStream()));
    }

    sealed class ForwardOnly(Stream inner) : Stream
    {
        public Stream Inner => inner;
        public override bool CanRead => inner.CanRead;
        public override bool CanSeek => false;
        public override bool CanWrite => inner.CanWrite;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
    }
}
