using System.Diagnostics;
using Nabla.Autograd;
using Xunit;
using static Nabla.torch;

namespace Nabla.Tests.Autograd;

/// <summary>
/// PyTorch 1.13 autograd semantics (research/autograd-features.md §1 rows 1-22 and the §1b messages): graph building,
/// accumulation, backward/grad options, error texts, hooks, version counters, grad modes and the engine itself.
/// </summary>
[Collection("Warnings")]
public class EngineTests
{
    const string SecondTime =
        "Trying to backward through the graph a second time (or directly access saved tensors after they have already been freed). Saved intermediate values of the graph are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or if you need to access saved tensors after calling backward.";

    const string NonLeafGradWarning =
        "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute won't be populated during autograd.backward(). If you indeed want the .grad field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead. See github.com/pytorch/pytorch/pull/30531 for more informations.";

    static List<string> CaptureWarnings(Action action)
    {
        var messages = new List<string>();
        void Handler(string m)
        {
            lock (messages) messages.Add(m);
        }
        Warnings.OnWarning += Handler;
        try
        {
            action();
        }
        finally
        {
            Warnings.OnWarning -= Handler;
        }
        return messages;
    }

    static double[] Values(Tensor? t) => t!.to(float64).contiguous().ToArray<double>();

    // ---- 1, 2: leaves and propagation --------------------------------------------------------------------------

    [Fact]
    public void Leaf_and_requires_grad_flags()
    {
        var x = ones(3, requires_grad: true);
        Assert.True(x.is_leaf);
        Assert.True(x.requires_grad);
        Assert.Null(x.grad_fn);
        var y = x * 2;
        Assert.False(y.is_leaf);
        var c = ones(3);
        Assert.True(c.is_leaf);
        var z = (ones(2) * 3).requires_grad_();
        Assert.True(z.is_leaf);
        Assert.True(z.requires_grad);
        Tensor w;
        using (no_grad()) w = x * 2;
        Assert.True(w.is_leaf);
        Assert.False(w.requires_grad);
        Assert.Null(w.grad_fn);
    }

    [Fact]
    public void Requires_grad_errors_on_integer_dtypes_and_non_leaves()
    {
        var ex1 = Assert.Throws<InvalidOperationException>(() => ones(3, int64).requires_grad_(true));
        Assert.Equal("only Tensors of floating point dtype can require gradients", ex1.Message);
        var ex2 = Assert.Throws<InvalidOperationException>(() => ones(3, int64, requires_grad: true));
        Assert.Equal("Only Tensors of floating point and complex dtype can require gradients", ex2.Message);
        var y = ones(3, requires_grad: true) * 2;
        var ex3 = Assert.Throws<InvalidOperationException>(() => y.requires_grad_(false));
        Assert.Equal(
            "you can only change requires_grad flags of leaf variables. If you want to use a computed variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach().",
            ex3.Message);
        var ex4 = Assert.Throws<InvalidOperationException>(() => y.requires_grad = false);
        Assert.Equal("you can only change requires_grad flags of leaf variables.", ex4.Message);
    }

    [Fact]
    public void Requires_grad_propagation()
    {
        var x = ones(3, requires_grad: true);
        Assert.True((ones(3) * x).requires_grad);
        Assert.False((ones(3) + ones(3)).requires_grad);
        var cmp = x > 0;
        Assert.False(cmp.requires_grad);
        Assert.Null(cmp.grad_fn);
        Assert.False(x.@long().requires_grad);
        var d = x.@double();
        Assert.Equal("ToCopyBackward0", d.grad_fn!.name());
        Assert.Same(x, x.@float());
        Assert.Same(x, x.contiguous());
        Assert.Null(x.contiguous().grad_fn);
    }

    // ---- 3, 4: accumulation and assignment ----------------------------------------------------------------------

    [Fact]
    public void Gradients_accumulate_across_backward_calls()
    {
        var x = ones(3, requires_grad: true);
        (x * 2).sum().backward();
        (x * 3).sum().backward();
        Assert.Equal(new[] { 5.0, 5.0, 5.0 }, Values(x.grad));
    }

