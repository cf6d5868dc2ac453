using Xunit;

namespace Nabla.Tests;

/// <summary>
/// The SIMD block kernels of var/std, max/min/argmax/argmin/amax/amin and cumsum (Note [Block reductions for var,
/// max and cumsum]) against straightforward scalar references: reduced lengths 1..70 (every vector tail), each dim of
/// a rank-3 tensor (row and column kernels), contiguous, permuted and narrowed inputs, ties, -0.0 and NaN, float32
/// and float64; plus long rows (chunked path), wide blocks (several column blocks, threads) and accuracy.
/// </summary>
public class FastReductionTests
{
    static readonly ScalarType[] Types = { ScalarType.Float32, ScalarType.Float64 };

    /// <summary>A tensor of <paramref name="shape"/> laid out per <paramref name="layout"/> (0 contiguous, 1 permuted, 2 narrowed).</summary>
    static Tensor Make(long[] shape, ScalarType dt, int layout, Random rng, bool ties, double nanProb)
    {
        long numel = 1;
        foreach (var s in shape) numel *= s;
        double Next()
        {
            if (rng.NextDouble() < nanProb) return double.NaN;
            if (ties) { int k = rng.Next(-2, 3); return k == 0 && rng.Next(2) == 0 ? -0.0 : k; }
            return rng.NextDouble() * 20 - 10;
        }
        if (layout == 1)
        {
            var rev = shape.Reverse().ToArray();
            var data = new double[numel];
            for (int i = 0; i < data.Length; i++) data[i] = Next();
            var b = torch.tensor(data, rev).to(dt);
            var perm = Enumerable.Range(0, shape.Length).Reverse().Select(i => (long)i).ToArray();
            return b.permute(perm);
        }
        if (layout == 2)
        {
            var wide = (long[])shape.Clone();
            wide[^1] += 3;
            long wn = 1;
            foreach (var s in wide) wn *= s;
            var data = new double[wn];
            for (int i = 0; i < data.Length; i++) data[i] = Next();
            return torch.tensor(data, wide).to(dt).narrow(shape.Length - 1, 2, shape[^1]);
        }
        var flat = new double[numel];
        for (int i = 0; i < flat.Length; i++) flat[i] = Next();
        return torch.tensor(flat, shape).to(dt);
    }

    static double[] Values(Tensor x) => x.to(ScalarType.Float64).contiguous().ToArray<double>();

    /// <summary>Visits every (outer, inner) line along <paramref name="dim"/>: offsets of its elements in row-major order.</summary>
    static IEnumerable<(int outIndex, long[] offsets)> Lines(long[] shape, int dim)
    {
        long outer = 1, inner = 1, n = shape.Length == 0 ? 1 : shape[dim];
        for (int i = 0; i < dim; i++) outer *= shape[i];
        for (int i = dim + 1; i < shape.Length; i++) inner *= shape[i];
        for (long o = 0; o < outer; o++)
            for (long c = 0; c < inner; c++)
            {
                var offs = new long[n];
                for (long r = 0; r < n; r++) offs[r] = (o * n + r) * inner + c;
                yield return ((int)(o * inner + c), offs);
            }
    }

    static (double value, long index) RefExtreme(double[] v, long[] offs, bool max)
    {
        long best = 0;
        for (long r = 0; r < offs.Length; r++)
        {
            double x = v[offs[r]];
            if (double.IsNaN(x)) return (x, r);
            if (max ? x > v[offs[best]] : x < v[offs[best]]) best = r;
        }
        return (v[offs[best]], best);
    }

    static double RefVar(double[] v, long[] offs, long correction)
    {
        double mean = 0;
        foreach (var o in offs) mean += v[o];
        mean /= offs.Length;
        double ss = 0;
        foreach (var o in offs) ss += (v[o] - mean) * (v[o] - mean);
        return ss / Math.Max(0, offs.Length - correction);
    }

    static void Near(double expected, double actual, double rtol, string what)
    {
        if (double.IsNaN(expected)) { Assert.True(double.IsNaN(actual), $"{what}: expected NaN, got {actual}"); return; }
        Assert.True(Math.Abs(expected - actual) <= rtol * Math.Abs(expected) + rtol * 1e-3, $"{what}: expected {expected:R}, got {actual:R}");
    }

