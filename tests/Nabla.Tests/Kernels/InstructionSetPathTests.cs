using System.Numerics;
using Nabla.Kernels.Cpu;
using Xunit;

namespace Nabla.Tests.Kernels;

/// <summary>
/// The vector-width cascade (Note [Vector width cascade]) for comparisons, unary and max/min operators, every length
/// 0..200 so each of the 512-, 256- and 128-bit loops and the scalar tail runs; NaN and signed-zero lanes included.
/// .ci/run reruns these under DOTNET_EnableAVX512=0, DOTNET_EnableAVX2=0 and DOTNET_EnableHWIntrinsic=0.
/// Also the cache parsing and the GEMM block derivation.
/// </summary>
public class InstructionSetPathTests
{
    static T[] Values<T>(int n, int seed) where T : INumber<T>
    {
        var v = new T[n];
        for (int i = 0; i < n; i++)
            v[i] = T.CreateTruncating(Math.Round(Math.Sin(i * 0.61 + seed) * 5));
        return v;
    }

    static void CheckCompare<T>(T[] x, T[] y) where T : unmanaged, INumber<T>
    {
        int n = x.Length;
        var d = new bool[n];
        void Check<TOp>(Func<T, T, bool> reference) where TOp : ICompareOp<T>
        {
            Array.Fill(d, true);
            Elementwise.Compare<T, TOp>(x, y, d);
            for (int i = 0; i < n; i++) Assert.True(reference(x[i], y[i]) == d[i], $"{typeof(TOp).Name} n={n} i={i}: {x[i]} vs {y[i]}");
            if (n > 0)
            {
                Array.Fill(d, false);
                T s = y[n / 2];
                Elementwise.CompareScalarRight<T, TOp>(x, s, d);
                for (int i = 0; i < n; i++) Assert.True(reference(x[i], s) == d[i], $"{typeof(TOp).Name} scalar n={n} i={i}");
            }
        }
        Check<EqOp<T>>((a, b) => a == b);
        Check<NeOp<T>>((a, b) => a != b);
        Check<LtOp<T>>((a, b) => a < b);
        Check<LeOp<T>>((a, b) => a <= b);
        Check<GtOp<T>>((a, b) => a > b);
        Check<GeOp<T>>((a, b) => a >= b);
    }

    [Fact]
    public void Comparisons_match_scalar_rule_for_every_type_and_tail()
    {
        for (int n = 0; n <= 200; n++)
        {
            var xf = Values<float>(n, 1); var yf = Values<float>(n, 2);
            for (int i = 0; i < n; i += 7) xf[i] = float.NaN;
            for (int i = 3; i < n; i += 11) yf[i] = float.NaN;
            for (int i = 5; i < n; i += 13) { xf[i] = -0f; yf[i] = 0f; }
            CheckCompare(xf, yf);
            var xd = Values<double>(n, 3); var yd = Values<double>(n, 4);
            for (int i = 2; i < n; i += 9) xd[i] = double.NaN;
            CheckCompare(xd, yd);
            CheckCompare(Values<int>(n, 5), Values<int>(n, 6));
            CheckCompare(Values<long>(n, 7), Values<long>(n, 8));
            CheckCompare(Values<short>(n, 9), Values<short>(n, 10));
            CheckCompare(Values<sbyte>(n, 11), Values<sbyte>(n, 12));
            CheckCompare(Values<byte>(n, 13).Select(b => (byte)(b + 5)).ToArray(), Values<byte>(n, 14).Select(b => (byte)(b + 5)).ToArray());
        }
    }

