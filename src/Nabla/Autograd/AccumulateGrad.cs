namespace Nabla.Autograd;

/// <summary>
/// The node at the end of every path to a leaf tensor that requires grad: it adds the incoming gradient into the
/// leaf's <c>.grad</c>. One per leaf, shared by all its uses; <see cref="variable"/> is the leaf.
/// </summary>
public sealed class AccumulateGrad : Node
{
    /// <summary>The leaf tensor whose <c>.grad</c> this node accumulates into.</summary>
    public Tensor variable { get; }

    internal AccumulateGrad(Tensor variable) : base(long.MaxValue)
    {
        this.variable = variable;
        OutputShapes = new[] { variable._shape };
        OutputDTypes = new[] { variable._dtype };
    }

    static long s_stolen;

    /// <summary>register_post_accumulate_grad_hook hooks: called with the leaf after its .grad was updated.</summary>
    internal List<Action<Tensor>>? PostAccumulateHooks;

    void RunPostAccumulateHooks()
    {
        if (PostAccumulateHooks is null) return;
        foreach (var hook in PostAccumulateHooks.ToArray()) hook(variable);
    }

    /// <summary>How many gradients became <c>.grad</c> without a copy so far (diagnostics and tests).</summary>
    internal static long StolenCount => Interlocked.Read(ref s_stolen);

    /// <inheritdoc/>
    public override string name() => "torch::autograd::AccumulateGrad";

    /// <inheritdoc/>
    protected internal override Tensor?[] Apply(Tensor?[] gradOutputs)
    {
        var g = gradOutputs[0];
        if (g is null) return System.Array.Empty<Tensor?>();
        if (g._gradExclusive)
        {
            // Note [Stealing gradients] (Engine.cs): nobody else can reach g, so it becomes .grad without a copy.
            g._gradExclusive = false;
            var leaf = variable;
            lock (leaf)
            {
                if (leaf._grad is null && !GradMode.IsEnabled && g._dtype == leaf._dtype && leaf.is_contiguous()
                    && g.CoversWholeBuffer && ShapeUtil.SameShape(g._shape, leaf._shape))
                {
                    g.DetachFromDisposeScope();
                    // The buffer may still be counted by the unreachable intermediates it was viewed through
                    // (mm's result before TBackward0's transpose): give g a handle of its own so that
                    // zero_grad(set_to_none) can return the buffer to the pool.
                    if (!g._storage.IsSoleOwner) g._storage = g._storage.Rehome();
                    g._ownedGrad = true;    // Note [Owned gradients]
                    leaf._grad = g;
                    Interlocked.Increment(ref s_stolen);
                    RunPostAccumulateHooks();
                    return System.Array.Empty<Tensor?>();
                }
            }
        }
        Accumulate(variable, g);
        RunPostAccumulateHooks();
        return System.Array.Empty<Tensor?>();
    }

    // Note [Owned gradients]
    // A .grad made here by cloning is a fresh tensor only the leaf points at. Until user code reads it through the
    // public `grad` getter (which clears _ownedGrad) or a user-defined optimizer receives it, nobody else can hold it,
    // so zero_grad(set_to_none: true) disposes it and its buffer is recycled by MemoryPool for the next backward:
    // a training loop then allocates no fresh gradient buffers per step. Once seen, it is only dropped, as PyTorch.

    /// <summary>Adds <paramref name="grad"/> into <paramref name="target"/>.grad (thread-safe for shared leaves).</summary>
    internal static void Accumulate(Tensor target, Tensor grad)
    {
        lock (target)
        {
            if (target._grad is null)
            {
                // Note [Gradient ownership]: the incoming gradient may be shared with other edges (AddBackward hands
                // the same tensor to both inputs) or with the caller, so the first one is copied unless the graph
                // itself is being built for a higher-order derivative.
                // Note [Dispose scopes]: .grad outlives the step, so no dispose scope may capture it.
                // With create_graph PyTorch copies too (clone_obey_contract: empty_strided(...).copy_(grad), so the
                // new .grad has grad_fn CopyBackwards): x.grad and y.grad of (x + y).backward(g, create_graph) are
                // two tensors, and zeroing one does not zero the other.
                if (GradMode.IsEnabled)
                {
                    var copy = Tensor.Empty(target._dtype, target._shape);
                    copy.copy_(grad);
                    target._grad = copy.DetachFromDisposeScope();
                }
                else
                {
                    var owned = grad.detach().clone().DetachFromDisposeScope();
                    owned._ownedGrad = true;    // Note [Owned gradients]
                    target._grad = owned;
                }
            }
            else if (GradMode.IsEnabled)
            {
                target._grad = (target._grad + grad).DetachFromDisposeScope();
            }
            else
            {
                target._grad.AddInPlaceUnchecked(grad);
            }
        }
    }
}
