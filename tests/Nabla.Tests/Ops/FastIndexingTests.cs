using System.Numerics.Tensors;
using Xunit;

namespace Nabla.Tests;

/// <summary>
/// The fast paths of gather / scatter / scatter_add / index_select (row-wise walks, block copies, parallel rows), the
/// dense converting copy (vectorised float32 &lt;-&gt; float64, int32 -&gt; float32) and the chunked TensorPrimitives unary
/// math, each against a straightforward element-by-element reference: odd sizes, non-contiguous operands, every dtype.
/// </summary>
public class FastIndexingTests
{
    static readonly ScalarType[] AllTypes = { ScalarType.Float32, ScalarType.Float64, ScalarType.Int64, ScalarType.Int32, ScalarType.Bool };

    static Tensor Random(ScalarType dtype, params long[] shape)
    {
        var r = torch.randn(shape) * 20;
        return dtype == ScalarType.Bool ? r > 0 : r.to(dtype);
    }

    /// <summary>Values as doubles (exact for every value these tests create).</summary>
    static double[] Values(Tensor t) => t.to(ScalarType.Float64).ToArray<double>();

    static long[] RandomIndex(Random rnd, int count, long bound)
    {
        var a = new long[count];
        for (int i = 0; i < count; i++) a[i] = rnd.NextInt64(bound);
        return a;
    }

    /// <summary>Row-major strides of a shape.</summary>
    static long[] Strides(long[] shape)
    {
        var s = new long[shape.Length];
        long acc = 1;
        for (int d = shape.Length - 1; d >= 0; d--) { s[d] = acc; acc *= shape[d]; }
        return s;
    }

    static long[] Coords(long flat, long[] shape)
    {
        var c = new long[shape.Length];
        for (int d = shape.Length - 1; d >= 0; d--) { c[d] = flat % shape[d]; flat /= shape[d]; }
        return c;
    }

    static long Offset(long[] coords, long[] strides)
    {
        long o = 0;
        for (int d = 0; d < coords.Length; d++) o += coords[d] * strides[d];
        return o;
    }

    /// <summary>self (contiguous copy) and index, both given as possibly non-contiguous views.</summary>
    static IEnumerable<(Tensor Self, Tensor Index, int Dim)> GatherCases(ScalarType dtype)
    {
        var rnd = new Random(7);
        foreach (var (rows, cols) in new[] { (1, 1), (1, 7), (3, 1), (5, 17), (33, 2), (70, 69), (13, 70) })
        {
            for (int dim = 0; dim < 2; dim++)
            {
                var self = Random(dtype, rows, cols);
                // index as large as self, and smaller in the other dim
                long ir = dim == 0 ? rows + 3 : Math.Max(1, rows - 1), ic = dim == 1 ? cols + 2 : Math.Max(1, cols - 1);
                long bound = dim == 0 ? rows : cols;
                var index = torch.tensor(RandomIndex(rnd, (int)(ir * ic), bound), new long[] { ir, ic });
                yield return (self, index, dim);
                // transposed self (non-contiguous) and transposed index
                var selfT = Random(dtype, cols, rows).t();
                var indexT = torch.tensor(RandomIndex(rnd, (int)(ir * ic), bound), new long[] { ic, ir }).t();
                yield return (selfT, indexT, dim);
                // sliced self (a column window)
                var wide = Random(dtype, rows, cols + 5).narrow(1, 2, cols);
                yield return (wide, index, dim);
            }
        }
        // 3-d, every dim, big enough for the parallel row walk (index numel above 32K)
        foreach (var (a, b, c) in new[] { (3, 5, 7), (40, 35, 31) })
            for (int dim = 0; dim < 3; dim++)
            {
                var self = Random(dtype, a, b, c);
                long[] shape = { a, b, c };
                var index = torch.tensor(RandomIndex(rnd, a * b * c, shape[dim]), new long[] { a, b, c });
                yield return (self, index, dim);
                yield return (self.permute(2, 0, 1).contiguous().permute(1, 2, 0), index, dim);
            }
    }

    static double[] GatherReference(Tensor self, Tensor index, int dim)
    {
        var s = Values(self.contiguous());
        var ss = Strides(self.shape);
        var idx = index.contiguous().ToArray<long>();
        var ishape = index.shape;
        var r = new double[idx.Length];
        for (long p = 0; p < idx.Length; p++)
        {
            var c = Coords(p, ishape);
            c[dim] = idx[p];
            r[p] = s[Offset(c, ss)];
        }
        return r;
    }