    [Fact]
    public void Broadcast_gradient_is_summed_back_and_follows_the_leaf_dtype()
    {
        var a = ones(3, requires_grad: true);
        (a * ones(2, 3)).sum().backward();
        Assert.Equal(new[] { 2.0, 2.0, 2.0 }, Values(a.grad));
        Assert.Equal(new long[] { 3 }, a.grad!.shape);

        var d = ones(3, float64, requires_grad: true);
        (d.@float() * 2).sum().backward();
        Assert.Equal(ScalarType.Float64, d.grad!.dtype);
    }

    [Fact]
    public void Shared_subexpressions_add_up()
    {
        var a = tensor(1.0, requires_grad: true);
        var b = a * 3;
        var c = b * 2 + b * 5;
        c.backward();
        Assert.Equal(21.0, a.grad!.item<double>());
    }

    [Fact]
    public void Assigning_grad_checks_size_and_type()
    {
        var x = ones(3, requires_grad: true);
        Assert.Equal("assigned grad has data of a different size",
            Assert.Throws<InvalidOperationException>(() => x.grad = ones(2)).Message);
        Assert.Equal("assigned grad has data of a different type",
            Assert.Throws<InvalidOperationException>(() => x.grad = ones(3, float64)).Message);
        x.grad = ones(3);
        (x * 2).sum().backward();
        Assert.Equal(new[] { 3.0, 3.0, 3.0 }, Values(x.grad));
        x.grad = null;
        Assert.Null(x.grad);
    }

    // ---- 5, 6: non-leaf .grad and retain_grad -----------------------------------------------------------------

    [Fact]
    public void Grad_of_non_leaf_warns_and_retain_grad_populates_it()
    {
        var x = ones(2, requires_grad: true);
        var y = x * 2;
        y.sum().backward(retain_graph: true);
        Tensor? g = null;
        var warnings = CaptureWarnings(() => g = y.grad);
        Assert.Null(g);
        Assert.Contains(warnings, w => w.StartsWith(NonLeafGradWarning, StringComparison.Ordinal));

        var quiet = CaptureWarnings(() => Assert.Null(ones(2).grad));
        Assert.DoesNotContain(quiet, w => w.StartsWith(NonLeafGradWarning, StringComparison.Ordinal));

        var y2 = x * 3;
        y2.retain_grad();
        Assert.True(y2.retains_grad);
        (y2 * y2).sum().backward();
        var retained = CaptureWarnings(() => g = y2.grad);
        Assert.DoesNotContain(retained, w => w.StartsWith(NonLeafGradWarning, StringComparison.Ordinal));
        Assert.Equal(new[] { 6.0, 6.0 }, Values(g));

        Assert.Equal("can't retain_grad on Tensor that has requires_grad=False",
            Assert.Throws<InvalidOperationException>(() => ones(2).retain_grad()).Message);
    }

    // ---- 7, 8: backward arguments and freed graphs -------------------------------------------------------------

    [Fact]
    public void Backward_on_non_scalar_needs_a_gradient()
    {
        var x = ones(3, requires_grad: true);
        var ex = Assert.Throws<InvalidOperationException>(() => (x * 2).backward());
        Assert.Equal("grad can be implicitly created only for scalar outputs", ex.Message);
        var ex2 = Assert.Throws<InvalidOperationException>(() => autograd.grad(x * 2, x));
        Assert.Equal("grad can be implicitly created only for scalar outputs", ex2.Message);
    }

    [Fact]
    public void Wrong_shape_gradient_is_rejected()
    {
        var x = ones(3, requires_grad: true);
        var ex = Assert.Throws<InvalidOperationException>(() => (x * 2).backward(ones(2)));
        Assert.Equal("Mismatch in shape: grad_output[0] has a shape of torch.Size([2]) and output[0] has a shape of torch.Size([3]).", ex.Message);
        var s = (x * 2).sum();
        var ex2 = Assert.Throws<InvalidOperationException>(() => s.backward(ones(1)));
        Assert.Equal("Mismatch in shape: grad_output[0] has a shape of torch.Size([1]) and output[0] has a shape of torch.Size([]).", ex2.Message);
    }

