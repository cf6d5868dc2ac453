namespace Nabla.Kernels.Cpu;

/// <summary>A body run over a sub-range [begin, end) of a parallel loop.</summary>
internal interface IRangeBody
{
    void Invoke(int begin, int end);
}

/// <summary>
/// Splits [0, count) into chunks of at least <c>grain</c> iterations and runs them on up to
/// <see cref="NumThreads"/> threads. Below two grains the body runs inline on the caller's thread,
/// so tiny tensors pay nothing for the machinery.
/// </summary>
internal static class ParallelFor
{
    static int _numThreads = Environment.ProcessorCount;

    /// <summary>Threads used by intra-op parallel loops (<c>torch.set_num_threads</c>).</summary>
    public static int NumThreads
    {
        get => _numThreads;
        set => _numThreads = Math.Max(1, value);
    }

    /// <summary>Runs <paramref name="body"/> over [0, count) in parallel chunks.</summary>
    public static void For<TBody>(int count, int grain, TBody body) where TBody : struct, IRangeBody
    {
        if (count <= 0) return;
        int threads = NumThreads;
        grain = Math.Max(1, grain);
        int chunks = Math.Min(threads, (count + grain - 1) / grain);
        if (chunks <= 1)
        {
            body.Invoke(0, count);
            return;
        }
        int per = (count + chunks - 1) / chunks;
        System.Threading.Tasks.Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = threads }, c =>
        {
            int begin = c * per;
            int end = Math.Min(count, begin + per);
            if (begin < end) body.Invoke(begin, end);
        });
    }
}
