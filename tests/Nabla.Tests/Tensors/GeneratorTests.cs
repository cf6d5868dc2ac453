using System.Globalization;
using Xunit;

namespace Nabla.Tests;

/// <summary>
/// Bit-exact comparisons of <see cref="Generator"/> with PyTorch's CPU generator. The reference values come from
/// tools/fixtures/rng.py (PyTorch 1.13, x86-64 with AVX2) and are committed under Fixtures/rng/rng.txt.
/// </summary>
public class GeneratorTests
{
    private static readonly Lazy<Dictionary<string, (string Kind, string[] Values)>> Fixtures = new(Load);

    private static Dictionary<string, (string Kind, string[] Values)> Load()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "rng", "rng.txt");
        var result = new Dictionary<string, (string, string[])>();
        foreach (var line in File.ReadLines(path))
        {
            if (line.Length == 0 || line[0] == '#')
                continue;
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            result[parts[0]] = (parts[1], parts[2..]);
        }
        return result;
    }

    private static (string Kind, string[] Values) Fixture(string name)
    {
        Assert.True(Fixtures.Value.TryGetValue(name, out var f), $"fixture '{name}' missing");
        return f;
    }

    private static void AssertEqual(string name, ReadOnlySpan<float> actual)
    {
        var (kind, values) = Fixture(name);
        Assert.Equal("f32", kind);
        Assert.Equal(values.Length, actual.Length);
        for (int i = 0; i < values.Length; i++)
        {
            uint expected = uint.Parse(values[i], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            uint got = BitConverter.SingleToUInt32Bits(actual[i]);
            if (expected != got)
                Assert.Fail($"{name}[{i}]: expected {BitConverter.UInt32BitsToSingle(expected):R} (0x{expected:x8}), got {actual[i]:R} (0x{got:x8})");
        }
    }

    private static void AssertEqual(string name, ReadOnlySpan<double> actual)
    {
        var (kind, values) = Fixture(name);
        Assert.Equal("f64", kind);
        Assert.Equal(values.Length, actual.Length);
        for (int i = 0; i < values.Length; i++)
        {
            ulong expected = ulong.Parse(values[i], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            ulong got = BitConverter.DoubleToUInt64Bits(actual[i]);
            if (expected != got)
                Assert.Fail($"{name}[{i}]: expected {BitConverter.UInt64BitsToDouble(expected):R} (0x{expected:x16}), got {actual[i]:R} (0x{got:x16})");
        }
    }

    private static void AssertEqual(string name, ReadOnlySpan<long> actual)
    {
        var (kind, values) = Fixture(name);
        Assert.Equal("i64", kind);
        Assert.Equal(values.Length, actual.Length);
        for (int i = 0; i < values.Length; i++)
            Assert.True(long.Parse(values[i], CultureInfo.InvariantCulture) == actual[i], $"{name}[{i}]: expected {values[i]}, got {actual[i]}");
    }

    private static float[] RandF(Generator g, int n) { var a = new float[n]; g.FillUniform(a, 0, 1); return a; }
    private static double[] RandD(Generator g, int n) { var a = new double[n]; g.FillUniform(a, 0, 1); return a; }
    private static float[] RandnF(Generator g, int n) { var a = new float[n]; g.FillNormal(a, 0, 1); return a; }
    private static double[] RandnD(Generator g, int n) { var a = new double[n]; g.FillNormal(a, 0, 1); return a; }

    public static TheoryData<ulong, int> SeedsAndLengths()
    {
        var data = new TheoryData<ulong, int>();
        foreach (ulong seed in new ulong[] { 0, 42, 123456789 })
            foreach (int n in new[] { 1, 2, 3, 5, 15, 16, 17, 31, 32, 100, 1000 })
                data.Add(seed, n);
        return data;
    }

    [Theory]
    [MemberData(nameof(SeedsAndLengths))]
    public void Rand_Float32(ulong seed, int n) => AssertEqual($"rand_s{seed}_f32_n{n}", RandF(new Generator(seed), n));

    [Theory]
    [MemberData(nameof(SeedsAndLengths))]
    public void Rand_Float64(ulong seed, int n) => AssertEqual($"rand_s{seed}_f64_n{n}", RandD(new Generator(seed), n));

    [Theory]
    [MemberData(nameof(SeedsAndLengths))]
    public void Randn_Float32(ulong seed, int n) => AssertEqual($"randn_s{seed}_f32_n{n}", RandnF(new Generator(seed), n));

    [Theory]
    [MemberData(nameof(SeedsAndLengths))]
    public void Randn_Float64(ulong seed, int n) => AssertEqual($"randn_s{seed}_f64_n{n}", RandnD(new Generator(seed), n));

    [Fact]
    public void ConsecutiveDraws_Float32()
    {
        var g = new Generator(0);
        AssertEqual("seq_f32_0", RandnF(g, 3));
        AssertEqual("seq_f32_1", RandnF(g, 20));
        AssertEqual("seq_f32_2", RandF(g, 5));
        AssertEqual("seq_f32_3", RandnF(g, 1));
        AssertEqual("seq_f32_4", RandF(g, 1));
        AssertEqual("seq_f32_5", RandnF(g, 1));
        AssertEqual("seq_f32_6", RandnF(g, 17));
    }

    [Fact]
    public void ConsecutiveDraws_Float64()
    {
        var g = new Generator(0);
        AssertEqual("seq_f64_0", RandnD(g, 3));
        AssertEqual("seq_f64_1", RandnD(g, 20));
        AssertEqual("seq_f64_2", RandD(g, 5));
        AssertEqual("seq_f64_3", RandnD(g, 1));
        AssertEqual("seq_f64_4", RandD(g, 1));
        AssertEqual("seq_f64_5", RandnD(g, 1));
        AssertEqual("seq_f64_6", RandnD(g, 17));
    }

    [Fact]
    public void CachedNormal_IsSharedAcrossDtypes()
    {
        var g = new Generator(5);
        AssertEqual("mix_0", RandnF(g, 1));
        AssertEqual("mix_1", RandnD(g, 1));
        AssertEqual("mix_2", RandnD(g, 3));
        AssertEqual("mix_3", RandnF(g, 1));
    }

    [Fact]
    public void ManualSeed_ClearsCachedNormal()
    {
        var g = new Generator(9);
        RandnF(g, 1);
        g.manual_seed(9);
        AssertEqual("reseed_clears_cache", RandnF(g, 2));
    }

    [Fact]
    public void TwoDimensionalShapes_UseTheFlatStream()
    {
        AssertEqual("rand2d_3x7", RandF(new Generator(0), 21));
        AssertEqual("randn2d_4x5", RandnF(new Generator(0), 20));
    }

    [Theory]
    [InlineData(5)]
    [InlineData(50)]
    public void Normal_MeanStd(int n)
    {
        var f = new float[n];
        new Generator(0).FillNormal(f, 2, 3);
        AssertEqual($"normal_m2_s3_f32_n{n}", f);
        var d = new double[n];
        new Generator(0).FillNormal(d, 2, 3);
        AssertEqual($"normal_m2_s3_f64_n{n}", d);
    }

    [Fact]
    public void Normal_MeanStd_ScalarPathRepeated()
    {
        var gf = new Generator(0);
        var gd = new Generator(0);
        var f = new float[15 * 40];
        var d = new double[15 * 40];
        for (int k = 0; k < 40; k++)
        {
            gf.FillNormal(f.AsSpan(15 * k, 15), 2, 3);
            gd.FillNormal(d.AsSpan(15 * k, 15), 2, 3);
        }
        AssertEqual("normal_m2_s3_f32_15x40", f);
        AssertEqual("normal_m2_s3_f64_15x40", d);
    }

    [Fact]
    public void Uniform_FromTo()
    {
        var d = new double[100];
        new Generator(0).FillUniform(d, -1, 2);
        AssertEqual("uniform_m1_2_f64_n100", d);
        var f = new float[100];
        new Generator(0).FillUniform(f, -1, 2);
        AssertEqual("uniform_m1_2_f32_n100", f);
    }

    [Theory]
    [InlineData("randint_0_10_n20", 0L, 10L, 20)]
    [InlineData("randint_m5_1000000_n10", -5L, 1000000L, 10)]
    [InlineData("randint_0_2p40_n10", 0L, 1L << 40, 10)]
    [InlineData("randint_m2p62_2p62_n10", -(1L << 62), 1L << 62, 10)]
    public void Randint_Int64(string name, long low, long high, int n)
    {
        var a = new long[n];
        new Generator(0).FillRandint(a, low, high);
        AssertEqual(name, a);

        var g = new Generator(0);
        var b = new long[n];
        for (int i = 0; i < n; i++)
            b[i] = g.RandomInt(low, high);
        AssertEqual(name, b);
    }

    [Fact]
    public void Randint_OtherDtypes()
    {
        var f = new float[20];
        new Generator(0).FillRandint(f, 0, 10);
        AssertEqual("randint_0_10_f32_n20", f);

        var d = new double[10];
        new Generator(0).FillRandint(d, 0, 1L << 40);
        AssertEqual("randint_0_2p40_f64_n10", d);

        var i32 = new int[10];
        new Generator(0).FillRandint(i32, 0, int.MaxValue);
        var widened = new long[10];
        for (int i = 0; i < 10; i++)
            widened[i] = i32[i];
        AssertEqual("randint_0_2p31m1_i32_n10", widened);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(20)]
    [InlineData(1000)]
    public void Randperm(int n)
    {
        var a = new long[n];
        new Generator(0).Randperm(a);
        AssertEqual($"randperm_n{n}", a);

        var b = new int[n];
        new Generator(0).Randperm(b);
        for (int i = 0; i < n; i++)
            Assert.Equal(a[i], b[i]);
    }

    [Fact]
    public void Bernoulli()
    {
        var f = new float[20];
        new Generator(0).FillBernoulli(f, 0.3);
        AssertEqual("bernoulli_p03_f32_n20", f);
        var d = new double[20];
        new Generator(0).FillBernoulli(d, 0.3);
        AssertEqual("bernoulli_p03_f64_n20", d);
        var big = new float[1000];
        new Generator(0).FillBernoulli(big, 0.5);
        AssertEqual("bernoulli_p05_f32_n1000", big);
    }

    [Fact]
    public void ExplicitGenerator_ManualSeed7()
    {
        var g = new Generator().manual_seed(7);
        Assert.Equal(7UL, g.initial_seed());
        AssertEqual("gen7_0", RandF(g, 5));
        AssertEqual("gen7_1", RandnF(g, 20));
        AssertEqual("gen7_2", RandnF(g, 3));
        var p = new long[10];
        g.Randperm(p);
        AssertEqual("gen7_3", p);
    }

    [Fact]
    public void DefaultSeed_AndBigSeed()
    {
        var g = new Generator();
        AssertEqual("gen_default_initial_seed", [(long)g.initial_seed()]);
        AssertEqual("gen_default_rand", RandF(g, 5));

        var big = new Generator(0).manual_seed((1UL << 40) + 5);
        AssertEqual("gen_bigseed_initial_seed", [(long)big.initial_seed()]);
        AssertEqual("gen_bigseed_rand", RandF(big, 5));
    }

    [Fact]
    public void Seed_IsNondeterministicAndReproducible()
    {
        var g = new Generator();
        ulong s = g.seed();
        Assert.Equal(s, g.initial_seed());
        Assert.True(s < (1UL << 53));
        var a = RandF(g, 8);
        var b = RandF(new Generator(s), 8);
        Assert.Equal(a, b);
    }

    [Fact]
    public void Default_IsASingleton()
    {
        Assert.Same(Generator.Default, Generator.Default);
    }
}