    [Fact]
    public void Gradient_of_another_dtype_is_cast_and_leaf_scalar_gets_one()
    {
        var x = ones(3, requires_grad: true);
        (x * 2).backward(ones(3, float64));
        Assert.Equal(ScalarType.Float32, x.grad!.dtype);
        Assert.Equal(new[] { 2.0, 2.0, 2.0 }, Values(x.grad));

        var s = tensor(2.0f, requires_grad: true);
        s.backward();
        Assert.Equal(1.0, s.grad!.item<double>());
    }

    [Fact]
    public void Second_backward_through_freed_graph_raises_pytorchs_message()
    {
        var x = ones(3, requires_grad: true);
        var s = x.exp().sum();
        s.backward();
        var ex = Assert.Throws<InvalidOperationException>(() => s.backward());
        Assert.Equal(SecondTime, ex.Message);
    }

    [Fact]
    public void Graph_without_saved_tensors_can_run_backward_twice()
    {
        var x = ones(3, requires_grad: true);
        var s = (x + x).sum();
        s.backward();
        s.backward();
        Assert.Equal(new[] { 4.0, 4.0, 4.0 }, Values(x.grad));
    }

    [Fact]
    public void Retain_graph_keeps_saved_tensors()
    {
        var x = tensor(new[] { 0.5f, 1.0f }, requires_grad: true);
        var s = x.exp().sum();
        s.backward(retain_graph: true);
        s.backward();
        Assert.Equal(new[] { 2 * Math.Exp(0.5), 2 * Math.Exp(1.0) }, Values(x.grad), new ToleranceComparer(1e-6));
    }

    [Fact]
    public void Create_graph_warns_and_leaves_a_graph_on_grad()
    {
        var x = tensor(new[] { 1.0, 2.0 }, float64, requires_grad: true);
        var warnings = CaptureWarnings(() => x.pow(3).sum().backward(create_graph: true));
        Assert.Contains(warnings, w => w.StartsWith(
            "Using backward() with create_graph=True will create a reference cycle between the parameter and its gradient which can cause a memory leak. We recommend using autograd.grad when creating the graph to avoid this. If you have to use this function, make sure to reset the .grad fields of your parameters to None after use to break the cycle and avoid the leak.",
            StringComparison.Ordinal));
        Assert.NotNull(x.grad!.grad_fn);
        var gg = autograd.grad(x.grad.sum(), x)[0]!;
        Assert.Equal(new[] { 6.0, 12.0 }, Values(gg));
    }

    // ---- "element 0 ..." -------------------------------------------------------------------------------------

    [Fact]
    public void Backward_without_graph_raises_element_0()
    {
        const string Msg = "element 0 of tensors does not require grad and does not have a grad_fn";
        Assert.Equal(Msg, Assert.Throws<InvalidOperationException>(() => ones(3).sum().backward()).Message);
        var x = ones(3, requires_grad: true);
        Tensor y;
        using (no_grad()) y = (x * 2).sum();
        Assert.Equal(Msg, Assert.Throws<InvalidOperationException>(() => y.backward()).Message);
        Assert.Equal(Msg, Assert.Throws<InvalidOperationException>(() => (x * 2).sum().detach().backward()).Message);
        // torch.tensor([y1, y2]) copies the values: the result has no history.
        var y1 = (x * 2).sum();
        var y2 = (x * 3).sum();
        var stacked = tensor(new[] { y1, y2 });
        Assert.False(stacked.requires_grad);
        Assert.Equal(Msg, Assert.Throws<InvalidOperationException>(() => stacked.sum().backward()).Message);
    }

    // ---- 10, 11, 12: autograd.grad, inputs=, several roots -----------------------------------------------------

    [Fact]
    public void Autograd_grad_does_not_touch_grad_and_handles_unused_inputs()
    {
        var x = ones(3, requires_grad: true);
        var u = ones(3, requires_grad: true);
        var g = autograd.grad((x * 2).sum(), x);
        Assert.Equal(new[] { 2.0, 2.0, 2.0 }, Values(g[0]));
        Assert.Null(x.grad);

        var ex = Assert.Throws<InvalidOperationException>(() => autograd.grad(new[] { (x * 2).sum() }, new[] { x, u }));
        Assert.Equal("One of the differentiated Tensors appears to not have been used in the graph. Set allow_unused=True if this is the desired behavior.", ex.Message);
        var g2 = autograd.grad(new[] { (x * 2).sum() }, new[] { x, u }, allow_unused: true);
        Assert.Null(g2[1]);

        var summed = autograd.grad(new[] { (x * 2).sum(), (x * 3).sum() }, new[] { x });
        Assert.Equal(new[] { 5.0, 5.0, 5.0 }, Values(summed[0]));

        var mid = x * 2;
        var gm = autograd.grad((mid * mid).sum(), mid);
        Assert.Equal(new[] { 4.0, 4.0, 4.0 }, Values(gm[0]));
    }

