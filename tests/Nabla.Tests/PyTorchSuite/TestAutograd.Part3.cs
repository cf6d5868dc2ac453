using Nabla.Autograd;
using Xunit;
using static Nabla.torch;
using static Nabla.Tests.PyTorchSuite.Suite;

namespace Nabla.Tests.PyTorchSuite;

public partial class TestAutograd
{
    sealed class Mult : autograd.Function
    {
        public override Tensor forward(AutogradContext ctx, Tensor[] inputs)
        {
            var y = inputs[0].prod(-1).prod(-1);
            ctx.save_for_backward(inputs[0], y);
            return y;
        }
        public override Tensor?[] backward(AutogradContext ctx, Tensor g)
        {
            var s = ctx.saved_tensors;
            return new[] { (g * s[1])[TensorIndex.Colon, TensorIndex.None, TensorIndex.None] / s[0] };
        }
    }

    [Fact]
    public void test_custom_autograd_repeated_grad_grad()
    {
        Tensor Mult1(Tensor x) => x.prod(-1).prod(-1);
        void CheckGradgradRepeated(Tensor x, Tensor y)
        {
            var gy = autograd.grad(y[0], x, create_graph: true)[0]!;
            var ggy_1 = autograd.grad(gy[0, 0, 0], x, retain_graph: true)[0]!;
            gy = autograd.grad(y[0], x, create_graph: true)[0]!;
            var ggy_2 = autograd.grad(gy[0, 0, 0], x, retain_graph: true)[0]!;
            Equal(ggy_1[0, 0, 1], ggy_2[0, 0, 1]);
        }
        var x = ones(2, 4, 4).requires_grad_();
        CheckGradgradRepeated(x, Mult1(x));
        CheckGradgradRepeated(x, new Mult().apply(x));
    }

    class Double : autograd.Function
    {
        public override Tensor forward(AutogradContext ctx, Tensor[] inputs)
        {
            var y = inputs[0].pow(2);
            ctx.save_for_backward(inputs[0], y);
            return y;
        }
        public override Tensor?[] backward(AutogradContext ctx, Tensor g) => new[] { g * 2 * ctx.saved_tensors[0] };
    }

    sealed class Double2 : autograd.Function
    {
        public override Tensor forward(AutogradContext ctx, Tensor[] inputs)
        {
            var y = inputs[0].pow(2);
            ctx.save_for_backward(inputs[0], y);
            return y;
        }
        public override Tensor?[] backward(AutogradContext ctx, Tensor g)
        {
            var s = ctx.saved_tensors;
            return new[] { g * 2 * s[1] / s[0] };
        }
    }

    [Fact]
    public void test_custom_autograd_no_early_free()
    {
        var x = tensor(2L).@double().requires_grad_();
        Assert.True(autograd.gradcheck(a => new Double().apply(a[0]), new[] { x }));
        Assert.True(autograd.gradgradcheck(a => new Double().apply(a[0]), new[] { x }));
        Assert.True(autograd.gradcheck(a => new Double2().apply(a[0]), new[] { x }));
        Assert.True(autograd.gradgradcheck(a => new Double2().apply(a[0]), new[] { x }));
        var y = new Double().apply(x);
        autograd.grad(y, x, create_graph: true);
        autograd.grad(y, x);
        y = new Double2().apply(x);
        autograd.grad(y, x, create_graph: true);
        autograd.grad(y, x);
    }

    [Fact]
    public void test_detach()
    {
        var x = randn(10, 10, requires_grad: true);
        var y = x + 2;
        y = y.detach();
        var z = y * 4 + 2;
        Assert.False(y.requires_grad);
        Assert.False(z.requires_grad);

        x = randn(10, 10, requires_grad: true);
        y = x * 2;
        y = y.detach();
        Assert.False(y.requires_grad);
        Assert.Null(y.grad_fn);
        z = x + y;
        z.sum().backward();
        Equal(ones(10, 10), x.grad);

        x = randn(10, 10, requires_grad: true);
        y = randn(10, 10, requires_grad: true);
        var a = x * 2;
        (y + a).sum().backward(retain_graph: true);
        a.detach_();
        Assert.False(a.requires_grad);
        (y + a).sum().backward();
        Equal(ones(10, 10) * 2, x.grad);
        Equal(ones(10, 10) * 2, y.grad);

        var view = x.narrow(0, 1, 4);
        RuntimeError("view", () => view.detach_());
    }

