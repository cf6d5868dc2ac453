using Xunit;

namespace Nabla.Tests;

/// <summary>softmax / log_softmax over a non-last dim of a dense tensor (Note [Column softmax]) against the row kernel.</summary>
public class ColumnSoftmaxTests
{
    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float64)]
    public void Columns_match_the_row_kernel_over_ragged_lane_counts_and_special_values(ScalarType dtype)
    {
        torch.manual_seed(3);
        foreach (var (outer, n, inner) in new[] { (1, 5, 16), (2, 7, 17), (3, 1, 33), (1, 40, 600), (2, 3, 1030) })
        {
            var x = (torch.randn(outer, n, inner, dtype: dtype) * 4).contiguous();
            if (inner > 20)
            {
                x[0, 0, 3] = torch.tensor(double.NaN, dtype: dtype);                  // a NaN lane
                for (int r = 0; r < n; r++) x[0, r, 5] = torch.tensor(double.NegativeInfinity, dtype: dtype);  // a -inf lane
                x[0, n - 1, 7] = torch.tensor(double.PositiveInfinity, dtype: dtype);
                x[outer - 1, 0, inner - 1] = torch.tensor(1e30, dtype: dtype);
            }
            foreach (bool log in new[] { false, true })
            {
                var got = log ? x.log_softmax(1) : x.softmax(1);
                // Reference: the same softmax with the dim brought last (row kernel), moved back.
                var rows = x.transpose(1, 2).contiguous();
                var expected = (log ? rows.log_softmax(2) : rows.softmax(2)).transpose(1, 2).contiguous();
                Assert.Equal(expected.shape, got.shape);
                var e = expected.to(ScalarType.Float64).contiguous().ToArray<double>();
                var a = got.to(ScalarType.Float64).contiguous().ToArray<double>();
                for (int i = 0; i < e.Length; i++)
                {
                    if (double.IsNaN(e[i])) { Assert.True(double.IsNaN(a[i]), $"({outer},{n},{inner}) log={log} [{i}]: {a[i]} vs NaN"); continue; }
                    Assert.True(Math.Abs(a[i] - e[i]) <= 1e-5 * (1 + Math.Abs(e[i])), $"({outer},{n},{inner}) log={log} [{i}]: {a[i]} vs {e[i]}");
                }
            }
        }
    }

    [Fact]
    public void Column_softmax_records_the_same_backward_as_the_row_path()
    {
        torch.manual_seed(4);
        var x = torch.randn(3, 4, 20, requires_grad: true);
        var y = x.softmax(1);
        Assert.Equal("SoftmaxBackward0", y.grad_fn!.name());
        var g = torch.randn(3, 4, 20);
        var gx = torch.autograd.grad(new[] { y }, new[] { x }, new Tensor?[] { g })[0]!;
        var xr = x.detach().transpose(1, 2).contiguous().requires_grad_();
        var yr = xr.softmax(2);
        var gr = torch.autograd.grad(new[] { yr }, new[] { xr }, new Tensor?[] { g.transpose(1, 2).contiguous() })[0]!;
        Assert.True(torch.allclose(gx, gr.transpose(1, 2), 1e-5, 1e-6));
    }
}
