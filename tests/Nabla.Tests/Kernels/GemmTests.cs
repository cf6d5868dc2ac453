using System.Numerics;
using Nabla.Kernels.Cpu;
using Xunit;

namespace Nabla.Tests.Kernels;

public class GemmTests
{
    /// <summary>A logical rows x cols matrix stored row-major or transposed (column-major), with strides.</summary>
    sealed class Mat<T> where T : unmanaged, INumber<T>
    {
        public readonly T[] Data;
        public readonly int RowStride, ColStride;
        public Mat(int rows, int cols, bool transposed, Random rng, int pad = 0)
        {
            // transposed: element (i, j) at j*rows + i, as a .t() view of a cols x rows row-major tensor.
            RowStride = transposed ? 1 : cols + pad;
            ColStride = transposed ? rows + pad : 1;
            int len = transposed ? (cols * (rows + pad)) : (rows * (cols + pad));
            Data = new T[Math.Max(1, len)];
            for (int i = 0; i < Data.Length; i++) Data[i] = T.CreateChecked(rng.NextDouble() * 2 - 1);
        }
        public double At(int i, int j) => double.CreateChecked(Data[i * RowStride + j * ColStride]);
    }

    static double Tol<T>() => typeof(T) == typeof(float) ? 1e-5 : 1e-12;

    /// <summary>Runs C = alpha A B + beta C through <see cref="Gemm.BatchedCore"/> and checks it against a double-precision triple loop.</summary>
    static void Check<T>(int m, int n, int k, bool ta, bool tb, double alpha, double beta, GemmIsa isa, int threads,
        bool forcePacked, int seed, int ldcPad = 0) where T : unmanaged, INumber<T>
    {
        var rng = new Random(seed);
        var a = new Mat<T>(m, k, ta, rng);
        var b = new Mat<T>(k, n, tb, rng);
        int ldc = n + ldcPad;
        var c = new T[Math.Max(1, m * ldc)];
        for (int i = 0; i < c.Length; i++) c[i] = T.CreateChecked(rng.NextDouble() * 2 - 1);
        var c0 = (T[])c.Clone();
        if (beta == 0) Array.Fill(c, T.CreateChecked(double.NaN)); // beta == 0 must not read C

        Gemm.BatchedCore<T>(1, m, n, k, a.Data, 0, a.RowStride, a.ColStride, b.Data, 0, b.RowStride, b.ColStride,
            c, 0, ldc, T.CreateChecked(alpha), T.CreateChecked(beta), isa, threads, forcePacked);

        // Reference in double: expect = alpha * A B + beta * C0, and the magnitude sum |A||B| for the tolerance.
        var ad = new double[m * k]; var bd = new double[k * n];
        for (int i = 0; i < m; i++) for (int p = 0; p < k; p++) ad[i * k + p] = a.At(i, p);
        for (int p = 0; p < k; p++) for (int j = 0; j < n; j++) bd[p * n + j] = b.At(p, j);
        var sum = new double[n]; var mag = new double[n];
        for (int i = 0; i < m; i++)
        {
            Array.Clear(sum); Array.Clear(mag);
            for (int p = 0; p < k; p++)
            {
                double x = ad[i * k + p];
                for (int j = 0; j < n; j++)
                {
                    double t = x * bd[p * n + j];
                    sum[j] += t; mag[j] += Math.Abs(t);
                }
            }
            for (int j = 0; j < ldc; j++)
            {
                double got = double.CreateChecked(c[i * ldc + j]);
                if (j >= n)
                {
                    if (beta != 0) Assert.Equal(double.CreateChecked(c0[i * ldc + j]), got); // padding untouched
                    continue;
                }
                double cOld = beta == 0 ? 0 : double.CreateChecked(c0[i * ldc + j]);
                double expect = alpha * sum[j] + beta * cOld;
                double tol = Tol<T>() * (Math.Abs(alpha) * mag[j] + Math.Abs(beta * cOld) + 1e-3);
                if (!(Math.Abs(got - expect) <= tol))
                    Assert.Fail($"{typeof(T).Name} m={m} n={n} k={k} ta={ta} tb={tb} alpha={alpha} beta={beta} isa={isa} " +
                        $"threads={threads} packed={forcePacked}: C[{i},{j}] = {got}, expected {expect} (tol {tol})");
            }
        }
    }

    static IEnumerable<GemmIsa> Isas()
    {
        for (var isa = GemmIsa.Scalar; isa <= Gemm.BestIsa; isa++) yield return isa;
    }

