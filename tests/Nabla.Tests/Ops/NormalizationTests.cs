using Nabla.Ops;
using Xunit;
using static Nabla.Tests.ConvFixtures;

namespace Nabla.Tests;

/// <summary>batch_norm against PyTorch 1.13 (Fixtures/conv/batchnorm.json): outputs, gradients, running stats, errors.</summary>
public class NormalizationTests
{
    public static IEnumerable<object[]> Cases => Names("batchnorm.json");

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_pytorch(string name)
    {
        var c = Case("batchnorm.json", name);
        var x = Tensor(c.GetProperty("input"), true)!;
        var w = Tensor(c.GetProperty("weight"), true);
        var b = Tensor(c.GetProperty("bias"), true);
        var rm = Tensor(c.GetProperty("running_mean"));
        var rv = Tensor(c.GetProperty("running_var"));
        long rmVersion = rm?._version ?? 0;
        bool training = c.GetProperty("training").GetBoolean();
        var y = Norm.BatchNorm(x, rm, rv, w, b, training, c.GetProperty("momentum").GetDouble(), c.GetProperty("eps").GetDouble());
        double tol = x.dtype == torch.float32 ? 1e-5 : 1e-10;
        AssertClose(c.GetProperty("output"), y, tol, what: "output");
        if (rm is not null)
        {
            AssertClose(c.GetProperty("running_mean_after"), rm, tol, what: "running_mean");
            AssertClose(c.GetProperty("running_var_after"), rv, tol, what: "running_var");
            Assert.Equal(training ? rmVersion + 1 : rmVersion, rm._version);
        }
        Assert.Equal(c.GetProperty("grad_fn").GetString(), y.grad_fn!.name());
        AssertNextFunctions(c.GetProperty("next_functions"), y);

        var gy = Tensor(c.GetProperty("grad_output"))!;
        y.backward(gy, retain_graph: true);
        AssertClose(c.GetProperty("grad_input"), x.grad, tol * 10, what: "grad_input");
        if (w is not null)
        {
            AssertClose(c.GetProperty("grad_weight"), w.grad, tol * 10, what: "grad_weight");
            AssertClose(c.GetProperty("grad_bias"), b!.grad, tol * 10, what: "grad_bias");
        }

        // The differentiable (create_graph) formula gives the same first-order gradients as the raw kernel.
        var inputs = w is null ? new[] { x } : new[] { x, w, b! };
        var viaGraph = torch.autograd.grad(new[] { y }, inputs, new[] { gy }, create_graph: true);
        AssertClose(c.GetProperty("grad_input"), viaGraph[0], tol * 10, what: "grad_input (create_graph)");
        if (w is not null) AssertClose(c.GetProperty("grad_weight"), viaGraph[1], tol * 10, what: "grad_weight (create_graph)");
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void Gradcheck_first_and_second_order(bool training, bool affine)
    {
        var rng = new Random(9);
        var x = Randn(rng, 3, 2, 2, 3);
        var rm = torch.tensor(new[] { 0.1, -0.2 }, torch.float64);
        var rv = torch.tensor(new[] { 0.8, 1.3 }, torch.float64);
        var inputs = affine ? new[] { x, Randn(rng, 2), Randn(rng, 2) } : new[] { x };
        // Running stats are left alone (null) in training so repeated evaluations see the same function.
        GradCheck(t => Norm.BatchNorm(t[0], training ? null : rm, training ? null : rv, affine ? t[1] : null, affine ? t[2] : null,
            training, 0.1, 1e-5), inputs);
    }

    [Fact]
    public void Two_dimensional_input_gradcheck()
    {
        var rng = new Random(12);
        GradCheck(t => Norm.BatchNorm(t[0], null, null, t[1], t[2], true, 0.1, 1e-5), new[] { Randn(rng, 5, 3), Randn(rng, 3), Randn(rng, 3) });
    }

    static Tensor R(params long[] shape) => torch.ones(shape);

    [Theory]
    [InlineData("bn_one_value")]
    [InlineData("bn_running_mean")]
    [InlineData("bn_running_var")]
    [InlineData("bn_weight")]
    [InlineData("bn_bias")]
    [InlineData("bn_eval_no_mean")]
    [InlineData("bn_eval_no_var")]
    public void Errors_match_pytorch(string name)
    {
        Action call = name switch
        {
            "bn_one_value" => () => Norm.BatchNorm(R(1, 3), torch.zeros(3), torch.ones(3), null, null, true, 0.1, 1e-5),
            "bn_running_mean" => () => Norm.BatchNorm(R(2, 3), torch.zeros(4), torch.ones(4), null, null, true, 0.1, 1e-5),
            "bn_running_var" => () => Norm.BatchNorm(R(2, 3), torch.zeros(3), torch.ones(4), null, null, true, 0.1, 1e-5),
            "bn_weight" => () => Norm.BatchNorm(R(2, 3), torch.zeros(3), torch.ones(3), torch.ones(4), null, true, 0.1, 1e-5),
            "bn_bias" => () => Norm.BatchNorm(R(2, 3), torch.zeros(3), torch.ones(3), null, torch.ones(2), true, 0.1, 1e-5),
            "bn_eval_no_mean" => () => Norm.BatchNorm(R(2, 3, 4, 5), null, null, null, null, false, 0.1, 1e-5),
            "bn_eval_no_var" => () => Norm.BatchNorm(R(2, 3, 4, 5), torch.zeros(3), null, null, null, false, 0.1, 1e-5),
            _ => throw new ArgumentException(name),
        };
        AssertError(name, call);
    }
}
