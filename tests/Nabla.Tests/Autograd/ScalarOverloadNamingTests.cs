using Nabla;
using Xunit;
using static Nabla.torch;

namespace Nabla.Tests.Autograd;

/// <summary>
/// C# operators with a number call libtorch's overloads, so nodes are named as libtorch names them
/// (observed in C++ with libtorch 1.13: x*2=MulBackward1, x+2=AddBackward1, x-2=SubBackward1, x/2=DivBackward1,
/// 2-x=SubBackward0, 2/x=DivBackward0).
/// </summary>
public class ScalarOverloadNamingTests
{
    [Theory]
    [InlineData("x+2", "AddBackward1", 1)]
    [InlineData("2+x", "AddBackward1", 1)]
    [InlineData("x-2", "SubBackward1", 1)]
    [InlineData("x*2", "MulBackward1", 1)]
    [InlineData("2*x", "MulBackward1", 1)]
    [InlineData("x/2", "DivBackward1", 1)]
    [InlineData("2-x", "SubBackward0", 2)]
    [InlineData("2/x", "DivBackward0", 2)]
    public void Names_and_edges_follow_libtorch(string expression, string name, int edges)
    {
        var x = tensor(new float[] { 1, 2, 4 }, requires_grad: true);
        Tensor y = expression switch
        {
            "x+2" => x + 2, "2+x" => 2 + x, "x-2" => x - 2, "x*2" => x * 2,
            "2*x" => 2 * x, "x/2" => x / 2, "2-x" => 2 - x, _ => 2 / x,
        };
        Assert.Equal(name, y.grad_fn!.name());
        var next = y.grad_fn.next_functions;
        Assert.Equal(edges, next.Count);
        Assert.Equal("torch::autograd::AccumulateGrad", next[edges - 1].node!.name());
        if (edges == 2) Assert.Null(next[0].node);
    }

    [Fact]
    public void Scalar_first_forms_keep_the_tensor_dtype_and_gradients()
    {
        var x = tensor(new float[] { 1, 2, 4 }, requires_grad: true);
        var y = 2 / x;
        Assert.Equal(ScalarType.Float32, y.dtype);
        y.sum().backward();
        Assert.Equal(new float[] { -2f, -0.5f, -0.125f }, x.grad!.ToArray<float>());
        Assert.Equal(ScalarType.Float32, (2.5 - arange(3)).dtype);
        Assert.Equal(ScalarType.Int64, (2 - arange(3)).dtype);
    }
}
