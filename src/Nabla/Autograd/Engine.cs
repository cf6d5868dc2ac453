namespace Nabla.Autograd;

// Note [Engine]
// backward(roots, grads) walks the graph once from the roots, without recursion, and counts for every node how
// many edges reach it. Each node has an input buffer that sums the gradients arriving for its outputs. A node runs
// when its count drops to zero; ready nodes run newest first (highest sequence number), so a chain of n ops costs
// O(n). Every reachable node is processed exactly once: a node whose buffer is still empty when it becomes ready
// is skipped, but its children's counts are still decremented so they can run. When specific inputs are asked for
// (autograd.grad, or backward(inputs: ...)), only nodes on a path to them run, and gradients are captured at the
// inputs' edges instead of (for grad) being accumulated into .grad.

/// <summary>Runs backward passes over the graph (see Note [Engine]).</summary>
internal sealed class Engine
{
    [ThreadStatic] static Engine? _cached;

    readonly Dictionary<Node, NodeState> _states = new(ReferenceEqualityComparer.Instance);
    readonly PriorityQueue<Node, long> _ready = new();
    readonly Stack<Node> _stack = new();
    readonly List<Node> _executed = new();
    Dictionary<Edge, List<int>>? _captureIndex;
    bool _filtered;     // only nodes on a path to the given inputs run (PyTorch's non-empty exec_info)
    Tensor?[]? _captured;
    bool _busy;
    bool _allowSteal;   // Note [Stealing gradients]: no create_graph, no capture

    sealed class NodeState
    {
        public int Dependencies;
        public Tensor?[]? Buffer;
        public bool Needed = true;
        public bool ReachesTarget;   // a captured edge is reachable from (or at) this node
        public bool IsCapture;       // autograd.grad takes a gradient at one of this node's outputs
    }

    static Engine Acquire()
    {
        var e = _cached;
        if (e is null || e._busy) e = new Engine();
        _cached ??= e;
        e._busy = true;
        return e;
    }

    void ReleaseEngine()
    {
        _states.Clear();
        _ready.Clear();
        _stack.Clear();
        _executed.Clear();
        _captureIndex = null;
        _captured = null;
        _filtered = false;
        _busy = false;
    }

    /// <summary>
    /// Runs one backward pass. With <paramref name="captureEdges"/> null every leaf reached accumulates into
    /// <c>.grad</c>; otherwise only nodes leading to those edges run and the returned array holds the gradient
    /// arriving at each (accumulated into the tensors' <c>.grad</c> instead when <paramref name="accumulateCaptured"/>).
    /// </summary>
    public static Tensor?[]? Execute(
        Edge[] roots, Tensor[] rootGrads, bool keepGraph, bool createGraph,
        Edge[]? captureEdges, Tensor[]? captureTensors, bool accumulateCaptured)
    {
        var engine = Acquire();
        try
        {
            return engine.Run(roots, rootGrads, keepGraph, createGraph, captureEdges, captureTensors, accumulateCaptured);
        }
        finally
        {
            engine.ReleaseEngine();
        }
    }

    NodeState State(Node n)
    {
        if (!_states.TryGetValue(n, out var s))
        {
            s = new NodeState();
            _states.Add(n, s);
        }
        return s;
    }