    [Fact]
    public void test_detach_base()
    {
        var x = randn(10, 10, requires_grad: true);
        var view = x.narrow(0, 1, 4);
        x.detach_();
        Assert.False(x.requires_grad);
        Assert.True(view.requires_grad);
        Assert.NotNull(view.grad_fn);
        Assert.Same(x, view._base_tensor);
    }

    [Fact]
    public void test_detach_then_inplace_raises_in_autograd()
    {
        var x = randn(Array.Empty<long>(), requires_grad: true);
        var y = x.pow(2);
        var z = x.detach();
        z.zero_();
        RuntimeError("has been modified by an inplace", () => y.backward());
    }

    [Fact]
    public void test_type_conversions()
    {
        // The Python type-object checks (torch.FloatTensor, .type(t)) have no counterpart; the backward through
        // dtype conversions (_test_type_conversion_backward) is kept.
        var fvar = randn(5, 5).@float().requires_grad_();
        fvar.@double().sum().backward();
        Equal(ones_like(fvar), fvar.grad);
        Assert.Equal(fvar.dtype, fvar.grad!.dtype);
        var dvar = randn(5, 5).@double().requires_grad_();
        dvar.@float().sum().backward();
        Equal(ones_like(dvar), dvar.grad);
        Assert.Equal(dvar.dtype, dvar.grad!.dtype);
    }

    [Fact]
    public void test_isolated_node()
    {
        var x = randn(5, 5, requires_grad: true);
        var y = randn(5, 5, requires_grad: true);
        var a = x + y;
        var b = a.max(1, true).indices.repeat(1, 5).@double();
        var o = (b + a).sum();
        o.backward();
    }

    [Fact]
    public void test_shape()
    {
        var x = randn(3, 4);
        Assert.Equal(2, x.shape.Length);
        Assert.Equal(3, x.shape[0]);
        Assert.Equal(4, x.shape[1]);
    }

    sealed class Identity2 : autograd.MultiOutputFunction
    {
        public override object?[] forward(AutogradContext ctx, object?[] args)
        {
            var (a, b) = ((Tensor)args[0]!, (Tensor)args[1]!);
            return new object?[] { a, a + b };
        }
        public override Tensor?[] backward(AutogradContext ctx, Tensor?[] g) => new[] { g[0]! + g[1]!, g[1] };
    }

    [Fact]
    public void test_return_leaf()
    {
        bool hook_called = false;
        var x = randn(5, 5, requires_grad: true);
        var y = randn(5, 5, requires_grad: true);
        var r = new Identity2().apply(x, y);
        var (q, p) = ((Tensor)r[0]!, (Tensor)r[1]!);
        q.register_hook(g => { hook_called = true; Equal(ones(5, 5), g); return null; });
        (q + p + x).sum().backward();
        Equal(ones(5, 5) * 3, x.grad);
        Equal(ones(5, 5), y.grad);
        Assert.True(hook_called);
    }

    sealed class InplaceAdd : autograd.MultiOutputFunction
    {
        public override object?[] forward(AutogradContext ctx, object?[] args)
        {
            var (a, b) = ((Tensor)args[0]!, (Tensor)args[1]!);
            ctx.mark_dirty(a);
            return new object?[] { a.add_(b), b + 2 };
        }
        public override Tensor?[] backward(AutogradContext ctx, Tensor?[] g) => new[] { g[0], g[0]! + g[1]! };
    }

    [Fact]
    public void test_return_leaf_inplace()
    {
        var x = randn(5, 5);
        var y = randn(5, 5, requires_grad: true);
        var r = new InplaceAdd().apply(x, y);
        var (q, p) = ((Tensor)r[0]!, (Tensor)r[1]!);
        Assert.Same(x, q);
        Assert.Equal("InplaceAddBackward", q.grad_fn!.name());
        Assert.True(q.requires_grad);
        q.sum().backward();
        Equal(ones(5, 5), y.grad);
    }

    [Fact]
    public void test_leaf_assignment()
    {
        var x = randn(5, 5);
        var y = randn(5, requires_grad: true);
        var z = randn(5, requires_grad: true);
        x[0] = y;
        x[1] = 2 * z;
        Assert.True(x.requires_grad);
        Assert.NotNull(x.grad_fn);
        x.sum().backward();
        Equal(ones(5), y.grad);
        Equal(ones(5) * 2, z.grad);
    }

