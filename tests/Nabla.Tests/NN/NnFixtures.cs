using System.Text.Json;
using Xunit;

namespace Nabla.Tests;

/// <summary>Reads the JSON fixtures written by tools/fixtures/nn.py (PyTorch 1.13).</summary>
internal static class NnFixtures
{
    public static JsonElement Load(string file) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "nn", file))).RootElement;

    /// <summary>A tensor from {"shape", "data", "dtype"} (null when the element is null).</summary>
    public static Tensor? ToTensor(JsonElement e)
    {
        if (e.ValueKind == JsonValueKind.Null) return null;
        var shape = e.GetProperty("shape").EnumerateArray().Select(v => v.GetInt64()).ToArray();
        var dtype = e.GetProperty("dtype").GetString();
        var data = e.GetProperty("data");
        if (dtype == "int64") return torch.tensor(data.EnumerateArray().Select(v => v.GetInt64()).ToArray(), shape);
        var values = data.EnumerateArray().Select(v => v.GetDouble()).ToArray();
        return torch.tensor(values, shape, dtype == "float32" ? ScalarType.Float32 : ScalarType.Float64);
    }

    public static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToArray();

    public static void AssertClose(Tensor expected, Tensor actual, double rtol, double atol, string what)
    {
        Assert.True(ShapeUtil.SameShape(expected._shape, actual._shape), $"{what}: shape {ShapeUtil.Format(actual._shape)} != {ShapeUtil.Format(expected._shape)}");
        AssertClose(expected.ToDoubleArray(), actual.ToDoubleArray(), rtol, atol, what);
    }

    public static void AssertClose(double[] expected, double[] actual, double rtol, double atol, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            bool ok = double.IsNaN(expected[i]) ? double.IsNaN(actual[i]) : Math.Abs(expected[i] - actual[i]) <= atol + rtol * Math.Abs(expected[i]);
            Assert.True(ok, $"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R}");
        }
    }
}
