using Nabla.Autograd;

namespace Nabla;

public static partial class torch
{
    public static partial class autograd
    {
        /// <summary>
        /// A user-defined differentiable operation with one tensor output, as PyTorch's <c>torch.autograd.Function</c>:
        /// override <see cref="forward"/> and <see cref="backward"/>, then call <see cref="apply"/>. The result's
        /// <c>grad_fn</c> is named <c>&lt;ClassName&gt;Backward</c>. For several outputs, non-tensor arguments or
        /// non-tensor outputs use <see cref="MultiOutputFunction"/>.
        /// </summary>
        public abstract class Function
        {
            /// <summary>Computes the output from the inputs (runs with grad mode off). Save what backward needs on <paramref name="ctx"/>.</summary>
            public abstract Tensor forward(AutogradContext ctx, Tensor[] inputs);

            /// <summary>
            /// Returns one gradient per forward input (null where none) given the output's gradient. Extra trailing
            /// nulls are ignored, as PyTorch does.
            /// </summary>
            public abstract Tensor?[] backward(AutogradContext ctx, Tensor grad_output);

            /// <summary>
            /// When true, <see cref="backward"/> runs with grad mode off and differentiating its result again fails
            /// (PyTorch's <c>@once_differentiable</c>).
            /// </summary>
            protected virtual bool once_differentiable => false;

            /// <summary>Runs the function and records it in the graph when an input requires grad.</summary>
            public Tensor apply(params Tensor[] inputs)
            {
                var args = new object?[inputs.Length];
                for (int i = 0; i < inputs.Length; i++) args[i] = inputs[i];
                var outputs = CustomFunction.Apply(GetType().Name + "Backward", args, once_differentiable,
                    ctx => new object?[] { forward(ctx, inputs) },
                    (ctx, grads) => backward(ctx, grads[0]!));
                return (Tensor)outputs[0]!;
            }
        }

        /// <summary>
        /// A user-defined differentiable operation with any number of outputs, as PyTorch's <c>torch.autograd.Function</c>
        /// in general: arguments and outputs may be tensors or other values (numbers, strings, null). <see cref="backward"/>
        /// receives one gradient per output (null for non-tensor outputs, and, after
        /// <see cref="AutogradContext.set_materialize_grads"/>(false), for outputs that got no gradient) and returns one per
        /// argument (null for non-tensor arguments).
        /// </summary>
        public abstract class MultiOutputFunction
        {
            /// <summary>Computes the outputs from the arguments (runs with grad mode off).</summary>
            public abstract object?[] forward(AutogradContext ctx, object?[] args);

            /// <summary>Returns one gradient per forward argument given one gradient per forward output.</summary>
            public abstract Tensor?[] backward(AutogradContext ctx, Tensor?[] grad_outputs);

            /// <summary>When true, <see cref="backward"/> runs with grad mode off and cannot be differentiated again.</summary>
            protected virtual bool once_differentiable => false;

            /// <summary>Runs the function; tensor outputs get this function's node as <c>grad_fn</c> (output_nr = position).</summary>
            public object?[] apply(params object?[] args) =>
                CustomFunction.Apply(GetType().Name + "Backward", args, once_differentiable,
                    ctx => forward(ctx, args), backward);
        }
    }
}

