using Nabla.Backends;

namespace Nabla;

public static partial class torch
{
    /// <summary>Sets the number of threads used by intra-op parallel loops (GEMM, large elementwise ops).</summary>
    public static void set_num_threads(int num) => Backend.Default.IntraOpThreads = num;

    /// <summary>The number of threads used by intra-op parallel loops.</summary>
    public static int get_num_threads() => Backend.Default.IntraOpThreads;
}
