using Nabla.Autograd;
using Xunit;

namespace Nabla.Tests.Autograd;

/// <summary>Note [Stealing gradients]: .grad adopts a gradient only when nothing else can reach it.</summary>
public class GradStealTests
{
    static double[] V(Tensor t) => t.to(ScalarType.Float64).contiguous().ToArray<double>();

    [Fact]
    public void A_fresh_gradient_is_adopted_and_later_backwards_accumulate_into_it()
    {
        var w = torch.tensor(new double[] { 1, 2, 3 }, requires_grad: true);
        long before = AccumulateGrad.StolenCount;
        (w * 3).sum().backward();
        Assert.Equal(before + 1, AccumulateGrad.StolenCount);
        Assert.Equal(new double[] { 3, 3, 3 }, V(w.grad!));
        (w * w).sum().backward();
        Assert.Equal(new double[] { 5, 7, 9 }, V(w.grad!));
    }

    [Fact]
    public void A_gradient_handed_to_two_leaves_is_copied_for_each()
    {
        var a = torch.tensor(new double[] { 1, 2 }, requires_grad: true);
        var b = torch.tensor(new double[] { 3, 4 }, requires_grad: true);
        long before = AccumulateGrad.StolenCount;
        (a + b).backward(torch.tensor(new double[] { 1, 1 }));
        Assert.Equal(before, AccumulateGrad.StolenCount);
        Assert.NotSame(a.grad, b.grad);
        a.grad!.mul_(10);
        Assert.Equal(new double[] { 1, 1 }, V(b.grad!));
    }

    [Fact]
    public void User_supplied_and_hook_seen_gradients_are_never_adopted()
    {
        var x = torch.tensor(new double[] { 1, 2 }, requires_grad: true);
        var g = torch.tensor(new double[] { 5, 6 });
        x.backward(g);                       // the root gradient is the caller's tensor
        Assert.NotSame(g, x.grad);
        x.grad!.zero_();
        Assert.Equal(new double[] { 5, 6 }, V(g));

        var y = torch.tensor(new double[] { 1, 2 }, requires_grad: true);
        Tensor? seen = null;
        y.register_hook(t => { seen = t; return null; });
        long before = AccumulateGrad.StolenCount;
        (y * 2).sum().backward();
        Assert.Equal(before, AccumulateGrad.StolenCount);
        Assert.NotSame(seen, y.grad);
        y.grad!.zero_();
        Assert.Equal(new double[] { 2, 2 }, V(seen!));
    }

    [Fact]
    public void Views_retained_gradients_and_graph_building_passes_are_not_adopted()
    {
        // sum's backward hands out an expanded view of a 0-d tensor: not a buffer the leaf could own.
        var x = torch.tensor(new double[] { 1, 2, 3 }, requires_grad: true);
        long before = AccumulateGrad.StolenCount;
        x.sum().backward();
        Assert.Equal(before, AccumulateGrad.StolenCount);
        Assert.Equal(new double[] { 1, 1, 1 }, V(x.grad!));

        // retain_grad keeps its own copy; the leaf's gradient may still be adopted, and the two stay independent.
        var w = torch.tensor(new double[] { 1, 2 }, requires_grad: true);
        var h = w * 3;
        h.retain_grad();
        (h * 2).sum().backward();
        w.grad!.zero_();
        Assert.Equal(new double[] { 2, 2 }, V(h.grad!));

        // create_graph: .grad is part of a graph, so it is taken as is (PyTorch does the same), never flagged.
        var z = torch.tensor(new double[] { 1, 2 }, requires_grad: true);
        before = AccumulateGrad.StolenCount;
        (z * z).sum().backward(create_graph: true);
        Assert.Equal(before, AccumulateGrad.StolenCount);
        Assert.NotNull(z.grad!.grad_fn);
    }

    [Fact]
    public void A_summed_gradient_from_two_uses_is_adopted_once_and_is_correct()
    {
        var w = torch.tensor(new double[] { 1, 2 }, requires_grad: true);
        long before = AccumulateGrad.StolenCount;
        (w * 3 + w * 5).sum().backward();
        Assert.Equal(new double[] { 8, 8 }, V(w.grad!));
        Assert.Equal(before + 1, AccumulateGrad.StolenCount);
    }

    [Fact]
    public void Linear_layer_gradients_are_adopted_contiguous_through_the_transposed_weight()
    {
        // addmm(b, x, W.t()): W.t() is column-major, so d(W.t()) is computed as (g^T @ x)^T and TBackward0 hands the
        // leaf a contiguous tensor over a fresh buffer (Note [Matmul gradient layout]).
        torch.manual_seed(0);
        var lin = torch.nn.Linear(4, 3);
        var x = torch.randn(5, 4);
        long before = AccumulateGrad.StolenCount;
        lin.forward(x).sum().backward();
        Assert.Equal(before + 2, AccumulateGrad.StolenCount);
        var w = lin.weight!;
        Assert.True(w.grad!.is_contiguous());
        var expected = torch.ones(5, 3).t().mm(x);   // d(sum(x W^T + b))/dW = 1^T x
        Assert.True(torch.allclose(w.grad!, expected));
        Assert.True(torch.allclose(lin.bias!.grad!, torch.full(new long[] { 3 }, 5f)));
    }

    [Fact]
    public void An_adopted_gradient_outlives_the_dispose_scope_that_disposes_its_intermediates()
    {
        torch.manual_seed(1);
        var lin = torch.nn.Linear(64, 32);     // 8 KB weight gradient: a pooled buffer
        var x = torch.randn(4, 64);
        Tensor expected;
        using (torch.NewDisposeScope())
        {
            lin.forward(x).sum().backward();   // mm's result and its transposed view are scope-owned
        }
        expected = torch.ones(4, 32).t().mm(x);
        Assert.False(lin.weight!.grad!.IsInvalid);
        Assert.True(torch.allclose(lin.weight!.grad!, expected));
        // Allocate and dispose in a loop: the adopted buffer must not be handed to anyone else meanwhile.
        for (int i = 0; i < 20; i++)
            using (torch.NewDisposeScope()) { var junk = torch.full(new long[] { 32, 64 }, 7f) * 2; }
        Assert.True(torch.allclose(lin.weight!.grad!, expected));
    }
}
