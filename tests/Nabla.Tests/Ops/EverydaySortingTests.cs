using Xunit;

namespace Nabla.Tests;

/// <summary>
/// Issue 12 sorting beyond the op database: stability with ties (ascending and descending), NaN order, integer and
/// bool inputs, cummax ties and NaN, and PyTorch's errors. Expected orders follow PyTorch's documented semantics.
/// </summary>
public class EverydaySortingTests
{
    static long[] Longs(Tensor t) => t.contiguous().to(ScalarType.Int64).ToArray<long>();

    [Fact]
    public void Sort_is_stable_in_both_directions()
    {
        var x = torch.tensor(new long[] { 2, 1, 2, 0, 1, 2 });
        var (v, i) = x.sort();
        Assert.Equal(new long[] { 0, 1, 1, 2, 2, 2 }, Longs(v));
        Assert.Equal(new long[] { 3, 1, 4, 0, 2, 5 }, Longs(i));
        var (vd, id) = x.sort(0, descending: true);
        Assert.Equal(new long[] { 2, 2, 2, 1, 1, 0 }, Longs(vd));
        Assert.Equal(new long[] { 0, 2, 5, 1, 4, 3 }, Longs(id));
        Assert.Equal(ScalarType.Int64, v.dtype);
    }

    [Fact]
    public void NaN_sorts_last_ascending_and_first_descending()
    {
        var x = torch.tensor(new[] { 1.0, double.NaN, -1.0, double.PositiveInfinity });
        var (v, i) = x.sort();
        Assert.Equal(new long[] { 2, 0, 3, 1 }, Longs(i));
        Assert.True(double.IsNaN(v[3].item<double>()));
        Assert.Equal(new long[] { 1, 3, 0, 2 }, Longs(x.argsort(descending: true)));
    }

    [Fact]
    public void Bool_and_int32_sort_and_topk()
    {
        var b = torch.tensor(new[] { true, false, true, false });
        Assert.Equal(new long[] { 1, 3, 0, 2 }, Longs(b.argsort()));
        var x = torch.tensor(new[] { 5, 9, 1, 7 });
        var (v, i) = x.topk(2);
        Assert.Equal(ScalarType.Int32, v.dtype);
        Assert.Equal(new long[] { 9, 7 }, Longs(v));
        Assert.Equal(new long[] { 1, 3 }, Longs(i));
    }

    [Fact]
    public void Topk_rejects_k_larger_than_the_dim()
    {
        var e = Assert.Throws<ArgumentException>(() => torch.ones(2, 3).topk(4));
        Assert.Equal("selected index k out of range", e.Message);
        Assert.Throws<ArgumentException>(() => torch.ones(3).topk(-1));
    }

    [Fact]
    public void Cummax_takes_the_last_tie_and_propagates_nan()
    {
        var x = torch.tensor(new[] { 1.0, 3.0, 3.0, 2.0, double.NaN, 5.0 });
        var (v, i) = x.cummax(0);
        Assert.Equal(new long[] { 0, 1, 2, 2, 4, 4 }, Longs(i));
        Assert.Equal(3.0, v[3].item<double>());
        Assert.True(double.IsNaN(v[5].item<double>()));
        var (mv, mi) = torch.tensor(new long[] { 3, 1, 1, 2 }).cummin(0);
        Assert.Equal(new long[] { 3, 1, 1, 1 }, Longs(mv));
        Assert.Equal(new long[] { 0, 1, 2, 2 }, Longs(mi));
    }
}
