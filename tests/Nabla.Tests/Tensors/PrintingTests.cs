using System.Globalization;
using System.Text.Json;
using Xunit;

namespace Nabla.Tests;

/// <summary>Tensor printing against text produced by PyTorch 1.13 (tools/fixtures/printing.py) and the seeds.</summary>
public class PrintingTests
{
    static readonly string Dir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "printing");

    static JsonElement[] Load(string file)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, file)));
        return doc.RootElement.EnumerateArray().Select(e => e.Clone()).ToArray();
    }

    static readonly Lazy<Dictionary<string, JsonElement>> PythonCases =
        new(() => Load("python.json").ToDictionary(e => e.GetProperty("name").GetString()!));
    static readonly Lazy<Dictionary<string, JsonElement>> LibTorchCases =
        new(() => Load("libtorch.json").ToDictionary(e => e.GetProperty("name").GetString()!));

    public static TheoryData<string> PythonNames() => new(Load("python.json").Select(e => e.GetProperty("name").GetString()!));
    public static TheoryData<string> LibTorchNames() => new(Load("libtorch.json").Select(e => e.GetProperty("name").GetString()!));

    static double ParseValue(string s) => s switch
    {
        "nan" => double.NaN,
        "inf" => double.PositiveInfinity,
        "-inf" => double.NegativeInfinity,
        _ => double.Parse(s, CultureInfo.InvariantCulture),
    };

    static ScalarType ParseDtype(string s) => s switch
    {
        "float32" => ScalarType.Float32,
        "float64" => ScalarType.Float64,
        "int32" => ScalarType.Int32,
        "int64" => ScalarType.Int64,
        "bool" => ScalarType.Bool,
        _ => throw new ArgumentException(s),
    };

    static (long[] Shape, double[] Values, ScalarType Dtype) Tensor(JsonElement c) => (
        c.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray(),
        c.GetProperty("values").EnumerateArray().Select(x => ParseValue(x.GetString()!)).ToArray(),
        ParseDtype(c.GetProperty("dtype").GetString()!));

    static PrintOptions Options(JsonElement c)
    {
        var o = c.GetProperty("options");
        var th = o.GetProperty("threshold");
        var sci = o.GetProperty("sci_mode");
        return new PrintOptions
        {
            precision = o.GetProperty("precision").GetInt32(),
            threshold = th.ValueKind == JsonValueKind.Null ? double.PositiveInfinity : th.GetDouble(),
            edgeitems = o.GetProperty("edgeitems").GetInt32(),
            linewidth = o.GetProperty("linewidth").GetInt32(),
            sci_mode = sci.ValueKind == JsonValueKind.Null ? null : sci.GetBoolean(),
        };
    }

    [Theory]
    [MemberData(nameof(PythonNames))]
    public void Python_repr_matches_pytorch(string name)
    {
        var c = PythonCases.Value[name];
        var (shape, values, dtype) = Tensor(c);
        var gradFn = c.GetProperty("grad_fn");
        string actual = TensorFormatter.Python(shape, values, dtype,
            gradFn.ValueKind == JsonValueKind.Null ? null : gradFn.GetString(),
            c.GetProperty("requires_grad").GetBoolean(), Options(c));
        Assert.Equal(c.GetProperty("expected").GetString(), actual);
    }

    [Theory]
    [MemberData(nameof(LibTorchNames))]
    public void LibTorch_print_matches_libtorch(string name)
    {
        var c = LibTorchCases.Value[name];
        if (c.TryGetProperty("undefined", out _))
        {
            string undefined = TensorFormatter.LibTorchUndefined;
            Assert.Equal(c.GetProperty("expected").GetString(), undefined);
            return;
        }
        var (shape, values, dtype) = Tensor(c);
        Assert.Equal(c.GetProperty("expected").GetString(), TensorFormatter.LibTorch(shape, values, dtype));
    }

    [Theory]
    [MemberData(nameof(LibTorchNames))]
    public void R_print_is_header_plus_libtorch_text(string name)
    {
        var c = LibTorchCases.Value[name];
        if (c.TryGetProperty("undefined", out _)) return;
        var (shape, values, dtype) = Tensor(c);
        string expected = c.GetProperty("expected").GetString()!;
        string actual = TensorFormatter.R(shape, values, dtype, n: -1, seedIndent: false);
        Assert.Equal("torch_tensor\n" + expected, actual);
    }

    [Fact]
    public void Profiles_set_by_set_printoptions_match_the_fixture_options()
    {
        try
        {
            foreach (var c in PythonCases.Value.Values)
            {
                var profile = c.GetProperty("profile");
                if (profile.ValueKind == JsonValueKind.Null) continue;
                torch.set_printoptions(profile: profile.GetString());
                var expected = Options(c);
                var o = PrintOptions.Current;
                Assert.Equal((expected.precision, expected.threshold, expected.edgeitems, expected.linewidth, expected.sci_mode),
                    (o.precision, o.threshold, o.edgeitems, o.linewidth, o.sci_mode));
            }
            torch.set_printoptions(profile: "short", precision: 3, sci_mode: true);
            Assert.Equal((3, 1000d, 2, 80, (bool?)true), (PrintOptions.Current.precision, PrintOptions.Current.threshold,
                PrintOptions.Current.edgeitems, PrintOptions.Current.linewidth, PrintOptions.Current.sci_mode));
            torch.set_printoptions(linewidth: 120); // sci_mode is reset, as in PyTorch
            Assert.Null(PrintOptions.Current.sci_mode);
            Assert.Equal(120, PrintOptions.Current.linewidth);
            Assert.Throws<ArgumentException>(() => torch.set_printoptions(profile: "long"));
        }
        finally
        {
            torch.set_printoptions(profile: "default");
        }
    }

    static string Lib(double[] v, params long[] shape) => TensorFormatter.LibTorch(shape, v, ScalarType.Float32);

    [Fact]
    public void Seed_000_libtorch_outputs()
    {
        Assert.Equal(" 2\n 3\n[ CPUFloatType{2} ]", Lib([2, 3], 2));
        Assert.Equal("-12\n 65\n[ CPUFloatType{2} ]", Lib([-12, 65], 2));
        Assert.Equal(" 36\n 81\n[ CPUFloatType{2} ]", Lib([36, 81], 2));
        Assert.Equal("-12\n -8\n[ CPUFloatType{2} ]", Lib([-12, -8], 2));
        Assert.Equal(" 0.5560\n-1.0466\n-0.8018\n[ CPUFloatType{3,1} ]",
            Lib([(float)0.5560, (float)-1.0466, (float)-0.8018], 3, 1));
        Assert.Equal(" 0.7300\n 0.6300\n 0.5300\n[ CPUFloatType{3,1} ]", Lib([(float)0.73, (float)0.63, (float)0.53], 3, 1));
        Assert.Equal(" 0  1  2\n 3  4  5\n[ CPUFloatType{2,3} ]", Lib([0, 1, 2, 3, 4, 5], 2, 3));
        Assert.Equal("3.5\n[ CPUFloatType{} ]", Lib([3.5]));
        string undefined = TensorFormatter.LibTorchUndefined;
        Assert.Equal("[ Tensor (undefined) ]", undefined);
    }

    [Fact]
    public void Seed_003_R_outputs()
    {
        static string R(float v, params long[] shape) =>
            TensorFormatter.R(shape, Enumerable.Repeat((double)v, (int)shape.Aggregate(1L, (a, b) => a * b)).ToArray(),
                ScalarType.Float32);
        Assert.Equal("torch_tensor\n  0.2500  0.2500\n  0.2500  0.2500\n[ CPUFloatType{2,2} ]", R(0.25f, 2, 2));
        Assert.Equal("torch_tensor\n  4.6500  4.6500\n  4.6500  4.6500\n[ CPUFloatType{2,2} ]", R(4.65f, 2, 2));
        Assert.Equal("torch_tensor\n  18.6000\n[ CPUFloatType{1} ]", R(18.6f, 1));
        Assert.Equal("torch_tensor\n  14.4150  14.4150\n  14.4150  14.4150\n[ CPUFloatType{2,2} ]", R(14.415f, 2, 2));
        Assert.Equal("torch_tensor\n 18.6000\n[ CPUFloatType{1} ][ requires_grad = TRUE ]",
            TensorFormatter.R([1], [(double)18.6f], ScalarType.Float32, requiresGrad: true, seedIndent: false));
        Assert.Equal("torch_tensor\n 2\n[ CPUFloatType{1} ][ grad_fn = <MeanBackward0> ]",
            TensorFormatter.R([1], [2], ScalarType.Float32, "MeanBackward0", seedIndent: false));
    }

    [Fact]
    public void R_truncates_to_n_lines_plus_footer()
    {
        double[] v = Enumerable.Range(0, 40).Select(i => (double)i).ToArray();
        string s = TensorFormatter.R([40], v, ScalarType.Int64, seedIndent: false);
        string[] lines = s.Split('\n');
        Assert.Equal(1 + 30 + 2, lines.Length);
        Assert.Equal(" 29", lines[30]);
        Assert.Equal("... [the output was truncated (use n=-1 to disable)]", lines[31]);
        Assert.Equal("[ CPULongType{40} ]", lines[32]);
    }

    [Fact]
    public void Size_prints_as_torch_Size()
    {
        Assert.Equal("torch.Size([2, 3])", TensorFormatter.Size([2, 3]));
        Assert.Equal("torch.Size([])", TensorFormatter.Size([]));
        Assert.Equal("torch.Size([0])", TensorFormatter.Size([0]));
    }

    [Theory]
    [InlineData(0.125, 2, "0.12")]     // exact tie: half to even, as Python and printf
    [InlineData(0.375, 2, "0.38")]
    [InlineData(2.5, 0, "2")]
    [InlineData(-0.0, 4, "-0.0000")]
    [InlineData(-0.00001, 4, "-0.0000")]
    [InlineData(9.99996, 4, "10.0000")]
    [InlineData(1e22, 1, "10000000000000000000000.0")]
    public void Fixed_is_correctly_rounded(double v, int p, string expected) =>
        Assert.Equal(expected, FloatFormat.Fixed(v, p));

    [Theory]
    [InlineData(1e-5, 4, "1.0000e-05")]
    [InlineData(9.99996e10, 4, "1.0000e+11")]
    [InlineData(1e-300, 4, "1.0000e-300")]
    [InlineData(0.0, 4, "0.0000e+00")]
    [InlineData(125.0, 1, "1.2e+02")]
    [InlineData(5e-324, 3, "4.941e-324")]
    [InlineData(3.0, 0, "3e+00")]
    public void Sci_matches_python_e_format(double v, int p, string expected) =>
        Assert.Equal(expected, FloatFormat.Sci(v, p));

    [Theory]
    [InlineData(3.5, 6, "3.5")]
    [InlineData(1.0 / 3, 6, "0.333333")]
    [InlineData(1234567.0, 6, "1.23457e+06")]
    [InlineData(100000.0, 6, "100000")]
    [InlineData(0.0001, 6, "0.0001")]
    [InlineData(0.00001, 6, "1e-05")]
    [InlineData(100000.0, 4, "1e+05")]
    [InlineData(0.0, 6, "0")]
    [InlineData(-0.0, 6, "-0")]
    public void General_matches_printf_g(double v, int p, string expected) =>
        Assert.Equal(expected, FloatFormat.General(v, p));
}
