using System.Diagnostics;
using Xunit;
using Xunit.Abstractions;

namespace Nabla.Tests.Serialization;

/// <summary>
/// 5,000 mutated or truncated checkpoints (zip, legacy and safetensors): every load either succeeds or raises one of
/// the documented exceptions (Note [Errors of the loaders]); none hangs, crashes with another exception type, or
/// allocates much more than the file's size.
/// </summary>
public class FuzzTests(ITestOutputHelper output)
{
    static byte[] ZipBase()
    {
        var w = torch.arange(0, 12, ScalarType.Float32).reshape(3, 4);
        var obj = new Dictionary<string, object?>
        {
            ["model"] = new Dictionary<string, Tensor> { ["w"] = w, ["wt"] = w.t(), ["b"] = torch.tensor(new long[] { 1, 2 }), ["m"] = torch.tensor(new[] { true, false }) },
            ["epoch"] = 3L,
            ["hist"] = new List<object?> { 0.5, "x", new object?[] { 1L, null } },
            ["i"] = torch.tensor(new[] { 7, 8 }),
            ["d"] = torch.tensor(new[] { 1.5, 2.5 }).narrow(0, 1, 1),
        };
        var ms = new MemoryStream();
        torch.save(obj, ms);
        return ms.ToArray();
    }

    static byte[] SafetensorsBase() => safetensors.save(new Dictionary<string, Tensor>
    {
        ["a"] = torch.arange(0, 6, ScalarType.Float64).reshape(2, 3),
        ["b"] = torch.tensor(new[] { 1, 2, 3 }),
        ["c"] = torch.tensor(new[] { true }),
    }, new Dictionary<string, string> { ["format"] = "pt" });

    static byte[]? LegacyBase()
    {
        var path = SerializationTestUtil.FixturePath("legacy_small.pt");
        return File.Exists(path) ? File.ReadAllBytes(path) : null;
    }

    static byte[] Mutate(byte[] src, Random rng)
    {
        var b = (byte[])src.Clone();
        switch (rng.Next(6))
        {
            case 0: // flip a few bytes
                for (int i = 0, n = rng.Next(1, 9); i < n; i++) b[rng.Next(b.Length)] = (byte)rng.Next(256);
                return b;
            case 1: // truncate
                return b.AsSpan(0, rng.Next(b.Length)).ToArray();
            case 2: // an extreme 2/4/8-byte value somewhere (sizes, offsets, counts)
            {
                int width = new[] { 2, 4, 8 }[rng.Next(3)];
                if (b.Length < width) return b;
                int at = rng.Next(b.Length - width + 1);
                byte fill = new byte[] { 0xFF, 0x7F, 0x80, 0x00, 0x01 }[rng.Next(5)];
                for (int i = 0; i < width; i++) b[at + i] = i == width - 1 && fill == 0x7F ? (byte)0x7F : fill == 0x7F ? (byte)0xFF : fill;
                return b;
            }
            case 3: // delete a range
            {
                int at = rng.Next(b.Length), len = Math.Min(rng.Next(1, 64), b.Length - at);
                return b.Take(at).Concat(b.Skip(at + len)).ToArray();
            }
            case 4: // insert random bytes
            {
                int at = rng.Next(b.Length);
                var ins = new byte[rng.Next(1, 16)];
                rng.NextBytes(ins);
                return b.Take(at).Concat(ins).Concat(b.Skip(at)).ToArray();
            }
            default: // many flips in the first kilobyte (pickle and headers live there)
                for (int i = 0, n = rng.Next(1, 32); i < n; i++) b[rng.Next(Math.Min(b.Length, 1024))] ^= (byte)(1 << rng.Next(8));
                return b;
        }
    }

    static bool Documented(Exception e) =>
        e is InvalidDataException or UnpicklingError or NotSupportedException;

    [Fact]
    public async Task FiveThousandMutatedFilesLoadOrFailCleanly()
    {
        var bases = new List<(string Kind, byte[] Bytes)> { ("zip", ZipBase()), ("safetensors", SafetensorsBase()) };
        if (LegacyBase() is { } legacy) bases.Add(("legacy", legacy));
        var rng = new Random(20261204);
        var failures = new List<string>();
        var counts = new Dictionary<string, int>();
        var sw = Stopwatch.StartNew();
        long worstRatio = 0;
        var task = Task.Run(() =>
        {
            for (int i = 0; i < 5000; i++)
            {
                var (kind, src) = bases[i % bases.Count];
                var bytes = Mutate(src, rng);
                long before = GC.GetAllocatedBytesForCurrentThread();
                string outcome;
                try
                {
                    if (kind == "safetensors") safetensors.load(bytes);
                    else torch.load(new MemoryStream(bytes));
                    outcome = "ok";
                }
                catch (Exception e) when (Documented(e)) { outcome = e.GetType().Name; }
                catch (Exception e) { failures.Add($"#{i} {kind}: {e.GetType().Name}: {e.Message}\n{e.StackTrace}"); outcome = "BAD"; }
                long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                // Bounded by the file: a few copies of it (legacy reads it whole; zip streams it) plus fixed buffers.
                if (allocated > 8L * bytes.Length + (4 << 20)) failures.Add($"#{i} {kind}: allocated {allocated} bytes for a {bytes.Length}-byte file");
                worstRatio = Math.Max(worstRatio, allocated / Math.Max(1, bytes.Length));
                counts[$"{kind}:{outcome}"] = counts.GetValueOrDefault($"{kind}:{outcome}") + 1;
            }
        });
        var finished = await Task.WhenAny(task, Task.Delay(TimeSpan.FromSeconds(120)));
        Assert.True(finished == task, "the fuzz loop did not finish in 120 s (a hang?)");
        await task;
        output.WriteLine($"{sw.Elapsed.TotalSeconds:F1} s; " + string.Join(", ", counts.OrderBy(k => k.Key).Select(k => $"{k.Key}={k.Value}")));
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(10)));
        // The fuzzing reached the unpickler and the header checks, not only the outer framing.
        Assert.Contains(counts.Keys, k => k.StartsWith("zip:ok"));
        Assert.Contains(counts.Keys, k => k.StartsWith("zip:UnpicklingError") || k.StartsWith("zip:InvalidDataException"));
    }
}
