using System.Reflection;
using System.Text;
using Xunit;

namespace Nabla.Tests;

// The coverage table (docs/coverage.md): every public name PyTorch 1.13 has in the namespaces users port from
// (tools/coverage/pytorch-1.13-api.txt, listed once by tools/coverage/pytorch_api.py), and whether Nabla has a public
// member, nested type or factory of that name in the matching place. The table is generated from the compiled
// library, so it cannot go stale: this test fails when docs/coverage.md differs from what the code gives.
// Regenerate with:  NABLA_UPDATE_COVERAGE=1 dotnet test tests/Nabla.Tests --filter CoverageTests
// Presence is by name only; what each op computes is tested by the op database and the fixtures.
public class CoverageTests
{
    static readonly (string Namespace, string[] Path, string Title)[] Namespaces =
    {
        ("torch", System.Array.Empty<string>(), "torch"),
        ("Tensor", System.Array.Empty<string>(), "Tensor"),
        ("nn", new[] { "nn" }, "torch.nn"),
        ("nn.functional", new[] { "nn", "functional" }, "torch.nn.functional"),
        ("nn.init", new[] { "nn", "init" }, "torch.nn.init"),
        ("optim", new[] { "optim" }, "torch.optim"),
        ("optim.lr_scheduler", new[] { "optim", "lr_scheduler" }, "torch.optim.lr_scheduler"),
        ("utils.data", new[] { "utils", "data" }, "torch.utils.data"),
        ("linalg", new[] { "linalg" }, "torch.linalg"),
        ("special", new[] { "special" }, "torch.special"),
        ("fft", new[] { "fft" }, "torch.fft"),
        ("autograd", new[] { "autograd" }, "torch.autograd"),
        ("autograd.functional", new[] { "autograd", "functional" }, "torch.autograd.functional"),
        ("autograd.forward_ad", new[] { "autograd", "forward_ad" }, "torch.autograd.forward_ad"),
    };

    static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Nabla.sln"))) dir = dir.Parent;
        Assert.NotNull(dir);
        return dir!.FullName;
    }

    /// <summary>The public names Nabla offers in one PyTorch namespace (members and nested types).</summary>
    static HashSet<string> NablaNames(string ns, string[] path)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        const BindingFlags Public = BindingFlags.Public | BindingFlags.DeclaredOnly;
        if (ns == "Tensor")
        {
            foreach (var m in typeof(Tensor).GetMembers(Public | BindingFlags.Instance | BindingFlags.Static))
                if (m is MethodInfo { IsSpecialName: false } || m is PropertyInfo || m is FieldInfo) names.Add(m.Name);
            return names;
        }
        Type? type = typeof(torch);
        foreach (var part in path)
        {
            type = type?.GetNestedType(part, BindingFlags.Public);
            if (type is null) return names;
        }
        foreach (var m in type!.GetMembers(Public | BindingFlags.Static))
            if (m is MethodInfo { IsSpecialName: false } || m is PropertyInfo || m is FieldInfo || m is Type) names.Add(m.Name);
        return names;
    }

    static string Generate(string root)
    {
        var rows = File.ReadAllLines(Path.Combine(root, "tools", "coverage", "pytorch-1.13-api.txt"))
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split('\t'))
            .ToList();
        var sb = new StringBuilder();
        sb.Append("# API coverage against PyTorch 1.13\n\n");
        sb.Append("Generated from the compiled library by tests/Nabla.Tests/CoverageTests.cs (it fails when this file is stale;\n");
        sb.Append("regenerate with `NABLA_UPDATE_COVERAGE=1 dotnet test tests/Nabla.Tests --filter CoverageTests`). The PyTorch names\n");
        sb.Append("come from tools/coverage/pytorch_api.py run on PyTorch 1.13. A name counts as present when Nabla has a public\n");
        sb.Append("member, nested type or factory of that name in the same place (`torch.nn.Linear`, `tensor.add_`); what it computes\n");
        sb.Append("is tested by the op database against PyTorch's values. Out of scope: sparse and quantized tensors, complex numbers,\n");
        sb.Append("device-specific entries, internal helpers and deprecated aliases (counted below, listed in the names file).\n\n");
        sb.Append("| namespace | present | in scope | coverage | out of scope |\n| --- | --- | --- | --- | --- |\n");
        var detail = new StringBuilder();
        int allPresent = 0, allCore = 0;
        foreach (var (ns, path, title) in Namespaces)
        {
            var mine = NablaNames(ns, path);
            var entries = rows.Where(r => r[0] == ns).ToList();
            var core = entries.Where(r => r[2] == "core").Select(r => r[1]).ToList();
            int outOfScope = entries.Count - core.Count;
            var present = core.Where(mine.Contains).ToList();
            var missing = core.Where(n => !mine.Contains(n)).ToList();
            allPresent += present.Count;
            allCore += core.Count;
            double pct = core.Count == 0 ? 100 : 100.0 * present.Count / core.Count;
            sb.Append($"| `{title}` | {present.Count} | {core.Count} | {pct:F0}% | {outOfScope} |\n");
            detail.Append($"\n## `{title}`\n\n");
            detail.Append($"Present ({present.Count}): {(present.Count == 0 ? "none" : string.Join(", ", present.Select(n => $"`{n}`")))}\n\n");
            detail.Append($"Missing ({missing.Count}): {(missing.Count == 0 ? "none" : string.Join(", ", missing.Select(n => $"`{n}`")))}\n");
        }
        sb.Append($"| **all** | {allPresent} | {allCore} | {100.0 * allPresent / allCore:F0}% | |\n");
        sb.Append(detail);
        return sb.ToString();
    }

    [Fact]
    public void Coverage_table_is_up_to_date()
    {
        string root = RepoRoot();
        string expected = Generate(root);
        string file = Path.Combine(root, "docs", "coverage.md");
        if (Environment.GetEnvironmentVariable("NABLA_UPDATE_COVERAGE") == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            File.WriteAllText(file, expected);
        }
        Assert.True(File.Exists(file), "docs/coverage.md is missing; run: NABLA_UPDATE_COVERAGE=1 dotnet test tests/Nabla.Tests --filter CoverageTests");
        string actual = File.ReadAllText(file).Replace("\r\n", "\n");
        Assert.True(actual == expected,
            "docs/coverage.md is stale (the public API changed); run: NABLA_UPDATE_COVERAGE=1 dotnet test tests/Nabla.Tests --filter CoverageTests");
    }

    [Fact]
    public void Coverage_names_file_is_well_formed()
    {
        var lines = File.ReadAllLines(Path.Combine(RepoRoot(), "tools", "coverage", "pytorch-1.13-api.txt"));
        Assert.StartsWith("# PyTorch 1.13", lines[0]);
        var known = Namespaces.Select(n => n.Namespace).ToHashSet();
        foreach (var line in lines.Skip(1))
        {
            var parts = line.Split('\t');
            Assert.Equal(3, parts.Length);
            Assert.Contains(parts[0], known);
        }
        // Nabla's own names are found where the table looks for them (guards the reflection above).
        Assert.Contains("Linear", NablaNames("nn", new[] { "nn" }));
        Assert.Contains("add_", NablaNames("Tensor", System.Array.Empty<string>()));
        Assert.Contains("relu", NablaNames("nn.functional", new[] { "nn", "functional" }));
        Assert.Contains("randn", NablaNames("torch", System.Array.Empty<string>()));
    }
}
