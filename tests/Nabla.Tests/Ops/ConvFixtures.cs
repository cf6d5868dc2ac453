using System.Text.Json;
using Xunit;

namespace Nabla.Tests;

/// <summary>
/// Reads the PyTorch reference cases written by tools/fixtures/conv.py (Fixtures/conv/*.json) and holds the small
/// float64 gradient checker the convolution, pooling and batch-norm tests share.
/// </summary>
internal static class ConvFixtures
{
    static readonly Dictionary<string, JsonElement> Cache = new();

    public static JsonElement File(string name)
    {
        lock (Cache)
        {
            if (!Cache.TryGetValue(name, out var root))
            {
                var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "conv", name);
                root = JsonDocument.Parse(System.IO.File.ReadAllText(path)).RootElement;
                Cache[name] = root;
            }
            return root;
        }
    }

    public static JsonElement Case(string file, string name)
    {
        foreach (var c in File(file).EnumerateArray())
            if (c.GetProperty("name").GetString() == name) return c;
        throw new KeyNotFoundException(name);
    }

    public static IEnumerable<object[]> Names(string file)
    {
        foreach (var c in File(file).EnumerateArray()) yield return new object[] { c.GetProperty("name").GetString()! };
    }

    public static long[] Longs(JsonElement e)
    {
        var r = new long[e.GetArrayLength()];
        int i = 0;
        foreach (var v in e.EnumerateArray()) r[i++] = v.GetInt64();
        return r;
    }

    public static Tensor? Tensor(JsonElement e, bool requiresGrad = false)
    {
        if (e.ValueKind == JsonValueKind.Null) return null;
        var values = new List<double>();
        foreach (var v in e.GetProperty("values").EnumerateArray()) values.Add(v.GetDouble());
        var dtype = e.GetProperty("dtype").GetString() == "float32" ? torch.float32 : torch.float64;
        return torch.tensor(values.ToArray(), Longs(e.GetProperty("shape")), dtype, requiresGrad);
    }

    public static void AssertClose(JsonElement expected, Tensor? actual, double atol, double rtol = 1e-5, string what = "")
    {
        Assert.NotNull(actual);
        var e = Tensor(expected)!;
        Assert.Equal(e.shape, actual!.shape);
        Assert.Equal(e.dtype, actual.dtype);
        var ev = e.ToDoubleArray();
        var av = actual.ToDoubleArray();
        for (int i = 0; i < ev.Length; i++)
            Assert.True(Math.Abs(ev[i] - av[i]) <= atol + rtol * Math.Abs(ev[i]), $"{what}[{i}]: expected {ev[i]}, got {av[i]}");
    }

    public static void AssertNextFunctions(JsonElement expected, Tensor y)
    {
        var names = new List<string?>();
        foreach (var (node, _) in y.grad_fn!.next_functions) names.Add(node?.name());
        var want = new List<string?>();
        foreach (var v in expected.EnumerateArray()) want.Add(v.ValueKind == JsonValueKind.Null ? null : v.GetString());
        Assert.Equal(want, names);
    }

    // ---- gradient checker (float64 central differences) -------------------------------------------------------

    static Tensor RandomLike(Tensor t, Random rng)
    {
        var v = new double[t.numel()];
        for (int i = 0; i < v.Length; i++) v[i] = rng.NextDouble() * 2 - 1;
        return torch.tensor(v, t.shape, torch.float64);
    }

    static double Dot(Tensor a, Tensor b)
    {
        var x = a.ToDoubleArray();
        var y = b.ToDoubleArray();
        double s = 0;
        for (int i = 0; i < x.Length; i++) s += x[i] * y[i];
        return s;
    }

    /// <summary>
    /// Checks d/dinputs of sum(f(inputs) * r) against central differences; with <paramref name="secondOrder"/> also
    /// the gradient of sum_i(grad_i * r_i) (double backward through create_graph).
    /// </summary>
    public static void GradCheck(Func<Tensor[], Tensor> f, Tensor[] inputs, bool secondOrder = true, int seed = 1)
    {
        var rng = new Random(seed);
        Tensor r;
        using (torch.no_grad()) r = RandomLike(f(inputs), rng);
        Func<double> first = () => { using (torch.no_grad()) return Dot(f(inputs), r); };
        var analytic = torch.autograd.grad(new[] { f(inputs).mul(r).sum() }, inputs);
        Compare(first, inputs, analytic, "first order");
        if (!secondOrder) return;

        var r2 = new Tensor[inputs.Length];
        for (int i = 0; i < inputs.Length; i++) r2[i] = RandomLike(inputs[i], rng);
        Func<double> second = () =>
        {
            var g = torch.autograd.grad(new[] { f(inputs).mul(r).sum() }, inputs);
            double s = 0;
            for (int i = 0; i < g.Length; i++) s += Dot(g[i]!, r2[i]);
            return s;
        };
        var grads = torch.autograd.grad(new[] { f(inputs).mul(r).sum() }, inputs, create_graph: true);
        Tensor? total = null;
        for (int i = 0; i < grads.Length; i++)
        {
            if (grads[i]!.grad_fn is null && !grads[i]!.requires_grad) continue;
            var term = grads[i]!.mul(r2[i]).sum();
            total = total is null ? term : total.add(term);
        }
        var analytic2 = total is null ? new Tensor?[inputs.Length] : torch.autograd.grad(new[] { total }, inputs, allow_unused: true);
        Compare(second, inputs, analytic2, "second order");
    }

    static void Compare(Func<double> value, Tensor[] inputs, Tensor?[] analytic, string what)
    {
        const double eps = 1e-6;
        for (int k = 0; k < inputs.Length; k++)
        {
            var x = inputs[k];
            var a = analytic[k]?.ToDoubleArray() ?? new double[x.numel()];
            Assert.Equal(x.numel(), a.Length);
            for (int i = 0; i < x.numel(); i++)
            {
                double old = x.GetFlat(i);
                x.SetFlat(i, old + eps);
                double plus = value();
                x.SetFlat(i, old - eps);
                double minus = value();
                x.SetFlat(i, old);
                double numeric = (plus - minus) / (2 * eps);
                Assert.True(Math.Abs(numeric - a[i]) <= 1e-5 + 1e-3 * Math.Abs(numeric),
                    $"{what}: input {k} element {i}: numeric {numeric}, analytic {a[i]}");
            }
        }
    }

    public static Tensor Randn(Random rng, params long[] shape)
    {
        long n = 1;
        foreach (var s in shape) n *= s;
        var v = new double[n];
        for (int i = 0; i < n; i++)
        {
            double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
            v[i] = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
        }
        return torch.tensor(v, shape, torch.float64, requires_grad: true);
    }

    /// <summary>Asserts that <paramref name="action"/> throws an exception of the type PyTorch's error maps to, with PyTorch's message.</summary>
    public static void AssertError(string name, Action action)
    {
        var e = File("errors.json").GetProperty(name);
        var type = e.GetProperty("type").GetString();
        var message = e.GetProperty("message").GetString();
        var ex = Assert.ThrowsAny<Exception>(action);
        Assert.Equal(message, ex.Message);
        switch (type)
        {
            case "RuntimeError": Assert.True(ex is ArgumentException or InvalidOperationException, ex.GetType().Name); break;
            case "IndexError": Assert.IsType<IndexOutOfRangeException>(ex); break;
            case "ValueError": Assert.IsAssignableFrom<ArgumentException>(ex); break;
            default: Assert.Fail($"unexpected type {type}"); break;
        }
    }
}
