using Xunit;
using System.Globalization;
using System.Text.Json;

namespace Nabla.Tests.OpDatabase;

/// <summary>
/// Builds the deterministic sample inputs described by a spec string, exactly as tools/fixtures/opdb.py does.
/// Grammar: inputs separated by ','; each input is a shape ("2x3", "[]" for 0-d, "0x3" for empty) followed by
/// modifiers: 'T' built with its last two dims swapped then transposed back (non-contiguous), 'S' built with its last
/// dim doubled then sliced with step 2 (strided), '+' positive values, '~' values with |x| &gt;= 0.5, 'p' values in
/// (0, 1) (probabilities), 'b' a bool mask, 'n' a floating input that does not require grad (running statistics, loss
/// weights). "&lt;shape&gt;#v0;v1;..." is a fixed int64 tensor with the given values (index tensors, class targets), int64
/// in every dtype run. An optional "|Name" suffix overrides the expected grad_fn name of the op.
/// </summary>
public static class SampleSpec
{
    /// <summary>The spec without its grad_fn override (the fixture key part).</summary>
    public static string Key(string spec) => spec.Split('|')[0];

    /// <summary>The grad_fn override of the spec, or null.</summary>
    public static string? GradFnOverride(string spec)
    {
        int bar = spec.IndexOf('|');
        return bar < 0 ? null : spec[(bar + 1)..];
    }

    /// <summary>
    /// The inputs of <paramref name="spec"/>; floating inputs get <paramref name="dtypeOf"/>(position) (an integer
    /// dtype gets integer-valued data), and require grad when <paramref name="requiresGrad"/>.
    /// </summary>
    public static Tensor[] Build(string spec, Func<int, ScalarType> dtypeOf, bool requiresGrad = false)
    {
        var tokens = Key(spec).Split(',');
        var inputs = new Tensor[tokens.Length];
        for (int p = 0; p < tokens.Length; p++)
        {
            var (shape, transposed, strided, domain) = Parse(tokens[p]);
            if (domain == '#')
            {
                var ints = IntValues(tokens[p]);
                inputs[p] = torch.tensor(ints, shape);
                continue;
            }
            var baseShape = (long[])shape.Clone();
            if (transposed) (baseShape[^1], baseShape[^2]) = (baseShape[^2], baseShape[^1]);
            if (strided) baseShape[^1] *= 2;
            long n = 1;
            foreach (var d in baseShape) n *= d;
            Tensor t;
            if (domain == 'b')
            {
                var mask = new bool[n];
                for (long k = 0; k < n; k++) mask[k] = (k * 37 + p * 11) % 3 != 0;
                t = torch.tensor(mask, baseShape);
            }
            else
            {
                var dtype = dtypeOf(p);
                bool integer = dtype is ScalarType.Int64 or ScalarType.Int32;
                t = torch.tensor(Values(n, p, domain, integer), baseShape, dtype);
            }
            if (transposed) t = t.transpose(-1, -2);
            if (strided) t = t.slice(-1, 0, null, 2);
            Assert.Equal(shape, t.shape);
            if (requiresGrad && t.is_floating_point() && !tokens[p].Contains('n')) t.requires_grad_();
            inputs[p] = t;
        }
        return inputs;
    }

    /// <summary>Whether any input of the spec has no elements.</summary>
    public static bool HasEmptyInput(string spec)
    {
        foreach (var token in Key(spec).Split(','))
        {
            var (shape, _, _, _) = Parse(token);
            foreach (var d in shape)
                if (d == 0) return true;
        }
        return false;
    }

    /// <summary>The upstream gradient used by the fixtures: g[k] = ((5k) mod 7 - 3) / 4, in the output's shape.</summary>
    public static Tensor Upstream(long[] shape, ScalarType dtype)
    {
        long n = 1;
        foreach (var d in shape) n *= d;
        var g = new double[n];
        for (long k = 0; k < n; k++) g[k] = ((5 * k) % 7 - 3) / 4.0;
        return torch.tensor(g, shape, dtype);
    }

    static double[] Values(long n, int position, char domain, bool integer)
    {
        var v = new double[n];
        double scale = integer ? 1 : 8.0;
        double off = integer ? 0 : (2 * position + 1) / 64.0;
        for (long k = 0; k < n; k++)
        {
            long m = (k * 37 + position * 11) % 23;
            v[k] = domain switch
            {
                '+' => (m + 1) / scale + off,
                'p' => (m + 1) / (integer ? 1 : 32.0) + off,
                '~' => (m % 2 == 0 ? 1 : -1) * ((m % 8 + 4) / scale + off),
                _ => (m - 11) / scale + off,
            };
        }
        return v;
    }

