using System.Runtime.Serialization;
using Xunit;
using static Nabla.Tests.Serialization.SerializationTestUtil;

namespace Nabla.Tests.Serialization;

/// <summary>The weights-only unpickler: hostile globals and opcodes are refused with the global named; corrupt pickles are InvalidDataException.</summary>
public class PickleSafetyTests
{
    static object? LoadCheckpoint(byte[] pickle, params (string, byte[])[] records) => torch.load(new MemoryStream(Checkpoint(pickle, records)));

    public static IEnumerable<object[]> Hostile() => new[]
    {
        new object[] { "posix.system", Pickle("cposix\nsystem\n", Str("touch /tmp/nabla-pwned"), (byte)0x85, 'R') },
        new object[] { "builtins.eval", Pickle("cbuiltins\neval\n", Str("__import__('os').system('id')"), (byte)0x85, 'R') },
        new object[] { "os.system", Pickle(Str("os"), Str("system"), (byte)0x93, Str("id"), (byte)0x85, 'R') },          // STACK_GLOBAL
        new object[] { "subprocess.Popen", Pickle("ctorch._utils\n_rebuild_tensor_v2\n(csubprocess\nPopen\n", Str("id"), (byte)0x85, "R", ")tR") },
        new object[] { "builtins.getattr", Pickle("cbuiltins\ngetattr\n", Str("x"), Str("y"), (byte)0x86, 'R') },
        new object[] { "torch.load", Pickle("ctorch\nload\n", Str("x"), (byte)0x85, 'R') },
        new object[] { "nt.system", Pickle("}", Str("k"), "cnt\nsystem\n", "s") },                                         // as a dict value
        new object[] { "INST", Pickle("(", Str("id"), "ios\nsystem\n") },
        new object[] { "OBJ", Pickle("(ccollections\nOrderedDict\n", "o") },
        new object[] { "EXT", Pickle((byte)0x82, (byte)1) },
        new object[] { "torch.Tensor", Pickle("ctorch\nTensor\n)R") },                                                     // allowed global, not callable
        new object[] { "Can only APPEND to lists", Pickle("}", Str("x"), "a") },
        new object[] { "Can only build", Pickle("]", "}", "b") },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public void HostilePicklesAreRefusedNamingWhat(string what, byte[] pickle)
    {
        var e = Assert.Throws<UnpicklingError>(() => LoadCheckpoint(pickle));
        Assert.Contains(what, e.Message);
        Assert.IsAssignableFrom<SerializationException>(e);
        Assert.False(File.Exists("/tmp/nabla-pwned"));
    }

    [Fact]
    public void RefusedBeforeAnyLaterOpcodeRuns()
    {
        // The forbidden GLOBAL comes first; a storage record the pickle would need afterwards is absent, so reaching
        // it would raise InvalidDataException instead: the UnpicklingError proves the load stopped at the global.
        var pickle = Pickle("cposix\nsystem\n0", "(", Str("storage"), "ctorch\nFloatStorage\n", Str("0"), Str("cpu"), "K\x04tQ");
        Assert.Throws<UnpicklingError>(() => LoadCheckpoint(pickle));
    }

    public static IEnumerable<object[]> Corrupt() => new[]
    {
        new object[] { "truncated", Pickle("]", (byte)'X', new byte[] { 100, 0, 0, 0 }, "abc") },
        new object[] { "memo", Pickle("h\x05") },
        new object[] { "underflow", Pickle("0") },
        new object[] { "opcode", Pickle((byte)0xff) },
        new object[] { "truncated", new byte[] { 0x80, 2, (byte)']' } },                         // no STOP
        new object[] { "MARK", Pickle("t") },
        new object[] { "persistent id", Pickle(Str("nope"), "Q") },
        new object[] { "no record data/7", Pickle("(", Str("storage"), "ctorch\nFloatStorage\n", Str("7"), Str("cpu"), "K\x04tQ") },
        new object[] { "truncated", Pickle("J\x01") },
        new object[] { "protocol", new byte[] { 0x80, 9, (byte)'N', (byte)'.' } },
    };

    [Theory]
    [MemberData(nameof(Corrupt))]
    public void CorruptPicklesAreInvalidData(string what, byte[] pickle)
    {
        var e = Assert.ThrowsAny<InvalidDataException>(() => LoadCheckpoint(pickle));
        Assert.Contains(what, e.Message);
    }

    static byte[] TensorPickle(string storageType, long numel, long offset, long[] size, long[] stride)
    {
        string Tup(long[] v) => "(" + string.Concat(v.Select(x => "J" + System.Text.Encoding.Latin1.GetString(BitConverter.GetBytes((int)x)))) + "t";
        return Pickle("ctorch._utils\n_rebuild_tensor_v2\n(", "(", Str("storage"), $"ctorch\n{storageType}\n", Str("0"), Str("cpu"),
            (byte)0x8a, (byte)8, BitConverter.GetBytes(numel), "tQ",
            (byte)0x8a, (byte)8, BitConverter.GetBytes(offset), Tup(size), Tup(stride), (byte)0x89, "ccollections\nOrderedDict\n)RtR");
    }

    [Fact]
    public void ForgedSizesAreRefusedBeforeAllocating()
    {
        var data = new byte[16];
        // A storage claiming 2^40 elements with a 16-byte record.
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => LoadCheckpoint(TensorPickle("FloatStorage", 1L << 40, 0, new long[] { 4 }, new long[] { 1 }), ("data/0", data)));
        Assert.Contains("holds 16 bytes", e.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 22);
        // A tensor larger than its storage, a stride past the end, an offset past the end, negative sizes.
        Assert.Contains("does not fit", Assert.Throws<InvalidDataException>(() => LoadCheckpoint(TensorPickle("FloatStorage", 4, 0, new long[] { 1000000, 1000000 }, new long[] { 1000000, 1 }), ("data/0", data))).Message);
        Assert.Contains("does not fit", Assert.Throws<InvalidDataException>(() => LoadCheckpoint(TensorPickle("FloatStorage", 4, 0, new long[] { 2 }, new long[] { 4 }), ("data/0", data))).Message);
        Assert.Contains("does not fit", Assert.Throws<InvalidDataException>(() => LoadCheckpoint(TensorPickle("FloatStorage", 4, 4, new long[] { 1 }, new long[] { 1 }), ("data/0", data))).Message);
        Assert.Contains("does not fit", Assert.Throws<InvalidDataException>(() => LoadCheckpoint(TensorPickle("FloatStorage", 4, 0, new long[] { -1 }, new long[] { 1 }), ("data/0", data))).Message);
        Assert.Contains("does not fit", Assert.Throws<InvalidDataException>(() => LoadCheckpoint(TensorPickle("FloatStorage", 4, 0, new long[] { 2 }, new long[] { -1 }), ("data/0", data))).Message);
        // The well-formed version of the same file loads.
        var ok = (Tensor)LoadCheckpoint(TensorPickle("FloatStorage", 4, 1, new long[] { 3 }, new long[] { 1 }), ("data/0", BitConverter.GetBytes(1f).Concat(BitConverter.GetBytes(2f)).Concat(BitConverter.GetBytes(3f)).Concat(BitConverter.GetBytes(4f)).ToArray()))!;
        Assert.Equal(new[] { 2f, 3f, 4f }, ok.ToArray<float>());
    }