    [Fact]
    public void Backward_inputs_restricts_accumulation()
    {
        var x = ones(2, requires_grad: true);
        var y = x * 2;
        var z = (y * y).sum();
        z.backward(inputs: new[] { y });
        Assert.Equal(new[] { 4.0, 4.0 }, Values(y.grad));
        Assert.Null(x.grad);

        var w = ones(2, requires_grad: true);
        (x * 3).sum().backward(inputs: new[] { x, w });
        Assert.Equal(new[] { 3.0, 3.0 }, Values(x.grad));
        Assert.Null(w.grad);

        Assert.Equal("'inputs' argument to backward() cannot be empty.",
            Assert.Throws<InvalidOperationException>(() => (x * 2).sum().backward(inputs: System.Array.Empty<Tensor>())).Message);
        Assert.Equal("can't retain_grad on Tensor that has requires_grad=False",
            Assert.Throws<InvalidOperationException>(() => (x * 2).sum().backward(inputs: new[] { ones(2) })).Message);
    }

    [Fact]
    public void Several_roots_in_one_pass()
    {
        var a = ones(2, requires_grad: true);
        var b = ones(2, requires_grad: true);
        autograd.backward(new[] { a * 2, (b * 3).sum() }, new Tensor?[] { ones(2), null });
        Assert.Equal(new[] { 2.0, 2.0 }, Values(a.grad));
        Assert.Equal(new[] { 3.0, 3.0 }, Values(b.grad));
    }

    // ---- 13, 14: nodes ----------------------------------------------------------------------------------------

    [Fact]
    public void Calling_a_node_by_hand()
    {
        // x * c with a constant tensor is MulBackward0 with edges [AccumulateGrad, None] (x * 2 would be the C++
        // Scalar overload, MulBackward1, with a single edge).
        var x = ones(2, 3, requires_grad: true);
        var result = (x * full(new long[] { 2, 3 }, 2.0)).grad_fn!.call(ones(2, 3));
        Assert.Equal(2, result.Length);
        Assert.Equal(new[] { 2.0, 2.0, 2.0, 2.0, 2.0, 2.0 }, Values(result[0]));
        Assert.Null(result[1]);
    }

    [Fact]
    public void Next_functions_layouts()
    {
        var x = ones(2, 3, requires_grad: true);
        var y = ones(2, 3, requires_grad: true);
        var c = ones(2, 3);

        var add = (x + y).grad_fn!;
        Assert.Equal(2, add.next_functions.Count);
        Assert.All(add.next_functions, e => Assert.Equal("torch::autograd::AccumulateGrad", e.node!.name()));

        var scalar = (x + 2).grad_fn!;
        Assert.Single(scalar.next_functions);
        Assert.IsType<AccumulateGrad>(scalar.next_functions[0].node);

        var constFirst = (c + x).grad_fn!;
        Assert.Equal(2, constFirst.next_functions.Count);
        Assert.Null(constFirst.next_functions[0].node);
        Assert.Equal(0, constFirst.next_functions[0].input_nr);
        Assert.IsType<AccumulateGrad>(constFirst.next_functions[1].node);
        Assert.Equal(0, constFirst.next_functions[1].input_nr);

        var inner = x * 2;
        var outer = (inner * c).grad_fn!;
        Assert.Same(inner.grad_fn, outer.next_functions[0].node);
        Assert.Equal(inner.output_nr, outer.next_functions[0].input_nr);
    }

