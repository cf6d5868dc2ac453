using Nabla;
using Xunit;
using static Nabla.torch;

namespace Nabla.Tests.Autograd;

public class FunctionTests
{
    sealed class MyExp : torch.autograd.Function
    {
        public override Tensor forward(AutogradContext ctx, Tensor[] inputs)
        {
            var result = inputs[0].exp();
            ctx.save_for_backward(result);
            return result;
        }

        public override Tensor?[] backward(AutogradContext ctx, Tensor grad_output) => new[] { grad_output * ctx.saved_tensors[0] };
    }

    sealed class MulAdd : torch.autograd.Function
    {
        public override Tensor forward(AutogradContext ctx, Tensor[] inputs)
        {
            ctx.save_for_backward(inputs[0], inputs[1]);
            ctx.saved_data["needs"] = new[] { ctx.needs_input_grad(0), ctx.needs_input_grad(1) };
            return inputs[0] * inputs[1] + inputs[1];
        }

        public override Tensor?[] backward(AutogradContext ctx, Tensor g)
        {
            var saved = ctx.saved_tensors;
            var needs = (bool[])ctx.saved_data["needs"];
            return new[] { needs[0] ? g * saved[1] : null, needs[1] ? g * (saved[0] + 1) : null };
        }
    }

    sealed class TooFew : torch.autograd.Function
    {
        public override Tensor forward(AutogradContext ctx, Tensor[] inputs) => inputs[0] * inputs[1];
        public override Tensor?[] backward(AutogradContext ctx, Tensor g) => new[] { g };
    }

    sealed class WrongShape : torch.autograd.Function
    {
        public override Tensor forward(AutogradContext ctx, Tensor[] inputs) => inputs[0] * 2;
        public override Tensor?[] backward(AutogradContext ctx, Tensor g) => new[] { ones(5) };
    }

    sealed class Once : torch.autograd.Function
    {
        protected override bool once_differentiable => true;
        public override Tensor forward(AutogradContext ctx, Tensor[] inputs) { ctx.save_for_backward(inputs[0]); return inputs[0] * inputs[0]; }
        public override Tensor?[] backward(AutogradContext ctx, Tensor g) => new[] { g * 2 * ctx.saved_tensors[0] };
    }

    [Fact]
    public void Custom_function_takes_part_in_the_graph()
    {
        var x = tensor(new double[] { 0.5, -1, 2 }, requires_grad: true);
        var y = new MyExp().apply(x);
        Assert.Equal("MyExpBackward", y.grad_fn!.name());
        Assert.Equal("torch::autograd::AccumulateGrad", y.grad_fn.next_functions[0].node!.name());
        (y * 3).sum().backward();
        Assert.True(x.grad!.allclose(x.exp() * 3));
    }

    [Fact]
    public void Backward_written_with_tensor_ops_is_twice_differentiable()
    {
        var x = tensor(new double[] { 0.3, 1.2 }, requires_grad: true);
        var y = new MyExp().apply(x).sum();
        var g = torch.autograd.grad(y, x, create_graph: true)[0]!;
        var gg = torch.autograd.grad(g.sum(), x)[0]!;
        Assert.True(gg.allclose(x.detach().exp()));
    }

    [Fact]
    public void Needs_input_grad_and_none_gradients()
    {
        var a = tensor(new double[] { 1, 2 }, requires_grad: true);
        var b = tensor(new double[] { 3, 4 });
        var y = new MulAdd().apply(a, b);
        Assert.Equal(2, y.grad_fn!.next_functions.Count);
        Assert.Null(y.grad_fn.next_functions[1].node);
        y.sum().backward();
        Assert.Equal(new double[] { 3, 4 }, a.grad!.ToArray<double>());
        Assert.Null(b.grad);
    }

    [Fact]
    public void No_input_requires_grad_records_nothing()
    {
        var y = new MyExp().apply(tensor(new double[] { 1 }));
        Assert.Null(y.grad_fn);
        Assert.False(y.requires_grad);
    }

    [Fact]
    public void Incorrect_number_of_gradients_raises_pytorch_message()
    {
        var a = ones(2, requires_grad: true);
        var b = ones(2, requires_grad: true);
        var y = new TooFew().apply(a, b);
        var e = Assert.Throws<InvalidOperationException>(() => y.sum().backward());
        Assert.Equal("function TooFewBackward returned an incorrect number of gradients (expected 2, got 1)", e.Message);
    }

    [Fact]
    public void Wrong_gradient_shape_raises_pytorch_message()
    {
        var a = ones(2, requires_grad: true);
        var y = new WrongShape().apply(a);
        var e = Assert.Throws<InvalidOperationException>(() => y.sum().backward());
        Assert.Equal("Function WrongShapeBackward returned an invalid gradient at index 0 - got [5] but expected shape compatible with [2]", e.Message);
    }

    [Fact]
    public void Saved_tensors_are_version_checked_and_freed()
    {
        var x = ones(3, requires_grad: true);
        var y = new MyExp().apply(x);
        using (no_grad()) y.add_(1);
        var e = Assert.Throws<InvalidOperationException>(() => y.sum().backward());
        Assert.Contains("is at version 1; expected version 0 instead", e.Message);

        var z = new MyExp().apply(x);
        z.sum().backward();
        var again = Assert.Throws<InvalidOperationException>(() => z.sum().backward());
        Assert.StartsWith("Trying to backward through the graph a second time", again.Message);
    }

    [Fact]
    public void Once_differentiable_fails_on_second_derivative()
    {
        var x = tensor(new double[] { 1, 2 }, requires_grad: true);
        var y = new Once().apply(x).sum();
        // As PyTorch: the Error node appears when a gradient flowing in requires grad (here the seed v).
        var v = tensor(1.0, dtype: float64, requires_grad: true);
        var g = torch.autograd.grad(y, x, grad_output: v, create_graph: true)[0]!;
        Assert.Equal(new double[] { 2, 4 }, g.detach().ToArray<double>());
        Assert.Equal("Error", g.grad_fn!.name());
        var e = Assert.Throws<InvalidOperationException>(() => g.sum().backward());
        Assert.Equal("trying to differentiate twice a function that was marked with @once_differentiable", e.Message);
    }
}