    static readonly int[] EdgeSizes = [1, 2, 5, 6, 7, 8, 15, 16, 17, 31, 32, 33, 48, 63, 64, 65, 67];

    /// <summary>(m, n, k) triples: the edge sizes on each axis against a random partner, plus random triples in 1..67.</summary>
    static List<(int m, int n, int k)> Shapes(int randomCount, int seed)
    {
        var rng = new Random(seed);
        var list = new List<(int, int, int)>();
        foreach (int s in EdgeSizes)
        {
            list.Add((s, rng.Next(1, 68), rng.Next(1, 68)));
            list.Add((rng.Next(1, 68), s, rng.Next(1, 68)));
            list.Add((rng.Next(1, 68), rng.Next(1, 68), s));
        }
        for (int i = 0; i < randomCount; i++) list.Add((rng.Next(1, 68), rng.Next(1, 68), rng.Next(1, 68)));
        return list;
    }

    [Fact]
    public void Float_SizeSweep_AllTransposes_DefaultPath()
    {
        int seed = 0;
        foreach (var (m, n, k) in Shapes(60, 1))
            for (int t = 0; t < 4; t++)
                Check<float>(m, n, k, (t & 1) != 0, (t & 2) != 0, 1, 0, Gemm.BestIsa, 2, false, seed++);
    }

    [Fact]
    public void Double_SizeSweep_AllTransposes_DefaultPath()
    {
        int seed = 100000;
        foreach (var (m, n, k) in Shapes(60, 2))
            for (int t = 0; t < 4; t++)
                Check<double>(m, n, k, (t & 1) != 0, (t & 2) != 0, 1, 0, Gemm.BestIsa, 2, false, seed++);
    }

    [Fact]
    public void PackedPath_EveryMicrokernel_SizeSweep()
    {
        int seed = 200000;
        foreach (var isa in Isas())
        {
            foreach (var (m, n, k) in Shapes(10, 3 + (int)isa))
            {
                int t = seed & 3;
                Check<float>(m, n, k, (t & 1) != 0, (t & 2) != 0, 1, 0, isa, 1, true, seed++);
                Check<double>(m, n, k, (t & 1) != 0, (t & 2) != 0, 1, 0, isa, 1, true, seed++);
                // Direct (unpacked) path for the same ISA; large shapes fall through to the packed path.
                Check<float>(m, n, k, (t & 2) != 0, (t & 1) != 0, 1, 0.5, isa, 1, false, seed++, ldcPad: 2);
            }
        }
    }

    [Theory]
    [InlineData(1.0, 0.0)]
    [InlineData(2.5, 0.0)]
    [InlineData(1.0, 1.0)]
    [InlineData(-0.5, 2.0)]
    [InlineData(0.0, -1.5)]
    public void AlphaBeta_AllPaths(double alpha, double beta)
    {
        int seed = 300000;
        foreach (var (m, n, k) in new[] { (1, 1, 1), (7, 33, 5), (13, 40, 70), (64, 64, 64), (67, 65, 300) })
        {
            foreach (var isa in Isas())
            {
                Check<float>(m, n, k, false, true, alpha, beta, isa, 1, true, seed++, ldcPad: 3);
                Check<double>(m, n, k, true, false, alpha, beta, isa, 1, true, seed++, ldcPad: 3);
            }
            Check<float>(m, n, k, true, true, alpha, beta, Gemm.BestIsa, 2, false, seed++, ldcPad: 1);
            Check<double>(m, n, k, false, false, alpha, beta, Gemm.BestIsa, 2, false, seed++, ldcPad: 1);
        }
    }

    [Fact]
    public void KZero_ScalesOrClearsC()
    {
        var c = new float[] { 1, 2, 3, 4, 5, 6 };
        Gemm.Matmul(2, 3, 0, ReadOnlySpan<float>.Empty, 0, 1, ReadOnlySpan<float>.Empty, 3, 1, c, 3, alpha: 1, beta: 2);
        Assert.Equal(new float[] { 2, 4, 6, 8, 10, 12 }, c);
        var d = new double[] { double.NaN, 2, 3, 4 };
        Gemm.Matmul(2, 2, 0, ReadOnlySpan<double>.Empty, 0, 1, ReadOnlySpan<double>.Empty, 2, 1, d, 2);
        Assert.Equal(new double[] { 0, 0, 0, 0 }, d);
    }