    Tensor?[]? Run(Edge[] roots, Tensor[] rootGrads, bool keepGraph, bool createGraph,
        Edge[]? captureEdges, Tensor[]? captureTensors, bool accumulateCaptured)
    {
        _allowSteal = !createGraph && captureEdges is null;

        // 1. Count dependencies over everything reachable from the roots.
        foreach (var root in roots)
        {
            if (root.Node is null || _states.ContainsKey(root.Node)) continue;
            State(root.Node);
            _stack.Push(root.Node);
            while (_stack.Count > 0)
            {
                var node = _stack.Pop();
                foreach (var edge in node.NextEdges)
                {
                    if (edge.Node is null) continue;
                    bool seen = _states.TryGetValue(edge.Node, out var child);
                    if (!seen)
                    {
                        child = new NodeState();
                        _states.Add(edge.Node, child);
                        _stack.Push(edge.Node);
                    }
                    child!.Dependencies++;
                }
            }
        }

        // 2. With explicit inputs, run only nodes from which one of them is reachable (Note [Engine]). autograd.grad
        // captures the gradient arriving at each input's edge; backward(inputs:) runs the inputs' nodes themselves
        // (AccumulateGrad, or the retain_grad of a non-leaf input) and nothing beyond them.
        if (captureEdges is not null)
        {
            _filtered = true;
            if (!accumulateCaptured)
            {
                _captureIndex = new Dictionary<Edge, List<int>>();
                for (int i = 0; i < captureEdges.Length; i++)
                {
                    if (!_captureIndex.TryGetValue(captureEdges[i], out var slots))
                        _captureIndex.Add(captureEdges[i], slots = new List<int>());
                    slots.Add(i);
                }
                _captured = new Tensor?[captureEdges.Length];
            }
            MarkNeeded(captureEdges, accumulateCaptured);
        }

        // 3. Seed the roots' buffers.
        for (int i = 0; i < roots.Length; i++)
        {
            var root = roots[i];
            if (root.Node is null) continue;
            var state = _states[root.Node];
            AddToBuffer(root.Node, state, root.InputNr, rootGrads[i], exclusive: false);
        }
        foreach (var root in roots)
        {
            if (root.Node is null) continue;
            var state = _states[root.Node];
            if (state.Dependencies == 0 && state.Buffer is not null)
            {
                _ready.Enqueue(root.Node, -root.Node.SequenceNumber);
                state.Dependencies = -1; // queued
            }
        }

        // 4. Run.
        using (new GradModeScope(createGraph))
        {
            while (_ready.TryDequeue(out var node, out _))
            {
                var state = _states[node];
                var buffer = state.Buffer ?? new Tensor?[Math.Max(1, node.num_outputs)];
                state.Buffer = null;
                long serialBefore = Storage.CurrentSerial;
                bool hooks = node.HasAnyHooks;
                if (hooks) foreach (var g in buffer) if (g is not null) g._gradExclusive = false;
                Tensor?[] inputsGrads = Evaluate(node, buffer, state, out bool ran);
                if (!keepGraph && ran) _executed.Add(node);
                // Note [Stealing gradients]: which results only the engine can reach.
                bool trusted = _allowSteal && !hooks && node is not CustomFunctionNode;

                var edges = node.NextEdges;
                for (int i = 0; i < edges.Length; i++)
                {
                    var next = edges[i].Node;
                    if (next is null) continue;
                    var child = _states[next];
                    var g = i < inputsGrads.Length ? inputsGrads[i] : null;
                    if (g is not null)
                        AddToBuffer(next, child, edges[i].InputNr, g,
                            trusted && IsExclusiveResult(g, i, inputsGrads, buffer, serialBefore));
                    if (--child.Dependencies == 0)
                    {
                        _ready.Enqueue(next, next is AccumulateGrad ? long.MinValue : -next.SequenceNumber);
                        child.Dependencies = -1;
                    }
                }
            }
        }

        if (!keepGraph)
            foreach (var n in _executed) n.ReleaseVariables();
        return _captured;
    }

