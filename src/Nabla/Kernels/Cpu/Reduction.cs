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

    // Note [Float32 summation]: float32 sums are accumulated in blocks of 1024 with SIMD partial sums (themselves
    // 16-lane accumulators), then the block sums are added pairwise, so the error grows like log(n) rather than n.
    internal const int Block = 1024;

    public static unsafe float PairwiseSum(ReadOnlySpan<float> x)
    {
        if (x.Length <= Block) return TensorPrimitives.Sum(x);
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
        if (x.Length <= Block) return TensorPrimitives.Sum(x);
        int half = (x.Length / 2 + Block - 1) / Block * Block;
        return PairwiseSequential(x[..half]) + PairwiseSequential(x[half..]);
    }
}