    static IEnumerable<(ScalarType dt, int layout, int dim, long[] shape)> Cases()
    {
        foreach (var dt in Types)
            for (int layout = 0; layout < 3; layout++)
                for (int dim = 0; dim < 3; dim++)
                    for (int len = 1; len <= 70; len++)
                    {
                        var shape = new long[] { 3, 5, 9 };
                        if (dim == 2 || layout == 2) shape = new long[] { 3, 2, 5 };
                        shape[dim] = len;
                        yield return (dt, layout, dim, shape);
                    }
    }

    [Fact]
    public void VarStd_MatchReference_OverLengthsDimsLayouts()
    {
        var rng = new Random(11);
        foreach (var (dt, layout, dim, shape) in Cases())
        {
            var x = Make(shape, dt, layout, rng, ties: false, nanProb: shape[dim] % 7 == 3 ? 0.05 : 0);
            var v = Values(x);
            double rtol = dt == ScalarType.Float32 ? 2e-6 : 1e-12;
            foreach (long corr in new long[] { 1, 0 })
            {
                var var = Values(x.var(new long[] { dim }, corr));
                var std = Values(x.std(new long[] { dim }, corr));
                foreach (var (i, offs) in Lines(shape, dim))
                {
                    double e = RefVar(v, offs, corr);
                    string what = $"{dt} layout {layout} dim {dim} shape [{string.Join(",", shape)}] corr {corr} line {i}";
                    Near(e, var[i], rtol, "var " + what);
                    Near(Math.Sqrt(e), std[i], rtol, "std " + what);
                }
            }
        }
    }

    [Fact]
    public void MaxMin_ValuesAndIndices_FirstNaNAndFirstTie()
    {
        var rng = new Random(12);
        foreach (var (dt, layout, dim, shape) in Cases())
        {
            bool ties = shape[dim] % 2 == 0;
            double nanProb = shape[dim] % 3 == 0 ? 0.08 : 0;
            var x = Make(shape, dt, layout, rng, ties, nanProb);
            var v = Values(x);
            foreach (bool max in new[] { true, false })
            {
                var (vals, idx) = max ? x.max(dim) : x.min(dim);
                var values = Values(vals);
                var indices = idx.ToArray<long>();
                var arg = (max ? x.argmax(dim) : x.argmin(dim)).ToArray<long>();
                var amax = Values(max ? x.amax(dim) : x.amin(dim));
                foreach (var (i, offs) in Lines(shape, dim))
                {
                    var (ev, ei) = RefExtreme(v, offs, max);
                    string what = $"{(max ? "max" : "min")} {dt} layout {layout} dim {dim} shape [{string.Join(",", shape)}] line {i}";
                    Assert.True(ei == indices[i], $"{what}: index {indices[i]}, expected {ei}");
                    Assert.True(ei == arg[i], $"{what}: arg index {arg[i]}, expected {ei}");
                    Assert.True(BitConverter.DoubleToInt64Bits(ev) == BitConverter.DoubleToInt64Bits(values[i]) || (double.IsNaN(ev) && double.IsNaN(values[i])),
                        $"{what}: value {values[i]:R}, expected {ev:R}");
                    Assert.True(ev == amax[i] || (double.IsNaN(ev) && double.IsNaN(amax[i])), $"{what}: amax {amax[i]:R}, expected {ev:R}");
                }
            }
        }
    }