    [Fact]
    public void Strided_comparison_of_dense_and_broadcast_rows_matches_scalar_rule()
    {
        // 3 x 37 against a 37-long row broadcast over the rows (stride 0 on the first dimension), then against a
        // scalar broadcast (stride 0 on both), then with a transposed left operand (the scalar walk).
        const int rows = 3, cols = 37;
        var a = Values<float>(rows * cols, 1);
        a[5] = float.NaN;
        var b = Values<float>(cols, 2);
        var o = new bool[rows * cols];
        Elementwise.CompareStrided<float, LtOp<float>>([rows, cols], o, 0, [cols, 1], a, 0, [cols, 1], b, 0, [0, 1]);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) Assert.Equal(a[r * cols + c] < b[c], o[r * cols + c]);
        Elementwise.CompareStrided<float, GeOp<float>>([rows, cols], o, 0, [cols, 1], a, 0, [cols, 1], b, 4, [0, 0]);
        for (int i = 0; i < rows * cols; i++) Assert.Equal(a[i] >= b[4], o[i]);
        Elementwise.CompareStrided<float, NeOp<float>>([cols, rows], o, 0, [rows, 1], a, 0, [1, cols], a, 0, [1, cols]);
        for (int c = 0; c < cols; c++)
            for (int r = 0; r < rows; r++) Assert.Equal(!(a[r * cols + c] == a[r * cols + c]), o[c * rows + r]);
    }

    [Fact]
    public void Unary_and_minmax_operators_match_scalar_rule_for_every_tail()
    {
        for (int n = 0; n <= 200; n++)
        {
            var x = Values<float>(n, 1); var y = Values<float>(n, 2);
            for (int i = 0; i < n; i += 7) x[i] = float.NaN;
            for (int i = 4; i < n; i += 10) x[i] = -0f;
            var d = new float[n];
            Elementwise.Unary<float, ReluOp<float>>(x, d);
            for (int i = 0; i < n; i++) Assert.Equal(BitConverter.SingleToInt32Bits(ReluOp<float>.Invoke(x[i])), BitConverter.SingleToInt32Bits(d[i]));
            Elementwise.Unary<float, AbsOp<float>>(x, d);
            for (int i = 0; i < n; i++) Assert.Equal(MathF.Abs(x[i]), d[i]);
            Elementwise.Unary<float, NegOp<float>>(x, d);
            for (int i = 0; i < n; i++) Assert.Equal(-x[i], d[i]);
            Elementwise.Binary<float, MaxOp<float>>(x, y, d);
            for (int i = 0; i < n; i++) Assert.Equal(MaxOp<float>.Invoke(x[i], y[i]), d[i]);
            Elementwise.Binary<float, MinOp<float>>(y, x, d);
            for (int i = 0; i < n; i++) Assert.Equal(MinOp<float>.Invoke(y[i], x[i]), d[i]);
            Elementwise.Axpy<float>(x, y, 0.75f, d);
            for (int i = 0; i < n; i++) Assert.Equal(MathF.FusedMultiplyAdd(y[i], 0.75f, x[i]), d[i]);
            var xi = Values<int>(n, 3); var di = new int[n];
            Elementwise.Unary<int, NegOp<int>>(xi, di);
            for (int i = 0; i < n; i++) Assert.Equal(-xi[i], di[i]);
            var xl = Values<long>(n, 4); var yl = Values<long>(n, 5); var dl = new long[n];
            Elementwise.Binary<long, MulOp<long>>(xl, yl, dl);
            for (int i = 0; i < n; i++) Assert.Equal(xl[i] * yl[i], dl[i]);
        }
    }

    [Fact]
    public void Float_leaf_sum_stays_accurate_at_every_block_length()
    {
        // Note [Float32 summation]: whatever vector width runs, a 1024-float block of 0.1f sums within a few ulps.
        for (int n = 0; n <= 1024; n += n < 80 ? 1 : 37)
        {
            var x = new float[n];
            Array.Fill(x, 0.1f);
            double reference = n * (double)0.1f;
            Assert.Equal(reference, Reduction.LeafSum(x), Math.Max(1e-6, reference * 1e-6));
        }
    }

    [Theory]
    [InlineData("48K", 48 * 1024L)]
    [InlineData("1280K", 1280 * 1024L)]
    [InlineData("32M", 32 * 1024L * 1024)]
    [InlineData("512", 512L)]
    [InlineData("", 0L)]
    [InlineData("abcK", 0L)]
    public void Cache_size_text_is_parsed(string text, long bytes) => Assert.Equal(bytes, CpuCaches.ParseSize(text));

    [Theory]
    [InlineData("0-7", 8)]
    [InlineData("0-3,8-11", 8)]
    [InlineData("0,2,4", 3)]
    [InlineData("5", 1)]
    [InlineData("", 0)]
    public void Shared_cpu_lists_are_counted(string list, int count) => Assert.Equal(count, CpuCaches.CountCpus(list));

    [Fact]
    public void Gemm_blocks_follow_the_caches()
    {
        // Zen 5 / Ice Lake-SP class core, AVX-512 float tile 6 x 32: the B micro-panel and two A micro-panels in 3/4 of L1.
        var (kc, mc, nc) = GemmBlocking.Derive(6, 32, 4, 48 * 1024, 1024 * 1024, 4L << 20);
        Assert.Equal(208, kc);
        Assert.True(kc * (32 + 2 * 6) * 4 <= 0.75 * 48 * 1024);
        Assert.Equal(0, mc % 6);
        Assert.True(mc * kc * 4 <= 512 * 1024 && (mc + 6) * kc * 4 > 512 * 1024);
        Assert.Equal(0, nc % 32);
        // A smaller L1 and L2 give smaller blocks; a 32 KiB L1 with the AVX2 tile 6 x 16.
        var small = GemmBlocking.Derive(6, 32, 4, 32 * 1024, 256 * 1024, 1L << 20);
        Assert.True(small.Kc < kc && small.Mc < mc && small.Nc <= nc);
        var avx2 = GemmBlocking.Derive(6, 16, 4, 32 * 1024, 1024 * 1024, 2L << 20);
        Assert.Equal(216, avx2.Kc);
        // Double: the same bytes per k step, half the rows per L2.
        var dbl = GemmBlocking.Derive(6, 16, 8, 48 * 1024, 1024 * 1024, 4L << 20);
        Assert.True(dbl.Mc < mc);
        // Absurd cache figures stay within bounds.
        var tiny = GemmBlocking.Derive(6, 32, 4, 1024, 1024, 1024);
        Assert.True(tiny.Kc >= 64 && tiny.Mc >= 6 && tiny.Nc >= 32);
        var huge = GemmBlocking.Derive(6, 32, 4, 1L << 30, 1L << 34, 1L << 36);
        Assert.True(huge.Kc <= 1024 && huge.Mc <= 1020 && huge.Nc <= GemmBlocking.MaxNc);
    }

    [Fact]
    public void Machine_caches_are_plausible()
    {
        Assert.InRange(CpuCaches.L1, 8 << 10, 1 << 20);
        Assert.InRange(CpuCaches.L2, 128 << 10, 64 << 20);
        Assert.True(CpuCaches.L3PerCore >= CpuCaches.L2 || CpuCaches.L3 == 0);
        var b = Gemm.Blocks(Gemm.BestIsa, 4);
        Assert.True(b.Kc >= 64 && b.Mc >= 4 && b.Nc >= 4);
    }

    static void CheckEpilogue<T>(int m, int n, int k, bool ta, bool withBias, bool relu, GemmIsa isa, int threads, bool packed, int seed)
        where T : unmanaged, INumber<T>
    {
        var rng = new Random(seed);
        T R() => T.CreateChecked(rng.NextDouble() * 2 - 1);
        var a = new T[Math.Max(1, m * k)]; var b = new T[Math.Max(1, k * n)]; var bias = new T[n];
        for (int i = 0; i < a.Length; i++) a[i] = R();
        for (int i = 0; i < b.Length; i++) b[i] = R();
        for (int i = 0; i < n; i++) bias[i] = R();
        if (n > 3) bias[3] = T.CreateChecked(double.NaN);
        int ars = ta ? 1 : k, acs = ta ? m : 1;
        int ldc = n + 2;
        var plain = new T[m * ldc]; var fused = new T[m * ldc];
        Array.Fill(plain, T.CreateChecked(7)); Array.Fill(fused, T.CreateChecked(7));
        Gemm.BatchedCore<T>(1, m, n, k, a, 0, ars, acs, b, 0, n, 1, plain, 0, ldc, T.One, T.Zero, isa, threads, packed);
        Gemm.BatchedCore<T>(1, m, n, k, a, 0, ars, acs, b, 0, n, 1, fused, 0, ldc, T.One, T.Zero, isa, threads, packed,
            withBias ? bias : default, relu);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < ldc; j++)
            {
                T expect = plain[i * ldc + j];
                if (j < n)
                {
                    if (withBias) expect += bias[j];
                    if (relu) expect = ReluOp<T>.Invoke(expect);
                }
                T got = fused[i * ldc + j];
                Assert.True(expect.Equals(got),
                    $"{typeof(T).Name} m={m} n={n} k={k} ta={ta} bias={withBias} relu={relu} isa={isa} threads={threads} packed={packed}: " +
                    $"C[{i},{j}] = {got}, expected {expect}");
            }
    }

    [Fact]
    public void Gemm_bias_relu_epilogue_equals_gemm_then_bias_then_relu_on_every_path()
    {
        int seed = 1;
        for (var isa = GemmIsa.Scalar; isa <= Gemm.BestIsa; isa++)
            foreach (var (m, n, k) in new[] { (1, 1, 1), (5, 7, 3), (13, 37, 29), (64, 10, 70), (130, 33, 300), (7, 50, 0) })
                foreach (bool packed in new[] { false, true })
                {
                    CheckEpilogue<float>(m, n, k, seed % 2 == 0, true, true, isa, 2, packed, seed++);
                    CheckEpilogue<float>(m, n, k, false, true, false, isa, 1, packed, seed++);
                    CheckEpilogue<float>(m, n, k, true, false, true, isa, 2, packed, seed++);
                    CheckEpilogue<double>(m, n, k, false, true, true, isa, 2, packed, seed++);
                }
        // Several k slices, several column blocks, the narrow-by-transpose path, two threads.
        CheckEpilogue<float>(200, 9, Gemm.KC * 2 + 5, false, true, true, Gemm.BestIsa, 2, false, 100);
        CheckEpilogue<float>(7, Gemm.NC + 37, 40, true, true, true, Gemm.BestIsa, 2, false, 101);
        CheckEpilogue<float>(150, 140, 260, false, true, true, Gemm.BestIsa, 2, false, 102);
    }

    [Fact]
    public void Gemm_bias_shorter_than_columns_is_rejected()
    {
        var a = new float[6]; var b = new float[6]; var c = new float[9];
        var e = Assert.Throws<ArgumentException>(() =>
            Gemm.MatmulBiasActivation(3, 3, 2, a, 2, 1, b, 3, 1, new float[2], true, c, 3));
        Assert.Equal("bias", e.ParamName);
        Gemm.MatmulBiasActivation(3, 3, 2, a, 2, 1, b, 3, 1, [1f, -1f, 0.5f], true, c, 3);
        Assert.Equal([1f, 0f, 0.5f], c[..3]);
    }
}
