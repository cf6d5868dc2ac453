using Xunit;
using static Nabla.torch;
using F = Nabla.torch.nn.functional;

namespace Nabla.Tests;

/// <summary>
/// Integer conv2d and avg_pool2d, which PyTorch 1.13's CPU kernels accept (the op database checks only their dtype).
/// Expected values printed by PyTorch 1.13.
/// </summary>
public class IntegerConvPoolTests
{
    [Fact]
    public void Conv2d_int64_with_bias_padding_and_dilation_matches_pytorch()
    {
        // F.conv2d(arange(18).reshape(1,2,3,3)-9, arange(16).reshape(2,2,2,2)-4, tensor([1,-2]), padding=(1,0), dilation=(2,1))
        var x = arange(18).reshape(1, 2, 3, 3) - 9;
        var w = arange(16).reshape(2, 2, 2, 2) - 4;
        var y = F.conv2d(x, w, tensor(new long[] { 1, -2 }), padding: new long[] { 1, 0 }, dilation: new long[] { 2, 1 });
        Assert.Equal(ScalarType.Int64, y.dtype);
        Assert.Equal(new long[] { 1, 2, 3, 2 }, y.shape);
        Assert.Equal(new double[] { 36, 38, 103, 99, 44, 38, 1, 35, 36, 96, 9, 35 }, y.ToDoubleArray());
    }

    [Fact]
    public void Conv2d_int32_matches_pytorch_and_bool_is_refused()
    {
        var y = F.conv2d(ones(new long[] { 1, 1, 3, 3 }, int32), ones(new long[] { 1, 1, 2, 2 }, int32), padding: new long[] { 1 });
        Assert.Equal(ScalarType.Int32, y.dtype);
        Assert.Equal(new double[] { 1, 2, 2, 1, 2, 4, 4, 2, 2, 4, 4, 2, 1, 2, 2, 1 }, y.ToDoubleArray());
        var ex = Assert.ThrowsAny<Exception>(() => F.conv2d(ones(new long[] { 1, 1, 3, 3 }, @bool), ones(new long[] { 1, 1, 2, 2 }, @bool)));
        Assert.Equal("\"slow_conv2d_cpu\" not implemented for 'Bool'", ex.Message);
    }

    [Fact]
    public void Avg_pool2d_int64_truncates_like_cpp_integer_division()
    {
        var x = tensor(new long[] { 1, 2, 3, 5, -1, -2, -3, -5 }, new long[] { 1, 2, 2, 2 });
        var y = F.avg_pool2d(x, new long[] { 2 });
        Assert.Equal(ScalarType.Int64, y.dtype);
        Assert.Equal(new double[] { 2, -2 }, y.ToDoubleArray());
        // F.avg_pool2d(arange(20).reshape(1,1,5,4)-7, 3, 2, 1, count_include_pad=False)
        var z = F.avg_pool2d(arange(20).reshape(1, 1, 5, 4) - 7, new long[] { 3 }, new long[] { 2 }, new long[] { 1 }, count_include_pad: false);
        Assert.Equal(new double[] { -4, -3, 1, 3, 7, 9 }, z.ToDoubleArray());
        var ex = Assert.ThrowsAny<Exception>(() => F.avg_pool2d(ones(new long[] { 1, 1, 2, 2 }, int32), new long[] { 2 }));
        Assert.Equal("\"avg_pool2d\" not implemented for 'Int'", ex.Message);
    }
}
