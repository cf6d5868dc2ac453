using System.Text.Json;
using Xunit;
using static Nabla.torch;

namespace Nabla.Tests;

/// <summary>
/// Indexing (reading, setitem, index_put_) against PyTorch 1.13 fixtures from tools/fixtures/indexing.py
/// (Fixtures/indexing/indexing.json), plus views, ranges, gradients (finite differences), node names, writes and errors.
/// </summary>
public class IndexingTests
{
    static readonly Lazy<JsonElement> Fixtures = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "indexing", "indexing.json"))).RootElement);

    static long[] Longs(JsonElement e) => e.EnumerateArray().Select(v => v.GetInt64()).ToArray();
    static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToArray();

    static Tensor Arange(long[] shape) => arange(0, shape.Aggregate(1L, (a, b) => a * b), dtype: float64).reshape(shape);

    static TensorIndex ParseIndex(JsonElement item)
    {
        if (item.TryGetProperty("i", out var i)) return i.GetInt64();
        if (item.TryGetProperty("s", out var s))
        {
            long? At(int k) => s[k].ValueKind == JsonValueKind.Null ? null : s[k].GetInt64();
            return TensorIndex.Slice(At(0), At(1), At(2));
        }
        if (item.TryGetProperty("e", out _)) return TensorIndex.Ellipsis;
        if (item.TryGetProperty("n", out _)) return TensorIndex.None;
        if (item.TryGetProperty("b", out var b)) return b.GetBoolean();
        if (item.TryGetProperty("t", out var t)) return tensor(Longs(t[1]), Longs(t[0]));
        var m = item.GetProperty("m");
        return tensor(Longs(m[1]).Select(v => v != 0).ToArray(), Longs(m[0]));
    }

    static TensorIndex[] ParseIndices(JsonElement items) => items.EnumerateArray().Select(ParseIndex).ToArray();

    static Tensor Weights(Tensor like) => (arange(0, like.numel(), dtype: float64) + 1).reshape(like.shape);

    static void AssertValues(double[] expected, Tensor actual, string what)
    {
        var a = actual.to(float64).ToArray<double>();
        Assert.True(expected.Length == a.Length, $"{what}: {a.Length} values, expected {expected.Length}");
        for (int i = 0; i < a.Length; i++) Assert.True(expected[i] == a[i], $"{what}[{i}]: {a[i]} != {expected[i]}");
    }

    [Fact]
    public void ReadsMatchPyTorch()
    {
        foreach (var c in Fixtures.Value.GetProperty("reads").EnumerateArray())
        {
            string what = c.GetProperty("index").GetRawText();
            var x = Arange(Longs(c.GetProperty("shape"))).requires_grad_();
            var indices = ParseIndices(c.GetProperty("index"));
            var y = x[indices];
            Assert.True(Longs(c.GetProperty("out_shape")).SequenceEqual(y.shape), $"{what}: shape [{string.Join(",", y.shape)}]");
            AssertValues(Doubles(c.GetProperty("out")), y, what);
            Assert.Equal(c.GetProperty("grad_fn").GetString(), y.grad_fn!.name());
            (y * Weights(y)).sum().backward();
            AssertValues(Doubles(c.GetProperty("grad")), x.grad!, what + " grad");
        }
    }

    [Fact]
    public void WritesMatchPyTorch()
    {
        foreach (var c in Fixtures.Value.GetProperty("writes").EnumerateArray())
        {
            string what = c.GetProperty("index").GetRawText();
            var x = Arange(Longs(c.GetProperty("shape"))).requires_grad_();
            var y = x * 1;
            Tensor? v = null;
            if (c.GetProperty("value").ValueKind == JsonValueKind.Null)
                y[ParseIndices(c.GetProperty("index"))] = c.GetProperty("scalar").GetDouble();
            else
            {
                var value = c.GetProperty("value");
                v = tensor(Doubles(value[1]), Longs(value[0]), requires_grad: true);
                y[ParseIndices(c.GetProperty("index"))] = v;
            }
            AssertValues(Doubles(c.GetProperty("out")), y, what);
            Assert.Equal(c.GetProperty("grad_fn").GetString(), y.grad_fn!.name());
            (y * Weights(y)).sum().backward();
            AssertValues(Doubles(c.GetProperty("grad")), x.grad!, what + " grad");
            if (v is not null) AssertValues(Doubles(c.GetProperty("value_grad")), v.grad!, what + " value grad");
        }
    }

    [Fact]
    public void IndexPutMatchesPyTorch()
    {
        foreach (var c in Fixtures.Value.GetProperty("index_put").EnumerateArray())
        {
            string what = c.GetProperty("indices").GetRawText();
            var x = Arange(Longs(c.GetProperty("shape"))).requires_grad_();
            var y = x * 1;
            var indices = c.GetProperty("indices").EnumerateArray()
                .Select(i => (Tensor?)tensor(Longs(i.GetProperty("t")[1]), Longs(i.GetProperty("t")[0]))).ToArray();
            var value = c.GetProperty("value");
            var v = tensor(Doubles(value[1]), Longs(value[0]), requires_grad: true);
            y.index_put_(indices, v, c.GetProperty("accumulate").GetBoolean());
            AssertValues(Doubles(c.GetProperty("out")), y, what);
            Assert.Equal(c.GetProperty("grad_fn").GetString(), y.grad_fn!.name());
            (y * Weights(y)).sum().backward();
            AssertValues(Doubles(c.GetProperty("grad")), x.grad!, what + " grad");
            AssertValues(Doubles(c.GetProperty("value_grad")), v.grad!, what + " value grad");
        }
    }

    [Fact]
    public void RTutorialColumnKeepsTwoDims()
    {
        // R: x[, 1, NULL] on a 2-D tensor: column 0 as an (n, 1) tensor.
        var x = tensor(new double[] { 1, 2, 3, 4, 5, 6 }, new long[] { 3, 2 });
        var col = x[TensorIndex.Colon, 0, TensorIndex.None];
        Assert.Equal(new long[] { 3, 1 }, col.shape);
        Assert.Equal(new double[] { 1, 3, 5 }, col.ToArray<double>());
        Assert.Equal(new long[] { 3, 1 }, x[.., 0, TensorIndex.None].shape);
    }

    [Fact]
    public void BasicIndexingReturnsViewsThatShareStorage()
    {
        var x = zeros(3, 4);
        var row = x[1];
        row[2] = 7f;
        Assert.Equal(7f, x[1, 2].item<float>());
        x[0..2, 3].fill_(5);
        Assert.Equal(new float[] { 5, 5, 0 }, x[.., 3].ToArray<float>());
        var y = x[TensorIndex.None, TensorIndex.Ellipsis];
        y[0, 2, 0] = 9f;
        Assert.Equal(9f, x[2, 0].item<float>());
        var copy = x[tensor(new long[] { 2 })];
        copy[0, 0] = -1f;
        Assert.Equal(9f, x[2, 0].item<float>()); // advanced indexing copies
    }

    [Fact]
    public void NegativeIndicesAndCSharpRanges()
    {
        var x = arange(0, 12, dtype: float64).reshape(3, 4);
        Assert.Equal(x[2].ToArray<double>(), x[-1].ToArray<double>());
        Assert.Equal(x[2].ToArray<double>(), x[^1].ToArray<double>());
        Assert.Equal(new double[] { 4, 5, 6, 7 }, x[1..^1].ToArray<double>());
        Assert.Equal(new double[] { 6, 7, 10, 11 }, x[^2.., ^2..].ToArray<double>());
        Assert.Equal(new long[] { 3, 1 }, x[.., 0..1].shape);
        Assert.Equal(new long[] { 3, 4 }, x[..].shape);
        Assert.Equal(new long[] { 0, 4 }, x[^0..].shape);
        Assert.Equal(new double[] { 1, 3, 5, 7, 9, 11 }, x[.., TensorIndex.Slice(1, null, 2)].flatten().ToArray<double>());
        var ex = Assert.Throws<IndexOutOfRangeException>(() => x[^0]);
        Assert.Equal("index 3 is out of bounds for dimension 0 with size 3", ex.Message);
    }

    [Fact]
    public void RepeatedIndicesAccumulateGradients()
    {
        var x = ones(4, requires_grad: true);
        x[tensor(new long[] { 0, 0, 3, 0 })].sum().backward();
        Assert.Equal(new float[] { 3, 0, 0, 1 }, x.grad!.ToArray<float>());
        var m = ones(3, 2, requires_grad: true);
        m[tensor(new long[] { 1, 1 }), tensor(new long[] { 0, 0 })].sum().backward();
        Assert.Equal(new float[] { 0, 0, 2, 0, 0, 0 }, m.grad!.ToArray<float>());
    }

    // ---- finite-difference gradient checks ---------------------------------------------------------------------

    static void GradCheck(Func<Tensor, Tensor> f, Tensor x0, bool doubleBackward = true)
    {
        var x = x0.detach().clone().requires_grad_();
        var y = f(x);
        var w = Weights(y);
        var analytic = torch.autograd.grad(new[] { (y * w).sum() }, new[] { x }, create_graph: true)[0]!;
        var flat = x0.detach().clone().reshape(-1);
        double eps = 1e-6;
        for (int i = 0; i < flat.numel(); i++)
        {
            double Eval(double delta)
            {
                var xp = flat.clone();
                xp[i] = xp[i].item<double>() + delta;
                using var _ = no_grad();
                return (f(xp.reshape(x0.shape)) * w).sum().item<double>();
            }
            double numeric = (Eval(eps) - Eval(-eps)) / (2 * eps);
            double a = analytic.reshape(-1)[i].item<double>();
            Assert.True(Math.Abs(a - numeric) <= 1e-5 + 1e-3 * Math.Abs(numeric), $"grad[{i}]: analytic {a}, numeric {numeric}");
        }
        if (!doubleBackward) return;
        // Second order: d/dx sum(grad * v) by finite differences of the analytic gradient.
        var v = Weights(analytic);
        var second = torch.autograd.grad(new[] { (analytic * v).sum() }, new[] { x }, allow_unused: true)[0];
        for (int i = 0; i < flat.numel(); i++)
        {
            double Eval(double delta)
            {
                var xp = flat.clone();
                xp[i] = xp[i].item<double>() + delta;
                var xr = xp.reshape(x0.shape).requires_grad_();
                var g = torch.autograd.grad(new[] { (f(xr) * w).sum() }, new[] { xr })[0]!;
                return (g * v).sum().item<double>();
            }
            double numeric = (Eval(eps) - Eval(-eps)) / (2 * eps);
            double a = second is null ? 0 : second.reshape(-1)[i].item<double>();
            Assert.True(Math.Abs(a - numeric) <= 1e-5 + 1e-3 * Math.Abs(numeric), $"grad2[{i}]: analytic {a}, numeric {numeric}");
        }
    }

    [Fact]
    public void GradientsMatchFiniteDifferences()
    {
        var x0 = (arange(0, 12, dtype: float64).reshape(3, 4) * 0.37 - 1.5);
        var idx = tensor(new long[] { 2, 0, 2, 1 });
        var mask = x0.gt(0);
        GradCheck(x => x[idx].pow(2), x0);
        GradCheck(x => x[TensorIndex.Colon, idx].pow(3), x0);
        GradCheck(x => x[mask].pow(2), x0);
        GradCheck(x => x[1.., TensorIndex.None, 0].pow(2), x0);
        GradCheck(x =>
        {
            var y = x * x;
            y[TensorIndex.Colon, 1] = x[0, 1..].pow(2);
            y[tensor(new long[] { 0, 2 })] = x[2] * 3; // distinct: duplicates without accumulate are order-dependent
            return y;
        }, x0);
        GradCheck(x =>
        {
            var y = x.pow(2);
            return y.index_put(new Tensor?[] { tensor(new long[] { 1, 1, 2 }) }, x[0] * x[1], accumulate: true);
        }, x0);
    }

    // ---- node names and graph ----------------------------------------------------------------------------------

    [Fact]
    public void NodeNamesAsPyTorchRecordsThem()
    {
        var x = ones(3, 4, requires_grad: true);
        Assert.Equal("SelectBackward0", x[0].grad_fn!.name());
        Assert.Equal("SliceBackward0", x[TensorIndex.Colon, 1..].grad_fn!.name());
        Assert.Equal("SliceBackward0", x[TensorIndex.Colon, 1..].grad_fn!.next_functions[0].node!.name());
        Assert.Equal("UnsqueezeBackward0", x[TensorIndex.None].grad_fn!.name());
        Assert.Equal("AliasBackward0", x[TensorIndex.Ellipsis].grad_fn!.name());
        Assert.Equal("IndexBackward0", x[tensor(new long[] { 0 })].grad_fn!.name());
        Assert.Equal("IndexBackward0", x[x.gt(0)].grad_fn!.name());
        Assert.Equal("UnsqueezeBackward0", x[true].grad_fn!.next_functions[0].node!.name());
        Assert.Equal("SelectBackward0", x[tensor(1L)].grad_fn!.name());

        var y = x.mul(ones(3, 4));
        y[0] = 5;
        Assert.Equal("torch::autograd::CopySlices", y.grad_fn!.name());
        Assert.Equal("<CopySlices object at", y.grad_fn.ToString()[..21]);
        Assert.Equal("MulBackward0", y.grad_fn.next_functions[0].node!.name());
        Assert.Null(y.grad_fn.next_functions[1].node);
        var z = x * 1;
        z[tensor(new long[] { 0, 0 })] = tensor(5f);
        Assert.Equal("IndexPutBackward0", z.grad_fn!.name());
    }

    // ---- writes ------------------------------------------------------------------------------------------------

    [Fact]
    public void WritesBroadcastConvertAndBumpTheVersion()
    {
        var x = zeros(3, 4);
        long v0 = x._version;
        x[1] = tensor(new float[] { 1, 2, 3, 4 });
        x[TensorIndex.Colon, 0] = 9;
        x[tensor(new long[] { 2 }), tensor(new long[] { 3 })] = 7.5;
        x[x.lt(0.5)] = -1;
        Assert.Equal(new float[] { 9, -1, -1, -1, 9, 2, 3, 4, 9, -1, -1, 7.5f }, x.ToArray<float>());
        Assert.True(x._version > v0);

        var i = zeros(2, 3, dtype: int64);
        i[.., 1..] = tensor(new long[] { 5, 6 });
        Assert.Equal(new long[] { 0, 5, 6, 0, 5, 6 }, i.ToArray<long>());

        var acc = zeros(4, dtype: float64);
        acc.index_put_(new Tensor?[] { tensor(new long[] { 1, 1, 3, 1 }) }, tensor(new double[] { 1, 2, 3, 4 }), accumulate: true);
        Assert.Equal(new double[] { 0, 7, 0, 3 }, acc.ToArray<double>());
        acc.index_put_(tensor(new double[] { 5, 6 }), TensorIndex.Slice(0, 2)); // TorchSharp's form: value first
        Assert.Equal(new double[] { 5, 6, 0, 3 }, acc.ToArray<double>());

        var sel = zeros(2, 3);
        sel.index_put_(2.5, 1, TensorIndex.Slice(0, 2));
        Assert.Equal(new float[] { 0, 0, 0, 2.5f, 2.5f, 0 }, sel.ToArray<float>());
        sel[false] = 100;
        Assert.Equal(0f, sel[0, 0].item<float>());
        var self = arange(0, 5, dtype: float64);
        self[1..] = self[..^1]; // overlapping source and destination
        Assert.Equal(new double[] { 0, 0, 1, 2, 3 }, self.ToArray<double>());
    }

    [Fact]
    public void NonContiguousInputsIndexLikeTheirContiguousCopies()
    {
        var x = arange(0, 24, dtype: float64).reshape(2, 3, 4).permute(2, 0, 1); // (4, 2, 3), strided
        var c = x.contiguous().clone();
        var idx = tensor(new long[] { 3, 0, 3 });
        var mask = c.gt(10);
        Assert.Equal(c[idx, TensorIndex.Colon, 1..].ToArray<double>(), x[idx, TensorIndex.Colon, 1..].ToArray<double>());
        Assert.Equal(c[mask].ToArray<double>(), x[mask].ToArray<double>());
        var last = tensor(new long[] { 2, 0 });
        Assert.Equal(c[1, TensorIndex.Colon, last].ToArray<double>(), x[1, TensorIndex.Colon, last].ToArray<double>());
        x[idx[..2], 1] = tensor(new double[] { -1, -2, -3 });
        c[idx[..2], 1] = tensor(new double[] { -1, -2, -3 });
        Assert.Equal(c.ToArray<double>(), x.contiguous().ToArray<double>());
    }

    [Fact]
    public void IndexTensorsMayBeInt32()
    {
        var x = arange(0, 6, dtype: float64);
        Assert.Equal(new double[] { 5, 1 }, x[tensor(new int[] { -1, 1 })].ToArray<double>());
    }

    [Fact]
    public void WritesCheckLeavesAndViews()
    {
        var leaf = ones(3, requires_grad: true);
        var e1 = Assert.Throws<InvalidOperationException>(() => leaf[tensor(new long[] { 0 })] = 5);
        Assert.Equal("a leaf Variable that requires grad is being used in an in-place operation.", e1.Message);
        var e2 = Assert.Throws<InvalidOperationException>(() => leaf[0] = 5);
        Assert.Equal("a view of a leaf Variable that requires grad is being used in an in-place operation.", e2.Message);
        using (no_grad()) leaf[0] = 5;
        Assert.Equal(5f, leaf[0].item<float>());

        var y = leaf * 1;
        var view = y[0..2];
        Assert.Throws<NotSupportedException>(() => view[0] = 1);
        Assert.Equal(new float[] { 5, 1, 1 }, y.ToArray<float>()); // nothing written
        var saved = leaf.exp();
        saved[0] = 1;
        var err = Assert.Throws<InvalidOperationException>(() => saved.sum().backward());
        Assert.Contains("has been modified by an inplace operation", err.Message);
    }

    [Fact]
    public void ErrorsMatchPyTorch()
    {
        var x = arange(0, 12.0).reshape(3, 4);
        void Index(string message, Func<Tensor> f) => Assert.Equal(message, Assert.Throws<IndexOutOfRangeException>(() => f()).Message);
        Index("index 5 is out of bounds for dimension 0 with size 3", () => x[5]);
        Index("index -4 is out of bounds for dimension 0 with size 3", () => x[-4]);
        Index("index 7 is out of bounds for dimension 1 with size 4", () => x[0, 7]);
        Index("too many indices for tensor of dimension 2", () => x[0, 0, 0]);
        Index("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` in C++ to convert a 0-dim tensor to a number", () => tensor(5f)[0]);
        Index("an index can only have a single ellipsis ('...')", () => x[TensorIndex.Ellipsis, TensorIndex.Ellipsis]);
        Index("The shape of the mask [4] at index 0 does not match the shape of the indexed tensor [3, 4] at index 0", () => x[tensor(new[] { true, false, true, true })]);
        Index("The shape of the mask [3] at index 0 does not match the shape of the indexed tensor [3, 4] at index 1", () => x[TensorIndex.Colon, tensor(new[] { true, false, true })]);
        Index("tensors used as indices must be long, int, byte or bool tensors", () => x[tensor(new float[] { 0, 1 })]);
        Index("index 5 is out of bounds for dimension 0 with size 3", () => x[tensor(new long[] { 5 })]);
        Index("index 4 is out of bounds for dimension 0 with size 4", () => x[TensorIndex.Colon, tensor(new long[] { 4 })]);
        Index("index 9 is out of bounds for dimension 1 with size 4", () => x[tensor(new long[] { 0 }), tensor(new long[] { 9 })]);
        Index("shape mismatch: indexing tensors could not be broadcast together with shapes [2], [3]", () => x[tensor(new long[] { 0, 1 }), tensor(new long[] { 0, 1, 2 })]);
        Assert.Equal("step must be greater than zero", Assert.Throws<ArgumentException>(() => x[TensorIndex.Slice(0, 3, -1)]).Message);
        Assert.Equal("slice step cannot be zero", Assert.Throws<ArgumentException>(() => x[TensorIndex.Slice(null, null, 0)]).Message);

        var y = x.clone();
        Assert.Equal("shape mismatch: value tensor of shape [3] cannot be broadcast to indexing result of shape [2, 4]",
            Assert.Throws<InvalidOperationException>(() => y[tensor(new long[] { 0, 1 })] = ones(3)).Message);
        Assert.Equal("The expanded size of the tensor (4) must match the existing size (3) at non-singleton dimension 0.  Target sizes: [4].  Tensor sizes: [3]",
            Assert.Throws<ArgumentException>(() => y[0] = ones(3)).Message);
        Assert.Equal("Index put requires the source and destination dtypes match, got Float for the destination and Double for the source.",
            Assert.Throws<InvalidOperationException>(() => y[tensor(new long[] { 0 })] = ones(4, dtype: float64)).Message);
        Assert.Equal(x.ToArray<float>(), y.ToArray<float>()); // failed writes wrote nothing
    }

    [Fact]
    public void NumbersStillPreferScalarOverloads()
    {
        var i = tensor(new long[] { 1, 2 });
        Assert.Equal(ScalarType.Int64, (i + 2).dtype);
        Assert.Equal(ScalarType.Float32, (ones(2) * 2.5).dtype);
        Assert.Equal(ScalarType.Bool, (i == 2).dtype);
    }
}