    void MarkNeeded(Edge[] captureEdges, bool accumulate)
    {
        var targets = new HashSet<Node>(ReferenceEqualityComparer.Instance);
        foreach (var e in captureEdges)
            if (e.Node is not null) targets.Add(e.Node);
        // Iterative post-order: a node is needed if it is a target or any child is needed.
        foreach (var s in _states.Values) s.Needed = false;
        var visited = new HashSet<Node>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(Node Node, int Next)>();
        foreach (var node in _states.Keys.ToArray())
        {
            if (!visited.Add(node)) continue;
            stack.Push((node, 0));
            while (stack.Count > 0)
            {
                var (n, next) = stack.Pop();
                var edges = n.NextEdges;
                if (next < edges.Length)
                {
                    stack.Push((n, next + 1));
                    var child = edges[next].Node;
                    if (child is not null && visited.Add(child)) stack.Push((child, 0));
                    continue;
                }
                // A node runs when it feeds a gradient towards a captured edge. A captured non-leaf node need not
                // run itself (its gradient is taken before it would run), but its producers must run so that the
                // gradient reaches it: hence ReachesTarget, which is true at the target, separately from Needed.
                bool childReaches = false;
                foreach (var e in edges)
                    if (e.Node is not null && _states[e.Node].ReachesTarget) { childReaches = true; break; }
                bool isTarget = targets.Contains(n);
                var state = _states[n];
                state.Needed = childReaches || (accumulate && isTarget);
                state.ReachesTarget = childReaches || isTarget;
                state.IsCapture = isTarget && !accumulate;
            }
        }
    }

    // Note [Stealing gradients]
    // AccumulateGrad may adopt an incoming gradient as the leaf's .grad instead of copying it (PyTorch steals it when
    // its reference count shows nobody else holds it). Here a gradient is exclusive when only the engine can reach
    // its buffer: the buffer was allocated while its node ran (on this thread, after the serial taken before Apply;
    // built-in backward rules keep nothing they create), or it is the buffer of an exclusive gradient the node
    // received (passed through, or viewed, as TBackward0 does); no other result of the node shares that buffer; and
    // no hook, custom Function, create_graph or autograd.grad capture could have seen it. Sums of two buffered
    // gradients and the engine's own shape/dtype fix-ups are fresh too. The flag is recomputed at every delivery,
    // and AccumulateGrad adopts only a dense tensor covering its whole buffer.
    static bool IsExclusiveResult(Tensor g, int index, Tensor?[] results, Tensor?[] incoming, long serialBefore)
    {
        var buffer = g._storage.BufferId;
        if (!g._storage.AllocatedSince(serialBefore))
        {
            bool fromExclusive = false;
            foreach (var t in incoming)
                if (t is not null && t._gradExclusive && ReferenceEquals(t._storage.BufferId, buffer)) { fromExclusive = true; break; }
            if (!fromExclusive) return false;
        }
        for (int j = 0; j < results.Length; j++)
            if (j != index && results[j] is { } other && ReferenceEquals(other._storage.BufferId, buffer)) return false;
        return true;
    }

    void AddToBuffer(Node node, NodeState state, int inputNr, Tensor grad, bool exclusive)
    {
        var buffer = state.Buffer ??= new Tensor?[Math.Max(1, node.num_outputs)];
        if ((uint)inputNr >= (uint)buffer.Length)
            throw new InvalidOperationException($"invalid gradient index {inputNr} for {node.name()}");
        var validated = ValidateGradient(node, inputNr, grad);
        if (!ReferenceEquals(validated, grad)) exclusive = _allowSteal;
        var existing = buffer[inputNr];
        if (existing is null)
        {
            validated._gradExclusive = exclusive;
            buffer[inputNr] = validated;
        }
        else
        {
            var sum = existing + validated;
            sum._gradExclusive = _allowSteal;
            buffer[inputNr] = sum;
        }
    }

    /// <summary>Sums a broadcast gradient back to the expected shape and casts it to the expected dtype.</summary>
    static Tensor ValidateGradient(Node node, int inputNr, Tensor grad)
    {
        if (inputNr >= node.OutputShapes.Length) return grad;
        var expected = node.OutputShapes[inputNr];
        if (!ReferenceEquals(expected, grad._shape) && !expected.AsSpan().SequenceEqual(grad._shape))
        {
            if (!IsExpandableTo(expected, grad._shape))
                throw new InvalidOperationException(
                    $"Function {node.name()} returned an invalid gradient at index {inputNr} - got {ShapeUtil.Format(grad._shape)} but expected shape compatible with {ShapeUtil.Format(expected)}");
            grad = grad.SumToSize(expected);
        }
        var dtype = node.OutputDTypes[inputNr];
        if (grad._dtype != dtype) grad = grad.to(dtype);
        return grad;
    }

