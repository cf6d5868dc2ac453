using System.Runtime.CompilerServices;

namespace Nabla.Autograd;

/// <summary>Glue between ops and the graph: deciding whether to record, and wiring a new node to its output.</summary>
internal static class History
{
    /// <summary>The edge a gradient for <paramref name="t"/> flows along: its grad_fn, or its leaf accumulator.</summary>
    public static Edge GradientEdge(Tensor? t)
    {
        if (t is null) return default;
        if (t._gradFn is not null) return new Edge(t._gradFn, t._outputNr);
        if (!t._requiresGrad) return default;
        return new Edge(t._gradAccumulator ??= new AccumulateGrad(t), 0);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool ShouldRecord(Tensor a) => GradMode.IsEnabled && (a._requiresGrad || a._gradFn is not null);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool ShouldRecord(Tensor a, Tensor b) =>
        GradMode.IsEnabled && (a._requiresGrad || a._gradFn is not null || b._requiresGrad || b._gradFn is not null);

    public static bool ShouldRecord(ReadOnlySpan<Tensor> inputs)
    {
        if (!GradMode.IsEnabled) return false;
        foreach (var t in inputs)
            if (t._requiresGrad || t._gradFn is not null) return true;
        return false;
    }

    /// <summary>Makes <paramref name="node"/> the grad_fn of <paramref name="output"/> (a single-output op).</summary>
    public static Tensor Set(Tensor output, Node node)
    {
        node.OutputShapes = new[] { output._shape };
        node.OutputDTypes = new[] { output._dtype };
        output._gradFn = node;
        output._outputNr = 0;
        return output;
    }

    /// <summary>Makes <paramref name="node"/> the grad_fn of every output of a multi-output op.</summary>
    public static void Set(Tensor[] outputs, Node node)
    {
        var shapes = new long[outputs.Length][];
        var dtypes = new ScalarType[outputs.Length];
        for (int i = 0; i < outputs.Length; i++)
        {
            shapes[i] = outputs[i]._shape;
            dtypes[i] = outputs[i]._dtype;
            outputs[i]._gradFn = node;
            outputs[i]._outputNr = i;
        }
        node.OutputShapes = shapes;
        node.OutputDTypes = dtypes;
    }

    /// <summary>
    /// After an in-place op gave <paramref name="t"/> a new grad_fn: a retain_grad() on it follows to the new node
    /// (it reports the gradient of the newest version, as PyTorch moves its retains_grad hook), while tensor hooks
    /// stay with the old node (they see the old version's gradient).
    /// </summary>
    public static void MoveRetainsGrad(Tensor t, Node? oldFn, int oldNr)
    {
        if (!t._retainsGrad || ReferenceEquals(oldFn, t._gradFn)) return;
        oldFn?.RetainGradTensors?.Remove(oldNr);
        (t._gradFn!.RetainGradTensors ??= new())[t._outputNr] = new WeakReference<Tensor>(t);
    }

    /// <summary>
    /// Checks that an in-place op may write to <paramref name="self"/> and bumps its version. Call before writing.
    /// </summary>
    public static void CheckInplace(Tensor self)
    {
        if (self._isInference && !GradMode.IsInferenceMode)
            throw new InvalidOperationException(
                "Inplace update to inference tensor outside InferenceMode is not allowed.You can make a clone to get a normal tensor before doing inplace update.See https://github.com/pytorch/rfcs/pull/17 for more details.");
        if (GradMode.IsEnabled)
        {
            if (self._gradFn is null && self._requiresGrad)
                throw new InvalidOperationException("a leaf Variable that requires grad is being used in an in-place operation.");
            if (self._base is { _gradFn: null, _requiresGrad: true })
                throw new InvalidOperationException("a view of a leaf Variable that requires grad is being used in an in-place operation.");
        }
    }
}