    [Fact]
    public void test_no_grad_assignment()
    {
        var x = randn(5, 5, requires_grad: true);
        var y = randn(5);
        using (no_grad()) x[0] = y;
        Assert.True(x.requires_grad);
        Assert.Null(x.grad_fn);
    }

    [Fact]
    public void test_no_grad_modifies_version()
    {
        var x = randn(5, requires_grad: true);
        var y = randn(5, requires_grad: true);
        var z = (x * y).sum();
        using (no_grad()) x.mul_(2);
        RuntimeError("modified by an inplace operation", () => z.backward());
    }

    [Fact]
    public void test_increment_version()
    {
        var a = rand(5, requires_grad: true);
        var v = a._version;
        autograd.graph.increment_version(a);
        Assert.Equal(v + 1, a._version);

        a = zeros(5, dtype: int32);
        v = a._version;
        autograd.graph.increment_version(a);
        Assert.Equal(v + 1, a._version);

        using (inference_mode())
        {
            a = rand(5, requires_grad: true);
            autograd.graph.increment_version(a);
        }
        autograd.graph.increment_version(a);
    }

    [Fact]
    public void test_no_grad_input()
    {
        var x = randn(5, requires_grad: true);
        Tensor y;
        using (no_grad()) y = new ReturnsInput().apply(x);
        Assert.True(x.requires_grad);
        Assert.Null(y.grad_fn);
    }

    [Fact]
    public void test_backward_copy()
    {
        var x = ones(5, 5, requires_grad: true);
        var y = ones(5, 5, requires_grad: true);
        var a = x + 2;
        var b = y + 2;
        var c = x + 2;
        var add1 = a + b;
        var add2 = add1 + c;
        for (int i = 0; i < 4; i++)
        {
            a = a * 2;
            b = b * 2;
            c = c * 2;
        }
        var branch = a + b + c;
        var o = add2 + branch;
        o.backward(ones(5, 5));
        Equal(ones(5, 5) * 34, x.grad);
        Equal(ones(5, 5) * 17, y.grad);
    }

    sealed class SaveNone : autograd.Function
    {
        public bool NullsSeen;
        public override Tensor forward(AutogradContext ctx, Tensor[] inputs)
        {
            ctx.save_for_backward(null, inputs[0], null);
            return inputs[0] * inputs[0];
        }
        public override Tensor?[] backward(AutogradContext ctx, Tensor g)
        {
            var s = ctx.saved_tensors;
            NullsSeen = s[0] is null && s[2] is null;
            return new[] { 2 * s[1] * g };
        }
    }

    [Fact]
    public void test_save_none_for_backward()
    {
        var x = randn(5, 5, requires_grad: true);
        var f = new SaveNone();
        var y = f.apply(x);
        y.sum().backward();
        Assert.True(f.NullsSeen);
        Equal(2 * x, x.grad);
    }

    sealed class TooManyGrads : autograd.Function
    {
        public override Tensor forward(AutogradContext ctx, Tensor[] inputs) => inputs[0];
        public override Tensor?[] backward(AutogradContext ctx, Tensor g) => new[] { g, null, null };
    }

    [Fact]
    public void test_too_many_grads()
    {
        var x = randn(5, 5, requires_grad: true);
        var y = new TooManyGrads().apply(x);
        y.sum().backward();
        Equal(ones_like(x), x.grad);
    }

    sealed class F1 : autograd.MultiOutputFunction
    {
        public override object?[] forward(AutogradContext ctx, object?[] args)
        {
            var input = (Tensor)args[0]!;
            var o = randn(input.size());
            ctx.mark_non_differentiable(o);
            return new object?[] { input, o };
        }
        public override Tensor?[] backward(AutogradContext ctx, Tensor?[] g) => new[] { g[0] };
    }

    sealed class F2 : autograd.MultiOutputFunction
    {
        public override object?[] forward(AutogradContext ctx, object?[] args) => new[] { args[0] };
        public override Tensor?[] backward(AutogradContext ctx, Tensor?[] g) => new[] { g[0], null };
    }

    [Fact]
    public void test_dep_nograd()
    {
        var x = randn(5, requires_grad: true);
        var r = new F1().apply(x);
        var (a, b) = ((Tensor)r[0]!, (Tensor)r[1]!);
        b = b + 1;
        Assert.True(a.requires_grad);
        Assert.False(b.requires_grad);
        var c = (Tensor)new F2().apply(a, b)[0]!;
        c.backward(ones(c.size()));
        Equal(ones(x.size()), x.grad);
    }