// Note [Custom function outputs]
// As PyTorch's _wrap_outputs (custom_function.cpp): every output is numbered by its position (output_nr), tensors or
// not; the node records metadata for each tensor output. An output that is one of the inputs comes back as a fresh
// alias (same storage and version counter) carrying the node, unless it was marked dirty, in which case the input
// itself takes the node as its grad_fn. A tensor returned twice comes back as an alias the second time.
// Non-differentiable outputs (mark_non_differentiable, integer dtypes) do not require grad. Gradients reaching the
// node for outputs that got none are zeros of the output's shape (set_materialize_grads(false) passes null instead);
// backward returns one gradient per argument, trailing extra nulls ignored.
internal static class CustomFunction
{
    public static object?[] Apply(string name, object?[] args, bool once, Func<AutogradContext, object?[]> forward,
        Func<AutogradContext, Tensor?[], Tensor?[]> backward)
    {
        var tensorInputs = new List<Tensor>();
        foreach (var a in args) if (a is Tensor t) tensorInputs.Add(t);
        var ctx = new AutogradContext(args);
        object?[] raw;
        using (new GradModeScope(false)) raw = forward(ctx);
        bool record = History.ShouldRecord(tensorInputs.ToArray());
        var outputs = (object?[])raw.Clone();

        CustomFunctionNode? node = null;
        if (record)
        {
            node = new CustomFunctionNode(name, ctx, args, once, backward);
            var edges = new Tensor?[args.Length];
            for (int i = 0; i < args.Length; i++) edges[i] = args[i] as Tensor;
            node.SetNextEdges(edges);
        }

        var shapes = new long[outputs.Length][];
        var dtypes = new ScalarType[outputs.Length];
        var differentiable = new bool[outputs.Length];
        var isTensor = new bool[outputs.Length];
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < outputs.Length; i++)
        {
            shapes[i] = System.Array.Empty<long>();
            if (outputs[i] is not Tensor var) continue;
            bool isInput = tensorInputs.Exists(t => ReferenceEquals(t, var));
            bool isModified = ctx.Dirty.Contains(var);
            bool isDiff = node is not null && !ctx.NonDifferentiable.Contains(var) && var._dtype.IsFloatingPoint();
            isTensor[i] = true;
            shapes[i] = var._shape;
            dtypes[i] = var._dtype;
            differentiable[i] = isDiff;
            bool duplicate = !seen.Add(var);
            if (!isDiff)
            {
                if (!var.requires_grad)
                {
                    if (isInput && !isModified) var = var.detach();
                }
                else if (isInput) var = var.detach();
                else var.detach_();
            }
            else if (isModified)
            {
                if (var._gradFn is null && var._requiresGrad)
                    throw new InvalidOperationException("a leaf Variable that requires grad has been used in an in-place operation.");
                if (var._base is { _gradFn: null, _requiresGrad: true })
                    throw new InvalidOperationException("a view of a leaf Variable that requires grad is being used in an in-place operation.");
                if (duplicate) var = var.detach();
                var._gradFn = node;
                var._outputNr = i;
            }
            else
            {
                if (isInput || duplicate) var = var.detach();
                var._gradFn = node;
                var._outputNr = i;
            }
            outputs[i] = var;
        }
        if (node is not null)
        {
            node.OutputShapes = shapes;
            node.OutputDTypes = dtypes;
            node.Differentiable = differentiable;
            node.IsTensor = isTensor;
        }
        return outputs;
    }
}

/// <summary>What a custom <see cref="torch.autograd.Function"/> keeps between forward and backward (PyTorch's <c>ctx</c>).</summary>
public sealed class AutogradContext
{
    readonly object?[] _args;
    SavedTensor[] _saved = System.Array.Empty<SavedTensor>();
    bool[] _savedNull = System.Array.Empty<bool>();
    internal readonly HashSet<Tensor> Dirty = new(ReferenceEqualityComparer.Instance);
    internal readonly HashSet<Tensor> NonDifferentiable = new(ReferenceEqualityComparer.Instance);
    internal Node? Owner;
    internal bool MaterializeGrads = true;

    internal AutogradContext(object?[] args) => _args = args;

    /// <summary>Arbitrary values kept for backward (PyTorch's ctx attributes / C++ <c>saved_data</c>).</summary>
    public Dictionary<string, object> saved_data { get; } = new();

    /// <summary>Saves tensors (null allowed) for backward; they are version-checked and freed after backward.</summary>
    public void save_for_backward(params Tensor?[] tensors)
    {
        _saved = new SavedTensor[tensors.Length];
        _savedNull = new bool[tensors.Length];
        for (int i = 0; i < tensors.Length; i++)
        {
            if (tensors[i] is { } t) _saved[i] = new SavedTensor(t);
            else _savedNull[i] = true;
        }
    }

    /// <summary>
    /// The tensors given to <see cref="save_for_backward"/> (raises after they were freed or modified in place); an
    /// entry saved as null is null, as PyTorch returns None.
    /// </summary>
    public Tensor[] saved_tensors
    {
        get
        {
            var result = new Tensor[_saved.Length];
            for (int i = 0; i < result.Length; i++) result[i] = _savedNull[i] ? null! : _saved[i].Unpack(Owner);
            return result;
        }
    }

    /// <summary>Whether forward argument <paramref name="index"/> is a tensor that needs a gradient.</summary>
    public bool needs_input_grad(int index) => _args[index] is Tensor t && t.requires_grad;

    /// <summary>Declares that forward modified these inputs in place.</summary>
    public void mark_dirty(params Tensor[] tensors)
    {
        foreach (var t in tensors)
        {
            Dirty.Add(t);
            t.BumpVersion();
        }
    }

    /// <summary>Declares outputs that are not differentiable (they will not require grad).</summary>
    public void mark_non_differentiable(params Tensor[] tensors)
    {
        foreach (var t in tensors) NonDifferentiable.Add(t);
    }

    /// <summary>
    /// Whether gradients of outputs that got none are passed to backward as zeros (true, the default) or as null.
    /// </summary>
    public void set_materialize_grads(bool value) => MaterializeGrads = value;

    internal void Release()
    {
        for (int i = 0; i < _saved.Length; i++) _saved[i].Release();
    }
}

