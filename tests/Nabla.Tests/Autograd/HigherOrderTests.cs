using Xunit;
using static Nabla.torch;

namespace Nabla.Tests.Autograd;

/// <summary>Second and third derivatives through <c>autograd.grad(..., create_graph: true)</c> against closed forms.</summary>
public class HigherOrderTests
{
    static readonly double[] Points = { -1.3, -0.45, 0.2, 0.8, 1.7 };
    static readonly double[] PositivePoints = { 0.3, 0.8, 1.25, 2.0, 3.5 };

    /// <summary>f', f'', f''' of an elementwise f by three nested autograd.grad calls.</summary>
    static (double[] D1, double[] D2, double[] D3) Derivatives(Func<Tensor, Tensor> f, double[] points)
    {
        var x = tensor(points, float64, requires_grad: true);
        var d1 = autograd.grad(f(x).sum(), x, create_graph: true)[0]!;
        Assert.NotNull(d1.grad_fn);
        var d2 = autograd.grad(d1.sum(), x, create_graph: true)[0]!;
        Assert.NotNull(d2.grad_fn);
        var d3 = autograd.grad(d2.sum(), x, allow_unused: true)[0];
        return (d1.ToArray<double>(), d2.ToArray<double>(), d3 is null ? new double[points.Length] : d3.ToArray<double>());
    }

    static void Check(Func<Tensor, Tensor> f, double[] points, Func<double, double> d1, Func<double, double> d2, Func<double, double> d3)
    {
        var (g1, g2, g3) = Derivatives(f, points);
        for (int i = 0; i < points.Length; i++)
        {
            double x = points[i];
            Assert.True(Math.Abs(g1[i] - d1(x)) <= 1e-12 * (1 + Math.Abs(d1(x))), $"f'({x}) = {g1[i]:R}, expected {d1(x):R}");
            Assert.True(Math.Abs(g2[i] - d2(x)) <= 1e-12 * (1 + Math.Abs(d2(x))), $"f''({x}) = {g2[i]:R}, expected {d2(x):R}");
            Assert.True(Math.Abs(g3[i] - d3(x)) <= 1e-12 * (1 + Math.Abs(d3(x))), $"f'''({x}) = {g3[i]:R}, expected {d3(x):R}");
        }
    }

    [Fact]
    public void Tanh() => Check(x => x.tanh(), Points,
        x => 1 - Math.Tanh(x) * Math.Tanh(x),
        x => -2 * Math.Tanh(x) * (1 - Math.Tanh(x) * Math.Tanh(x)),
        x => -2 * (1 - Math.Tanh(x) * Math.Tanh(x)) * (1 - 3 * Math.Tanh(x) * Math.Tanh(x)));

    [Fact]
    public void Sin() => Check(x => x.sin(), Points, Math.Cos, x => -Math.Sin(x), x => -Math.Cos(x));

    [Fact]
    public void Exp() => Check(x => x.exp(), Points, Math.Exp, Math.Exp, Math.Exp);

    [Fact]
    public void Pow_integer_exponent() => Check(x => x.pow(3), Points, x => 3 * x * x, x => 6 * x, _ => 6);

    [Fact]
    public void Pow_fractional_exponent() => Check(x => x.pow(2.5), PositivePoints,
        x => 2.5 * Math.Pow(x, 1.5), x => 3.75 * Math.Pow(x, 0.5), x => 1.875 * Math.Pow(x, -0.5));

    [Fact]
    public void Pow_tensor_exponent_in_the_exponent()
    {
        // d^n/dy^n of 2^y = 2^y ln(2)^n, with the base a constant tensor.
        var two = full(new long[] { Points.Length }, 2.0, float64);
        double l = Math.Log(2);
        Check(y => two.pow(y), Points, y => Math.Pow(2, y) * l, y => Math.Pow(2, y) * l * l, y => Math.Pow(2, y) * l * l * l);
    }

    [Fact]
    public void Mul() => Check(x => x * x * x, Points, x => 3 * x * x, x => 6 * x, _ => 6);

