using System.Globalization;
using System.Numerics;
using System.Text.Json;
using Nabla.Modules;
using Xunit;
using static Nabla.Tests.Serialization.SerializationTestUtil;

namespace Nabla.Tests.Serialization;

/// <summary>Files written by PyTorch 1.13 (tools/fixtures/serialization.py) read by Nabla, and Nabla's files as PyTorch read them.</summary>
[Collection("GlobalGenerator")]
public class PyTorchFileTests
{
    static JsonElement Json(string name) => JsonDocument.Parse(File.ReadAllText(FixturePath(name))).RootElement;

    static double ParseRepr(string s) => s switch
    {
        "nan" => double.NaN,
        "inf" => double.PositiveInfinity,
        "-inf" => double.NegativeInfinity,
        _ => double.Parse(s, CultureInfo.InvariantCulture),
    };

    static void AssertMatches(JsonElement expected, object? actual, string path)
    {
        var kind = expected.EnumerateObject().First();
        var e = kind.Value;
        switch (kind.Name)
        {
            case "tensor":
            {
                var t = Assert.IsType<Tensor>(actual);
                Assert.True(t.dtype.PythonName() == "torch." + e.GetProperty("dtype").GetString(), $"{path}: dtype {t.dtype}");
                Assert.Equal(e.GetProperty("shape").EnumerateArray().Select(v => v.GetInt64()), t.shape);
                Assert.Equal(e.GetProperty("stride").EnumerateArray().Select(v => v.GetInt64()), t.stride());
                Assert.Equal(e.GetProperty("offset").GetInt64(), t.storage_offset());
                Assert.Equal(e.GetProperty("storage_size").GetInt64(), Nabla.Serialization.TensorBytes.StorageLength(t));
                Assert.True(e.GetProperty("requires_grad").GetBoolean() == t.requires_grad, $"{path}: requires_grad");
                Assert.True(e.GetProperty("parameter").GetBoolean() == t._isParameter, $"{path}: parameter");
                var values = e.GetProperty("values").EnumerateArray().ToList();
                var got = t.ToDoubleArray();
                Assert.Equal(values.Count, got.Length);
                for (int i = 0; i < got.Length; i++)
                {
                    double want = values[i].ValueKind switch
                    {
                        JsonValueKind.True => 1, JsonValueKind.False => 0,
                        JsonValueKind.String => ParseRepr(values[i].GetString()!),
                        _ => (double)values[i].GetInt64(),
                    };
                    if (t.dtype == ScalarType.Int64) Assert.Equal(values[i].GetInt64(), t.ToArray<long>()[i]);
                    else if (double.IsNaN(want)) Assert.True(double.IsNaN(got[i]), $"{path}[{i}]: {got[i]} is not NaN");
                    else if (t.dtype == ScalarType.Float32) Assert.Equal(BitConverter.SingleToInt32Bits((float)want), BitConverter.SingleToInt32Bits((float)got[i]));
                    else Assert.True(want.Equals(got[i]), $"{path}[{i}]: {got[i]:R} != {want:R}");
                }
                break;
            }
            case "dict":
            {
                var items = e.EnumerateArray().ToList();
                if (actual is Dictionary<string, object?> d)
                {
                    Assert.Equal(items.Select(p => p[0].GetString()), d.Keys);
                    foreach (var p in items) AssertMatches(p[1], d[p[0].GetString()!], path + "." + p[0].GetString());
                }
                else Assert.Fail($"{path}: expected a dictionary, got {actual?.GetType().Name}");
                break;
            }
            case "list":
            {
                var l = Assert.IsType<List<object?>>(actual);
                var items = e.EnumerateArray().ToList();
                Assert.Equal(items.Count, l.Count);
                for (int i = 0; i < l.Count; i++) AssertMatches(items[i], l[i], $"{path}[{i}]");
                break;
            }
            case "tuple":
            {
                var l = Assert.IsType<object?[]>(actual);
                var items = e.EnumerateArray().ToList();
                Assert.Equal(items.Count, l.Length);
                for (int i = 0; i < l.Length; i++) AssertMatches(items[i], l[i], $"{path}[{i}]");
                break;
            }
            case "size":
                Assert.Equal(e.EnumerateArray().Select(v => v.GetInt64()), Assert.IsType<long[]>(actual));
                break;
            case "int":
            {
                var want = BigInteger.Parse(e.GetString()!, CultureInfo.InvariantCulture);
                if (actual is long l) Assert.Equal(want, (BigInteger)l);
                else Assert.Equal(want, Assert.IsType<BigInteger>(actual));
                break;
            }
            case "float": Assert.Equal(ParseRepr(e.GetString()!), Assert.IsType<double>(actual)); break;
            case "bool": Assert.Equal(e.GetBoolean(), Assert.IsType<bool>(actual)); break;
            case "str": Assert.Equal(e.GetString(), Assert.IsType<string>(actual)); break;
            case "none": Assert.Null(actual); break;
            default: Assert.Fail("unknown fixture kind " + kind.Name); break;
        }
    }