/// <summary>The graph node of a custom function.</summary>
internal sealed class CustomFunctionNode : Node
{
    readonly Func<AutogradContext, Tensor?[], Tensor?[]> _backward;
    readonly AutogradContext _ctx;
    readonly string _name;
    readonly object?[] _args;
    readonly bool _once;
    internal bool[] Differentiable = System.Array.Empty<bool>();
    internal bool[] IsTensor = System.Array.Empty<bool>();

    public CustomFunctionNode(string name, AutogradContext ctx, object?[] args, bool once,
        Func<AutogradContext, Tensor?[], Tensor?[]> backward)
    {
        _backward = backward;
        _ctx = ctx;
        _name = name;
        _once = once;
        ctx.Owner = this;
        // Only shapes and dtypes are kept, not the arguments themselves.
        _args = new object?[args.Length];
        for (int i = 0; i < args.Length; i++)
            _args[i] = args[i] is Tensor t ? (t._shape, t._dtype) : null;
    }

    public override string name() => _name;

    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        bool createGraph = GradMode.IsEnabled;
        var gradOutputs = (Tensor?[])g.Clone();
        if (_ctx.MaterializeGrads)
            for (int i = 0; i < gradOutputs.Length; i++)
                if (gradOutputs[i] is null && i < IsTensor.Length && IsTensor[i])
                    gradOutputs[i] = torch.zeros(OutputShapes[i], dtype: OutputDTypes[i]);
        Tensor?[] grads;
        using (new GradModeScope(createGraph && !_once)) grads = _backward(_ctx, gradOutputs);
        grads ??= new Tensor?[] { null };
        int expected = _args.Length;
        if (grads.Length > expected)
        {
            bool allNull = true;
            for (int i = expected; i < grads.Length; i++) allNull &= grads[i] is null;
            if (allNull) grads = grads[..expected];
        }
        if (grads.Length != expected)
            throw new InvalidOperationException(
                $"function {_name} returned an incorrect number of gradients (expected {expected}, got {grads.Length})");
        var result = new Tensor?[expected];
        for (int i = 0; i < grads.Length; i++)
        {
            var gi = grads[i];
            if (gi is null) continue;
            if (_args[i] is not (long[] inShape, ScalarType inType))
                throw new InvalidOperationException(
                    $"function {_name} returned a gradient different than None at position {i + 1}, but the corresponding forward input was not a Variable");
            if (NextEdges[i].Node is null) continue;
            if (!ShapeUtil.SameShape(gi._shape, inShape))
            {
                try { gi = gi.SumToSize(inShape); }
                catch (Exception)
                {
                    throw new InvalidOperationException(
                        $"Function {_name} returned an invalid gradient at index {i} - got {ShapeUtil.Format(gi._shape)} but expected shape compatible with {ShapeUtil.Format(inShape)}");
                }
                if (!ShapeUtil.SameShape(gi._shape, inShape))
                    throw new InvalidOperationException(
                        $"Function {_name} returned an invalid gradient at index {i} - got {ShapeUtil.Format(gi._shape)} but expected shape compatible with {ShapeUtil.Format(inShape)}");
            }
            if (gi._dtype != inType) gi = gi.to(inType);
            result[i] = gi;
        }
        if (_once && createGraph && AnyRequiresGrad(g))
        {
            // As once_differentiable: the results become outputs of an Error node whose inputs are detached copies
            // of them that require grad, so differentiating them again fails with PyTorch's message.
            var error = new ErrorNode("trying to differentiate twice a function that was marked with @once_differentiable");
            var fake = new Tensor?[result.Length];
            for (int i = 0; i < result.Length; i++)
                if (result[i] is { } r) { fake[i] = r.detach(); fake[i]!._requiresGrad = true; }
            error.SetNextEdges(fake);
            error.OutputShapes = new long[result.Length][];
            error.OutputDTypes = new ScalarType[result.Length];
            for (int i = 0; i < result.Length; i++)
            {
                error.OutputShapes[i] = result[i]?._shape ?? System.Array.Empty<long>();
                if (result[i] is not { } r) continue;
                error.OutputDTypes[i] = r._dtype;
                var aliased = r.detach();
                aliased._gradFn = error;
                aliased._outputNr = i;
                result[i] = aliased;
            }
        }
        return result;
    }

    static bool AnyRequiresGrad(Tensor?[] g)
    {
        foreach (var t in g) if (t is not null && t.requires_grad) return true;
        return false;
    }

    protected internal override void ReleaseVariables() => _ctx.Release();
}

/// <summary>A node that fails when backpropagated through (PyTorch's <c>Error</c>).</summary>
internal sealed class ErrorNode : Node
{
    readonly string _message;
    public ErrorNode(string message) => _message = message;
    public override string name() => "Error";
    protected internal override Tensor?[] Apply(Tensor?[] g) => throw new InvalidOperationException(_message);
}
