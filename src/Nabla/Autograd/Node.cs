using System.Runtime.CompilerServices;

namespace Nabla.Autograd;

/// <summary>
/// A backward function in the autograd graph (<c>grad_fn</c>). Each op that records history creates one node
/// holding what its derivative needs; <see cref="next_functions"/> points at the nodes of its inputs.
/// </summary>
public abstract class Node
{
    [ThreadStatic] static long _nextSequenceNumber;

    internal Edge[] NextEdges = System.Array.Empty<Edge>();

    /// <summary>Creation order on the creating thread; the engine runs ready nodes newest first.</summary>
    internal readonly long SequenceNumber;

    // Shapes and dtypes of this node's outputs (the forward outputs), so the engine can check and fix up the
    // gradients it routes here (Note [Gradient metadata]).
    internal long[][] OutputShapes = System.Array.Empty<long[]>();
    internal ScalarType[] OutputDTypes = System.Array.Empty<ScalarType>();

    internal List<(int OutputNr, Func<Tensor, Tensor?> Hook)>? TensorPreHooks;
    internal Dictionary<int, WeakReference<Tensor>>? RetainGradTensors;
    List<Func<Tensor?[], Tensor?[]?>>? _preHooks;
    List<Func<Tensor?[], Tensor?[], Tensor?[]?>>? _postHooks;
    Dictionary<string, object>? _metadata;

    /// <summary>Creates a node with the next sequence number of the current thread.</summary>
    protected Node()
    {
        SequenceNumber = _nextSequenceNumber++;
    }

    internal Node(long sequenceNumber)
    {
        SequenceNumber = sequenceNumber;
    }

    /// <summary>PyTorch's name for this node, e.g. <c>MulBackward0</c> or <c>torch::autograd::AccumulateGrad</c>.</summary>
    public abstract string name();

    /// <summary>
    /// Computes the gradients with respect to this node's inputs from the gradients of its outputs
    /// (one entry per input; null where the input needs no gradient).
    /// </summary>
    protected internal abstract Tensor?[] Apply(Tensor?[] gradOutputs);

    /// <summary>Drops saved tensors after a backward pass that did not ask to retain the graph.</summary>
    protected internal virtual void ReleaseVariables()
    {
    }

    /// <summary>Number of forward inputs (one gradient is returned for each).</summary>
    public int num_inputs => NextEdges.Length;

    /// <summary>Number of forward outputs (one gradient is received for each).</summary>
    public int num_outputs => OutputShapes.Length;

    /// <summary>
    /// One <c>(node, input_nr)</c> pair per tensor input of the forward op, in argument order: the input's
    /// <c>grad_fn</c> (or its <c>AccumulateGrad</c> for a leaf) and which of that node's outputs it was;
    /// <c>(null, 0)</c> for an input that needs no gradient.
    /// </summary>
    public IReadOnlyList<(Node? node, int input_nr)> next_functions
    {
        get
        {
            var list = new (Node?, int)[NextEdges.Length];
            for (int i = 0; i < list.Length; i++) list[i] = (NextEdges[i].Node, NextEdges[i].InputNr);
            return list;
        }
    }

    /// <summary>A free-form dictionary attached to the node, as PyTorch's <c>grad_fn.metadata</c>.</summary>
    public Dictionary<string, object> metadata => _metadata ??= new();

    /// <summary>Whether input <paramref name="index"/> of the forward op needs a gradient.</summary>
    protected bool NeedsInputGrad(int index) => NextEdges[index].Node is not null;

    /// <summary>
    /// Registers a hook called with the gradients of this node's outputs before it runs; it may return
    /// replacements (or null to keep them).
    /// </summary>
    /// <returns>A handle whose <c>remove()</c> unregisters the hook.</returns>
    public RemovableHandle register_prehook(Func<Tensor?[], Tensor?[]?> hook)
    {
        var list = _preHooks ??= new();
        list.Add(hook);
        return new RemovableHandle(() => list.Remove(hook));
    }

    /// <summary>
    /// Registers a hook called after the node ran, with (gradients of its inputs, gradients of its outputs); it may
    /// return replacement input gradients (or null to keep them).
    /// </summary>
    /// <returns>A handle whose <c>remove()</c> unregisters the hook.</returns>
    public RemovableHandle register_hook(Func<Tensor?[], Tensor?[], Tensor?[]?> hook)
    {
        var list = _postHooks ??= new();
        list.Add(hook);
        return new RemovableHandle(() => list.Remove(hook));
    }

    /// <summary>Calls the backward function by hand on the given output gradients (as <c>grad_fn(grad)</c> in Python).</summary>
    public Tensor?[] call(params Tensor?[] gradOutputs)
    {
        if (gradOutputs.Length != num_outputs)
            throw new ArgumentException($"expected {num_outputs} arguments, got {gradOutputs.Length} instead");
        using var _ = new GradModeScope(GradMode.IsEnabled);
        return Apply(gradOutputs);
    }

    internal Tensor?[] RunPreHooks(Tensor?[] grads)
    {
        if (_preHooks is null) return grads;
        foreach (var hook in _preHooks.ToArray())   // a snapshot: hooks removed while running still run this time
        {
            var replaced = hook(grads);
            if (replaced is not null) grads = replaced;
        }
        return grads;
    }

    internal Tensor?[] RunPostHooks(Tensor?[] gradInputs, Tensor?[] gradOutputs)
    {
        if (_postHooks is null) return gradInputs;
        foreach (var hook in _postHooks.ToArray())
        {
            var replaced = hook(gradInputs, gradOutputs);
            if (replaced is not null) gradInputs = replaced;
        }
        return gradInputs;
    }

    internal bool HasPostHooks => _postHooks is not null;

    /// <summary>True when user code (hooks, retain_grad) may see the gradients flowing through this node.</summary>
    internal bool HasAnyHooks => TensorPreHooks is not null || RetainGradTensors is not null || _preHooks is not null || _postHooks is not null;

    /// <summary>The name without a C++ namespace, as Python's repr shows it (<c>AccumulateGrad</c>).</summary>
    internal string ShortName
    {
        get
        {
            string n = name();
            int i = n.LastIndexOf("::", StringComparison.Ordinal);
            return i < 0 ? n : n[(i + 2)..];
        }
    }

    /// <summary>Python's repr: <c>&lt;MulBackward0 object at 0x...&gt;</c>.</summary>
    public override string ToString() =>
        $"<{ShortName} object at 0x{0x7f0000000000L + (uint)RuntimeHelpers.GetHashCode(this) * 16L:x}>";

    /// <summary>Sets the input edges from the op's tensor inputs (null entries mean a non-tensor argument).</summary>
    internal void SetNextEdges(Tensor? a)
    {
        NextEdges = new[] { History.GradientEdge(a) };
    }

    internal void SetNextEdges(Tensor? a, Tensor? b)
    {
        NextEdges = new[] { History.GradientEdge(a), History.GradientEdge(b) };
    }

    internal void SetNextEdges(ReadOnlySpan<Tensor?> inputs)
    {
        var edges = new Edge[inputs.Length];
        for (int i = 0; i < edges.Length; i++) edges[i] = History.GradientEdge(inputs[i]);
        NextEdges = edges;
    }
}
