using Nabla.Kernels.Cpu;
using Xunit;

namespace Nabla.Tests.Kernels;

/// <summary>Kernel drivers against scalar references for every length 0..256, so every vector tail runs.</summary>
public class ElementwiseKernelTests
{
    static float[] Values(int n, int seed)
    {
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = MathF.Sin(i * 0.37f + seed) * 10 - (i % 7);
        return v;
    }

    [Fact]
    public void Binary_kernels_match_scalar_reference_for_all_tail_lengths()
    {
        for (int n = 0; n <= 256; n++)
        {
            var x = Values(n, 1);
            var y = Values(n, 2);
            for (int i = 0; i < n; i++) if (y[i] == 0) y[i] = 1;
            var d = new float[n];
            Elementwise.Binary<float, AddOp<float>>(x, y, d);
            for (int i = 0; i < n; i++) Assert.Equal(x[i] + y[i], d[i]);
            Elementwise.Binary<float, MulOp<float>>(x, y, d);
            for (int i = 0; i < n; i++) Assert.Equal(x[i] * y[i], d[i]);
            Elementwise.Binary<float, DivOp<float>>(x, y, d);
            for (int i = 0; i < n; i++) Assert.Equal(x[i] / y[i], d[i]);
            Elementwise.BinaryScalarRight<float, SubOp<float>>(x, 1.5f, d);
            for (int i = 0; i < n; i++) Assert.Equal(x[i] - 1.5f, d[i]);
            Elementwise.BinaryScalarLeft<float, SubOp<float>>(1.5f, x, d);
            for (int i = 0; i < n; i++) Assert.Equal(1.5f - x[i], d[i]);
        }
    }

    [Fact]
    public void Integer_and_double_kernels_match_for_all_tail_lengths()
    {
        for (int n = 0; n <= 256; n++)
        {
            var xl = new long[n]; var yl = new long[n]; var dl = new long[n];
            var xd = new double[n]; var dd = new double[n];
            for (int i = 0; i < n; i++) { xl[i] = i * 3 - 100; yl[i] = 7 - i; xd[i] = Math.Cos(i) * 5; }
            Elementwise.Binary<long, MulOp<long>>(xl, yl, dl);
            for (int i = 0; i < n; i++) Assert.Equal(xl[i] * yl[i], dl[i]);
            Elementwise.Unary<double, NegOp<double>>(xd, dd);
            for (int i = 0; i < n; i++) Assert.Equal(-xd[i], dd[i]);
            Elementwise.Unary<double, ReluOp<double>>(xd, dd);
            for (int i = 0; i < n; i++) Assert.Equal(Math.Max(xd[i], 0), dd[i]);
            Elementwise.Unary<double, AbsOp<double>>(xd, dd);
            for (int i = 0; i < n; i++) Assert.Equal(Math.Abs(xd[i]), dd[i]);
        }
    }

    [Fact]
    public void Sums_match_double_reference_for_all_tail_lengths()
    {
        for (int n = 0; n <= 256; n++)
        {
            var x = Values(n, 3);
            double reference = 0;
            foreach (var v in x) reference += v;
            Assert.Equal(reference, Reduction.PairwiseSum(x), 1e-3);
            var rows = new float[3];
            var block = Values(3 * n, 4);
            Reduction.SumMiddle(block, rows, 3, n, 1);
            for (int r = 0; r < 3; r++)
            {
                double s = 0;
                for (int i = 0; i < n; i++) s += block[r * n + i];
                Assert.Equal(s, rows[r], 1e-3);
            }
        }
    }

    [Fact]
    public void Long_float32_sum_stays_accurate()
    {
        // Note [Float32 summation]: 16M ones plus 0.1s would lose whole units with naive float32 accumulation.
        var x = new float[1 << 22];
        Array.Fill(x, 0.1f);
        double reference = (1 << 22) * (double)0.1f;
        Assert.Equal(reference, Reduction.PairwiseSum(x), reference * 1e-6);
    }

    [Fact]
    public void Parallel_float32_sum_does_not_depend_on_thread_count()
    {
        var x = new float[(130 << 10) + 77];   // 130 blocks of 1024 plus a tail: groups do not divide evenly
        for (int i = 0; i < x.Length; i++) x[i] = MathF.Sin(i) * 3;
        int saved = ParallelFor.NumThreads;
        try
        {
            var sums = new float[4];
            for (int t = 1; t <= 4; t++) { ParallelFor.NumThreads = t; sums[t - 1] = Reduction.PairwiseSum(x); }
            double reference = 0;
            foreach (var v in x) reference += v;
            Assert.Equal(reference, sums[0], 1e-2);
            Assert.Equal(sums[1], sums[2]);
            Assert.Equal(sums[1], sums[3]);
        }
        finally { ParallelFor.NumThreads = saved; }
    }

    [Fact]
    public void Strided_walk_matches_tensor_semantics_for_broadcast_and_transposed_views()
    {
        for (int n = 1; n <= 40; n++)
        {
            var a = torch.arange(n * 3).reshape(3, n).to(ScalarType.Float32);
            var b = torch.arange(n).to(ScalarType.Float32);
            var sum = a.t() + b.unsqueeze(1);  // transposed (n,3) plus broadcast column
            var values = sum.ToArray<float>();
            for (int i = 0; i < n; i++)
                for (int j = 0; j < 3; j++)
                    Assert.Equal(j * n + i + i, values[i * 3 + j]);
        }
    }
}