    [Fact]
    public void AccumulateGrad_is_shared_per_leaf_and_exposes_the_variable()
    {
        var x = ones(3, requires_grad: true);
        var acc1 = (x * 2).grad_fn!.next_functions[0].node;
        var acc2 = (x.exp()).grad_fn!.next_functions[0].node;
        Assert.Same(acc1, acc2);
        var acc = Assert.IsType<AccumulateGrad>(acc1);
        Assert.Same(x, acc.variable);
        Assert.Empty(acc.next_functions);
        Assert.Equal("torch::autograd::AccumulateGrad", acc.name());
    }

    // ---- 15, 16, 18: versions, in-place, detach -----------------------------------------------------------------

    [Fact]
    public void Version_counter_rules()
    {
        var a = ones(3);
        Assert.Equal(0, a._version);
        a.add_(1);
        Assert.Equal(1, a._version);
        a.mul_(2);
        Assert.Equal(2, a._version);
        var view = a.view(3);
        view.add_(1);
        Assert.Equal(3, a._version);
        var det = a.detach();
        det.add_(1);
        Assert.Equal(4, a._version);
        Assert.Equal(4, det._version);
        a.data.add_(1);
        Assert.Equal(4, a._version);
        Assert.Equal(new[] { 7.0, 7.0, 7.0 }, Values(a));
        var b = a + 1;
        Assert.Equal(0, b._version);
    }

    [Fact]
    public void Modified_saved_output_raises_with_the_producing_node()
    {
        var x = ones(3, requires_grad: true);
        var y = x.exp();
        y.add_(1);
        var ex = Assert.Throws<InvalidOperationException>(() => y.sum().backward());
        Assert.Equal(
            "one of the variables needed for gradient computation has been modified by an inplace operation: [torch.FloatTensor [3]], which is output 0 of ExpBackward0, is at version 1; expected version 0 instead. Hint: enable anomaly detection to find the operation that failed to compute its gradient, with torch.autograd.set_detect_anomaly(True).",
            ex.Message);
    }

    [Fact]
    public void Modified_saved_leaf_raises_without_the_producer_part()
    {
        var x = ones(3, requires_grad: true);
        var w = ones(3);
        var y = x * w;
        w.add_(1);
        var ex = Assert.Throws<InvalidOperationException>(() => y.sum().backward());
        Assert.Equal(
            "one of the variables needed for gradient computation has been modified by an inplace operation: [torch.FloatTensor [3]] is at version 1; expected version 0 instead. Hint: enable anomaly detection to find the operation that failed to compute its gradient, with torch.autograd.set_detect_anomaly(True).",
            ex.Message);
    }

    [Fact]
    public void In_place_on_a_leaf_requiring_grad_fails_before_writing()
    {
        var x = ones(3, requires_grad: true);
        var ex = Assert.Throws<InvalidOperationException>(() => x.add_(1));
        Assert.Equal("a leaf Variable that requires grad is being used in an in-place operation.", ex.Message);
        Assert.Equal(new[] { 1.0, 1.0, 1.0 }, Values(x));
        Assert.Equal(0, x._version);
        var ex2 = Assert.Throws<InvalidOperationException>(() => x.view(3).add_(1));
        Assert.Equal("a view of a leaf Variable that requires grad is being used in an in-place operation.", ex2.Message);
        Assert.Equal(new[] { 1.0, 1.0, 1.0 }, Values(x));
        using (no_grad()) x.add_(1);
        Assert.Equal(1, x._version);
        Assert.Equal(new[] { 2.0, 2.0, 2.0 }, Values(x));
    }

    [Fact]
    public void Detach_shares_storage_and_version_and_is_a_leaf()
    {
        var x = ones(3, requires_grad: true);
        var d = x.detach();
        Assert.False(d.requires_grad);
        Assert.True(d.is_leaf);
        d.add_(1);
        Assert.Equal(new[] { 2.0, 2.0, 2.0 }, Values(x.detach()));
        Assert.Equal(1, x._version);
        var leaf = x.detach().requires_grad_();
        Assert.True(leaf.is_leaf);
        Assert.True(leaf.requires_grad);
        Assert.NotSame(x, leaf);
    }

    // ---- 19, 20: grad modes ----------------------------------------------------------------------------------