    [Fact]
    public void Gather_matches_reference_for_every_dtype_and_layout()
    {
        torch.manual_seed(1);
        foreach (var dtype in AllTypes)
            foreach (var (self, index, dim) in GatherCases(dtype))
            {
                var r = self.gather(dim, index);
                Assert.Equal(dtype, r.dtype);
                Assert.Equal(index.shape, r.shape);
                Assert.Equal(GatherReference(self, index, dim), Values(r));
            }
    }

    /// <summary>mode 0: scatter src, 1: scatter value, 2: scatter_add; sequential order (later duplicates win / add in order).</summary>
    static double[] ScatterReference(Tensor self, Tensor index, Tensor? src, double value, int dim, bool add, ScalarType dtype)
    {
        var r = Values(self.contiguous());
        var rs = Strides(self.shape);
        var idx = index.contiguous().ToArray<long>();
        var ishape = index.shape;
        double[]? s = src is null ? null : Values(src.contiguous());
        long[]? ss = src is null ? null : Strides(src.shape);
        for (long p = 0; p < idx.Length; p++)
        {
            var c = Coords(p, ishape);
            double v = s is null ? value : s[Offset(c, ss!)];
            c[dim] = idx[p];
            long o = Offset(c, rs);
            if (!add) r[o] = v;
            else if (dtype == ScalarType.Float32) r[o] = (float)((float)r[o] + (float)v);
            else if (dtype == ScalarType.Int32) r[o] = unchecked((int)r[o] + (int)v);
            else if (dtype == ScalarType.Bool) r[o] = (r[o] != 0 || v != 0) ? 1 : 0;
            else r[o] += v;
        }
        return r;
    }

    [Fact]
    public void Scatter_and_scatter_add_match_reference()
    {
        torch.manual_seed(2);
        foreach (var dtype in AllTypes)
            foreach (var (self, index, dim) in GatherCases(dtype))
            {
                // src at least as large as the index in every dim (and non-contiguous when the index is)
                var src = Random(dtype, index.shape);
                if (!index.is_contiguous()) src = Random(dtype, index.shape[1], index.shape[0]).t();
                Assert.Equal(ScatterReference(self, index, src, 0, dim, false, dtype), Values(self.scatter(dim, index, src)));
                Assert.Equal(ScatterReference(self, index, null, 1, dim, false, dtype), Values(self.scatter(dim, index, 1)));
                if (dtype != ScalarType.Bool)
                    Assert.Equal(ScatterReference(self, index, src, 0, dim, true, dtype), Values(self.scatter_add(dim, index, src)));
            }
    }

    [Fact]
    public void Out_of_range_gather_and_scatter_indices_name_the_first_bad_index()
    {
        var x = torch.randn(300, 200);
        var rnd = new Random(3);
        var idx = RandomIndex(rnd, 300 * 200, 200);
        idx[250 * 200 + 3] = 200;     // late row (another thread's chunk)
        idx[120 * 200 + 7] = -1;      // the first bad one in order
        var index = torch.tensor(idx, new long[] { 300, 200 });
        var e = Assert.Throws<InvalidOperationException>(() => x.gather(1, index));
        Assert.Equal("index -1 is out of bounds for dimension 1 with size 200", e.Message);
        var before = x.ToArray<float>();
        e = Assert.Throws<InvalidOperationException>(() => x.scatter_add(1, index, x));
        Assert.Equal("index -1 is out of bounds for dimension 1 with size 200", e.Message);
        e = Assert.Throws<InvalidOperationException>(() => x.scatter(1, index, 2.0));
        Assert.Equal("index -1 is out of bounds for dimension 1 with size 200", e.Message);
        Assert.Equal(before, x.ToArray<float>());
        idx[120 * 200 + 7] = 5;
        e = Assert.Throws<InvalidOperationException>(() => x.gather(1, torch.tensor(idx, new long[] { 300, 200 })));
        Assert.Equal("index 200 is out of bounds for dimension 1 with size 200", e.Message);
        e = Assert.Throws<InvalidOperationException>(() => torch.randn(4, 3).gather(0, torch.tensor(new long[] { 0, 1, 2, 4, 0, 0 }, new long[] { 2, 3 })));
        Assert.Equal("index 4 is out of bounds for dimension 0 with size 4", e.Message);
    }

