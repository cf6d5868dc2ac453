namespace Nabla.Bench;

/// <summary>How a workload's result is shown.</summary>
public enum Unit
{
    /// <summary>Microseconds per iteration.</summary>
    MicrosPerIter,
    /// <summary>Microseconds per op: time per iteration divided by <see cref="Spec.Work"/> ops.</summary>
    MicrosPerOp,
    /// <summary>Milliseconds per iteration.</summary>
    Millis,
    /// <summary><see cref="Spec.Work"/> FLOPs per iteration, shown as GFLOP/s.</summary>
    GFlops,
    /// <summary><see cref="Spec.Work"/> bytes per iteration, shown as GB/s (10^9 bytes).</summary>
    GBps,
}

/// <summary>What bounds a workload from below on this machine.</summary>
public enum LimitKind
{
    None,
    /// <summary><see cref="Spec.LimitWork"/> FLOPs at the FMA peak of <see cref="Spec.Threads"/> cores.</summary>
    FmaPeak,
    /// <summary><see cref="Spec.LimitWork"/> bytes at the STREAM-style add bandwidth.</summary>
    StreamAdd,
    /// <summary><see cref="Spec.LimitWork"/> bytes at the read-only (sum) bandwidth.</summary>
    SumRead,
}

/// <summary>One row of the table: a workload, its parameters and its machine limit.</summary>
/// <param name="Id">W1, W1b, ... as in WORKLOADS.md; <c>--only</c> matches it.</param>
/// <param name="Label">Row label.</param>
/// <param name="Threads">Intra-op threads both libraries get for this row.</param>
/// <param name="Unit">How the time is shown.</param>
/// <param name="Work">Ops, FLOPs or bytes per iteration, by <paramref name="Unit"/>; 1 for plain times.</param>
/// <param name="Size">Workload parameter (matrix size for W4, batch for W6).</param>
/// <param name="Variant">Workload variant ("inplace" / "outofplace" for W5).</param>
/// <param name="Limit">What bounds it.</param>
/// <param name="LimitWork">FLOPs or bytes the limit is computed from.</param>
public sealed record Spec(string Id, string Label, int Threads, Unit Unit, double Work = 1, int Size = 0,
    string Variant = "", LimitKind Limit = LimitKind.None, double LimitWork = 0);

/// <summary>A set-up workload: <see cref="Step"/> is one timed iteration; <see cref="Cleanup"/> frees what set-up made.</summary>
public sealed class Case(Action step, Action? cleanup = null)
{
    public Action Step { get; } = step;
    public Action? Cleanup { get; } = cleanup;
}

/// <summary>The workloads of bench/WORKLOADS.md.</summary>
public static class Workloads
{
    /// <summary>16M float32 elements (64 MiB), the size of W5, W5b and W7.</summary>
    public const int Big = 16 * 1024 * 1024;

    /// <summary>All rows, in table order, for a run with <paramref name="threads"/> threads.</summary>
    public static List<Spec> All(int threads)
    {
        var rows = new List<Spec>
        {
            new("W1", "W1 tutorial step (µs/iter)", threads, Unit.MicrosPerIter),
            new("W1b", "W1b 100-op chain + backward (µs/op)", threads, Unit.MicrosPerOp, Work: 100),
            new("W2", "W2 tutorial MLP step (µs/iter)", threads, Unit.MicrosPerIter),
            new("W3", "W3 MLP 784-512-512-10 SGD step (ms)", threads, Unit.Millis,
                Limit: LimitKind.FmaPeak, LimitWork: W3Flops(128)),
        };
        var w4Threads = threads > 1 ? new[] { 1, threads } : new[] { 1 };
        foreach (int t in w4Threads)
            foreach (int n in new[] { 256, 512, 1024, 2048 })
                rows.Add(new("W4", $"W4 SGEMM n={n}, {t} thread{(t > 1 ? "s" : "")} (GFLOP/s)", t, Unit.GFlops,
                    Work: 2.0 * n * n * n, Size: n, Limit: LimitKind.FmaPeak, LimitWork: 2.0 * n * n * n));
        double gemm1024 = 2.0 * 1024 * 1024 * 1024;
        rows.Add(new("W4b", "W4b matmul 1024 fwd+bwd (ms)", threads, Unit.Millis, Size: 1024,
            Limit: LimitKind.FmaPeak, LimitWork: 3 * gemm1024));
        double addBytes = 3.0 * 4 * Big;
        rows.Add(new("W5", "W5 add 16M in place (GB/s)", threads, Unit.GBps, Work: addBytes, Variant: "inplace",
            Limit: LimitKind.StreamAdd, LimitWork: addBytes));
        rows.Add(new("W5", "W5 add 16M out of place (GB/s)", threads, Unit.GBps, Work: addBytes, Variant: "outofplace",
            Limit: LimitKind.StreamAdd, LimitWork: addBytes));
        rows.Add(new("W5b", "W5b (x*2+1).relu().sum() 16M (ms)", threads, Unit.Millis,
            Limit: LimitKind.SumRead, LimitWork: 4.0 * Big));
        rows.Add(new("W7", "W7 sum 16M (GB/s)", threads, Unit.GBps, Work: 4.0 * Big,
            Limit: LimitKind.SumRead, LimitWork: 4.0 * Big));
        foreach (int batch in new[] { 1, 16 })
            rows.Add(new("W6", $"W6 ResNet-18 3x64x64 batch {batch} fwd+bwd+SGD step (ms)", threads, Unit.Millis, Size: batch,
                Limit: LimitKind.FmaPeak, LimitWork: batch * ResNet18TrainFlops64));
        double conv = 2.0 * 16 * 64 * 32 * 32 * 64 * 9;
        rows.Add(new("W8", "W8 conv2d 3x3 64->64 (16,64,32,32) fwd+bwd (ms)", threads, Unit.Millis,
            Limit: LimitKind.FmaPeak, LimitWork: 3 * conv));
        return rows;
    }

    /// <summary>
    /// ResNet-18's training FLOPs per 3×64×64 image: 3 × the forward's 2·MACs (forward, input grads, weight grads;
    /// the first convolution needs no input grad, ignored here). Forward MACs at 64×64 are 1.82 G × (64/224)² = 0.149 G.
    /// </summary>
    const double ResNet18TrainFlops64 = 3 * 2 * 0.1487e9;

    /// <summary>
    /// W3's FLOPs: the forward GEMMs, the weight-gradient GEMMs, and the input-gradient GEMMs of the two upper layers
    /// (the first layer's input needs no gradient).
    /// </summary>
    static double W3Flops(int batch)
    {
        double fwd = 2.0 * batch * (784 * 512 + 512 * 512 + 512 * 10);
        double inputGrads = 2.0 * batch * (512 * 512 + 512 * 10);
        return fwd + fwd + inputGrads;
    }
}
