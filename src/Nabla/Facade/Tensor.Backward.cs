namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>
    /// Computes the gradient of this tensor with respect to the graph leaves and accumulates it into their
    /// <see cref="grad"/>. A non-scalar tensor needs <paramref name="gradient"/> (the vector of the vector-Jacobian product).
    /// </summary>
    /// <param name="gradient">d(out)/d(this); defaults to 1 for a one-element tensor.</param>
    /// <param name="retain_graph">Keep saved tensors for another backward (default: <paramref name="create_graph"/>).</param>
    /// <param name="create_graph">Record the backward computation so higher-order derivatives can be taken.</param>
    /// <param name="inputs">Accumulate only into these tensors.</param>
    public void backward(Tensor? gradient = null, bool? retain_graph = null, bool create_graph = false, IList<Tensor>? inputs = null)
    {
        torch.autograd.backward(new[] { this }, gradient is null ? null : new[] { gradient }, retain_graph, create_graph, inputs);
    }
}