    [Fact]
    public void Grad_mode_scopes_nest()
    {
        var x = ones(3, requires_grad: true);
        Assert.True(is_grad_enabled());
        using (no_grad())
        {
            Assert.False(is_grad_enabled());
            Assert.False((x * 2).requires_grad);
            using (enable_grad())
            {
                Assert.True(is_grad_enabled());
                Assert.Equal("MulBackward0", (x * x).grad_fn!.name());
            }
            Assert.False(is_grad_enabled());
            Assert.True(ones(2, requires_grad: true).requires_grad);
        }
        using (set_grad_enabled(false)) Assert.False((x * 2).requires_grad);
        using (set_grad_enabled(true)) Assert.True((x * 2).requires_grad);
        Assert.True(is_grad_enabled());
    }

    [Fact]
    public void Grad_mode_is_thread_local()
    {
        var x = ones(3, requires_grad: true);
        bool otherThreadRecords = false, otherThreadEnabled = false;
        using (no_grad())
        {
            var t = new Thread(() =>
            {
                otherThreadEnabled = is_grad_enabled();
                otherThreadRecords = (x * 2).requires_grad;
            });
            t.Start();
            t.Join();
            Assert.False((x * 2).requires_grad);
        }
        Assert.True(otherThreadEnabled);
        Assert.True(otherThreadRecords);
    }

    [Fact]
    public void Inference_mode_tensors()
    {
        var x = ones(3, requires_grad: true);
        Tensor inf;
        using (inference_mode())
        {
            Assert.True(is_inference_mode_enabled());
            inf = x * 2;
            Assert.False(inf.requires_grad);
            Assert.True(inf.is_inference());
        }
        Assert.False(is_inference_mode_enabled());
        Assert.False(x.is_inference());
        Assert.Equal("Inference tensors do not track version counter.",
            Assert.Throws<InvalidOperationException>(() => inf._version).Message);
        Assert.Equal(
            "Inplace update to inference tensor outside InferenceMode is not allowed.You can make a clone to get a normal tensor before doing inplace update.See https://github.com/pytorch/rfcs/pull/17 for more details.",
            Assert.Throws<InvalidOperationException>(() => inf.add_(1)).Message);
        Assert.Equal("Setting requires_grad=True on inference tensor outside InferenceMode is not allowed.",
            Assert.Throws<InvalidOperationException>(() => inf.requires_grad_()).Message);
        Assert.Equal(
            "Inference tensors cannot be saved for backward. To work around you can make a clone to get a normal tensor and use it in autograd.",
            Assert.Throws<InvalidOperationException>(() => x * inf).Message);
        var outOfPlace = inf + 1;
        Assert.Equal(new[] { 3.0, 3.0, 3.0 }, Values(outOfPlace));
        Assert.False(outOfPlace.is_inference());
    }

    // ---- 21, 22: hooks ----------------------------------------------------------------------------------------

    [Fact]
    public void Tensor_hooks_replace_grad_run_in_order_and_can_be_removed()
    {
        var x = ones(3, requires_grad: true);
        var order = new List<string>();
        x.register_hook(g => { order.Add("first"); return g * 10; });
        x.register_hook(g => { order.Add("second"); return null; });
        (x * 2).sum().backward();
        Assert.Equal(new[] { 20.0, 20.0, 20.0 }, Values(x.grad));
        Assert.Equal(new[] { "first", "second" }, order);

        var y = ones(2, requires_grad: true);
        int calls = 0;
        var handle = y.register_hook(g => { calls++; return g * 100; });
        handle.remove();
        handle.remove();
        (y * 2).sum().backward();
        Assert.Equal(0, calls);
        Assert.Equal(new[] { 2.0, 2.0 }, Values(y.grad));

        Assert.Equal("cannot register a hook on a tensor that doesn't require gradient",
            Assert.Throws<InvalidOperationException>(() => ones(2).register_hook(g => g)).Message);
    }

    [Fact]
    public void Hook_on_non_leaf_changes_upstream_gradient()
    {
        var x = ones(2, requires_grad: true);
        var y = x * 2;
        y.register_hook(g => g * 3);
        (y * y).sum().backward();
        // dz/dy = 2y = 4, times 3 from the hook, times dy/dx = 2.
        Assert.Equal(new[] { 24.0, 24.0 }, Values(x.grad));
    }

