namespace Nabla.Kernels.Cpu;

/// <summary>
/// GEMM block sizes (KC, MC, NC) for one microkernel path and element size, derived from the cache sizes the machine
/// reports (<see cref="CpuCaches"/>).
/// </summary>
/// <remarks>
/// Note [GEMM blocks from the caches]: the loop nest (Gemm.ComputeBody.Run) keeps one packed B micro-panel
/// (KC x NR) in L1 while the microkernel sweeps every A micro-panel (MR x KC) of the packed A block, which streams
/// from L2; the packed B block (KC x NC) is reread from L3 once per A block. So, with s the element size:
/// <list type="bullet">
/// <item>KC: the B micro-panel plus two A micro-panels in flight take <see cref="L1Fraction"/> of L1:
/// <c>KC * (NR + 2 MR) * s &lt;= L1Fraction * L1</c>. NR * s is two vectors for every vector path, so KC depends
/// only on L1 and the vector width (Zen 5 / Ice Lake, 48 KiB L1, AVX-512: 208; 32 KiB L1, AVX2: 216).</item>
/// <item>MC: the packed A block takes <see cref="L2Fraction"/> of L2 (the rest holds the B micro-panels on their way
/// in and C): <c>MC * KC * s &lt;= L2Fraction * L2</c>, a multiple of MR.</item>
/// <item>NC: the packed B block takes half of this core's share of L3, at most <see cref="MaxNc"/> columns.</item>
/// </list>
/// The fractions were checked with bench/GemmProbe on the one machine this was written on (AMD Zen 5); what they
/// encode is the usual analytic BLIS model, not that machine's numbers. Gemm.KC/MC/NC override them for probing.
/// </remarks>
internal static class GemmBlocking
{
    /// <summary>Share of L1 for one B micro-panel and two A micro-panels.</summary>
    internal const double L1Fraction = 0.75;

    /// <summary>Share of L2 for the packed A block.</summary>
    internal const double L2Fraction = 0.5;

    /// <summary>Upper bound for NC (more only grows the scratch; the A block is repacked once per NC columns).</summary>
    internal const int MaxNc = 4096;

    /// <summary>Block sizes for a microkernel tile of <paramref name="mr"/> x <paramref name="nr"/> elements of
    /// <paramref name="elemSize"/> bytes, given these cache sizes.</summary>
    internal static (int Kc, int Mc, int Nc) Derive(int mr, int nr, int elemSize, long l1, long l2, long l3PerCore)
    {
        long kc = (long)(L1Fraction * l1) / ((long)(nr + 2 * mr) * elemSize);
        kc = Math.Clamp(kc / 8 * 8, 64, 1024);
        long mc = (long)(L2Fraction * l2) / (kc * elemSize);
        mc = Math.Clamp(mc / mr * mr, mr, 1020 / mr * mr);
        long nc = l3PerCore / 2 / (kc * elemSize);
        nc = Math.Clamp(nc / nr * nr, Math.Min(MaxNc, 8L * nr), MaxNc / nr * nr);
        return ((int)kc, (int)mc, (int)nc);
    }

    /// <summary>Block sizes on this machine for a tile of <paramref name="mr"/> x <paramref name="nr"/>.</summary>
    internal static (int Kc, int Mc, int Nc) ForThisMachine(int mr, int nr, int elemSize)
        => Derive(mr, nr, elemSize, CpuCaches.L1, CpuCaches.L2, CpuCaches.L3PerCore);
}
