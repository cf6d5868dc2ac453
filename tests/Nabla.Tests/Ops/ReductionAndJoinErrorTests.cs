using Xunit;

namespace Nabla.Tests;

/// <summary>
/// Error messages (texts observed in PyTorch 1.13), dtype rules, NaN/tie conventions and the float32 fused softmax
/// path of the ops in Ops/MinMax.cs, Statistics.cs, Softmax.cs, Joining.cs and GatherScatter.cs.
/// </summary>
public class ReductionAndJoinErrorTests
{
    static readonly Tensor X = torch.zeros(3, 4, ScalarType.Float64);
    static Tensor L(params long[] v) => torch.tensor(v);
    static Tensor L2(long[,] v) => torch.tensor(v);

    public static IEnumerable<object[]> ErrorCases() => new (string Name, Action Act, Type Type, string Message)[]
    {
        ("gather oob", () => X.gather(0, L2(new long[,] { { 5 } })), typeof(InvalidOperationException), "index 5 is out of bounds for dimension 0 with size 3"),
        ("gather negative", () => X.gather(0, L2(new long[,] { { -1 } })), typeof(InvalidOperationException), "index -1 is out of bounds for dimension 0 with size 3"),
        ("gather int32", () => X.gather(0, torch.tensor(new[,] { { 0 } })), typeof(InvalidOperationException), "gather(): Expected dtype int64 for index"),
        ("gather rank", () => X.gather(0, L(0)), typeof(InvalidOperationException), "Index tensor must have the same number of dimensions as input tensor"),
        ("gather size", () => X.gather(1, torch.zeros(4, 5, ScalarType.Int64)), typeof(InvalidOperationException),
            "Size does not match at dimension 0 expected index [4, 5] to be smaller than self [3, 4] apart from dimension 1"),
        ("index_select oob", () => X.index_select(0, L(5)), typeof(IndexOutOfRangeException), "index out of range in self"),
        ("index_select negative", () => X.index_select(0, L(-1)), typeof(IndexOutOfRangeException), "index out of range in self"),
        ("index_select float", () => X.index_select(0, torch.tensor(new[] { 0.0 })), typeof(InvalidOperationException), "index_select(): Expected dtype int32 or int64 for index"),
        ("index_select 2-d", () => X.index_select(0, L2(new long[,] { { 0 } })), typeof(IndexOutOfRangeException), "index_select(): Index is supposed to be a vector"),
        ("cat sizes", () => torch.cat(new[] { X, torch.zeros(2, 3, ScalarType.Float64) }, 0), typeof(InvalidOperationException),
            "Sizes of tensors must match except in dimension 0. Expected size 4 but got size 3 for tensor number 1 in the list."),
        ("cat sizes dim1", () => torch.cat(new[] { torch.zeros(2, 3), torch.zeros(3, 3) }, 1), typeof(InvalidOperationException),
            "Sizes of tensors must match except in dimension 1. Expected size 2 but got size 3 for tensor number 1 in the list."),
        ("cat empty", () => torch.cat(System.Array.Empty<Tensor>(), 0), typeof(InvalidOperationException), "torch.cat(): expected a non-empty list of Tensors"),
        ("cat ranks", () => torch.cat(new[] { X, torch.zeros(3, ScalarType.Float64) }), typeof(InvalidOperationException), "Tensors must have same number of dimensions: got 2 and 1"),
        ("cat dim", () => torch.cat(new[] { X, X }, 2), typeof(IndexOutOfRangeException), "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
        ("cat 0-d", () => torch.cat(new[] { torch.tensor(1.0), torch.tensor(2.0) }), typeof(InvalidOperationException), "zero-dimensional tensor (at position 0) cannot be concatenated"),
        ("stack empty", () => torch.stack(System.Array.Empty<Tensor>()), typeof(InvalidOperationException), "stack expects a non-empty TensorList"),
        ("stack sizes", () => torch.stack(new[] { X, torch.zeros(3, 3) }), typeof(InvalidOperationException),
            "stack expects each tensor to be equal size, but got [3, 4] at entry 0 and [3, 3] at entry 1"),
        ("stack dim", () => torch.stack(new[] { X, X }, 3), typeof(IndexOutOfRangeException), "Dimension out of range (expected to be in range of [-3, 2], but got 3)"),
        ("split 0", () => X.split(0), typeof(InvalidOperationException), "split_size can only be 0 if dimension size is 0, but got dimension size of 3"),
        ("split negative", () => X.split(-1), typeof(InvalidOperationException), "split expects split_size be non-negative, but got split_size=-1"),
        ("split sizes", () => X.split(new long[] { 1, 1 }), typeof(InvalidOperationException),
            "split_with_sizes expects split_sizes to sum exactly to 3 (input tensor's size at dimension 0), but got split_sizes=[1, 1]"),
        ("chunk 0", () => X.chunk(0), typeof(InvalidOperationException), "chunk expects `chunks` to be greater than 0, got: 0"),
        ("unbind 0-d", () => torch.tensor(1.0).unbind(0), typeof(IndexOutOfRangeException), "Dimension specified as 0 but tensor has no dimensions"),
        ("scatter oob", () => X.scatter(0, L2(new long[,] { { 5 } }), 1.0), typeof(InvalidOperationException), "index 5 is out of bounds for dimension 0 with size 3"),
        ("scatter int32", () => X.scatter(0, torch.tensor(new[,] { { 0 } }), 1.0), typeof(InvalidOperationException), "scatter(): Expected dtype int64 for index"),
        ("scatter src dtype", () => X.scatter(0, L2(new long[,] { { 0, 1 } }), torch.zeros(1, 1)), typeof(InvalidOperationException), "scatter(): Expected self.dtype to be equal to src.dtype"),
        ("scatter_add oob", () => X.scatter_add(0, L2(new long[,] { { 5 } }), X), typeof(InvalidOperationException), "index 5 is out of bounds for dimension 0 with size 3"),
        ("masked_fill bcast", () => X.masked_fill(torch.ones(5, 4, ScalarType.Bool), 0.0), typeof(ArgumentException),
            "The size of tensor a (5) must match the size of tensor b (3) at non-singleton dimension 0"),
        ("repeat dims", () => X.repeat(2), typeof(InvalidOperationException), "Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor"),
        ("flip twice", () => X.flip(0, 0), typeof(InvalidOperationException), "dim 0 appears multiple times in the list of dims"),
        ("flip dim", () => X.flip(3), typeof(IndexOutOfRangeException), "Dimension out of range (expected to be in range of [-2, 1], but got 3)"),
        ("max dim", () => X.max(2), typeof(IndexOutOfRangeException), "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
        ("max empty", () => torch.zeros(0).max(), typeof(InvalidOperationException),
            "max(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument."),
        ("max empty dim", () => torch.zeros(0, 3).max(0), typeof(IndexOutOfRangeException), "max(): Expected reduction dim 0 to have non-zero size."),
        ("argmax empty", () => torch.zeros(0).argmax(), typeof(IndexOutOfRangeException), "argmax(): Expected reduction dim to be specified for input.numel() == 0."),
        ("amax empty dim", () => torch.zeros(0, 3).amax(0), typeof(IndexOutOfRangeException), "amax(): Expected reduction dim 0 to have non-zero size."),
        ("softmax long", () => L(1, 2, 3).softmax(0), typeof(InvalidOperationException), "\"softmax_lastdim_kernel_impl\" not implemented for 'Long'"),
        ("softmax dim", () => X.softmax(2), typeof(IndexOutOfRangeException), "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
        ("var long", () => L(1, 2, 3).var(), typeof(InvalidOperationException), "std and var only support floating point and complex dtypes"),
        ("norm long", () => L(1, 2, 3).norm(), typeof(InvalidOperationException), "norm(): input dtype should be either floating point or complex. Got Long instead."),
        ("logsumexp dim", () => X.logsumexp(2), typeof(IndexOutOfRangeException), "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
    }.Select(c => new object[] { c.Name, c.Act, c.Type, c.Message });

    [Theory]
    [MemberData(nameof(ErrorCases))]
    public void ErrorMessagesMatchPyTorch(string name, Action act, Type type, string message)
    {
        var ex = Assert.ThrowsAny<Exception>(act);
        Assert.True(type.IsInstanceOfType(ex), $"{name}: got {ex.GetType().Name}");
        Assert.Equal(message, ex.Message);
    }

    [Fact]
    public void DtypeRulesMatchPyTorch()
    {
        Assert.Equal(ScalarType.Int64, L(1, 2, 3).prod().dtype);
        Assert.Equal(6L, L(1, 2, 3).prod().item<long>());
        Assert.Equal(ScalarType.Int64, torch.tensor(new[] { 1, 2, 3 }).cumsum(0).dtype);
        Assert.Equal(ScalarType.Int64, torch.tensor(new[] { true, false }).cumsum(0).dtype);
        Assert.Equal(3L, L(1, 2, 3).max().item<long>());
        Assert.True(torch.tensor(new[] { true, false }).max().item<bool>());
        Assert.Equal(ScalarType.Float32, L(1, 2, 3).logsumexp(0).dtype);
        Assert.Equal(3.4076, L(1, 2, 3).logsumexp(0).ToDouble(), 4);
        Assert.Equal(ScalarType.Float64, torch.cat(new[] { X, X.@float() }).dtype);
        Assert.Equal(ScalarType.Float32, torch.softmax(X, -1, ScalarType.Float32).dtype);
        Assert.Equal(1.0, torch.zeros(0).prod().ToDouble());
        Assert.True(double.IsNaN(torch.zeros(1).var().ToDouble()));
        Assert.True(double.IsNegativeInfinity(torch.zeros(0).logsumexp(0).ToDouble()));
        Assert.Equal(0.0, torch.zeros(0).norm().ToDouble());
        Assert.Equal(new long[] { 1, 4 }, X.index_select(0, torch.tensor(new[] { 1 })).shape);
    }

    [Fact]
    public void NaNAndTiesFollowPyTorch()
    {
        var nan = torch.tensor(new[] { 1.0, double.NaN, 3.0 });
        Assert.True(double.IsNaN(nan.max().ToDouble()));
        Assert.Equal(1L, nan.argmax().item<long>());
        var (v, i) = nan.max(0);
        Assert.True(double.IsNaN(v.ToDouble()));
        Assert.Equal(1L, i.item<long>());
        Assert.Equal(0L, torch.tensor(new[] { 3.0, 1.0, 3.0 }).argmax().item<long>());
        Assert.Equal(0L, torch.tensor(new[] { 1.0, 3.0, 3.0 }).argmin().item<long>());
        // max(dim) gives the whole gradient to the chosen index; max() splits it between ties
        var x = torch.tensor(new[] { 3.0, 1.0, 3.0 }, requires_grad: true);
        x.max(0).values.backward();
        Assert.Equal(new[] { 1.0, 0.0, 0.0 }, x.grad!.ToArray<double>());
        var y = torch.tensor(new[] { 3.0, 1.0, 3.0 }, requires_grad: true);
        y.max().backward();
        Assert.Equal(new[] { 0.5, 0.0, 0.5 }, y.grad!.ToArray<double>());
    }

    [Fact]
    public void MultiOutputViewsShareOneNode()
    {
        var x = torch.randn(new long[] { 5, 3 }, ScalarType.Float64, requires_grad: true);
        var parts = x.split(2);
        Assert.Same(parts[0].grad_fn, parts[2].grad_fn);
        Assert.Equal(new[] { 0, 1, 2 }, parts.Select(p => p.output_nr).ToArray());
        Assert.True(parts[1]._base is not null && parts[1].storage_offset() == 6);
        // only one piece used: the others get zeros
        parts[1].sum().backward();
        Assert.Equal(new[] { 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1, 1, 1, 1, 1, 1, 0, 0, 0 }, x.grad!.ToArray<double>());
        var (values, indices) = x.max(1);
        Assert.True(values.requires_grad);
        Assert.False(indices.requires_grad);
        Assert.Null(indices.grad_fn);
        Assert.Equal(ScalarType.Int64, indices.dtype);
    }

    [Fact]
    public void Float32FusedSoftmaxMatchesFloat64()
    {
        // 300 rows x 97: odd length exercises vector tails; enough rows for the parallel path.
        var x = torch.randn(new long[] { 300, 97 }, ScalarType.Float64) * 20;
        foreach (long dim in new long[] { -1, 0 })
        {
            var reference = x.softmax(dim).ToDoubleArray();
            var got = x.@float().softmax(dim).ToDoubleArray();
            var logReference = x.log_softmax(dim).ToDoubleArray();
            var logGot = x.@float().log_softmax(dim).ToDoubleArray();
            for (int i = 0; i < got.Length; i++)
            {
                Assert.True(Math.Abs(got[i] - reference[i]) <= 1e-6 + 1e-5 * reference[i], $"softmax[{i}] {got[i]} vs {reference[i]}");
                Assert.True(Math.Abs(logGot[i] - logReference[i]) <= 1e-4 * (1 + Math.Abs(logReference[i])), $"log_softmax[{i}] {logGot[i]} vs {logReference[i]}");
            }
        }
        // rows of -inf give NaN as PyTorch; +-1e4 stays finite
        var inf = torch.tensor(new[] { double.NegativeInfinity, double.NegativeInfinity }).softmax(0).ToDoubleArray();
        Assert.True(double.IsNaN(inf[0]) && double.IsNaN(inf[1]));
        var wide = torch.tensor(new[] { 1e4f, -1e4f, 0f }).softmax(0).ToArray<float>();
        Assert.Equal(new[] { 1f, 0f, 0f }, wide);
    }
}
