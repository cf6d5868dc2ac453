using System.Text.Json;
using Xunit;

namespace Nabla.Tests;

/// <summary>
/// Reductions (max/min/amax/prod/var/std/logsumexp/norm/cumsum), softmax and joining/gathering ops against
/// PyTorch 1.13 fixtures (tools/fixtures/ops_reduce_join.py): forward values, grad_fn names, input gradients for a
/// fixed upstream gradient; plus finite-difference gradcheck and gradgradcheck in float64.
/// </summary>
public class ReductionAndJoinTests
{
    static readonly Lazy<Dictionary<string, JsonElement>> Fixtures = new(() =>
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "ops", "reduce_join.json");
        var doc = JsonDocument.Parse(File.ReadAllText(path));
        var map = new Dictionary<string, JsonElement>();
        foreach (var c in doc.RootElement.EnumerateArray()) map[c.GetProperty("name").GetString()!] = c;
        return map;
    });

    static Tensor[] One(Tensor t) => new[] { t };
    static Tensor[] Pair((Tensor, Tensor) p) => new[] { p.Item1, p.Item2 };
    static Tensor L(params long[] v) => torch.tensor(v);

    /// <summary>The C# spelling of every fixture case (same names and expressions as the Python generator).</summary>
    static readonly Dictionary<string, Func<Tensor[], Tensor[]>> Cases = new()
    {
        ["max_all"] = x => One(x[0].max()),
        ["max_all_ties"] = x => One(x[0].max()),
        ["min_all"] = x => One(x[0].min()),
        ["max_dim1"] = x => Pair(x[0].max(1)),
        ["max_dim0_keepdim"] = x => Pair(x[0].max(0, keepdim: true)),
        ["min_dim1_ties"] = x => Pair(x[0].min(1)),
        ["max_dim_t"] = x => Pair(x[0].t().max(1)),
        ["argmax_all"] = x => One(x[0].argmax()),
        ["argmax_dim1"] = x => One(x[0].argmax(1)),
        ["argmin_dim0_keepdim"] = x => One(x[0].argmin(0, keepdim: true)),
        ["amax_dim1"] = x => One(x[0].amax(1)),
        ["amax_ties"] = x => One(x[0].amax(1)),
        ["amax_all"] = x => One(x[0].amax()),
        ["amin_dims01_keepdim"] = x => One(x[0].amin(new long[] { 0, 1 }, keepdim: true)),
        ["prod_all"] = x => One(x[0].prod()),
        ["prod_dim1"] = x => One(x[0].prod(1)),
        ["prod_dim0_keepdim"] = x => One(x[0].prod(0, keepdim: true)),
        ["prod_all_one_zero"] = x => One(x[0].prod()),
        ["prod_all_two_zeros"] = x => One(x[0].prod()),
        ["prod_dim1_zeros"] = x => One(x[0].prod(1)),
        ["prod_dim1_two_zeros"] = x => One(x[0].prod(1)),
        ["var_all"] = x => One(x[0].var()),
        ["var_dim1"] = x => One(x[0].var(1)),
        ["var_dim0_biased_keepdim"] = x => One(x[0].var(0, unbiased: false, keepdim: true)),
        ["var_dims_correction2"] = x => One(torch.var(x[0], new long[] { 0, 2 }, correction: 2)),
        ["std_all"] = x => One(x[0].std()),
        ["std_dim1"] = x => One(x[0].std(1)),
        ["std_dim0_biased"] = x => One(x[0].std(0, unbiased: false)),
        ["logsumexp_dim1"] = x => One(x[0].logsumexp(1)),
        ["logsumexp_dim0_keepdim"] = x => One(x[0].logsumexp(0, keepdim: true)),
        ["logsumexp_big"] = x => One(x[0].logsumexp(1)),
        ["logsumexp_dims"] = x => One(x[0].logsumexp(new long[] { 0, 2 })),
        ["norm_all"] = x => One(x[0].norm()),
        ["norm_dim1"] = x => One(x[0].norm(1)),
        ["norm_p1"] = x => One(x[0].norm(p: 1)),
        ["norm_inf"] = x => One(x[0].norm(double.PositiveInfinity)),
        ["norm_p3_dim0"] = x => One(x[0].norm(0, p: 3)),
        ["norm_zero_rows"] = x => One(x[0].norm(1)),
        ["cumsum_dim0"] = x => One(x[0].cumsum(0)),
        ["cumsum_dim1"] = x => One(x[0].cumsum(1)),
        ["cumsum_t"] = x => One(x[0].t().cumsum(1)),
        ["softmax_dim1"] = x => One(x[0].softmax(1)),
        ["softmax_dim0"] = x => One(x[0].softmax(0)),
        ["softmax_big"] = x => One(x[0].softmax(1)),
        ["softmax_3d_mid"] = x => One(torch.softmax(x[0], 1)),
        ["softmax_t"] = x => One(x[0].t().softmax(-1)),
        ["log_softmax_dim1"] = x => One(x[0].log_softmax(1)),
        ["log_softmax_dim0"] = x => One(torch.log_softmax(x[0], 0)),
        ["log_softmax_big"] = x => One(x[0].log_softmax(-1)),
        ["cat_dim0"] = x => One(torch.cat(new[] { x[0], x[1] }, 0)),
        ["cat_dim1"] = x => One(torch.cat(new[] { x[0], x[1] }, 1)),
        ["cat_three_t"] = x => One(torch.cat(new[] { x[0].t(), x[1], x[0].t() }, -2)),
        ["stack_dim0"] = x => One(torch.stack(new[] { x[0], x[1] })),
        ["stack_last"] = x => One(torch.stack(new[] { x[0], x[1], x[0] }, -1)),
        ["split_size"] = x => x[0].split(2),
        ["split_sizes_dim1"] = x => x[0].split(new long[] { 1, 3, 1 }, 1),
        ["chunk_dim1"] = x => x[0].chunk(3, 1),
        ["unbind_dim1"] = x => x[0].unbind(1),
        ["gather_dim0"] = x => One(x[0].gather(0, x[1])),
        ["gather_dim1"] = x => One(x[0].gather(1, x[1])),
        ["gather_t"] = x => One(x[0].t().gather(0, x[1])),
        ["scatter_src"] = x => One(x[0].scatter(0, x[1], x[2])),
        ["scatter_value"] = x => One(x[0].scatter(1, x[1], 1.5)),
        ["scatter_add"] = x => One(x[0].scatter_add(0, x[1], x[2])),
        ["index_select_dim0"] = x => One(x[0].index_select(0, x[1])),
        ["index_select_dim1"] = x => One(x[0].index_select(1, x[1])),
        ["index_select_t"] = x => One(x[0].t().index_select(0, x[1])),
        ["masked_fill"] = x => One(x[0].masked_fill(x[0] > 0, -7.0)),
        ["masked_fill_bcast"] = x => One(x[0].masked_fill(torch.tensor(new[] { true, false, false, true }), 2.0)),
        ["repeat"] = x => One(x[0].repeat(2, 3)),
        ["repeat_lead"] = x => One(x[0].repeat(2, 1, 2)),
        ["flip_dim0"] = x => One(x[0].flip(0)),
        ["flip_both_t"] = x => One(x[0].t().flip(0, 1)),
        ["scalar_softmax"] = x => One(x[0].softmax(0)),
        ["scalar_max_dim"] = x => Pair(x[0].max(0)),
        ["scalar_cumsum"] = x => One(x[0].cumsum(0)),
        ["scalar_logsumexp"] = x => One(x[0].logsumexp(0)),
        ["empty_cat"] = x => One(torch.cat(new[] { x[0], x[1] })),
        ["empty_rows_softmax"] = x => One(x[0].softmax(1)),
        ["empty_prod"] = x => One(x[0].prod()),
        ["empty_max_dim1"] = x => Pair(x[0].max(1)),
    };

    // Non-differentiable points (ties, norm at 0) where finite differences do not see PyTorch's subgradient.
    static readonly HashSet<string> NoGradcheck = new() { "max_all_ties", "min_dim1_ties", "amax_ties", "amax_all", "norm_inf", "norm_zero_rows" };
    // Note [prod double backward] in Ops/Statistics.cs: second derivatives through a zero are not exact.
    static readonly HashSet<string> NoGradgradcheck = new() { "prod_all_one_zero", "prod_all_two_zeros", "prod_dim1_zeros", "prod_dim1_two_zeros" };

    public static IEnumerable<object[]> CaseNames() => Cases.Keys.Select(k => new object[] { k });

    static double Parse(JsonElement v) => v.ValueKind == JsonValueKind.String
        ? v.GetString() switch { "nan" => double.NaN, "inf" => double.PositiveInfinity, _ => double.NegativeInfinity }
        : v.GetDouble();

    static Tensor Decode(JsonElement e, bool requiresGrad = false)
    {
        var shape = e.GetProperty("shape").EnumerateArray().Select(s => s.GetInt64()).ToArray();
        var data = e.GetProperty("data").EnumerateArray().Select(Parse).ToArray();
        if (e.GetProperty("dtype").GetString() == "int64")
            return torch.tensor(data.Select(d => (long)d).ToArray(), shape);
        return torch.tensor(data, shape, ScalarType.Float64, requires_grad: requiresGrad);
    }

    static void AssertClose(JsonElement expected, Tensor actual, string what, double tol = 1e-10)
    {
        var shape = expected.GetProperty("shape").EnumerateArray().Select(s => s.GetInt64()).ToArray();
        Assert.True(shape.SequenceEqual(actual.shape), $"{what}: shape {ShapeUtil.Format(actual.shape)} != {ShapeUtil.Format(shape)}");
        string dtype = expected.GetProperty("dtype").GetString()!;
        Assert.Equal(dtype == "int64" ? ScalarType.Int64 : ScalarType.Float64, actual.dtype);
        var want = expected.GetProperty("data").EnumerateArray().Select(Parse).ToArray();
        var got = actual.ToDoubleArray();
        for (int i = 0; i < want.Length; i++)
        {
            if (double.IsNaN(want[i])) { Assert.True(double.IsNaN(got[i]), $"{what}[{i}]: {got[i]} != nan"); continue; }
            if (double.IsInfinity(want[i])) { Assert.Equal(want[i], got[i]); continue; }
            Assert.True(Math.Abs(want[i] - got[i]) <= tol * (1 + Math.Abs(want[i])), $"{what}[{i}]: {got[i]} != {want[i]}");
        }
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void MatchesPyTorch(string name)
    {
        var c = Fixtures.Value[name];
        var inputs = c.GetProperty("inputs").EnumerateArray().Select(e => Decode(e, requiresGrad: e.GetProperty("dtype").GetString() == "float64")).ToArray();
        var outputs = Cases[name](inputs);
        var expectedOutputs = c.GetProperty("outputs").EnumerateArray().ToArray();
        Assert.Equal(expectedOutputs.Length, outputs.Length);
        for (int i = 0; i < outputs.Length; i++) AssertClose(expectedOutputs[i], outputs[i], $"{name} output {i}");

        var node = c.GetProperty("node");
        if (node.ValueKind == JsonValueKind.Null) { Assert.Null(outputs[0].grad_fn); return; }
        Assert.Equal(node.GetString(), outputs[0].grad_fn!.name());
        for (int i = 0; i < outputs.Length; i++)
            if (outputs[i].dtype == ScalarType.Float64) Assert.Equal(i, outputs[i].output_nr);
            else Assert.False(outputs[i].requires_grad);

        var ups = c.GetProperty("upstream").EnumerateArray().ToArray();
        var diffOuts = new List<Tensor>();
        var diffUps = new List<Tensor?>();
        for (int i = 0; i < outputs.Length; i++)
            if (ups[i].ValueKind != JsonValueKind.Null && outputs[i].requires_grad) { diffOuts.Add(outputs[i]); diffUps.Add(Decode(ups[i])); }
        var diffIns = inputs.Where(t => t.requires_grad).ToArray();
        var grads = torch.autograd.grad(diffOuts, diffIns, diffUps, allow_unused: true);
        var expectedGrads = c.GetProperty("grads").EnumerateArray().Where(g => g.ValueKind != JsonValueKind.Null).ToArray();
        for (int i = 0; i < diffIns.Length; i++)
            AssertClose(expectedGrads[i], grads[i] ?? torch.zeros_like(diffIns[i]), $"{name} grad {i}");
    }

    // ---- finite differences -------------------------------------------------------------------------------------

    /// <summary>L(x) = sum over floating outputs of (output * w).sum(), w a fixed weight per output.</summary>
    static Tensor Objective(string name, Tensor[] inputs)
    {
        var outputs = Cases[name](inputs);
        Tensor? total = null;
        for (int k = 0; k < outputs.Length; k++)
        {
            var o = outputs[k];
            if (o.dtype != ScalarType.Float64) continue;
            var w = torch.linspace(-0.9, 1.1, Math.Max(o.numel(), 1), ScalarType.Float64).narrow(0, 0, o.numel()).reshape(o.shape) * (k + 1);
            var term = (o * w).sum();
            total = total is null ? term : total + term;
        }
        return total!;
    }

    static Tensor[] FreshInputs(JsonElement c) =>
        c.GetProperty("inputs").EnumerateArray().Select(e => Decode(e, requiresGrad: e.GetProperty("dtype").GetString() == "float64")).ToArray();

    static Tensor[] Grad(Tensor output, Tensor[] inputs, bool createGraph)
    {
        var diff = inputs.Where(t => t.requires_grad).ToArray();
        if (!output.requires_grad) return diff.Select(t => torch.zeros_like(t)).ToArray();
        var g = torch.autograd.grad(new[] { output }, diff, null, create_graph: createGraph, allow_unused: true);
        return g.Select((t, i) => t ?? torch.zeros_like(diff[i])).ToArray();
    }

    /// <summary>Central differences of <paramref name="f"/> (a scalar function of the inputs) for every float input element.</summary>
    static double[][] Numerical(Tensor[] inputs, Func<Tensor[], double> f)
    {
        const double eps = 1e-6;
        var result = new List<double[]>();
        foreach (var x in inputs.Where(t => t.requires_grad))
        {
            var d = new double[x.numel()];
            for (int i = 0; i < d.Length; i++)
            {
                double v = x.GetFlat(i);
                x.SetFlat(i, v + eps);
                double plus = f(inputs);
                x.SetFlat(i, v - eps);
                double minus = f(inputs);
                x.SetFlat(i, v);
                d[i] = (plus - minus) / (2 * eps);
            }
            result.Add(d);
        }
        return result.ToArray();
    }

    static void AssertGradClose(double[] numerical, Tensor analytic, string what)
    {
        var a = analytic.ToDoubleArray();
        Assert.Equal(numerical.Length, a.Length);
        for (int i = 0; i < a.Length; i++)
            Assert.True(Math.Abs(a[i] - numerical[i]) <= 1e-5 + 1e-3 * Math.Abs(numerical[i]), $"{what}[{i}]: analytic {a[i]} vs numerical {numerical[i]}");
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Gradcheck(string name)
    {
        var c = Fixtures.Value[name];
        var inputs = FreshInputs(c);
        if (NoGradcheck.Contains(name) || !inputs.Any(t => t.requires_grad)) return;
        if (!Cases[name](inputs).Any(o => o.requires_grad)) return; // argmax & co.
        var analytic = Grad(Objective(name, inputs), inputs, createGraph: false);
        var numerical = Numerical(inputs, ins => { using (torch.no_grad()) return Objective(name, ins).ToDouble(); });
        for (int i = 0; i < analytic.Length; i++) AssertGradClose(numerical[i], analytic[i], $"{name} d/dx{i}");
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Gradgradcheck(string name)
    {
        var c = Fixtures.Value[name];
        var inputs = FreshInputs(c);
        if (NoGradcheck.Contains(name) || NoGradgradcheck.Contains(name) || !inputs.Any(t => t.requires_grad)) return;
        if (!Cases[name](inputs).Any(o => o.requires_grad)) return;
        // M(x) = sum_i <grad_i L(x), v_i>, v_i fixed; its gradient by double backward vs by finite differences.
        Func<Tensor[], bool, Tensor> m = (ins, create) =>
        {
            var g = Grad(Objective(name, ins), ins, create);
            Tensor? total = null;
            for (int i = 0; i < g.Length; i++)
            {
                var v = torch.linspace(0.3, -0.8, Math.Max(g[i].numel(), 1), ScalarType.Float64).narrow(0, 0, g[i].numel()).reshape(g[i].shape);
                var term = (g[i] * v).sum();
                total = total is null ? term : total + term;
            }
            return total!;
        };
        var analytic = Grad(m(inputs, true), inputs, createGraph: false);
        var numerical = Numerical(inputs, ins => m(ins, false).ToDouble());
        for (int i = 0; i < analytic.Length; i++) AssertGradClose(numerical[i], analytic[i], $"{name} d2/dx{i}");
    }
}
