using Xunit;
using static Nabla.torch;
using static Nabla.Tests.PyTorchSuite.Suite;

namespace Nabla.Tests.PyTorchSuite;

/// <summary>
/// The silent wrong results of issue 16, each as the issue states it (these failed on main before the fix). The
/// ported PyTorch tests cover them too (named in each comment); these pin the exact scenarios.
/// </summary>
[Collection("Warnings")]
public class Issue16Regressions
{
    [Fact]
    public void Create_graph_grads_are_separate_tensors()
    {
        // (x + y).backward(ones(2), create_graph: true) used to store the incoming gradient itself in both .grad.
        var x = ones(2, requires_grad: true);
        var y = ones(2, requires_grad: true);
        CaptureWarnings(() => (x + y).backward(ones(2), create_graph: true));
        Assert.NotSame(x.grad, y.grad);
        using (no_grad()) x.grad!.zero_();
        Equal(ones(2), y.grad);
    }

    [Fact]
    public void Retain_grad_reports_the_newest_version_after_an_inplace_op()
    {
        // test_retain_grad_inplace (first half): PyTorch gives 1, main gave 2.
        var a = tensor(new[] { 1.0f }, requires_grad: true).clone();
        a.retain_grad();
        a.mul_(2);
        a.sum().backward();
        Equal(tensor(new[] { 1.0f }), a.grad);
    }

    [Fact]
    public void Grad_does_not_free_saved_tensors_of_nodes_it_did_not_run()
    {
        // test_sharded_grad: autograd.grad(loss, inter) then backward(inter) through the untouched part.
        var x = randn(3, requires_grad: true);
        var inter = x.exp();
        var loss = (inter * inter).sum();
        var g = autograd.grad(loss, inter)[0]!;
        autograd.backward(new[] { inter }, new Tensor?[] { g });
        Equal(2 * x.exp() * x.exp(), x.grad);
    }

    [Fact]
    public void Backward_with_inputs_runs_no_hook_of_other_leaves()
    {
        var a = tensor(1.0f, requires_grad: true);
        var b = tensor(1.0f, requires_grad: true);
        bool called = false;
        a.register_hook(g => { called = true; return null; });
        (a * b).backward(inputs: new[] { b });
        Assert.False(called);
        Assert.Null(a.grad);
        Equal(1.0, b.grad);
    }

    [Fact]
    public void Unbind_output_hook_sees_null_when_it_gets_no_gradient()
    {
        var x = randn(3, requires_grad: true);
        var parts = x.unbind();
        int calls = 0;
        Tensor? seen = ones(1);
        parts[0].register_hook(g => { calls++; seen = g; return null; });
        parts[1].backward();
        Assert.Equal(1, calls);
        Assert.Null(seen);
    }

    [Fact]
    public void Inference_mode_false_inside_inference_mode_turns_grad_back_on()
    {
        using (inference_mode())
        {
            using (inference_mode(false))
            {
                Assert.False(is_inference_mode_enabled());
                Assert.True(is_grad_enabled());
                var x = ones(2, requires_grad: true);
                var y = x * 2;
                Assert.True(y.requires_grad);
                Assert.False(y.is_inference());
            }
            Assert.True(is_inference_mode_enabled());
            Assert.False(is_grad_enabled());
        }
        Assert.True(is_grad_enabled());
    }

    [Fact]
    public void Extra_trailing_null_gradients_are_ignored_and_null_can_be_saved()
    {
        // test_too_many_grads and test_save_none_for_backward.
        var x = randn(2, requires_grad: true);
        var f = new SaveNullsReturnExtras();
        f.apply(x).sum().backward();
        Equal(2 * x, x.grad);
    }

    sealed class SaveNullsReturnExtras : autograd.Function
    {
        public override Tensor forward(AutogradContext ctx, Tensor[] inputs)
        {
            ctx.save_for_backward(null, inputs[0], null);
            return inputs[0] * inputs[0];
        }
        public override Tensor?[] backward(AutogradContext ctx, Tensor g) => new[] { 2 * ctx.saved_tensors[1] * g, null, null };
    }
}

/// <summary>Checks the issue lists as accepted where PyTorch raises.</summary>
public class Issue16Checks
{
    [Fact]
    public void Assigning_a_tensor_as_its_own_grad_fails()
    {
        var x = randn(2, requires_grad: true);
        RuntimeError("can't assign Variable as its own grad", () => x.grad = x);
    }
}