    static double[] IndexSelectReference(Tensor self, int dim, long[] idx)
    {
        var s = Values(self.contiguous());
        var shape = self.shape;
        var ss = Strides(shape);
        var rshape = (long[])shape.Clone();
        rshape[dim] = idx.Length;
        long n = 1;
        foreach (var v in rshape) n *= v;
        var r = new double[n];
        for (long p = 0; p < n; p++)
        {
            var c = Coords(p, rshape);
            c[dim] = idx[c[dim]];
            r[p] = s[Offset(c, ss)];
        }
        return r;
    }

    [Fact]
    public void Index_select_matches_reference()
    {
        torch.manual_seed(4);
        var rnd = new Random(5);
        foreach (var dtype in AllTypes)
            foreach (var shape in new[] { new long[] { 1 }, new long[] { 70 }, new long[] { 5, 3, 7 }, new long[] { 17, 1, 33 }, new long[] { 64, 40, 30 } })
                for (int dim = 0; dim < shape.Length; dim++)
                    foreach (int count in new[] { 0, 1, 9, 70 })
                    {
                        var idx = RandomIndex(rnd, count, shape[dim]);
                        var self = Random(dtype, shape);
                        var expected = IndexSelectReference(self, dim, idx);
                        Assert.Equal(expected, Values(self.index_select(dim, torch.tensor(idx))));
                        Assert.Equal(expected, Values(self.index_select(dim, torch.tensor(idx.Select(v => (int)v).ToArray()))));
                        // non-contiguous self: reversed dims
                        var rev = Random(dtype, shape.Reverse().ToArray());
                        var perm = Enumerable.Range(0, shape.Length).Reverse().Select(v => (long)v).ToArray();
                        var nc = rev.permute(perm);
                        Assert.Equal(IndexSelectReference(nc, dim, idx), Values(nc.index_select(dim, torch.tensor(idx))));
                    }
        var x = torch.randn(6, 4);
        var e = Assert.Throws<IndexOutOfRangeException>(() => x.index_select(0, torch.tensor(new long[] { 0, 6 })));
        Assert.Equal("index out of range in self", e.Message);
        e = Assert.Throws<IndexOutOfRangeException>(() => x.index_select(1, torch.tensor(new int[] { -1 })));
        Assert.Equal("index out of range in self", e.Message);
    }

    [Fact]
    public void Index_select_backward_still_accumulates_repeated_rows()
    {
        var x = torch.randn(new long[] { 5, 3 }, requires_grad: true);
        var y = x.index_select(0, torch.tensor(new long[] { 1, 1, 4 }));
        y.sum().backward();
        Assert.Equal(new float[] { 0, 0, 0, 2, 2, 2, 0, 0, 0, 0, 0, 0, 1, 1, 1 }, x.grad!.ToArray<float>());
    }

    // ---- conversions ---------------------------------------------------------------------------------------

    static readonly double[] Specials =
    {
        0, -0.0, 1, -1, 0.5, -0.5, 1.5, 2.5, -2.5, 0.49999997, 0.1, 1e-45, 3.4028235677973366e38, 1e39, -1e39, 1e10, -1e10,
        3e9, -3e9, 2147483647, 2147483648, -2147483649, 9007199254740991, double.NaN, double.PositiveInfinity,
        double.NegativeInfinity, 1.0000000596046448, 1.0000001788139343, 16777217, -16777217, 123456789.123,
    };

    static Array Source(ScalarType dtype, int n, Random rnd)
    {
        double Pick(int i) => i < 2 * Specials.Length && i % 2 == 0 ? Specials[i / 2 % Specials.Length] : (rnd.NextDouble() - 0.5) * Math.Pow(10, rnd.Next(-3, 12));
        switch (dtype)
        {
            case ScalarType.Float32: return Enumerable.Range(0, n).Select(i => (float)Pick(i)).ToArray();
            case ScalarType.Float64: return Enumerable.Range(0, n).Select(i => Pick(i)).ToArray();
            case ScalarType.Int64:
                return Enumerable.Range(0, n).Select(i => i % 3 == 0 ? rnd.NextInt64(-(1L << 53), 1L << 53) : rnd.NextInt64(-100000, 100000)).ToArray();
            case ScalarType.Int32: return Enumerable.Range(0, n).Select(i => i % 3 == 0 ? rnd.Next(int.MinValue, int.MaxValue) : rnd.Next(-1000, 1000)).ToArray();
            default: return Enumerable.Range(0, n).Select(i => rnd.Next(3) == 0).ToArray();
        }
    }