    [Theory]
    [InlineData("HalfStorage", "torch.float16", 2)]
    [InlineData("BFloat16Storage", "torch.bfloat16", 2)]
    [InlineData("ByteStorage", "torch.uint8", 1)]
    [InlineData("CharStorage", "torch.int8", 1)]
    [InlineData("ShortStorage", "torch.int16", 2)]
    public void UnsupportedDtypesRaiseNotSupportedNamingThem(string storage, string dtype, int size)
    {
        var e = Assert.Throws<NotSupportedException>(() => LoadCheckpoint(TensorPickle(storage, 4, 0, new long[] { 4 }, new long[] { 1 }), ("data/0", new byte[4 * size])));
        Assert.Contains(dtype, e.Message);
    }

    [Fact]
    public void DeepNestingIsBoundedNotAStackOverflow()
    {
        var parts = new List<object>();
        for (int i = 0; i < 100_000; i++) parts.Add("]");
        for (int i = 0; i < 100_000 - 1; i++) parts.Add("a");
        Assert.Contains("nests", Assert.Throws<InvalidDataException>(() => LoadCheckpoint(Pickle(parts.ToArray()))).Message);
        // A list that contains itself is fine (cycles are kept, not followed forever).
        var cyclic = (List<object?>)LoadCheckpoint(Pickle("]q", (byte)0, "h", (byte)0, "a"))!;
        Assert.Same(cyclic, cyclic[0]);
    }

    [Fact]
    public void NotACheckpoint()
    {
        Assert.Throws<InvalidDataException>(() => torch.load(new MemoryStream(new byte[] { 1, 2, 3 })));
        Assert.Throws<InvalidDataException>(() => torch.load(new MemoryStream(Array.Empty<byte>())));
        Assert.Throws<InvalidDataException>(() => torch.load(new MemoryStream("PK\x03\x04 not really a zip"u8.ToArray())));
        Assert.Throws<FileNotFoundException>(() => torch.load(Path.Combine(Path.GetTempPath(), "no-such-nabla-file.pt")));
        Assert.Throws<NotSupportedException>(() => torch.load(new MemoryStream(Checkpoint(Pickle("N"))), map_location: Device.Meta));
    }
}