    [Fact]
    public void Hook_and_node_hook_order_as_pytorch()
    {
        var x = ones(3, requires_grad: true);
        var y = x * full(new long[] { 3 }, 2.0);
        var order = new List<string>();
        Tensor?[]? postGradInputs = null;
        y.register_hook(g => { order.Add("tensor hook y"); return null; });
        y.grad_fn!.register_prehook(g => { order.Add("MulBackward0 prehook"); return null; });
        y.grad_fn.register_hook((gi, go) => { order.Add("MulBackward0 post hook"); postGradInputs = gi; return null; });
        x.register_hook(g => { order.Add("tensor hook x"); return null; });
        var acc = y.grad_fn.next_functions[0].node!;
        acc.register_hook((gi, go) => { order.Add("AccumulateGrad post hook"); return null; });
        y.sum().backward();
        Assert.Equal(new[] { "tensor hook y", "MulBackward0 prehook", "MulBackward0 post hook", "tensor hook x", "AccumulateGrad post hook" }, order);
        Assert.NotNull(postGradInputs);
        Assert.Equal(2, postGradInputs!.Length);
        Assert.Equal(new[] { 2.0, 2.0, 2.0 }, Values(postGradInputs[0]));
        Assert.Null(postGradInputs[1]);
    }

    // ---- engine scale and concurrency --------------------------------------------------------------------------

    [Fact]
    public void Long_chain_backward_has_no_recursion_and_is_fast()
    {
        var x = tensor(1.0, float64, requires_grad: true);
        var y = x;
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < 100_000; i++) y = y * 1.0;
        y.backward();
        sw.Stop();
        Assert.Equal(1.0, x.grad!.item<double>());
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"100,000-node chain took {sw.Elapsed}");
    }

    [Fact]
    public void Independent_graphs_on_several_threads()
    {
        const int Threads = 8;
        var errors = new string?[Threads];
        var threads = new Thread[Threads];
        for (int t = 0; t < Threads; t++)
        {
            int id = t;
            threads[t] = new Thread(() =>
            {
                try
                {
                    for (int rep = 0; rep < 50; rep++)
                    {
                        double v = id + 1 + rep * 0.01;
                        var x = tensor(new[] { v, 2 * v }, float64, requires_grad: true);
                        var s = (x * x * x).sum() + x.sin().sum();
                        s.backward();
                        var g = x.grad!.ToArray<double>();
                        double e0 = 3 * v * v + Math.Cos(v), e1 = 12 * v * v + Math.Cos(2 * v);
                        if (Math.Abs(g[0] - e0) > 1e-9 || Math.Abs(g[1] - e1) > 1e-9)
                            errors[id] = $"thread {id}: got {g[0]}, {g[1]}, expected {e0}, {e1}";
                        var gg = autograd.grad((x.exp() * 2).sum(), x)[0]!.ToArray<double>();
                        if (Math.Abs(gg[0] - 2 * Math.Exp(v)) > 1e-9 * Math.Exp(v))
                            errors[id] = $"thread {id}: autograd.grad gave {gg[0]}";
                    }
                }
                catch (Exception ex)
                {
                    errors[id] = $"thread {id}: {ex}";
                }
            });
            threads[t].Start();
        }
        foreach (var th in threads) th.Join();
        Assert.All(errors, e => Assert.Null(e));
    }

    [Fact]
    public void Shared_leaf_accumulates_from_several_threads()
    {
        var x = ones(4, float64, requires_grad: true);
        var threads = new Thread[4];
        for (int t = 0; t < threads.Length; t++)
        {
            threads[t] = new Thread(() =>
            {
                for (int i = 0; i < 25; i++) (x * 2).sum().backward();
            });
            threads[t].Start();
        }
        foreach (var th in threads) th.Join();
        Assert.Equal(new[] { 200.0, 200.0, 200.0, 200.0 }, Values(x.grad));
    }

    sealed class ToleranceComparer : IEqualityComparer<double>
    {
        readonly double _tol;
        public ToleranceComparer(double tol) => _tol = tol;
        public bool Equals(double a, double b) => Math.Abs(a - b) <= _tol * (1 + Math.Abs(b));
        public int GetHashCode(double v) => 0;
    }
}
