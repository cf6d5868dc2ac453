using Xunit;

namespace Nabla.Tests.OpDatabase;

/// <summary>
/// Tests driven by the op table (<see cref="OpDb.All"/>): every sample of every op is checked against PyTorch 1.13
/// (forward values, input gradients, output dtypes and grad_fn names from Fixtures/opdb/opdb.json) and against
/// finite differences (gradcheck, gradgradcheck).
/// </summary>
public class OpDatabaseTests
{
    const double Float64Atol = 1e-10;

    static ScalarType F64(int _) => ScalarType.Float64;

    [Theory]
    [MemberData(nameof(OpDb.Cases), MemberType = typeof(OpDb))]
    public void Forward_matches_pytorch_float64(string op, string spec)
    {
        var info = OpDb.Get(op);
        var fixture = OpFixture.For(op, spec);
        var output = info.Op(SampleSpec.Build(spec, F64));
        Assert.Equal(fixture.OutShape, output.shape);
        Assert.Equal(fixture.OutDType, OpFixture.Name(output.dtype));
        AssertClose(fixture.Out, output.ToDoubleArray(), Float64Atol, 0, "output");
    }

    [Theory]
    [MemberData(nameof(OpDb.Cases), MemberType = typeof(OpDb))]
    public void Backward_matches_pytorch_float64(string op, string spec)
    {
        var info = OpDb.Get(op);
        var fixture = OpFixture.For(op, spec);
        var inputs = SampleSpec.Build(spec, F64, requiresGrad: true);
        var leaves = inputs.Where(t => t.requires_grad).ToArray();
        Assert.Equal(fixture.Grads.Length, leaves.Length);
        var output = info.Op(inputs);
        Assert.True(output.requires_grad, "the output of a differentiable op on inputs requiring grad must require grad");
        var upstream = SampleSpec.Upstream(output.shape, output.dtype);
        var grads = torch.autograd.grad(new[] { output }, leaves, new Tensor?[] { upstream }, allow_unused: true);
        for (int i = 0; i < leaves.Length; i++)
        {
            var expected = fixture.Grads[i];
            if (expected is null)
            {
                Assert.Null(grads[i]);
                continue;
            }
            Assert.True(grads[i] is not null, $"gradient of input {i} is None but PyTorch computes one");
            Assert.Equal(leaves[i].shape, grads[i]!.shape);
            Assert.Equal(leaves[i].dtype, grads[i]!.dtype);
            AssertClose(expected, grads[i]!.ToDoubleArray(), Float64Atol, 0, $"grad of input {i}");
        }
    }

    [Theory]
    [MemberData(nameof(OpDb.Cases), MemberType = typeof(OpDb))]
    public void Gradcheck_float64(string op, string spec)
    {
        var info = OpDb.Get(op);
        var inputs = SampleSpec.Build(spec, F64, requiresGrad: true);
        Assert.True(torch.autograd.gradcheck(info.Op, inputs, eps: info.GradcheckEps, atol: info.GradcheckAtol));
    }

    [Theory]
    [MemberData(nameof(OpDb.GradGradCases), MemberType = typeof(OpDb))]
    public void Gradgradcheck_float64(string op, string spec)
    {
        var info = OpDb.Get(op);
        var inputs = SampleSpec.Build(spec, F64, requiresGrad: true);
        Tensor output;
        using (torch.no_grad()) output = info.Op(inputs);
        // A deterministic v instead of PyTorch's randn_like, so the test does not depend on the global generator.
        var v = SampleSpec.Upstream(output.shape, output.dtype).add(0.375).requires_grad_();
        Assert.True(torch.autograd.gradgradcheck(info.Op, inputs, new[] { v }, eps: info.GradcheckEps, atol: info.GradcheckAtol));
    }

    [Theory]
    [MemberData(nameof(OpDb.Cases), MemberType = typeof(OpDb))]
    public void Float32_forward_matches_float64(string op, string spec)
    {
        var info = OpDb.Get(op);
        if (!info.Dtypes.Contains(ScalarType.Float32)) return;
        var fixture = OpFixture.For(op, spec);
        var output = info.Op(SampleSpec.Build(spec, _ => ScalarType.Float32));
        Assert.Equal(fixture.DTypeF32, OpFixture.Name(output.dtype));
        Assert.Equal(fixture.OutShape, output.shape);
        AssertClose(fixture.Out, output.ToDoubleArray(), 1e-5, 1e-5, "float32 output");
    }

