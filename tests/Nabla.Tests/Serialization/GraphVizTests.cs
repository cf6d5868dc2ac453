using Xunit;

namespace Nabla.Tests.Serialization;

/// <summary>torch.autograd.to_dot: torchviz-style DOT of the backward graph.</summary>
[Collection("GlobalGenerator")]
public class GraphVizTests
{
    [Fact]
    public void DrawsNodesLeavesSavedTensorsAndEdges()
    {
        var model = torch.nn.Linear(3, 2);
        var x = torch.randn(4, 3);
        var y = model.call(x).tanh().sum();
        var dot = torch.autograd.to_dot(y, model.named_parameters()).source;
        Assert.StartsWith("digraph {", dot);
        Assert.Contains("[label=\"\n ()\" fillcolor=darkolivegreen1]", dot);          // the 0-d output
        Assert.Contains("[label=\"SumBackward0\"]", dot);
        Assert.Contains("[label=\"TanhBackward0\"]", dot);
        Assert.Contains("[label=\"AccumulateGrad\"]", dot);
        Assert.Contains("[label=\"weight\n (2, 3)\" fillcolor=lightblue]", dot);
        Assert.Contains("[label=\"bias\n (2)\" fillcolor=lightblue]", dot);
        Assert.Contains("fillcolor=orange", dot);                                         // tanh saved its result
        Assert.Contains("(4, 2)\" fillcolor=orange", dot);
        // Every edge joins two declared nodes; each backward node appears once.
        var declared = dot.Split('\n').Where(l => l.Contains(" [label=")).Select(l => l.Trim().Split(' ')[0]).ToHashSet();
        var edges = dot.Split('\n').Where(l => l.Contains(" -> ")).ToList();
        Assert.NotEmpty(edges);
        foreach (var e in edges)
        {
            var parts = e.Trim().Split(' ');
            Assert.Contains(parts[0], declared);
            Assert.Contains(parts[2], declared);
        }
        Assert.Single(dot.Split('\n'), l => l.Contains("\"SumBackward0\""));
        // After backward the saved tensors are freed and no longer drawn.
        y.backward();
        Assert.DoesNotContain("fillcolor=orange", torch.autograd.to_dot(y, model.named_parameters()).source);
    }

    [Fact]
    public void ToSvgRendersWithGraphvizOrSaysItIsMissing()
    {
        var a = torch.randn(2).requires_grad_();
        var g = torch.autograd.to_dot((a * 2).sum(), new[] { ("a", a) });
        bool hasDot = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Any(p => File.Exists(Path.Combine(p, "dot")));
        if (hasDot) Assert.Contains("<svg", g.to_svg());
        else Assert.Contains("Graphviz", Assert.Throws<InvalidOperationException>(() => g.to_svg()).Message);
        Assert.Contains("Graphviz", Assert.Throws<InvalidOperationException>(() => g.to_svg("/nonexistent/dot")).Message);
    }
}
