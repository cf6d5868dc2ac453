using Xunit;

namespace Nabla.Tests.NN;

/// <summary>Note [Fused optimizer steps]: the one-pass updates against the op-by-op updates they replace.</summary>
public class FusedOptimTests
{
    // The same parameter twice: one with a dense gradient (fused path), one whose gradient is a transposed view of the
    // same values (op-by-op path). Both must follow the same trajectory to float rounding.
    static void Compare(Func<IEnumerable<Tensor>, torch.optim.Optimizer> make, ScalarType dtype, double rtol)
    {
        torch.manual_seed(3);
        var init = torch.randn(new long[] { 37, 5 }, dtype: dtype);   // 185 elements: vector bodies and tails
        var fused = init.clone().requires_grad_();
        var plain = init.clone().requires_grad_();
        var optFused = make(new[] { fused });
        var optPlain = make(new[] { plain });
        for (int step = 0; step < 6; step++)
        {
            var g = torch.randn(new long[] { 37, 5 }, dtype: dtype) * (step + 1);
            fused.grad = g.clone();
            plain.grad = g.t().contiguous().t();
            Assert.False(plain.grad!.is_contiguous());
            optFused.step();
            optPlain.step();
            // float32: the op-by-op path rounds alpha * x before adding where the fused one uses one FMA (ATen's vectorized
            // add), so single-ulp differences in the moments show up as ~1e-7 absolute differences near zero.
            double atol = dtype == ScalarType.Float32 ? 1e-6 : 1e-12;
            Assert.True(torch.allclose(fused, plain, rtol, atol), $"step {step}: fused and op-by-op updates differ");
        }
        Assert.False(torch.equal(fused, init));
    }

    [Theory]
    [InlineData(ScalarType.Float32, 1e-5)]
    [InlineData(ScalarType.Float64, 1e-12)]
    public void Adam_variants_match_the_op_by_op_update(ScalarType dtype, double rtol)
    {
        Compare(ps => torch.optim.Adam(ps, lr: 0.05), dtype, rtol);
        Compare(ps => torch.optim.Adam(ps, lr: 0.05, betas: (0.8, 0.95), eps: 1e-6, weight_decay: 0.1, amsgrad: true), dtype, rtol);
        Compare(ps => torch.optim.Adam(ps, lr: 0.01, maximize: true), dtype, rtol);
    }

    [Theory]
    [InlineData(ScalarType.Float32, 1e-5)]
    [InlineData(ScalarType.Float64, 1e-12)]
    public void Sgd_momentum_variants_match_the_op_by_op_update(ScalarType dtype, double rtol)
    {
        Compare(ps => torch.optim.SGD(ps, lr: 0.1, momentum: 0.9), dtype, rtol);
        Compare(ps => torch.optim.SGD(ps, lr: 0.05, momentum: 0.8, nesterov: true, weight_decay: 0.01), dtype, rtol);
        Compare(ps => torch.optim.SGD(ps, lr: 0.05, momentum: 0.5, dampening: 0.3, maximize: true), dtype, rtol);
    }
}
