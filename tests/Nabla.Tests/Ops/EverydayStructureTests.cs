using Xunit;

namespace Nabla.Tests;

/// <summary>
/// Issue 12 shape/structure ops beyond the op database (which checks values, gradients and grad_fn against PyTorch):
/// PyTorch's errors, integer and bool inputs, and view semantics.
/// </summary>
public class EverydayStructureTests
{
    static Tensor Ints(long rows, long cols) => torch.arange(0, rows * cols, 1, ScalarType.Int64).reshape(rows, cols);

    [Fact]
    public void Tril_and_triu_keep_integer_and_bool_dtypes_and_agree_with_each_other()
    {
        var x = Ints(3, 4) + 1;
        var lower = x.tril();
        var strictUpper = x.triu(1);
        Assert.Equal(ScalarType.Int64, lower.dtype);
        Assert.True(torch.equal(lower + strictUpper, x));    // the two halves partition the matrix
        Assert.Equal(0L, lower[0, 1].item<long>());
        Assert.Equal(6L, lower[1, 1].item<long>());
        var b = torch.ones(3, 3, dtype: ScalarType.Bool).triu();
        Assert.Equal(ScalarType.Bool, b.dtype);
        Assert.Equal(6L, b.sum().item<long>());
    }

    [Fact]
    public void Tril_of_a_vector_raises_pytorchs_error()
    {
        var e = Assert.Throws<ArgumentException>(() => torch.ones(3).tril());
        Assert.Equal("tril: input tensor must have at least 2 dimensions", e.Message);
        Assert.Throws<ArgumentException>(() => torch.ones(3).triu());
    }

    [Fact]
    public void Diagonal_is_a_view_that_sees_writes_to_its_base()
    {
        var x = torch.zeros(3, 3);
        var d = x.diagonal();
        x[1, 1] = torch.tensor(5.0f);
        Assert.Equal(5.0f, d[1].item<float>());
        Assert.Equal(new long[] { 4 }, d.stride());
        var e = Assert.Throws<ArgumentException>(() => x.diagonal(0, 1, -1));
        Assert.Equal("diagonal dimensions cannot be identical 1, -1", e.Message);
    }

    [Fact]
    public void Diag_trace_and_errors()
    {
        var m = torch.tensor(new long[] { 1, 2, 3 }).diag(1);
        Assert.Equal(new long[] { 4, 4 }, m.shape);
        Assert.Equal(3L, m[2, 3].item<long>());
        Assert.Equal(6L, m.sum().item<long>());
        Assert.Equal(ScalarType.Int64, Ints(3, 3).trace().dtype);
        Assert.Equal(12L, Ints(3, 3).trace().item<long>());   // 0 + 4 + 8
        Assert.Equal("diag(): Supports 1D or 2D tensors. Got 3D", Assert.Throws<ArgumentException>(() => torch.ones(2, 2, 2).diag()).Message);
        Assert.Equal("trace: expected a matrix, but got tensor with dim 1", Assert.Throws<ArgumentException>(() => torch.ones(2).trace()).Message);
    }

    [Fact]
    public void Roll_round_trips_and_checks_its_arguments()
    {
        var x = Ints(3, 4);
        Assert.True(torch.equal(x.roll(5, 1).roll(-5, 1), x));
        Assert.True(torch.equal(x.roll(new long[] { 1, 2 }, new long[] { 0, 1 }), x.roll(1, 0).roll(2, 1)));
        Assert.Equal(11L, x.roll(1)[0, 0].item<long>());
        var e = Assert.Throws<ArgumentException>(() => x.roll(new long[] { 1, 2 }, new long[] { 0 }));
        Assert.Equal("shifts and dimensions must align. shifts: 2, dims:1", e.Message);
    }

    [Fact]
    public void Repeat_interleave_movedim_and_swapaxes()
    {
        var x = Ints(2, 2);
        var r = x.repeat_interleave(2, 0);
        Assert.Equal(new long[] { 4, 2 }, r.shape);
        Assert.True(torch.equal(r[1], x[0]) && torch.equal(r[2], x[1]));
        Assert.Equal("repeats can not be negative", Assert.Throws<ArgumentException>(() => x.repeat_interleave(-1)).Message);
        var y = torch.zeros(2, 3, 4);
        Assert.Equal(new long[] { 3, 4, 2 }, y.movedim(0, 2).shape);
        Assert.Equal(new long[] { 4, 2, 3 }, y.movedim(new long[] { 2 }, new long[] { 0 }).shape);
        Assert.Equal(new long[] { 4, 3, 2 }, y.swapaxes(0, 2).shape);
        Assert.Throws<ArgumentException>(() => y.movedim(new long[] { 0, 0 }, new long[] { 1, 2 }));
    }
}