    [Fact]
    public void test_set_grad_enabled()
    {
        var x = tensor(new[] { 1.0f }, requires_grad: true);
        Tensor y;
        using (set_grad_enabled(false)) y = x * 2;
        Assert.False(y.requires_grad);
        using (set_grad_enabled(true)) y = x * 2;
        Assert.True(y.requires_grad);
        using (set_grad_enabled(false))
        {
            set_grad_enabled(true);
            y = x * 2;
        }
        Assert.True(y.requires_grad);
    }

    sealed class Reenter : autograd.Function
    {
        readonly Tensor _yData;
        Tensor? _x, _outputVar;
        public Reenter(Tensor yData) => _yData = yData;
        public override Tensor forward(AutogradContext ctx, Tensor[] inputs)
        {
            using (enable_grad())
            {
                _x = inputs[0].detach().requires_grad_();
                var y = _yData.detach().requires_grad_();
                _outputVar = _x * y;
            }
            return _outputVar.detach();
        }
        public override Tensor?[] backward(AutogradContext ctx, Tensor g)
        {
            using (enable_grad()) _outputVar!.sum().backward();
            return new[] { _x!.grad! * g };
        }
    }

    [Fact]
    public void test_simple_reentrant()
    {
        var y_data = randn(2, 2);
        var x = randn(2, 2, requires_grad: true);
        var o = new Reenter(y_data).apply(x);
        o.sum().backward();
        Equal(y_data, x.grad);
    }

    sealed class ReentrantFunc : autograd.Function
    {
        readonly Tensor _root;
        public ReentrantFunc(Tensor root) => _root = root;
        public override Tensor forward(AutogradContext ctx, Tensor[] inputs) => inputs[0].clone();
        public override Tensor?[] backward(AutogradContext ctx, Tensor g)
        {
            _root.backward();
            return new[] { g };
        }
    }

    [Fact]
    public void test_reentrant_child_error()
    {
        var a = rand(3, 3, requires_grad: true);
        var c = a * a;
        var b = rand(3, 3, requires_grad: true);
        var e = b * b;
        var f = new SimulateBackwardError().apply(e);
        var reentrant_root = f.sum();
        var d = new ReentrantFunc(reentrant_root).apply(c);
        var ex = Assert.ThrowsAny<Exception>(() => d.sum().backward());
        Assert.Matches("Simulate error", ex.Message);
    }

    [Fact]
    public void test_var_mean_differentiable()
    {
        var dim = new long[] { 2, 4 };
        var input1 = randn(new long[] { 3, 4, 5, 6, 2, 3 }, requires_grad: true);
        var input2 = input1.detach().clone().requires_grad_();
        var (var1, mean1) = var_mean(input1, dim, keepdim: false);
        var var2 = input2.var(dim, keepdim: false);
        var mean2 = input2.mean(dim, keepdim: false);
        var grad = randn(new long[] { 3, 4, 6, 3 }, requires_grad: true);
        var r1 = var1 * var1 * mean1 * mean1;
        var r2 = var2 * var2 * mean2 * mean2;
        Equal(r2, r1, atol: 0, rtol: 0.01);
        autograd.backward(new[] { r1 }, new Tensor?[] { grad });
        autograd.backward(new[] { r2 }, new Tensor?[] { grad });
        Equal(input2.grad, input1.grad, atol: 1e-6, rtol: 0.01);
    }

    [Fact]
    public void test_variable_traverse()
    {
        var inp = randn(10, requires_grad: true);
        var tmp = inp.view(10, 1);
        var o = tmp.view(10);
        GC.Collect();
        o.backward(randn(o.size()));
    }

    [Fact]
    public void test_pow_zero_tensor_gradient()
    {
        void RunTest(long[] size, object exponent)
        {
            var input = zeros(size, requires_grad: true);
            var r = exponent is Tensor t ? input.pow(t) : input.pow((int)exponent);
            r.sum().backward();
            Assert.Equal(0, Item(input.grad!.abs().sum()));
        }
        RunTest(new long[] { 10 }, zeros(10));
        RunTest(new long[] { 10, 10 }, zeros(10, 10));
        RunTest(new long[] { 10 }, 0);
    }
}