    static bool IsExpandableTo(ReadOnlySpan<long> shape, ReadOnlySpan<long> target)
    {
        if (shape.Length > target.Length) return false;
        for (int i = 0; i < shape.Length; i++)
        {
            long s = shape[shape.Length - 1 - i], t = target[target.Length - 1 - i];
            if (s != t && s != 1) return false;
        }
        return true;
    }

    // Note [Hooks on skipped nodes]
    // As PyTorch's evaluate_function: with explicit inputs, a node on no path to them is not evaluated at all (no
    // hook runs). A node autograd.grad captures at but need not run gets its tensor hooks (and retain_grad) called,
    // then the capture; its node pre-hooks, its function and its post hooks do not run. A node that runs is captured
    // at before any hook. Tensor hooks see null for an output that got no gradient (a hook on an unused unbind()
    // output), as PyTorch passes None.
    Tensor?[] Evaluate(Node node, Tensor?[] grads, NodeState state, out bool ran)
    {
        ran = false;
        if (_filtered && !state.Needed)
        {
            if (!state.IsCapture) return System.Array.Empty<Tensor?>();
            grads = RunTensorPreHooks(node, grads);
            Capture(node, grads);
            return System.Array.Empty<Tensor?>();
        }
        if (state.IsCapture) Capture(node, grads);
        grads = RunTensorPreHooks(node, grads);
        grads = node.RunPreHooks(grads);
        ran = true;

        bool any = false;
        foreach (var g in grads) any |= g is not null;
        // Built-in backward rules are skipped when no gradient reached the node; a custom Function still runs (it
        // receives zeros, or nulls after set_materialize_grads(false)), as PyTorch runs every ready node.
        if (!any && node is not CustomFunctionNode) return System.Array.Empty<Tensor?>();

        var result = node.Apply(grads);
        if (result.Length != node.NextEdges.Length && node is not AccumulateGrad)
            throw new InvalidOperationException(
                $"function {node.name()} returned an incorrect number of gradients (expected {node.NextEdges.Length}, got {result.Length})");
        if (node.HasPostHooks) result = node.RunPostHooks(result, grads);
        return result;
    }

    /// <summary>Tensor hooks registered on the outputs of <paramref name="node"/>, then retain_grad (always last).</summary>
    static Tensor?[] RunTensorPreHooks(Node node, Tensor?[] grads)
    {
        if (node.TensorPreHooks is not null)
        {
            // A copy: a hook may register or remove hooks while it runs.
            foreach (var (outputNr, hook) in node.TensorPreHooks.ToArray())
            {
                if (outputNr >= grads.Length) continue;
                var replaced = hook(grads[outputNr]!);
                if (replaced is not null) grads[outputNr] = replaced;
            }
        }
        if (node.RetainGradTensors is not null)
        {
            foreach (var (outputNr, weak) in node.RetainGradTensors)
            {
                if (outputNr >= grads.Length) continue;
                var g = grads[outputNr];
                if (g is null || !weak.TryGetTarget(out var t)) continue;
                AccumulateRetained(t, g);
            }
        }
        return grads;
    }

    void Capture(Node node, Tensor?[] grads)
    {
        for (int i = 0; i < grads.Length; i++)
        {
            if (grads[i] is null) continue;
            if (_captureIndex!.TryGetValue(new Edge(node, i), out var slots))
                foreach (int slot in slots) _captured![slot] = grads[i];
        }
    }

    static void AccumulateRetained(Tensor t, Tensor g)
    {
        if (t._grad is null) t._grad = g.clone().DetachFromDisposeScope();   // PyTorch clones (contiguous)
        else t._grad = (t._grad + g).DetachFromDisposeScope();
    }
}
