using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using Nabla.Kernels.Cpu;

namespace Nabla.Bench;

/// <summary>What the benchmark header says about the machine: CPU model, instruction sets, caches, GEMM set-up.</summary>
static class MachineInfo
{
    /// <summary>"AMD EPYC (AuthenticAMD family 26 model 2 stepping 1)" from /proc/cpuinfo, else CPUID, else the architecture.</summary>
    public static string CpuModel()
    {
        string? name = null, vendor = null, family = null, model = null, stepping = null, part = null, implementer = null;
        try
        {
            if (File.Exists("/proc/cpuinfo"))
                foreach (var line in File.ReadLines("/proc/cpuinfo"))
                {
                    int colon = line.IndexOf(':');
                    if (colon < 0) { if (name is not null || part is not null) break; continue; }
                    string key = line[..colon].Trim(), value = line[(colon + 1)..].Trim();
                    switch (key)
                    {
                        case "model name": name ??= value; break;
                        case "vendor_id": vendor ??= value; break;
                        case "cpu family": family ??= value; break;
                        case "model": model ??= value; break;
                        case "stepping": stepping ??= value; break;
                        case "CPU part": part ??= value; break;
                        case "CPU implementer": implementer ??= value; break;
                    }
                }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        if (vendor is null && X86Base.IsSupported)
        {
            var (_, b, c, d) = X86Base.CpuId(0, 0);
            Span<byte> v = stackalloc byte[12];
            BitConverter.TryWriteBytes(v, b); BitConverter.TryWriteBytes(v[4..], d); BitConverter.TryWriteBytes(v[8..], c);
            vendor = System.Text.Encoding.ASCII.GetString(v);
            int eax = X86Base.CpuId(1, 0).Eax;
            int fam = (eax >> 8) & 0xF, mod = (eax >> 4) & 0xF;
            if (fam == 0xF) fam += (eax >> 20) & 0xFF;
            if (fam >= 6) mod += ((eax >> 16) & 0xF) << 4;
            family = fam.ToString(CultureInfo.InvariantCulture);
            model = mod.ToString(CultureInfo.InvariantCulture);
            stepping = (eax & 0xF).ToString(CultureInfo.InvariantCulture);
        }
        string arch = RuntimeInformation.ProcessArchitecture.ToString();
        if (vendor is not null)
            return $"{name ?? "unknown model"} ({vendor} family {family} model {model} stepping {stepping})";
        if (part is not null)
            return $"{name ?? arch} (implementer {implementer}, part {part})";
        return name ?? arch;
    }

    /// <summary>The instruction sets the runtime accelerates, as the .NET intrinsics report them.</summary>
    public static string InstructionSets()
    {
        var l = new List<string>();
        void Add(bool on, string n) { if (on) l.Add(n); }
        Add(Sse42.IsSupported, "Sse42");
        Add(Avx.IsSupported, "Avx");
        Add(Avx2.IsSupported, "Avx2");
        Add(Fma.IsSupported, "Fma");
        Add(Avx512F.IsSupported, "Avx512F");
        Add(Avx512BW.IsSupported, "Avx512BW");
        Add(Avx512DQ.IsSupported, "Avx512DQ");
        Add(Avx512Vbmi.IsSupported, "Avx512Vbmi");
        Add(Avx10v1.IsSupported, "Avx10v1");
        Add(AdvSimd.IsSupported, "AdvSimd");
        Add(AdvSimd.Arm64.IsSupported, "AdvSimd.Arm64");
        string isas = l.Count == 0 ? "none" : string.Join(", ", l);
        return $"{isas}; Vector512 {Acc(Vector512.IsHardwareAccelerated)}, Vector256 {Acc(Vector256.IsHardwareAccelerated)}, " +
            $"Vector128 {Acc(Vector128.IsHardwareAccelerated)}, Vector<float>.Count {System.Numerics.Vector<float>.Count}";
        static string Acc(bool b) => b ? "accelerated" : "not accelerated";
    }

    /// <summary>Cache sizes as Nabla's kernels read them (sysfs, CPUID or defaults).</summary>
    public static string Caches() => CpuCaches.Describe();

    /// <summary>The GEMM microkernel path and the block sizes derived for it.</summary>
    public static string GemmConfig()
    {
        var f = Gemm.Blocks(Gemm.BestIsa, 4);
        var d = Gemm.Blocks(Gemm.BestIsa, 8);
        return $"{Gemm.BestIsa} microkernel, float KC={f.Kc} MC={f.Mc} NC={f.Nc}, double KC={d.Kc} MC={d.Mc} NC={d.Nc}";
    }

    /// <summary>Runs this benchmark again in a child process with AVX-512 switched off; returns its exit code.</summary>
    public static int RerunWithoutAvx512(string[] args)
    {
        string exe = Environment.ProcessPath ?? "dotnet";
        var psi = new ProcessStartInfo(exe) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(exe) == "dotnet")
            psi.ArgumentList.Add(typeof(MachineInfo).Assembly.Location);
        foreach (var a in args) psi.ArgumentList.Add(a);
        // .NET 10 reads DOTNET_EnableAVX512 (one switch for the AVX-512 family); DOTNET_EnableAVX512F is the older name.
        psi.Environment["DOTNET_EnableAVX512"] = "0";
        psi.Environment["DOTNET_EnableAVX512F"] = "0";
        using var p = Process.Start(psi)!;
        p.WaitForExit();
        return p.ExitCode;
    }
}
