namespace Nabla.Autograd;

/// <summary>An edge of the backward graph: the node that receives a gradient and which of its inputs it is.</summary>
/// <param name="Node">The receiving node, or null when that input needs no gradient.</param>
/// <param name="InputNr">Which input of <paramref name="Node"/> the gradient flows into.</param>
internal readonly record struct Edge(Node? Node, int InputNr)
{
    public bool IsValid => Node is not null;
}