    static Tensor At(object? root, string dotted)
    {
        object? o = root;
        foreach (var part in dotted.Split('.')) o = ((Dictionary<string, object?>)o!)[part];
        return (Tensor)o!;
    }

    [Theory]
    [InlineData("zip_values.pt")]
    [InlineData("legacy_values.pt")]
    public void PyTorchFilesLoadWithEveryDtypeLayoutAndSharing(string file)
    {
        var expected = Json("expected.json");
        var loaded = torch.load(FixturePath(file));
        AssertMatches(expected.GetProperty("object"), loaded, file);
        foreach (var group in expected.GetProperty("sharing").EnumerateArray())
        {
            var names = group.EnumerateArray().Select(g => g.GetString()!).ToList();
            var first = At(loaded, names[0]);
            foreach (var n in names.Skip(1))
                Assert.Same(Nabla.Serialization.TensorBytes.StorageId(first), Nabla.Serialization.TensorBytes.StorageId(At(loaded, n)));
        }
        // Writes through one view are seen through the others (one storage, not copies).
        var state = (Dictionary<string, object?>)((Dictionary<string, object?>)loaded!)["state"]!;
        using (torch.no_grad()) ((Tensor)state["base"]!)[1, 2] = torch.tensor(-5f);
        Assert.Equal(-5f, ((Tensor)state["transposed"]!)[2, 1].ToSingle());
        Assert.Equal(-5f, ((Tensor)state["narrow"]!)[0, 0].ToSingle());
    }

    [Theory]
    [InlineData("float16")]
    [InlineData("bfloat16")]
    [InlineData("uint8")]
    [InlineData("int8")]
    [InlineData("int16")]
    public void PyTorchFilesOfUnsupportedDtypesSaySo(string dtype)
    {
        var e = Assert.Throws<NotSupportedException>(() => torch.load(FixturePath($"unsupported_{dtype}.pt")));
        Assert.Contains("torch." + dtype, e.Message);
    }

    static BasicBlock Block() =>
        new(8, 16, 2, torch.nn.Sequential(torch.nn.Conv2d(8, 16, 1, stride: 2, bias: false), torch.nn.BatchNorm2d(16)));