    [Fact]
    public void Cumsum_MatchesSequentialDoubleAccumulation()
    {
        var rng = new Random(13);
        foreach (var (dt, layout, dim, shape) in Cases())
        {
            var x = Make(shape, dt, layout, rng, ties: false, nanProb: shape[dim] % 11 == 5 ? 0.05 : 0);
            var v = Values(x);
            var y = x.cumsum(dim);
            Assert.Equal(dt, y.dtype);
            Assert.Equal(shape, y.shape);
            var got = Values(y);
            foreach (var (_, offs) in Lines(shape, dim))
            {
                double acc = 0;
                foreach (var o in offs)
                {
                    acc += v[o];
                    double e = dt == ScalarType.Float32 ? (float)acc : acc;
                    Assert.True(e.Equals(got[o]), $"cumsum {dt} layout {layout} dim {dim} shape [{string.Join(",", shape)}] at {o}: {got[o]:R}, expected {e:R}");
                }
            }
        }
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float64)]
    public void LongRowsAndWideBlocks_MatchReference(ScalarType dt)
    {
        var rng = new Random(14);
        foreach (var shape in new[] { new long[] { 70001 }, new long[] { 301, 133 }, new long[] { 2, 150, 131 } })
            for (int dim = 0; dim < shape.Length; dim++)
            {
                var x = Make(shape, dt, 0, rng, ties: true, nanProb: 0);
                var v = Values(x);
                // the sequential double reference itself is off by ~n * 1e-16 for long rows
                double rtol = dt == ScalarType.Float32 ? 2e-6 : 1e-10;
                var var = Values(x.var(dim));
                var (vals, idx) = x.max(dim);
                var values = Values(vals);
                var indices = idx.ToArray<long>();
                var argmin = x.argmin(dim).ToArray<long>();
                var cs = Values(x.cumsum(dim));
                foreach (var (i, offs) in Lines(shape, dim))
                {
                    Near(RefVar(v, offs, 1), var[i], rtol, $"var {dt} [{string.Join(",", shape)}] dim {dim} line {i}");
                    var (ev, ei) = RefExtreme(v, offs, true);
                    Assert.Equal(ei, indices[i]);
                    Assert.Equal(ev, values[i]);
                    Assert.Equal(RefExtreme(v, offs, false).index, argmin[i]);
                    double acc = 0;
                    foreach (var o in offs)
                    {
                        acc += v[o];
                        Assert.Equal(dt == ScalarType.Float32 ? (float)acc : acc, cs[o]);
                    }
                }
            }
        // over everything: chunked long row (var(), max(), argmax() flattened), with a NaN late in the row
        var big = Make(new long[] { 40, 1703 }, dt, 0, rng, ties: true, nanProb: 0);
        var bv = Values(big);
        var all = Enumerable.Range(0, bv.Length).Select(i => (long)i).ToArray();
        Near(RefVar(bv, all, 1), big.var().to(ScalarType.Float64).item<double>(), dt == ScalarType.Float32 ? 2e-6 : 1e-10, "var()");
        Assert.Equal(RefExtreme(bv, all, true).index, big.argmax().item<long>());
        Assert.Equal(RefExtreme(bv, all, false).index, big.argmin().item<long>());
        Assert.Equal(RefExtreme(bv, all, true).value, big.max().to(ScalarType.Float64).item<double>());
        var withNaN = big.clone();
        withNaN[35, 1000] = torch.tensor(double.NaN).to(dt);
        withNaN[39, 5] = torch.tensor(double.NaN).to(dt);
        Assert.Equal(35L * 1703 + 1000, withNaN.argmax().item<long>());
        Assert.Equal(35L * 1703 + 1000, withNaN.argmin().item<long>());
        Assert.True(double.IsNaN(withNaN.max().to(ScalarType.Float64).item<double>()));
        Assert.True(double.IsNaN(withNaN.amin().to(ScalarType.Float64).item<double>()));
        Assert.True(double.IsNaN(withNaN.var().to(ScalarType.Float64).item<double>()));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void Float32Var_LargeOffsetSmallSpread_StaysAccurate(int dim)
    {
        // values ~1e4 with a spread ~1: a naive float32 sum of squares loses every digit
        var rng = new Random(15);
        var data = new double[257 * 129];
        for (int i = 0; i < data.Length; i++) data[i] = 1e4 + rng.NextDouble();
        var x32 = torch.tensor(data, new long[] { 257, 129 }).to(ScalarType.Float32);
        var x64 = x32.to(ScalarType.Float64);
        var v32 = Values(x32.var(dim));
        var v64 = Values(x64.var(dim));
        for (int i = 0; i < v64.Length; i++) Near(v64[i], v32[i], 2e-6, $"var dim {dim} [{i}]");
        Near(x64.var().item<double>(), x32.var().to(ScalarType.Float64).item<double>(), 2e-6, "var()");
        Near(x64.std().item<double>(), x32.std().to(ScalarType.Float64).item<double>(), 2e-6, "std()");
    }

    [Fact]
    public void Var_EmptyDimIsNaN_ConstantIsZero()
    {
        foreach (var dt in Types)
        {
            var e = torch.zeros(new long[] { 3, 0, 70 }, dt);
            Assert.All(Values(e.var(1)), r => Assert.True(double.IsNaN(r)));
            var c = torch.full(new long[] { 5, 67 }, 1234.5678, dt);
            Assert.All(Values(c.var(1)), r => Assert.Equal(0.0, r));
            Assert.All(Values(c.std(0)), r => Assert.Equal(0.0, r));
        }
    }
}
