using Xunit;
using static Nabla.torch;

namespace Nabla.Tests.Autograd;

/// <summary>torch.autograd.gradcheck / gradgradcheck themselves: they pass on right gradients and fail, with PyTorch's
/// message, on wrong ones.</summary>
[Collection("Warnings")]
public class GradCheckTests
{
    [Fact]
    public void Passes_for_correct_gradients_of_several_inputs()
    {
        var x = tensor(new[] { 0.5, -1.25, 2.0 }, requires_grad: true);
        var y = tensor(new[] { 1.5, 0.75, -0.5 }, requires_grad: true);
        Assert.True(autograd.gradcheck(a => (a[0] * a[1]).sin() + a[0].exp(), new[] { x, y }));
        Assert.True(autograd.gradgradcheck(a => (a[0] * a[1]).sin() + a[0].exp(), new[] { x, y }));
    }

    [Fact]
    public void Mismatch_raises_pytorchs_message()
    {
        // d/dx (detach(x) * x) is x for autograd but 2x numerically.
        var x = tensor(new[] { 1.0, 2.0, 3.0 }, float64, requires_grad: true);
        var ex = Assert.Throws<GradcheckError>(() => autograd.gradcheck(a => a[0].detach() * a[0], new[] { x }));
        Assert.Equal(
            "Jacobian mismatch for output 0 with respect to input 0,\n" +
            "numerical:tensor([[2.0000, 0.0000, 0.0000],\n        [0.0000, 4.0000, 0.0000],\n        [0.0000, 0.0000, 6.0000]], dtype=torch.float64)\n" +
            "analytical:tensor([[1., 0., 0.],\n        [0., 2., 0.],\n        [0., 0., 3.]], dtype=torch.float64)\n",
            ex.Message);
        Assert.IsAssignableFrom<InvalidOperationException>(ex);
        Assert.False(autograd.gradcheck(a => a[0].detach() * a[0], new[] { x }, raise_exception: false));
    }

    [Fact]
    public void Mismatch_names_the_output_and_input_indices()
    {
        var x = tensor(new[] { 1.0, 2.0 }, float64, requires_grad: true);
        var y = tensor(new[] { 3.0, 4.0 }, float64, requires_grad: true);
        var ex = Assert.Throws<GradcheckError>(() =>
            autograd.gradcheck(a => new[] { a[0] * 2, a[1].detach() * a[1] }, new[] { x, y }));
        Assert.StartsWith("Jacobian mismatch for output 1 with respect to input 1,\nnumerical:", ex.Message);
    }

    [Fact]
    public void Float32_input_warns_as_pytorch()
    {
        var messages = new List<string>();
        void Handler(string m) => messages.Add(m);
        Warnings.OnWarning += Handler;
        try
        {
            var y = tensor(new[] { 1f, 2f }, requires_grad: true);
            // PyTorch 1.13 returns False here too: float32 finite differences are too coarse.
            Assert.False(autograd.gradcheck(a => a[0] * 2, new[] { y }, raise_exception: false));
        }
        finally
        {
            Warnings.OnWarning -= Handler;
        }
        Assert.Contains(
            "Input #0 requires gradient and is not a double precision floating point or complex. This check will likely fail if all the inputs are not of double precision floating point or complex. ",
            messages);
    }

    [Fact]
    public void No_input_requiring_grad_is_an_error()
    {
        var x = tensor(new[] { 1.0, 2.0 });
        var ex = Assert.Throws<ArgumentException>(() => autograd.gradcheck(a => a[0] * 2, new[] { x }));
        Assert.Equal("gradcheck expects at least one input tensor to require gradient, but none of the them have requires_grad=True.", ex.Message);
    }

    [Fact]
    public void Gradgradcheck_detects_a_wrong_second_derivative()
    {
        // f(x) = 2 x detach(x) - detach(x)^2 equals x^2 and autograd's first derivative 2 detach(x) is right, but
        // autograd's second derivative is 0 instead of 2.
        var x = tensor(new[] { 0.5, -1.5 }, float64, requires_grad: true);
        Func<Tensor[], Tensor> f = a => a[0] * a[0].detach() * 2 - a[0].detach() * a[0].detach();
        Assert.True(autograd.gradcheck(f, new[] { x }));
        var ex = Assert.Throws<GradcheckError>(() => autograd.gradgradcheck(f, new[] { x }));
        Assert.StartsWith("Jacobian mismatch for output 0 with respect to input 0,\nnumerical:", ex.Message);
    }

    [Fact]
    public void Perturbation_leaves_inputs_and_versions_unchanged()
    {
        var x = tensor(new[] { 0.25, 0.5, 0.75, 1.0 }, new long[] { 2, 2 }, float64).t().requires_grad_();
        long version = x._version;
        Assert.True(autograd.gradcheck(a => a[0].exp(), new[] { x }));
        Assert.Equal(new[] { 0.25, 0.75, 0.5, 1.0 }, x.contiguous().ToArray<double>());
        Assert.Equal(version, x._version);
    }
}