    [Theory]
    [InlineData("block.pt")]
    [InlineData("block.safetensors")]
    public void TorchvisionBlockGivesPyTorchsOutput(string file)
    {
        var fx = Json("block.json");
        var block = Block();
        var sd = file.EndsWith(".pt") ? torch.serialization.as_state_dict(torch.load(FixturePath(file))) : safetensors.load_file(FixturePath(file));
        block.load_state_dict(sd);
        block.eval();
        Assert.Equal(17L, block.state_dict()["bn1.num_batches_tracked"].ToInt64());
        var x = torch.tensor(fx.GetProperty("input").EnumerateArray().Select(v => (float)ParseRepr(v.GetString()!)).ToArray(),
            fx.GetProperty("input_shape").EnumerateArray().Select(v => v.GetInt64()).ToArray());
        var want = fx.GetProperty("output").EnumerateArray().Select(v => ParseRepr(v.GetString()!)).ToArray();
        double[] got;
        using (torch.no_grad()) got = block.call(x).ToDoubleArray();
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < got.Length; i++) Assert.True(Math.Abs(want[i] - got[i]) <= 1e-5 + 1e-5 * Math.Abs(want[i]), $"[{i}] {got[i]} vs {want[i]}");
    }

    [Fact]
    public void TrainingCheckpointLoads()
    {
        var fx = Json("checkpoint.json");
        var ckpt = (Dictionary<string, object?>)torch.load(FixturePath("checkpoint.pt"))!;
        Assert.Equal(new[] { "epoch", "model_state_dict", "optimizer_state_dict", "loss" }, ckpt.Keys);
        Assert.Equal(2L, ckpt["epoch"]);
        Assert.Equal(ParseRepr(fx.GetProperty("loss").GetString()!), (double)ckpt["loss"]!);
        var mlp = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.ReLU(), torch.nn.Linear(5, 2));
        mlp.load_state_dict(torch.serialization.as_state_dict(ckpt["model_state_dict"]));
        var data = torch.tensor(fx.GetProperty("data").EnumerateArray().Select(v => (float)ParseRepr(v.GetString()!)).ToArray(), new long[] { 6, 4 });
        var want = fx.GetProperty("output").EnumerateArray().Select(v => ParseRepr(v.GetString()!)).ToArray();
        var got = mlp.call(data).ToDoubleArray();
        for (int i = 0; i < got.Length; i++) Assert.True(Math.Abs(want[i] - got[i]) <= 1e-6, $"[{i}] {got[i]} vs {want[i]}");
        // The optimizer state keeps PyTorch's layout: int keys for parameter indices, momentum buffers as tensors.
        var opt = (Dictionary<string, object?>)ckpt["optimizer_state_dict"]!;
        var state = (Dictionary<object, object?>)opt["state"]!;
        Assert.Equal(new object[] { 0L, 1L, 2L, 3L }, state.Keys.ToArray());
        Assert.Equal(new long[] { 5, 4 }, ((Tensor)((Dictionary<string, object?>)state[0L]!)["momentum_buffer"]!).shape);
        var group = (Dictionary<string, object?>)((List<object?>)opt["param_groups"]!)[0]!;
        Assert.Equal(0.1, group["lr"]);
        Assert.Equal(0.9, group["momentum"]);
        Assert.Equal(new object?[] { 0L, 1L, 2L, 3L }, ((List<object?>)group["params"]!).ToArray());
    }

    [Fact]
    public void SafetensorsWrittenByTheFormatRulesLoad()
    {
        using var f = safetensors.safe_open(FixturePath("safetensors_ref.safetensors"));
        Assert.Equal(new[] { "a", "b", "c", "d" }, f.keys());
        Assert.Equal("reference", f.metadata()!["who"]);
        Assert.Equal(new long[] { 0, 1, 2, 3 }, f.get_tensor("b").ToArray<long>());
        Assert.Equal(new[] { true, false }, f.get_tensor("c").ToArray<bool>());
        Assert.Equal(ScalarType.Float64, f.get_tensor("d").dtype);
    }

    // ---- Nabla-written files, as PyTorch read them -------------------------------------------------------------

    /// <summary>What the Nabla-written fixtures hold (deterministic: fixed seed and key order).</summary>
    internal static (Dictionary<string, object?> Full, Dictionary<string, Tensor> State, Dictionary<string, Tensor> Safe) NablaWritten()
    {
        torch.manual_seed(42);
        var w = torch.randn(4, 6);
        var d = torch.randn(new long[] { 3, 2 }, ScalarType.Float64);
        var state = new Dictionary<string, Tensor>
        {
            ["w"] = w,
            ["wt"] = w.t(),
            ["w_narrow"] = w.narrow(1, 2, 3),
            ["d"] = d,
            ["i64"] = torch.tensor(new long[] { long.MinValue, 0, long.MaxValue }),
            ["i32"] = torch.tensor(new[] { int.MinValue, 5, int.MaxValue }),
            ["b"] = torch.tensor(new[] { true, false, true }),
            ["scalar"] = torch.tensor(1.5f),
            ["empty"] = torch.zeros(new long[] { 0, 2 }),
        };
        var full = new Dictionary<string, object?>
        {
            ["state"] = state,
            ["param"] = torch.nn.Parameter(torch.randn(2)),
            ["epoch"] = 5L, ["loss"] = 0.75, ["name"] = "nabla", ["flag"] = false, ["none"] = null,
            ["big"] = BigInteger.Pow(2, 70), ["list"] = new List<object?> { 1L, "two", new List<object?> { 3.5 } },
            ["tuple"] = new object?[] { 1L, new object?[] { 2L, 3L } },
        };
        var safe = new Dictionary<string, Tensor> { ["w"] = w, ["wt"] = w.t(), ["i"] = torch.tensor(new[] { 1, 2 }), ["b"] = torch.tensor(new[] { true }) };
        return (full, state, safe);
    }

    static byte[] Bytes(Action<Stream> write) { var ms = new MemoryStream(); write(ms); return ms.ToArray(); }

    [Fact]
    public void NablaWrittenFilesAreWhatPyTorchVerified()
    {
        var (full, state, safe) = NablaWritten();
        var files = new (string Name, byte[] Bytes)[]
        {
            ("nabla_written.pt", Bytes(s => torch.save(full, s))),
            ("nabla_written_state.pt", Bytes(s => torch.save(state, s))),
            ("nabla_written.safetensors", safetensors.save(safe, new Dictionary<string, string> { ["format"] = "pt" })),
        };
        if (Environment.GetEnvironmentVariable("NABLA_WRITE_SERIALIZATION_FIXTURES") is { Length: > 0 } dir)
            foreach (var (name, bytes) in files) File.WriteAllBytes(Path.Combine(dir, name), bytes);
        // The writer is deterministic: today's bytes are the ones PyTorch 1.13 read when the verdict was made.
        foreach (var (name, bytes) in files) Assert.True(File.ReadAllBytes(FixturePath(name)).AsSpan().SequenceEqual(bytes), $"{name} changed since PyTorch verified it: rerun tools/fixtures/serialization.py");

        var verdict = Json("nabla_written_verdict.json");
        var reread = (Dictionary<string, object?>)torch.load(new MemoryStream(files[0].Bytes))!;
        AssertMatches(verdict.GetProperty("object"), reread, "pytorch(nabla_written.pt)");
        // PyTorch saw the values Nabla saved (not only the round trip through Nabla).
        AssertMatches(verdict.GetProperty("object").GetProperty("dict")[0][1], state.ToDictionary(kv => kv.Key, kv => (object?)kv.Value), "state");
        Assert.True(verdict.GetProperty("state_is_ordered_dict").GetBoolean());
        Assert.True(verdict.GetProperty("state_weights_only_is_ordered_dict").GetBoolean());
        AssertMatches(verdict.GetProperty("state_weights_only"), state.ToDictionary(kv => kv.Key, kv => (object?)kv.Value), "weights_only state");
        var pairs = verdict.GetProperty("shared_pairs").EnumerateArray().Select(p => p[0].GetString() + "+" + p[1].GetString()).ToList();
        Assert.Contains("w+wt", pairs);
        Assert.Contains("w+w_narrow", pairs);
        Assert.DoesNotContain(pairs, p => p.StartsWith("d+"));
        var st = verdict.GetProperty("safetensors");
        Assert.Equal("pt", st.GetProperty("metadata").GetProperty("format").GetString());
        foreach (var (k, t) in safe)
        {
            var e = st.GetProperty("tensors").GetProperty(k);
            Assert.Equal(t.shape, e.GetProperty("shape").EnumerateArray().Select(v => v.GetInt64()));
            var want = e.GetProperty("values").EnumerateArray().Select(v => v.ValueKind == JsonValueKind.String ? ParseRepr(v.GetString()!) : v.ValueKind == JsonValueKind.True ? 1 : v.ValueKind == JsonValueKind.False ? 0 : v.GetInt64()).ToArray();
            Assert.Equal(want, t.ToDoubleArray());
        }
    }
}