    [Theory]
    [MemberData(nameof(OpDb.Cases), MemberType = typeof(OpDb))]
    public void Output_dtype_follows_type_promotion(string op, string spec)
    {
        // PyTorch skips some dtype checks for empty inputs (mm of an empty float32 and float64 pair succeeds), so the
        // promotion rules are checked on the non-empty samples only.
        if (SampleSpec.HasEmptyInput(spec)) return;
        var info = OpDb.Get(op);
        var fixture = OpFixture.For(op, spec);
        CheckDType(info, spec, p => p % 2 == 0 ? ScalarType.Float32 : ScalarType.Float64, fixture.DTypeMixed, "float32/float64 inputs");
        CheckDType(info, spec, _ => ScalarType.Int64, fixture.DTypeInt, "int64 inputs");
    }

    [Theory]
    [MemberData(nameof(OpDb.Cases), MemberType = typeof(OpDb))]
    public void Grad_fn_name_matches_pytorch(string op, string spec)
    {
        var info = OpDb.Get(op);
        var fixture = OpFixture.For(op, spec);
        string? expected = SampleSpec.GradFnOverride(spec) ?? info.GradFn;
        Assert.True(expected == fixture.GradFn, $"the table says {expected ?? "None"} but PyTorch records {fixture.GradFn ?? "None"}");
        var output = info.Op(SampleSpec.Build(spec, F64, requiresGrad: true));
        Assert.Equal(expected is null ? null : RenamedIn2x.GetValueOrDefault(expected, expected), output.grad_fn?.name());
    }

    // Where PyTorch 2.x renamed a node that the 1.13 fixtures record, Nabla follows 2.x (issue 2): reshape of a
    // view-compatible tensor records ViewBackward0 since ReshapeAlias was removed.
    static readonly Dictionary<string, string> RenamedIn2x = new() { ["ReshapeAliasBackward0"] = "ViewBackward0" };

    [Fact]
    public void Every_table_sample_has_a_fixture_and_every_fixture_a_table_sample()
    {
        var tableKeys = new HashSet<string>();
        foreach (var op in OpDb.All)
            foreach (var spec in op.Samples)
            {
                Assert.True(tableKeys.Add(op.Name + "|" + SampleSpec.Key(spec)), $"duplicate sample {op.Name}|{spec}");
                OpFixture.For(op.Name, spec);
            }
        foreach (var key in OpFixture.Keys)
            Assert.True(tableKeys.Contains(key), $"fixture '{key}' has no entry in OpDb.All (stale fixture or missing op)");
    }

    static void CheckDType(OpInfo info, string spec, Func<int, ScalarType> dtypeOf, string expected, string what)
    {
        var inputs = SampleSpec.Build(spec, dtypeOf);
        if (expected == "error")
        {
            var ex = Record.Exception(() => info.Op(inputs));
            Assert.True(ex is not null, $"PyTorch raises for {what} but Nabla returned a result");
            return;
        }
        Tensor output;
        try
        {
            output = info.Op(inputs);
        }
        catch (Exception ex)
        {
            Assert.Fail($"PyTorch returns {expected} for {what} but Nabla threw {ex.GetType().Name}: {ex.Message}");
            return;
        }
        Assert.True(expected == OpFixture.Name(output.dtype), $"{what}: expected {expected}, got {OpFixture.Name(output.dtype)}");
    }

    static void AssertClose(double[] expected, double[] actual, double atol, double rtol, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            if (double.IsNaN(e) && double.IsNaN(a)) continue;
            if (e == a) continue;
            if (!(Math.Abs(e - a) <= atol + rtol * Math.Abs(e)))
                Assert.Fail($"{what}[{i}]: expected {e:R}, got {a:R} (diff {Math.Abs(e - a):E3})");
        }
    }
}
