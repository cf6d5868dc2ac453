namespace Nabla.Autograd;

/// <summary>
/// An edge of the backward graph as PyTorch's <c>torch.autograd.graph.GradientEdge</c>: a node and which of its
/// outputs (output_nr). <c>autograd.grad</c> and <c>autograd.backward</c> accept edges wherever they accept tensors;
/// a tensor converts implicitly (the edge it has when the call runs).
/// </summary>
public readonly struct GradientEdge
{
    /// <summary>Creates the edge to output <paramref name="output_nr"/> of <paramref name="node"/>.</summary>
    public GradientEdge(Node node, int output_nr)
    {
        this.node = node;
        this.output_nr = output_nr;
        Tensor = null;
    }

    GradientEdge(Tensor tensor)
    {
        node = null!;
        output_nr = 0;
        Tensor = tensor;
    }

    /// <summary>The node the gradient flows into.</summary>
    public Node node { get; }

    /// <summary>Which output of <see cref="node"/> the gradient belongs to.</summary>
    public int output_nr { get; }

    internal Tensor? Tensor { get; }

    /// <summary>Wraps a tensor, so that lists may mix tensors and edges as in PyTorch.</summary>
    public static implicit operator GradientEdge(Tensor tensor) => new(tensor);
}
