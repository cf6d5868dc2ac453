using Xunit;

namespace Nabla.Tests;

/// <summary>C# converts a literal 0 to any enum: x.sum(0) must still reduce dimension 0, as in PyTorch.</summary>
public class DimOverloadTests
{
    [Fact]
    public void Literal_dims_reduce_dimensions_not_select_a_dtype()
    {
        var x = torch.arange(6, dtype: ScalarType.Float32).view(2, 3);
        Assert.Equal(new float[] { 3, 5, 7 }, x.sum(0).ToArray<float>());
        Assert.Equal(new float[] { 3, 12 }, x.sum(1).ToArray<float>());
        Assert.Equal(new float[] { 1.5f, 2.5f, 3.5f }, x.mean(0).ToArray<float>());
        Assert.Equal(new float[] { 0, 4, 10 }, x.prod(0).ToArray<float>());
        Assert.Equal(new float[] { 3, 5, 7 }, torch.sum(x, 0).ToArray<float>());
        Assert.Equal(new long[] { 1, 3 }, x.sum(0, keepdim: true).shape);
        Assert.Equal(ScalarType.Float64, x.sum(ScalarType.Float64).dtype);
    }
}
