using Xunit;

namespace Nabla.Tests;

/// <summary>
/// Issue 12 elementwise ops beyond the op database: isnan/isinf/isfinite, logaddexp at equal infinities, integer
/// addcmul and PyTorch's dtype errors (expected values from PyTorch 1.13).
/// </summary>
public class EverydayPointwiseTests
{
    static bool[] Bools(Tensor t) => t.ToArray<bool>();

    [Fact]
    public void Nan_inf_and_finite_tests()
    {
        var x = torch.tensor(new[] { 1.0f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0.0f });
        Assert.Equal(new[] { false, true, false, false, false }, Bools(x.isnan()));
        Assert.Equal(new[] { false, false, true, true, false }, Bools(x.isinf()));
        Assert.Equal(new[] { true, false, false, false, true }, Bools(x.isfinite()));
        var ints = torch.tensor(new long[] { 1, 2 });
        Assert.Equal(new[] { true, true }, Bools(ints.isfinite()));
        Assert.Equal(new[] { false, false }, Bools(ints.isinf()));
        Assert.Equal(ScalarType.Bool, ints.isnan().dtype);
    }

    [Fact]
    public void Logaddexp_of_equal_infinities_and_integer_error()
    {
        var a = torch.tensor(new[] { double.PositiveInfinity, double.NegativeInfinity, 1.0 });
        var b = torch.tensor(new[] { double.PositiveInfinity, double.NegativeInfinity, 2.0 });
        var r = a.logaddexp(b).ToArray<double>();
        Assert.Equal(double.PositiveInfinity, r[0]);
        Assert.Equal(double.NegativeInfinity, r[1]);
        Assert.Equal(2.0 + Math.Log(1 + Math.Exp(-1.0)), r[2], 12);
        var e = Assert.Throws<InvalidOperationException>(() => torch.tensor(new long[] { 1 }).logaddexp(torch.tensor(new long[] { 2 })));
        Assert.Equal("\"logaddexp_cpu\" not implemented for 'Long'", e.Message);
    }

    [Fact]
    public void Integer_addcmul_and_lerp_dtype_check()
    {
        var r = torch.tensor(new long[] { 1, 2 }).addcmul(torch.tensor(new long[] { 3, 4 }), torch.tensor(new long[] { 5, 6 }), value: 2);
        Assert.Equal(ScalarType.Int64, r.dtype);
        Assert.Equal(new long[] { 31, 50 }, r.ToArray<long>());
        var e = Assert.Throws<ArgumentException>(() => torch.ones(1).lerp(torch.ones(1, dtype: ScalarType.Float64), 0.5));
        Assert.Equal("expected dtype float for `end` but got dtype double", e.Message);
    }
}