    static double AsDouble(Array a, int i) => a switch
    {
        float[] f => f[i], double[] d => d[i], long[] l => l[i], int[] n => n[i], bool[] b => b[i] ? 1 : 0, _ => throw new NotSupportedException(),
    };

    /// <summary>The cast rules written out per pair: float to int truncates (via int64 for int32), NaN/Inf as the C# casts give.</summary>
    static object Expected(Array src, int i, ScalarType to)
    {
        double d = AsDouble(src, i);
        switch (to)
        {
            case ScalarType.Float32: return src is long[] l ? (float)l[i] : (float)d;
            case ScalarType.Float64: return src is long[] l2 ? (double)l2[i] : d;
            case ScalarType.Int64: return src is long[] l3 ? l3[i] : (long)d;
            case ScalarType.Int32: return src is long[] l4 ? unchecked((int)l4[i]) : unchecked((int)(long)d);
            default: return d != 0 || double.IsNaN(d);
        }
    }

    static Tensor FromArray(Array a, long[] shape) => a switch
    {
        float[] f => torch.tensor(f, shape), double[] d => torch.tensor(d, shape), long[] l => torch.tensor(l, shape),
        int[] n => torch.tensor(n, shape), bool[] b => torch.tensor(b, shape), _ => throw new NotSupportedException(),
    };

    static void AssertConverted(Array src, Tensor r, ScalarType to, string what)
    {
        Assert.Equal(to, r.dtype);
        Array values = to switch
        {
            ScalarType.Float32 => r.ToArray<float>(), ScalarType.Float64 => r.ToArray<double>(), ScalarType.Int64 => r.ToArray<long>(),
            ScalarType.Int32 => r.ToArray<int>(), _ => r.ToArray<bool>(),
        };
        for (int i = 0; i < src.Length; i++)
        {
            object e = Expected(src, i, to);
            object got = values.GetValue(i)!;
            bool same = (e, got) switch
            {
                (float a, float b) => BitConverter.SingleToInt32Bits(a) == BitConverter.SingleToInt32Bits(b) || (float.IsNaN(a) && float.IsNaN(b)),
                (double a, double b) => BitConverter.DoubleToInt64Bits(a) == BitConverter.DoubleToInt64Bits(b) || (double.IsNaN(a) && double.IsNaN(b)),
                _ => e.Equals(got),
            };
            Assert.True(same, $"{what}: element {i} ({AsDouble(src, i):R}) -> expected {e}, got {got}");
        }
    }

    [Fact]
    public void Dense_conversions_match_the_cast_rules_for_every_dtype_pair()
    {
        var rnd = new Random(6);
        foreach (var from in AllTypes)
            foreach (int n in new[] { 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 63, 70, 70001 })
            {
                var src = Source(from, n, rnd);
                var t = FromArray(src, new long[] { n });
                foreach (var to in AllTypes)
                {
                    if (n > 100)
                    {
                        // large: compare the dense (parallel, vectorised) result with the strided path on a transposed view
                        var dense = t.to(to);
                        var viaStrided = t.view(1, n).t().to(to).reshape(n);
                        AssertConverted(src, dense, to, $"{from}->{to} n={n}");
                        Assert.Equal(Values(dense).Select(BitConverter.DoubleToInt64Bits), Values(viaStrided).Select(BitConverter.DoubleToInt64Bits));
                        continue;
                    }
                    AssertConverted(src, t.to(to), to, $"{from}->{to} n={n}");
                }
            }
    }

    [Fact]
    public void Non_contiguous_conversions_match_the_cast_rules()
    {
        var rnd = new Random(8);
        foreach (var from in AllTypes)
            foreach (var to in AllTypes)
            {
                var src = Source(from, 21 * 13, rnd);
                var t = FromArray(src, new long[] { 21, 13 });
                var tt = t.t();                          // non-contiguous source
                var converted = tt.to(to).t().contiguous();  // back to t's layout
                AssertConverted(src, converted.reshape(21 * 13), to, $"{from}->{to} transposed");
                var sliced = t.narrow(1, 2, 9);
                var expected = FromArray(src, new long[] { 21, 13 }).narrow(1, 2, 9).contiguous();
                Assert.Equal(Values(expected.to(to)), Values(sliced.to(to)));
            }
    }

