using System.Runtime.Intrinsics;
using System.Numerics.Tensors;

namespace Nabla.Kernels.Cpu;

/// <summary>
/// Sums over the middle axis of a contiguous (outer, reduce, inner) block: inner == 1 reduces rows with SIMD
/// sums, otherwise whole inner rows are added with SIMD adds (the bias-gradient case).
/// </summary>
internal static class Reduction
{
    public static void SumMiddle(ReadOnlySpan<float> src, Span<float> dst, int outer, int reduce, int inner)
    {
        if (src.Length < (long)outer * reduce * inner || dst.Length < (long)outer * inner) throw new ArgumentException("span too short");
        if (inner == 1)
        {
            for (int o = 0; o < outer; o++) dst[o] = PairwiseSum(src.Slice(o * reduce, reduce));
            return;
        }
        for (int o = 0; o < outer; o++)
        {
            var acc = dst.Slice(o * inner, inner);
            acc.Clear();
            for (int r = 0; r < reduce; r++) TensorPrimitives.Add(acc, src.Slice((o * reduce + r) * inner, inner), acc);
        }
    }

    public static void SumMiddle(ReadOnlySpan<double> src, Span<double> dst, int outer, int reduce, int inner)
    {
        if (src.Length < (long)outer * reduce * inner || dst.Length < (long)outer * inner) throw new ArgumentException("span too short");
        if (inner == 1)
        {
            for (int o = 0; o < outer; o++) dst[o] = TensorPrimitives.Sum(src.Slice(o * reduce, reduce));
            return;
        }
        for (int o = 0; o < outer; o++)
        {
            var acc = dst.Slice(o * inner, inner);
            acc.Clear();
            for (int r = 0; r < reduce; r++) TensorPrimitives.Add(acc, src.Slice((o * reduce + r) * inner, inner), acc);
        }
    }

    public static void SumMiddle(ReadOnlySpan<long> src, Span<long> dst, int outer, int reduce, int inner)
    {
        if (src.Length < (long)outer * reduce * inner || dst.Length < (long)outer * inner) throw new ArgumentException("span too short");
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                long s = 0;
                for (int r = 0; r < reduce; r++) s += src[(o * reduce + r) * inner + i];
                dst[o * inner + i] = s;
            }
    }

    // Note [Float32 summation]: float32 sums are accumulated in blocks of 1024 with SIMD partial sums (LeafSum), then
    // the block sums are added pairwise, so the error grows like log(n) rather than n. With Vector256 or Vector512
    // the leaf is TensorPrimitives.Sum (8- or 16-lane accumulators). With only Vector128 (ARM64 NEON, x86 without
    // AVX2) or no SIMD, TensorPrimitives.Sum degrades to 4 lanes or one sequential float chain per block (4M x 0.1f
    // was off by 1e-5 relative), so the leaf uses 64 lane partial sums instead: sixteen Vector128 or 64 scalars, lane
    // j summing x[64q + j] in order, then one fixed pairwise tree, so those two paths agree bit for bit.
    // LazyFusion's fused sum mirrors the leaf and must call LeafSum to stay exact on such machines.
    internal const int Block = 1024;

    /// <summary>Lanes of <see cref="LeafSum"/> without Vector256.</summary>
    const int Lanes = 64;

    /// <summary>The sum of at most a few blocks (Note [Float32 summation]).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    [System.Runtime.CompilerServices.SkipLocalsInit]
    internal static unsafe float LeafSum(ReadOnlySpan<float> x)
    {
        if (Vector256.IsHardwareAccelerated) return TensorPrimitives.Sum(x);
        float* acc = stackalloc float[Lanes];
        int n = x.Length, i = 0;
        fixed (float* p = x)
        {
            if (Vector128.IsHardwareAccelerated)
            {
                for (int j = 0; j < Lanes; j += 16)
                {
                    // Four 128-bit chains at a time (16 lanes), four passes over the block's columns.
                    Vector128<float> a0 = default, a1 = default, a2 = default, a3 = default;
                    for (int q = 0; q + Lanes <= n; q += Lanes)
                    {
                        float* r = p + q + j;
                        a0 += Vector128.Load(r); a1 += Vector128.Load(r + 4); a2 += Vector128.Load(r + 8); a3 += Vector128.Load(r + 12);
                    }
                    a0.Store(acc + j); a1.Store(acc + j + 4); a2.Store(acc + j + 8); a3.Store(acc + j + 12);
                }
                i = n / Lanes * Lanes;
            }
            else
            {
                for (int j = 0; j < Lanes; j++) acc[j] = 0;
                for (; i + Lanes <= n; i += Lanes)
                    for (int j = 0; j < Lanes; j++) acc[j] += p[i + j];
            }
            for (int j = 0; i < n; i++, j++) acc[j] += p[i];
        }
        for (int w = Lanes / 2; w >= 1; w /= 2)
            for (int j = 0; j < w; j++) acc[j] += acc[j + w];
        return acc[0];
    }

    public static unsafe float PairwiseSum(ReadOnlySpan<float> x)
    {
        if (x.Length <= Block) return LeafSum(x);
        int blocks = x.Length / Block;
        if (blocks >= 2 * ParallelGrainBlocks && ParallelFor.NumThreads > 1)
        {
            // Large sums: the blocks are cut into fixed groups of ParallelGrainBlocks; threads take whole groups and
            // each group's pairwise sum lands in its own slot, so the result does not depend on the thread count.
            int groups = (blocks + ParallelGrainBlocks - 1) / ParallelGrainBlocks;
            var partial = new double[groups];
            fixed (float* p = x)
                ParallelFor.For(groups, 1, new SumBody { X = p, Partial = partial, Blocks = blocks });
            double total = 0;
            foreach (double v in partial) total += v;
            return (float)(total + PairwiseSequential(x[(blocks * Block)..]));
        }
        return PairwiseSequential(x);
    }

    internal const int ParallelGrainBlocks = 64;

    unsafe struct SumBody : IRangeBody
    {
        public float* X;
        public double[] Partial;
        public int Blocks;

        public void Invoke(int begin, int end)
        {
            for (int g = begin; g < end; g++)
            {
                int first = g * ParallelGrainBlocks;
                int count = Math.Min(ParallelGrainBlocks, Blocks - first);
                Partial[g] = PairwiseSequential(new ReadOnlySpan<float>(X + (long)first * Block, count * Block));
            }
        }
    }

    static float PairwiseSequential(ReadOnlySpan<float> x)
    {
        if (x.Length <= Block) return LeafSum(x);
        int half = (x.Length / 2 + Block - 1) / Block * Block;
        return PairwiseSequential(x[..half]) + PairwiseSequential(x[half..]);
    }
}