    static (long[] Shape, bool Transposed, bool Strided, char Domain) Parse(string token)
    {
        token = token.Trim();
        int hash = token.IndexOf('#');
        if (hash >= 0) return (ParseShape(token[..hash]), false, false, '#');
        int i = token.Length;
        while (i > 0 && "TS+~bnp".Contains(token[i - 1])) i--;
        string shapeText = token[..i], mods = token[i..];
        char domain = mods.Contains('+') ? '+' : mods.Contains('~') ? '~' : mods.Contains('p') ? 'p' : mods.Contains('b') ? 'b' : 'r';
        return (ParseShape(shapeText), mods.Contains('T'), mods.Contains('S'), domain);
    }

    static long[] ParseShape(string text) => text == "[]"
        ? System.Array.Empty<long>()
        : text.Split('x').Select(s => long.Parse(s, CultureInfo.InvariantCulture)).ToArray();

    static long[] IntValues(string token) =>
        token.Trim()[(token.Trim().IndexOf('#') + 1)..].Split(';', StringSplitOptions.RemoveEmptyEntries)
            .Select(s => long.Parse(s, CultureInfo.InvariantCulture)).ToArray();
}

/// <summary>One record of Fixtures/opdb/opdb.json (see tools/fixtures/opdb.py).</summary>
public sealed class OpFixture
{
    /// <summary>Output shape.</summary>
    public long[] OutShape = System.Array.Empty<long>();
    /// <summary>Output values (float64, row-major).</summary>
    public double[] Out = System.Array.Empty<double>();
    /// <summary>Output dtype of the float64 run.</summary>
    public string OutDType = "";
    /// <summary>PyTorch's grad_fn name.</summary>
    public string? GradFn;
    /// <summary>Input gradients for the fixed upstream gradient (null where unused), one per input that requires grad.</summary>
    public double[]?[] Grads = System.Array.Empty<double[]?>();
    /// <summary>Output dtypes for the float32, mixed and int64 runs ("error" where PyTorch raised).</summary>
    public string DTypeF32 = "", DTypeMixed = "", DTypeInt = "";

    static readonly Lazy<Dictionary<string, OpFixture>> _all = new(Load);

    /// <summary>The record for (op, spec); fails with the regeneration command when missing.</summary>
    public static OpFixture For(string op, string spec)
    {
        string key = op + "|" + SampleSpec.Key(spec);
        Assert.True(_all.Value.TryGetValue(key, out var f),
            $"fixture '{key}' missing: regenerate with /usr/bin/python3 tools/fixtures/opdb.py > tests/Nabla.Tests/Fixtures/opdb/opdb.json");
        return f!;
    }

    /// <summary>All fixture keys.</summary>
    public static IEnumerable<string> Keys => _all.Value.Keys;

    static Dictionary<string, OpFixture> Load()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "opdb", "opdb.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var result = new Dictionary<string, OpFixture>();
        foreach (var prop in doc.RootElement.EnumerateObject())
        {
            var e = prop.Value;
            var f = new OpFixture
            {
                OutShape = e.GetProperty("out_shape").EnumerateArray().Select(x => x.GetInt64()).ToArray(),
                Out = Numbers(e.GetProperty("out")),
                OutDType = e.GetProperty("out_dtype").GetString()!,
                GradFn = e.GetProperty("grad_fn").ValueKind == JsonValueKind.Null ? null : e.GetProperty("grad_fn").GetString(),
                Grads = e.GetProperty("grads").EnumerateArray()
                    .Select(g => g.ValueKind == JsonValueKind.Null ? null : Numbers(g)).ToArray(),
                DTypeF32 = e.GetProperty("dtype_f32").GetString()!,
                DTypeMixed = e.GetProperty("dtype_mixed").GetString()!,
                DTypeInt = e.GetProperty("dtype_int").GetString()!,
            };
            result[prop.Name] = f;
        }
        return result;
    }

    static double[] Numbers(JsonElement array) =>
        array.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.String
            ? double.Parse(x.GetString()!, CultureInfo.InvariantCulture)
            : x.GetDouble()).ToArray();

    /// <summary>PyTorch's dtype name (float32, float64, int64, ...) of a Nabla dtype.</summary>
    public static string Name(ScalarType t) => t switch
    {
        ScalarType.Float32 => "float32",
        ScalarType.Float64 => "float64",
        ScalarType.Int64 => "int64",
        ScalarType.Int32 => "int32",
        ScalarType.Bool => "bool",
        _ => t.ToString(),
    };
}
