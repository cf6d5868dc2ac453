using Nabla.Kernels.Cpu;
using Xunit;

namespace Nabla.Tests.Kernels;

public class ParallelForTests
{
    sealed class Counts(int n)
    {
        public readonly int[] Hits = new int[n];
    }

    struct MarkBody(Counts counts) : IRangeBody
    {
        public void Invoke(int begin, int end)
        {
            for (int i = begin; i < end; i++) Interlocked.Increment(ref counts.Hits[i]);
        }
    }

    struct NestedBody(Counts counts, int inner) : IRangeBody
    {
        public void Invoke(int begin, int end)
        {
            for (int i = begin; i < end; i++)
                ParallelFor.For(inner, 1, new MarkBody(counts));
        }
    }

    struct ThrowBody : IRangeBody
    {
        public void Invoke(int begin, int end)
        {
            if (end > 0) throw new InvalidOperationException("boom");
        }
    }

    [Fact]
    public void EveryIndexRunsExactlyOnce()
    {
        foreach (int count in new[] { 1, 2, 3, 7, 64, 1000 })
            foreach (int grain in new[] { 1, 3, 100 })
                for (int rep = 0; rep < 20; rep++)
                {
                    var counts = new Counts(count);
                    ParallelFor.For(count, grain, new MarkBody(counts));
                    Assert.All(counts.Hits, h => Assert.Equal(1, h));
                }
    }

    [Fact]
    public void NestedAndConcurrentCallsComplete()
    {
        var counts = new Counts(50);
        ParallelFor.For(8, 1, new NestedBody(counts, 50));
        Assert.All(counts.Hits, h => Assert.Equal(8, h));

        var results = new Counts[4];
        var threads = new Thread[4];
        for (int t = 0; t < threads.Length; t++)
        {
            var mine = results[t] = new Counts(300);
            threads[t] = new Thread(() =>
            {
                for (int rep = 0; rep < 50; rep++) ParallelFor.For(300, 1, new MarkBody(mine));
            });
            threads[t].Start();
        }
        foreach (var th in threads) th.Join();
        foreach (var r in results) Assert.All(r.Hits, h => Assert.Equal(50, h));
    }

    [Fact]
    public void BodyExceptionReachesCaller()
    {
        if (ParallelFor.NumThreads < 2) return;
        Assert.Throws<InvalidOperationException>(() => ParallelFor.For(16, 1, new ThrowBody()));
        // The dispatcher keeps working afterwards.
        var counts = new Counts(16);
        ParallelFor.For(16, 1, new MarkBody(counts));
        Assert.All(counts.Hits, h => Assert.Equal(1, h));
    }
}