    [Fact]
    public void EmptyMOrN_IsNoOp()
    {
        var c = new float[] { 7 };
        Gemm.Matmul(0, 5, 3, ReadOnlySpan<float>.Empty, 3, 1, new float[15], 5, 1, Span<float>.Empty, 5);
        Gemm.Matmul(4, 0, 3, new float[12], 3, 1, ReadOnlySpan<float>.Empty, 0, 1, c, 0);
        Gemm.BatchedMatmul(0, 4, 4, 4, ReadOnlySpan<double>.Empty, 16, 4, 1, ReadOnlySpan<double>.Empty, 16, 4, 1, Span<double>.Empty, 16, 4);
        Assert.Equal(7, c[0]);
    }

    [Fact]
    public void Tiny_TutorialProduct()
    {
        float[] a = [1, 2, 3, 4, 5, 6]; // 2x3
        float[] b = [1, 0, -1];         // 3x1
        var c = new float[2];
        Gemm.Matmul(2, 1, 3, a, 3, 1, b, 1, 1, c, 1);
        Assert.Equal(new float[] { -2, -2 }, c);
    }

    [Fact]
    public void GeneralStrides_SubmatrixView()
    {
        // A = every other column of a 9 x 20 matrix (strides 20, 2); B = rows 1,4,7.. of a 30 x 8 matrix read transposed.
        var rng = new Random(5);
        int m = 9, k = 10, n = 8;
        var abuf = new double[9 * 20]; var bbuf = new double[n * 30];
        for (int i = 0; i < abuf.Length; i++) abuf[i] = rng.NextDouble();
        for (int i = 0; i < bbuf.Length; i++) bbuf[i] = rng.NextDouble();
        foreach (bool packed in new[] { false, true })
        {
            var c = new double[m * n];
            // B(p, j) = bbuf[j*30 + 3p]: row stride 3, column stride 30.
            Gemm.BatchedCore<double>(1, m, n, k, abuf, 0, 20, 2, bbuf, 0, 3, 30, c, 0, n, 1, 0, Gemm.BestIsa, 1, packed);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double s = 0;
                    for (int p = 0; p < k; p++) s += abuf[i * 20 + 2 * p] * bbuf[j * 30 + 3 * p];
                    Assert.Equal(s, c[i * n + j], 1e-12);
                }
        }
    }

    [Fact]
    public void TransposedB_PackedWithRegisterTransposes_EveryDepthTail()
    {
        // Full 32-column panels of a transposed float B take the 8 x 8 transpose path; depths 1..40 cover every p tail.
        for (int k = 1; k <= 40; k++)
        {
            Check<float>(13, 64, k, false, true, 1, 0, Gemm.BestIsa, 1, true, 300 + k);
            Check<float>(7, 96, k, true, true, 1, 0.5, Gemm.BestIsa, 2, true, 400 + k);
        }
    }

    [Fact]
    public void NarrowProducts_ComputedThroughTheTranspose_MatchReference()
    {
        // m >= 4 tiles wide and n at most half a tile: computed as C^T = B^T A^T into scratch, then written back.
        int seed = 500;
        foreach (int n in new[] { 1, 5, 10, 16 })
            foreach (int k in new[] { 3, 37, 300 })
            {
                int t = seed & 3;
                Check<float>(131, n, k, (t & 1) != 0, (t & 2) != 0, 1, 0, Gemm.BestIsa, 2, false, seed++);
                Check<float>(128, n, k, (t & 2) != 0, (t & 1) != 0, 0.5, 1.5, Gemm.BestIsa, 1, false, seed++, ldcPad: 3);
                Check<double>(200, n / 2 + 1, k, (t & 1) != 0, (t & 1) == 0, 1, 0.25, Gemm.BestIsa, 2, false, seed++);
            }
    }

    [Fact]
    public void Large_CrossesBlockBoundaries()
    {
        Check<float>(300, 257, 511, false, false, 1, 0, Gemm.BestIsa, 2, false, 11);
        Check<float>(300, 257, 511, true, true, 1.5, 0.5, Gemm.BestIsa, 2, false, 12);
        Check<double>(150, 97, 300, true, false, 1, 0, Gemm.BestIsa, 2, false, 13);
        // n beyond one NC block, few rows: exercises the column split and the jc loop.
        Check<float>(7, Gemm.NC + 37, 40, false, false, 1, 0, Gemm.BestIsa, 2, false, 14);
        Check<double>(7, Gemm.NC / 2 + 37, 40, false, true, 1, 1, Gemm.BestIsa, 2, false, 15);
    }

    [Fact]
    public void MultiThread_MatchesSingleThread_Exactly()
    {
        foreach (var (m, n, k) in new[] { (200, 190, 60), (5, 3000, 80), (301, 70, 130) })
        {
            var rng = new Random(m + n + k);
            var a = new float[m * k]; var b = new float[k * n];
            for (int i = 0; i < a.Length; i++) a[i] = (float)rng.NextDouble();
            for (int i = 0; i < b.Length; i++) b[i] = (float)rng.NextDouble();
            var c1 = new float[m * n]; var c2 = new float[m * n];
            Gemm.BatchedCore<float>(1, m, n, k, a, 0, k, 1, b, 0, n, 1, c1, 0, n, 1, 0, Gemm.BestIsa, 1, false);
            Gemm.BatchedCore<float>(1, m, n, k, a, 0, k, 1, b, 0, n, 1, c2, 0, n, 1, 0, Gemm.BestIsa, 2, false);
            Assert.Equal(c1, c2);
        }
    }

    [Fact]
    public void Batched_WithBroadcast()
    {
        foreach (var (batch, m, n, k) in new[] { (3, 7, 9, 5), (4, 40, 33, 70), (200, 24, 24, 24) })
        {
            for (int mode = 0; mode < 3; mode++)
            {
                // mode 0: no broadcast, 1: A broadcast, 2: B broadcast
                var rng = new Random(mode * 1000 + batch);
                long abs = mode == 1 ? 0 : m * k, bbs = mode == 2 ? 0 : k * n, cbs = m * n;
                var a = new double[mode == 1 ? m * k : batch * m * k];
                var b = new double[mode == 2 ? k * n : batch * k * n];
                for (int i = 0; i < a.Length; i++) a[i] = rng.NextDouble() - 0.5;
                for (int i = 0; i < b.Length; i++) b[i] = rng.NextDouble() - 0.5;
                var cd = new double[batch * m * n];
                var cf = new float[batch * m * n];
                var af = Array.ConvertAll(a, x => (float)x);
                var bf = Array.ConvertAll(b, x => (float)x);
                Gemm.BatchedMatmul(batch, m, n, k, a, abs, k, 1, b, bbs, n, 1, cd, cbs, n);
                Gemm.BatchedMatmul(batch, m, n, k, af, abs, k, 1, bf, bbs, n, 1, cf, cbs, n);
                for (int t = 0; t < batch; t++)
                    for (int i = 0; i < m; i++)
                        for (int j = 0; j < n; j++)
                        {
                            double s = 0, mag = 0;
                            for (int p = 0; p < k; p++)
                            {
                                double v = a[t * abs + i * k + p] * b[t * bbs + p * n + j];
                                s += v; mag += Math.Abs(v);
                            }
                            Assert.True(Math.Abs(cd[t * cbs + i * n + j] - s) <= 1e-12 * (mag + 1e-3), $"double batch {t} ({i},{j})");
                            Assert.True(Math.Abs(cf[t * cbs + i * n + j] - s) <= 1e-5 * (mag + 1e-3), $"float batch {t} ({i},{j})");
                        }
            }
        }
    }

    [Fact]
    public void Validation_RejectsBadArguments()
    {
        var a = new float[12]; var b = new float[12]; var c = new float[9];
        Assert.ThrowsAny<ArgumentException>(() => Gemm.Matmul(-1, 3, 4, a, 4, 1, b, 3, 1, c, 3));
        Assert.ThrowsAny<ArgumentException>(() => Gemm.Matmul(3, 3, 4, a.AsSpan(0, 11), 4, 1, b, 3, 1, c, 3));
        Assert.ThrowsAny<ArgumentException>(() => Gemm.Matmul(3, 3, 4, a, 4, 1, b.AsSpan(1), 3, 1, c, 3));
        Assert.ThrowsAny<ArgumentException>(() => Gemm.Matmul(3, 3, 4, a, 4, 1, b, 3, 1, c.AsSpan(1), 3));
        Assert.ThrowsAny<ArgumentException>(() => Gemm.Matmul(3, 3, 4, a, 4, 1, b, 3, 1, c, 2));
        Assert.ThrowsAny<ArgumentException>(() => Gemm.Matmul(3, 3, 4, a, -4, 1, b, 3, 1, c, 3));
        Assert.ThrowsAny<ArgumentException>(() => Gemm.BatchedMatmul(2, 3, 3, 4, a, 0, 4, 1, b, 0, 3, 1, new float[18], 0, 3));
        Assert.ThrowsAny<ArgumentException>(() => Gemm.BatchedMatmul(2, 3, 3, 4, a, 1, 4, 1, b, 0, 3, 1, new float[18], 9, 3));
        // Exactly fitting spans are accepted.
        Gemm.BatchedMatmul(2, 3, 3, 4, a, 0, 4, 1, b, 0, 3, 1, new float[18], 9, 3);
    }
}
