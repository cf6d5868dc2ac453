using System.Globalization;
using System.Runtime.Intrinsics.X86;

namespace Nabla.Kernels.Cpu;

/// <summary>
/// Data-cache sizes of the machine, read once at start-up: the Linux cache topology files first
/// (<c>/sys/devices/system/cpu/cpu0/cache/index*/{level,type,size,shared_cpu_list}</c>), then CPUID (leaf 4 on
/// Intel, leaf 0x8000001D and the legacy leaves 0x80000005/6 on AMD), then defaults typical of a current server core.
/// </summary>
/// <remarks>
/// Note [Cache sizes from the machine]: the GEMM block sizes (<see cref="GemmBlocking"/>) come from these numbers, so a
/// build tuned on one CPU is not tuned only for it. Virtual machines hide part of the topology (the VM this was
/// written on has no sysfs cache directory and zeroes CPUID 0x8000001D, but answers the legacy AMD leaves), so every
/// source is sanity-checked and the first plausible one wins, level by level. L3 is shared; <see cref="L3PerCore"/>
/// divides it by the logical CPUs sharing it when the source says, else by the machine's logical CPU count.
/// </remarks>
internal static class CpuCaches
{
    /// <summary>Level-1 data cache per core, in bytes.</summary>
    internal static readonly long L1;

    /// <summary>Level-2 (unified) cache per core, in bytes.</summary>
    internal static readonly long L2;

    /// <summary>Level-3 cache (whole, shared), in bytes; 0 when the machine reports none.</summary>
    internal static readonly long L3;

    /// <summary>The share of L3 one core can count on, in bytes.</summary>
    internal static readonly long L3PerCore;

    /// <summary>Where each number came from ("sysfs", "cpuid", "default"), for the benchmark header.</summary>
    internal static readonly string Source;

    const long DefaultL1 = 32 * 1024, DefaultL2 = 1024 * 1024, DefaultL3PerCore = 2 * 1024 * 1024;

    static CpuCaches()
    {
        long l1 = 0, l2 = 0, l3 = 0; int l3Share = 0;
        string s1 = "default", s2 = "default", s3 = "default";
        try { ReadSysfs(ref l1, ref l2, ref l3, ref l3Share, ref s1, ref s2, ref s3); } catch (Exception) { /* next source */ }
        try { ReadCpuid(ref l1, ref l2, ref l3, ref l3Share, ref s1, ref s2, ref s3); } catch (Exception) { /* defaults */ }
        if (!Plausible(l1, 8 << 10, 1 << 20)) { l1 = DefaultL1; s1 = "default"; }
        if (!Plausible(l2, 128 << 10, 64 << 20)) { l2 = DefaultL2; s2 = "default"; }
        if (!Plausible(l3, 1 << 20, 2048L << 20)) { l3 = 0; s3 = "default"; }
        L1 = l1; L2 = l2; L3 = l3;
        int share = l3Share > 0 ? l3Share : Math.Max(1, Environment.ProcessorCount);
        L3PerCore = l3 > 0 ? Math.Max(l2, l3 / share) : DefaultL3PerCore;
        Source = $"L1 {s1}, L2 {s2}, L3 {s3}";
    }

    static bool Plausible(long bytes, long lo, long hi) => bytes >= lo && bytes <= hi;

    /// <summary>One line for logs: "L1d 48 KiB, L2 1024 KiB, L3 32768 KiB (4096 KiB per core); from ...".</summary>
    internal static string Describe() =>
        $"L1d {L1 >> 10} KiB, L2 {L2 >> 10} KiB, L3 {(L3 > 0 ? (L3 >> 10) + " KiB" : "none reported")} ({L3PerCore >> 10} KiB per core); from {Source}";

    static void ReadSysfs(ref long l1, ref long l2, ref long l3, ref int l3Share, ref string s1, ref string s2, ref string s3)
    {
        const string root = "/sys/devices/system/cpu/cpu0/cache";
        if (!Directory.Exists(root)) return;
        foreach (var dir in Directory.GetDirectories(root, "index*"))
        {
            string level = ReadText(Path.Combine(dir, "level")), type = ReadText(Path.Combine(dir, "type"));
            long size = ParseSize(ReadText(Path.Combine(dir, "size")));
            if (size <= 0 || type == "Instruction") continue;
            switch (level)
            {
                case "1" when type == "Data": l1 = size; s1 = "sysfs"; break;
                case "2": l2 = size; s2 = "sysfs"; break;
                case "3":
                    l3 = size; s3 = "sysfs";
                    l3Share = CountCpus(ReadText(Path.Combine(dir, "shared_cpu_list")));
                    break;
            }
        }
    }

