using Xunit;
using System.Text.RegularExpressions;

namespace Nabla.Tests;

// The backend wall (Note [The backend wall] in src/Nabla/Backends/Backend.cs), enforced on the source tree:
// 1. Outside Backends/ and Kernels/, no file touches CPU element memory or CPU kernels.
// 2. Tensors/ does not import the floors above it (Ops, NN) or the kernels, and uses Autograd only for the
//    Tensor <-> Node tie. The public forwarding members (Tensor methods and torch.* functions that call op families)
//    live in Facade/, which may import anything.
// 3. Kernels/ see no tensors or autograd and hold none of the torch/Tensor facade.
// 4. Ops/ does not reach up into NN (torch.nn, nn.Reduction: losses take the op-level LossReduction).
// Files that do not follow a rule yet are listed below with the reason; the test fails when a listed file becomes
// clean (so the list only shrinks) and when any unlisted file breaks a rule.
public class ArchitectureTests
{
    static readonly Regex CpuMemory = new(
        @"Nabla\.Kernels\.Cpu|Nabla\.Backends\.Cpu|\bKernels\.Cpu\.|\bCpuStorage\b|\bCpuBackend\b|\.Contiguous<|\.StorageSpan<|\bBufferPool\b|\bLazyFusion\b",
        RegexOptions.Compiled);

    // Files outside Backends/ and Kernels/ still touching CPU memory, with the reason (empty: the wall is whole).
    static readonly Dictionary<string, string> CpuMemoryDebt = new();

    static readonly Regex UpwardFromTensors = new(
        @"^\s*using\s+(static\s+)?Nabla\.(Ops|NN|Kernels|Optim|Vision)\b|\bNabla\.(Ops|NN|Kernels)\.|(?<![\w.])(Ops|Kernels)\.[A-Z]",
        RegexOptions.Compiled | RegexOptions.Multiline);

    // Tensors/ files that still forward to op families or record history themselves.
    static readonly Dictionary<string, string> TensorsDebt = new()
    {
        ["Tensors/Tensor.Inplace.cs"] = "in-place ops record history here (to move into an Ops family)",
    };

    static readonly HashSet<string> AutogradTie = new() { "Tensors/Tensor.cs", "Tensors/Tensor.Autograd.cs", "Tensors/Tensor.Printing.cs" };

    static readonly Regex AutogradUse = new(@"^\s*using\s+Nabla\.Autograd\b|\bAutograd\.[A-Z]", RegexOptions.Compiled | RegexOptions.Multiline);

    static string SourceRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Nabla.sln"))) dir = dir.Parent;
        Assert.NotNull(dir);
        return Path.Combine(dir!.FullName, "src", "Nabla");
    }

    static IEnumerable<(string Rel, string Text)> Sources()
    {
        string root = SourceRoot();
        foreach (var path in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories))
        {
            string rel = Path.GetRelativePath(root, path).Replace('\\', '/');
            if (rel.StartsWith("obj/") || rel.StartsWith("bin/")) continue;
            yield return (rel, StripComments(File.ReadAllText(path)));
        }
    }

    /// <summary>The code without comments (Notes and XML docs may name anything).</summary>
    static string StripComments(string text) => Regex.Replace(text, @"//[^\n]*|/\*.*?\*/", "", RegexOptions.Singleline);

    [Fact]
    public void NoCpuMemoryAccessOutsideBackendsAndKernels()
    {
        var offenders = new List<string>();
        var cleaned = new List<string>();
        foreach (var (rel, text) in Sources())
        {
            if (rel.StartsWith("Backends/") || rel.StartsWith("Kernels/")) continue;
            var m = CpuMemory.Match(text);
            if (m.Success && !CpuMemoryDebt.ContainsKey(rel)) offenders.Add($"{rel}: {m.Value}");
            if (!m.Success && CpuMemoryDebt.ContainsKey(rel)) cleaned.Add(rel);
        }
        Assert.True(offenders.Count == 0, "CPU memory or kernels used outside Backends/ and Kernels/:\n" + string.Join("\n", offenders));
        Assert.True(cleaned.Count == 0, "now behind the wall, remove from CpuMemoryDebt:\n" + string.Join("\n", cleaned));
    }

    [Fact]
    public void TensorsImportsOnlyDownward()
    {
        var offenders = new List<string>();
        var cleaned = new List<string>();
        foreach (var (rel, text) in Sources())
        {
            if (!rel.StartsWith("Tensors/")) continue;
            var up = UpwardFromTensors.Match(text);
            var autograd = AutogradTie.Contains(rel) ? Match.Empty : AutogradUse.Match(text);
            bool bad = up.Success || autograd.Success;
            if (bad && !TensorsDebt.ContainsKey(rel))
                offenders.Add($"{rel}: {(up.Success ? up.Value : autograd.Value).Trim()}");
            if (!bad && TensorsDebt.ContainsKey(rel)) cleaned.Add(rel);
        }
        Assert.True(offenders.Count == 0, "Tensors/ reaches upward:\n" + string.Join("\n", offenders));
        Assert.True(cleaned.Count == 0, "now clean, remove from TensorsDebt:\n" + string.Join("\n", cleaned));
    }

    [Fact]
    public void KernelsSeeNoTensorsOrAutograd()
    {
        var offenders = new List<string>();
        var tensorUse = new Regex(@"\b(Tensor|Node|GradMode|Operand|Storage)\b(?!Primitives)");
        foreach (var (rel, text) in Sources())
        {
            if (!rel.StartsWith("Kernels/")) continue;
            var m = tensorUse.Match(text);
            if (m.Success) offenders.Add($"{rel}: {m.Value}");
        }
        Assert.True(offenders.Count == 0, "Kernels/ sees tensors or autograd:\n" + string.Join("\n", offenders));
    }

    [Fact]
    public void KernelsHoldNoFacade()
    {
        var offenders = new List<string>();
        var facade = new Regex(@"\bclass\s+(torch|Tensor)\b");
        foreach (var (rel, text) in Sources())
        {
            if (!rel.StartsWith("Kernels/")) continue;
            var m = facade.Match(text);
            if (m.Success) offenders.Add($"{rel}: {m.Value}");
        }
        Assert.True(offenders.Count == 0, "the torch/Tensor facade belongs in Facade/, not Kernels/:\n" + string.Join("\n", offenders));
    }

    [Fact]
    public void OpsDoNotReachIntoNN()
    {
        var offenders = new List<string>();
        var nn = new Regex(@"^\s*using\s+(static\s+)?Nabla\.(NN|torch\.nn)\b|\bnn\.[A-Za-z]", RegexOptions.Multiline);
        foreach (var (rel, text) in Sources())
        {
            if (!rel.StartsWith("Ops/")) continue;
            var m = nn.Match(text);
            if (m.Success) offenders.Add($"{rel}: {m.Value.Trim()}");
        }
        Assert.True(offenders.Count == 0, "Ops/ depends on NN:\n" + string.Join("\n", offenders));
    }
}