    // ---- unary math --------------------------------------------------------------------------------------------

    [Fact]
    public void Chunked_unary_math_equals_one_pass_over_the_whole_tensor()
    {
        int saved = torch.get_num_threads();
        try
        {
            torch.set_num_threads(2);
            foreach (int n in new[] { 32767, 32768, 40001, 100003 })
            {
                var x = torch.rand(n) * 4 - 1;   // includes negatives: log gives NaN there, as the one-pass kernel does
                var xs = x.ToArray<float>();
                var xd = x.to(ScalarType.Float64);
                var xds = xd.ToArray<double>();
                var ops = new (string, Func<Tensor, Tensor>, Action<float[], float[]>, Action<double[], double[]>)[]
                {
                    ("exp", t => t.exp(), (a, d) => TensorPrimitives.Exp(a, d), (a, d) => TensorPrimitives.Exp<double>(a, d)),
                    ("log", t => t.log(), (a, d) => TensorPrimitives.Log(a, d), (a, d) => TensorPrimitives.Log<double>(a, d)),
                    ("tanh", t => t.tanh(), (a, d) => TensorPrimitives.Tanh(a, d), (a, d) => TensorPrimitives.Tanh<double>(a, d)),
                    ("sigmoid", t => t.sigmoid(), (a, d) => TensorPrimitives.Sigmoid(a, d), (a, d) => TensorPrimitives.Sigmoid<double>(a, d)),
                    ("sin", t => t.sin(), (a, d) => TensorPrimitives.Sin(a, d), (a, d) => TensorPrimitives.Sin<double>(a, d)),
                    ("sqrt", t => t.sqrt(), (a, d) => TensorPrimitives.Sqrt(a, d), (a, d) => TensorPrimitives.Sqrt<double>(a, d)),
                    ("expm1", t => t.expm1(), (a, d) => TensorPrimitives.ExpM1(a, d), (a, d) => TensorPrimitives.ExpM1<double>(a, d)),
                };
                var bad = new List<string>();
                foreach (var (name, op, f32, f64) in ops)
                {
                    var e32 = new float[n];
                    f32(xs, e32);
                    var g32 = op(x).ToArray<float>();
                    for (int i = 0; i < n; i++)
                        if (BitConverter.SingleToInt32Bits(e32[i]) != BitConverter.SingleToInt32Bits(g32[i]) && !(float.IsNaN(e32[i]) && float.IsNaN(g32[i])))
                            bad.Add($"{name} f32 n={n} i={i} x={xs[i]:R} {e32[i]:R} vs {g32[i]:R}");
                    var e64 = new double[n];
                    f64(xds, e64);
                    var g64 = op(xd).ToArray<double>();
                    // TensorPrimitives' float64 sin uses estimated multiply-adds, fused or not by JIT tier, so the same call
                    // can differ in the last bit between two runs (single-threaded too): allow 1 ulp there, exact elsewhere.
                    long tolerance = name == "sin" ? 1 : 0;
                    for (int i = 0; i < n; i++)
                        if (Math.Abs(BitConverter.DoubleToInt64Bits(e64[i]) - BitConverter.DoubleToInt64Bits(g64[i])) > tolerance && !(double.IsNaN(e64[i]) && double.IsNaN(g64[i])))
                            bad.Add($"{name} f64 n={n} i={i} x={xds[i]:R} {e64[i]:R} vs {g64[i]:R}");
                }
                Assert.True(bad.Count == 0, bad.Count + " mismatches:\n" + string.Join("\n", bad.Take(30)));
                // non-contiguous input takes the same path after a contiguous copy
                var m = (torch.rand(300, 170) * 2).t();
                var expected = new float[m.numel()];
                TensorPrimitives.Exp(m.contiguous().ToArray<float>(), expected);
                Assert.Equal(expected, m.exp().contiguous().ToArray<float>());
            }
        }
        finally
        {
            torch.set_num_threads(saved);
        }
    }
}