    static string ReadText(string path) => File.Exists(path) ? File.ReadAllText(path).Trim() : "";

    /// <summary>"48K", "1024K", "32M" or plain bytes.</summary>
    internal static long ParseSize(string s)
    {
        if (s.Length == 0) return 0;
        long mult = char.ToUpperInvariant(s[^1]) switch { 'K' => 1024, 'M' => 1024 * 1024, 'G' => 1024L * 1024 * 1024, _ => 1 };
        string digits = mult == 1 ? s : s[..^1];
        return long.TryParse(digits, NumberStyles.Integer, CultureInfo.InvariantCulture, out long v) ? v * mult : 0;
    }

    /// <summary>Number of CPUs in a list such as "0-7,16-23".</summary>
    internal static int CountCpus(string list)
    {
        int count = 0;
        foreach (var part in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var ends = part.Split('-');
            if (ends.Length == 2 && int.TryParse(ends[0], CultureInfo.InvariantCulture, out int a) && int.TryParse(ends[1], CultureInfo.InvariantCulture, out int b))
                count += Math.Max(0, b - a + 1);
            else if (int.TryParse(part, CultureInfo.InvariantCulture, out _))
                count++;
        }
        return count;
    }

    static void ReadCpuid(ref long l1, ref long l2, ref long l3, ref int l3Share, ref string s1, ref string s2, ref string s3)
    {
        if (!X86Base.IsSupported) return;
        var (maxLeaf, vb, vc, vd) = X86Base.CpuId(0, 0);
        bool amd = vb == 0x68747541; // "Auth"enticAMD
        bool intel = vb == 0x756E6547; // "Genu"ineIntel
        uint maxExt = (uint)X86Base.CpuId(unchecked((int)0x80000000), 0).Eax;
        // Deterministic cache parameters: Intel leaf 4, AMD leaf 0x8000001D (same layout).
        int detLeaf = intel && maxLeaf >= 4 ? 4 : amd && maxExt >= 0x8000001D ? unchecked((int)0x8000001D) : 0;
        if (detLeaf != 0)
        {
            for (int i = 0; i < 16; i++)
            {
                var (a, b, c, _) = X86Base.CpuId(detLeaf, i);
                int type = a & 0x1F;                       // 1 data, 2 instruction, 3 unified, 0 end
                if (type == 0) break;
                if (type == 2) continue;
                int level = (a >> 5) & 0x7;
                long ways = ((b >> 22) & 0x3FF) + 1, parts = ((b >> 12) & 0x3FF) + 1, line = (b & 0xFFF) + 1, sets = (long)(uint)c + 1;
                long size = ways * parts * line * sets;
                int sharing = ((a >> 14) & 0xFFF) + 1;
                if (level == 1 && l1 == 0) { l1 = size; s1 = "cpuid"; }
                else if (level == 2 && l2 == 0) { l2 = size; s2 = "cpuid"; }
                else if (level == 3 && l3 == 0) { l3 = size; s3 = "cpuid"; l3Share = sharing; }
            }
        }
        if (amd && maxExt >= 0x80000006)
        {
            // Legacy AMD leaves: L1d KiB in 0x80000005 ECX[31:24]; L2 KiB in 0x80000006 ECX[31:16]; L3 in 512 KiB units
            // in EDX[31:18].
            if (l1 == 0 && maxExt >= 0x80000005)
            {
                long kb = (uint)X86Base.CpuId(unchecked((int)0x80000005), 0).Ecx >> 24;
                if (kb > 0) { l1 = kb * 1024; s1 = "cpuid"; }
            }
            var (_, _, ec, ed) = X86Base.CpuId(unchecked((int)0x80000006), 0);
            if (l2 == 0 && ((uint)ec >> 16) > 0) { l2 = (long)((uint)ec >> 16) * 1024; s2 = "cpuid"; }
            if (l3 == 0 && ((uint)ed >> 18) > 0) { l3 = (long)((uint)ed >> 18) * 512 * 1024; s3 = "cpuid"; }
        }
    }
}
