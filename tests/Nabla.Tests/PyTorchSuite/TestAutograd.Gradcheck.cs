using Xunit;
using static Nabla.torch;
using static Nabla.Tests.PyTorchSuite.Suite;

namespace Nabla.Tests.PyTorchSuite;

public partial class TestAutograd
{
    // check_batched_grad / masked / sparse and complex variants of these tests are out of scope (no vmap, sparse or
    // complex tensors in Nabla); every dense real case is kept, in fast and slow mode.
    static readonly bool[] FastModes = { true, false };

    [Fact]
    public void test_gradcheck_single_input()
    {
        foreach (var fast in FastModes)
        {
            Assert.True(autograd.gradcheck(a => a[0].mul(5), new[] { rand(10, dtype: float64, requires_grad: true) }, fast_mode: fast));
            Assert.True(autograd.gradgradcheck(a => a[0].mul(5), new[] { rand(10, dtype: float64, requires_grad: true) }, fast_mode: fast));
        }
    }

    sealed class NonDetFunc : autograd.MultiOutputFunction
    {
        public override object?[] forward(AutogradContext ctx, object?[] args)
        {
            ctx.saved_data["jitter"] = args[1]!;
            return new[] { args[0] };
        }
        public override Tensor?[] backward(AutogradContext ctx, Tensor?[] g)
        {
            double jitter = (double)ctx.saved_data["jitter"];
            var go = g[0]!;
            return new[] { (Tensor)new NonDetFunc().apply(go, jitter)[0]! * (1 + rand_like(go) * jitter), null };
        }
    }

    static Tensor NonDet(Tensor x, double jitter) => (Tensor)new NonDetFunc().apply(x, jitter)[0]!;

    [Fact]
    public void test_gradcheck_nondeterministic()
    {
        foreach (var fast in FastModes)
        {
            var inp = randn(5, 5, dtype: float64, requires_grad: true);
            autograd.gradcheck(a => NonDet(a[0], 0.0), new[] { inp }, fast_mode: fast);
            RuntimeError("Backward is not reentrant", () => autograd.gradcheck(a => NonDet(a[0], 1e-6), new[] { inp }, fast_mode: fast));
            RuntimeError("Backward is not reentrant", () => autograd.gradgradcheck(a => NonDet(a[0], 1e-12), new[] { inp }, fast_mode: fast));
            autograd.gradcheck(a => NonDet(a[0], 0.0), new[] { inp }, nondet_tol: 1e-5, fast_mode: fast);
            autograd.gradcheck(a => NonDet(a[0], 1e-6), new[] { inp }, nondet_tol: 1e-5, fast_mode: fast);
            autograd.gradgradcheck(a => NonDet(a[0], 1e-12), new[] { inp }, nondet_tol: 1e-5, fast_mode: fast);
        }
    }

    [Fact]
    public void test_gradcheck_validates_inputs()
    {
        foreach (var fast in FastModes)
        {
            var x = rand(10, requires_grad: false);
            Raises<ArgumentException>("at least one input tensor to require gradient",
                () => autograd.gradcheck(a => a[0], new[] { x }, raise_exception: false, fast_mode: fast));
            x = ones(1, dtype: float32, requires_grad: true);
            var w = CaptureWarnings(() => Assert.True(autograd.gradcheck(a => a[0], new[] { x }, atol: 1e-1, fast_mode: fast)));
            Assert.Contains(w, m => m.Contains("Input #0 requires gradient and is not a double precision"));
            x = ones(1, dtype: float64, requires_grad: true).expand(2, 2);
            RuntimeError("The 0th input has a dimension with stride 0",
                () => autograd.gradcheck(a => a[0], new[] { x }, raise_exception: false, fast_mode: fast));
        }
    }

    [Fact]
    public void test_gradcheck_check_no_differentiable_outputs()
    {
        foreach (var fast in FastModes)
        {
            var x = ones(new long[] { 1 }, requires_grad: true);
            CaptureWarnings(() =>
            {
                RuntimeError("Numerical gradient for function expected to be zero",
                    () => autograd.gradcheck(a => tensor(new[] { a[0].detach().clone() }), new[] { x }));
                Assert.False(autograd.gradcheck(a => tensor(new[] { a[0].detach().clone() }), new[] { x }, raise_exception: false, fast_mode: fast));
                Assert.True(autograd.gradcheck(a => Array.Empty<Tensor>(), new[] { x }, fast_mode: fast));
            });
        }
    }

    static Tensor AddsToGrad(Tensor x)
    {
        var y = x.clone();
        y.register_hook(g => g + 1e-2);
        return y;
    }

    [Fact]
    public void test_gradcheck_backward_mul_by_grad_output()
    {
        foreach (var fast in FastModes)
        {
            var x = ones(1, dtype: float64, requires_grad: true);
            RuntimeError("backward not multiplied by grad_output",
                () => autograd.gradcheck(a => AddsToGrad(a[0]), new[] { x }, atol: 1e-1, fast_mode: fast));
            Assert.False(autograd.gradcheck(a => AddsToGrad(a[0]), new[] { x }, atol: 1e-1, raise_exception: false, fast_mode: fast));
        }
    }

    [Fact]
    public void test_gradcheck_jacobian_mismatch()
    {
        foreach (var fast in FastModes)
        {
            var x = ones(2, 2, requires_grad: true);
            CaptureWarnings(() =>
            {
                RuntimeError("Jacobian mismatch for output 0 with respect to input 0",
                    () => autograd.gradcheck(a => AddsToGrad(a[0]), new[] { x }, fast_mode: fast));
                Assert.False(autograd.gradcheck(a => AddsToGrad(a[0]), new[] { x }, raise_exception: false, fast_mode: fast));
            });
        }
    }

    [Fact]
    public void test_gradcheck_output_shape_or_dtype_depend_on_values()
    {
        foreach (var fast in FastModes)
        {
            var a = ones(1, dtype: float64, requires_grad: true);
            Tensor Fn(Tensor x) => (x >= 1).all().item<bool>() ? cat(new[] { x, x }) : x;
            RuntimeError("return outputs with the same .*shape when inputs are perturbed",
                () => autograd.gradcheck(t => Fn(t[0]), new[] { a }, fast_mode: fast));
        }
    }

    [Fact]
    public void test_gradcheck_custom_error()
    {
        foreach (var fast in FastModes)
        {
            var x = ones(2, 2, requires_grad: true);
            CaptureWarnings(() =>
            {
                Raises<GradcheckError>("Jacobian mismatch for output 0 with respect to input 0",
                    () => autograd.gradcheck(a => AddsToGrad(a[0]), new[] { x }, fast_mode: fast));
                RuntimeError("Jacobian mismatch for output 0 with respect to input 0",
                    () => autograd.gradcheck(a => AddsToGrad(a[0]), new[] { x }, fast_mode: fast));
                Assert.False(autograd.gradcheck(a => AddsToGrad(a[0]), new[] { x }, raise_exception: false, fast_mode: fast));
                RuntimeError("Not a GradcheckError!", () => autograd.gradcheck(
                    new Func<Tensor[], Tensor>(_ => throw new InvalidOperationException("Not a GradcheckError!")),
                    new[] { x }, fast_mode: fast, raise_exception: false));
            });
        }
    }
}