    [Fact]
    public void Mul_mixed_partials()
    {
        // f = x^2 y: df/dx = 2xy, d2f/dxdy = 2x, d3f/dxdydx = 2.
        var x = tensor(new[] { 0.7, -1.2 }, float64, requires_grad: true);
        var y = tensor(new[] { 1.5, 0.4 }, float64, requires_grad: true);
        var dx = autograd.grad((x * x * y).sum(), x, create_graph: true)[0]!;
        Assert.Equal(new[] { 2 * 0.7 * 1.5, 2 * -1.2 * 0.4 }, dx.ToArray<double>());
        var dxy = autograd.grad(dx.sum(), y, create_graph: true)[0]!;
        Assert.Equal(new[] { 1.4, -2.4 }, dxy.ToArray<double>());
        var dxyx = autograd.grad(dxy.sum(), x)[0]!;
        Assert.Equal(new[] { 2.0, 2.0 }, dxyx.ToArray<double>());
    }

    [Fact]
    public void Matmul_quadratic_form_hessian_and_zero_third_derivative()
    {
        // f(x) = x^T M x: gradient (M + M^T) x, Hessian M + M^T, third derivative 0.
        var m = tensor(new[,] { { 1.0, 2.0, -0.5 }, { 0.25, -1.0, 3.0 }, { 1.5, 0.0, 2.0 } });
        var x = tensor(new[] { 0.5, -1.0, 2.0 }, float64, requires_grad: true);
        var g = autograd.grad(x.matmul(m.to(float64)).matmul(x), x, create_graph: true)[0]!;
        var sym = (m + m.t()).to(float64);
        Assert.True(g.allclose(sym.mv(x.detach()), 0, 1e-12));
        for (int i = 0; i < 3; i++)
        {
            var row = autograd.grad(g.select(0, i), x, create_graph: true)[0]!;
            Assert.True(row.allclose(sym.select(0, i), 0, 1e-12), $"Hessian row {i}: {row}");
            // The Hessian does not depend on x: as in PyTorch, the row does not even require grad.
            Assert.False(row.requires_grad);
        }
    }

    [Fact]
    public void Matmul_of_matrices_second_derivative()
    {
        // f(A) = sum((A B)^2): grad 2 (A B) B^T; d/dA of <grad, V> = 2 V B B^T.
        var a = tensor(new[,] { { 0.5, -1.0, 2.0 }, { 1.5, 0.25, -0.75 } }, float64, requires_grad: true);
        var b = tensor(new[,] { { 1.0, 0.5 }, { -2.0, 1.0 }, { 0.25, 3.0 } }, float64);
        var v = tensor(new[,] { { 1.0, 2.0, 3.0 }, { -1.0, 0.5, 0.0 } }, float64);
        var g = autograd.grad(a.matmul(b).pow(2).sum(), a, create_graph: true)[0]!;
        Assert.True(g.allclose(a.detach().mm(b).mm(b.t()) * 2, 0, 1e-12));
        var hv = autograd.grad((g * v).sum(), a)[0]!;
        Assert.True(hv.allclose(v.mm(b).mm(b.t()) * 2, 0, 1e-12), hv.ToString());
    }

    [Fact]
    public void Hessian_vector_product_matches_closed_form()
    {
        // f(x) = sum(sin(x) * x^2): H = diag(-sin(x) x^2 + 4 x cos(x) + 2 sin(x)); Hv = H v.
        var x = tensor(Points, float64, requires_grad: true);
        var v = tensor(new[] { 1.0, -2.0, 0.5, 3.0, -1.0 }, float64);
        var g = autograd.grad((x.sin() * x * x).sum(), x, create_graph: true)[0]!;
        var hv = autograd.grad(g, x, grad_output: v)[0]!.ToArray<double>();
        for (int i = 0; i < Points.Length; i++)
        {
            double p = Points[i];
            double h = -Math.Sin(p) * p * p + 4 * p * Math.Cos(p) + 2 * Math.Sin(p);
            Assert.True(Math.Abs(hv[i] - h * v.ToArray<double>()[i]) <= 1e-12, $"Hv[{i}] = {hv[i]:R}, expected {h * v.ToArray<double>()[i]:R}");
        }
    }

    [Fact]
    public void Grad_of_grad_records_graph_only_with_create_graph()
    {
        var x = tensor(new[] { 1.0, 2.0 }, float64, requires_grad: true);
        var g = autograd.grad(x.pow(3).sum(), x)[0]!;
        Assert.Null(g.grad_fn);
        Assert.False(g.requires_grad);
        var g2 = autograd.grad(x.pow(3).sum(), x, create_graph: true)[0]!;
        Assert.True(g2.requires_grad);
        // d/dx (3x^2) = 6x
        Assert.Equal(new[] { 6.0, 12.0 }, autograd.grad(g2.sum(), x)[0]!.ToArray<double>());
    }
}
