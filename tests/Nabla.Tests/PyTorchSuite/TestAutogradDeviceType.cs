using Xunit;
using static Nabla.torch;
using static Nabla.Tests.PyTorchSuite.Suite;

namespace Nabla.Tests.PyTorchSuite;

/// <summary>PyTorch's TestAutogradDeviceType (instantiated for CPU), ported test by test.</summary>
public class TestAutogradDeviceType
{
    [Fact]
    public void test_min_max_median_backprops_to_all_values()
    {
        // torch.median / torch.nanmedian are not in Nabla; min and max are checked as in the original.
        foreach (var f in new Func<Tensor, Tensor>[] { min, max })
        {
            var x1 = tensor(new[] { 1f, 0, 1, 0, 1, 0 }, requires_grad: true);
            var x2 = tensor(new[] { float.NaN, float.NaN, float.NaN }, requires_grad: true);
            foreach (var x in new[] { x1, x2 })
            {
                var y = f(x);
                y.backward();
                Assert.Equal(1.0, Item(x.grad!.sum()), 5);
                Assert.Equal(3, (x.grad! == (float)(1.0 / 3)).sum().item<long>());
            }
        }
    }

    [Fact]
    public void test_set_requires_grad_only_for_floats()
    {
        // int8 and int16 do not exist in Nabla (float32, float64, int32, int64, bool do).
        foreach (var dtype in new[] { float32, float64, int32, int64, ScalarType.Bool })
        {
            var a = ones(1, dtype: dtype);
            a.requires_grad = false;
            a.requires_grad_(false);
            var fs = new Action[]
            {
                () => ones(1, dtype: dtype).requires_grad_(),
                () => ones(1, dtype: dtype).requires_grad = true,
                () => ones(1, dtype: dtype, requires_grad: true),
            };
            foreach (var f in fs)
            {
                if (dtype == float32 || dtype == float64) f();
                else RuntimeError("floating point", f);
            }
        }
    }

    static Tensor MaskNotAllZeros(long[] shape)
    {
        while (true)
        {
            var m = randn(shape).gt(0);
            if (m.sum().item<long>() > 0) return m;
        }
    }

    [Fact]
    public void test_where_functional()
    {
        var x = randn(5, 5, dtype: float64, requires_grad: true);
        var y = randn(5, 5, dtype: float64, requires_grad: true);
        var cond = MaskNotAllZeros(new long[] { 5, 5 });
        Tensor Where(Tensor[] a) => where(a[0], a[1], a[2]);
        Assert.True(autograd.gradcheck(Where, new[] { cond, x, y }, raise_exception: true));
        Assert.True(autograd.gradgradcheck(Where, new[] { cond, x, y }, new[] { randn(5, 5, dtype: float64) }));

        x = randn(new long[] { 5, 1, 5 }, dtype: float64, requires_grad: true);
        y = randn(new long[] { 5, 5, 1 }, dtype: float64, requires_grad: true);
        Assert.True(autograd.gradcheck(Where, new[] { cond, x, y }, raise_exception: true));
        Assert.True(autograd.gradgradcheck(Where, new[] { cond, x, y }, new[] { randn(5, 5, 5, dtype: float64) }));
    }
}
