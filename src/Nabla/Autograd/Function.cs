using Nabla.Autograd;

namespace Nabla;

public static partial class torch
{
    public static partial class autograd
    {
        /// <summary>
        /// A user-defined differentiable operation, as PyTorch's <c>torch.autograd.Function</c>: override
        /// <see cref="forward"/> and <see cref="backward"/>, then call <see cref="apply"/>. The result's
        /// <c>grad_fn</c> is named <c>&lt;ClassName&gt;Backward</c>.
        /// </summary>
        public abstract class Function
        {
            /// <summary>Computes the output from the inputs (runs with grad mode off). Save what backward needs on <paramref name="ctx"/>.</summary>
            public abstract Tensor forward(AutogradContext ctx, Tensor[] inputs);

            /// <summary>Returns one gradient per forward input (null where none) given the output's gradient.</summary>
            public abstract Tensor?[] backward(AutogradContext ctx, Tensor grad_output);

            /// <summary>
            /// When true, <see cref="backward"/> runs with grad mode off and differentiating its result again fails
            /// (PyTorch's <c>@once_differentiable</c>).
            /// </summary>
            protected virtual bool once_differentiable => false;

            /// <summary>Runs the function and records it in the graph when an input requires grad.</summary>
            public Tensor apply(params Tensor[] inputs)
            {
                var ctx = new AutogradContext(inputs);
                Tensor output;
                using (new GradModeScope(false)) output = forward(ctx, inputs);
                bool record = Autograd.Autograd.ShouldRecord(inputs);
                if (ctx.Dirty.Contains(output)) output._gradFn = null;
                else if (Array.IndexOf(inputs, output) >= 0) output = output.detach(); // a fresh alias, as PyTorch does
                if (!record || ctx.NonDifferentiable.Contains(output)) return output;
                var node = new CustomFunctionNode(this, ctx, GetType().Name + "Backward", inputs, once_differentiable);
                node.SetNextEdges(inputs);
                Autograd.Autograd.SetHistory(output, node);
                return output;
            }

            internal Tensor?[] RunBackward(AutogradContext ctx, Tensor grad) => backward(ctx, grad);
        }
    }
}

/// <summary>What a custom <see cref="torch.autograd.Function"/> keeps between forward and backward (PyTorch's <c>ctx</c>).</summary>
public sealed class AutogradContext
{
    readonly Tensor[] _inputs;
    SavedTensor[] _saved = System.Array.Empty<SavedTensor>();
    internal readonly HashSet<Tensor> Dirty = new(ReferenceEqualityComparer.Instance);
    internal readonly HashSet<Tensor> NonDifferentiable = new(ReferenceEqualityComparer.Instance);
    internal Node? Owner;

    internal AutogradContext(Tensor[] inputs) => _inputs = inputs;

    /// <summary>Arbitrary values kept for backward (PyTorch's ctx attributes / C++ <c>saved_data</c>).</summary>
    public Dictionary<string, object> saved_data { get; } = new();

    /// <summary>Saves tensors for backward; they are version-checked and freed after backward.</summary>
    public void save_for_backward(params Tensor[] tensors)
    {
        _saved = new SavedTensor[tensors.Length];
        for (int i = 0; i < tensors.Length; i++) _saved[i] = new SavedTensor(tensors[i]);
    }

    /// <summary>The tensors given to <see cref="save_for_backward"/> (raises after they were freed or modified in place).</summary>
    public Tensor[] saved_tensors
    {
        get
        {
            var result = new Tensor[_saved.Length];
            for (int i = 0; i < result.Length; i++) result[i] = _saved[i].Unpack(Owner);
            return result;
        }
    }

    /// <summary>Whether forward input <paramref name="index"/> needs a gradient.</summary>
    public bool needs_input_grad(int index) => _inputs[index].requires_grad;

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

    internal void Release()
    {
        for (int i = 0; i < _saved.Length; i++) _saved[i].Release();
    }
}

/// <summary>The graph node of a custom function.</summary>
internal sealed class CustomFunctionNode : Node
{
    readonly torch.autograd.Function _function;
    readonly AutogradContext _ctx;
    readonly string _name;
    readonly long[][] _inputShapes;
    readonly ScalarType[] _inputTypes;
    readonly bool _once;

    public CustomFunctionNode(torch.autograd.Function function, AutogradContext ctx, string name, Tensor[] inputs, bool once)
    {
        _function = function;
        _ctx = ctx;
        _name = name;
        _once = once;
        ctx.Owner = this;
        _inputShapes = new long[inputs.Length][];
        _inputTypes = new ScalarType[inputs.Length];
        for (int i = 0; i < inputs.Length; i++) { _inputShapes[i] = inputs[i]._shape; _inputTypes[i] = inputs[i]._dtype; }
    }

    public override string name() => _name;

    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        bool createGraph = GradMode.IsEnabled;
        Tensor?[] grads;
        using (new GradModeScope(createGraph && !_once)) grads = _function.RunBackward(_ctx, g[0]!);
        if (grads.Length != _inputShapes.Length)
            throw new InvalidOperationException(
                $"function {_name} returned an incorrect number of gradients (expected {_inputShapes.Length}, got {grads.Length})");
        for (int i = 0; i < grads.Length; i++)
        {
            var gi = grads[i];
            if (gi is null) continue;
            if (!ShapeUtil.SameShape(gi._shape, _inputShapes[i]))
            {
                try { gi = gi.SumToSize(_inputShapes[i]); }
                catch (Exception)
                {
                    throw new InvalidOperationException(
                        $"Function {_name} returned an invalid gradient at index {i} - got {ShapeUtil.Format(gi._shape)} but expected shape compatible with {ShapeUtil.Format(_inputShapes[i])}");
                }
                if (!ShapeUtil.SameShape(gi._shape, _inputShapes[i]))
                    throw new InvalidOperationException(
                        $"Function {_name} returned an invalid gradient at index {i} - got {ShapeUtil.Format(gi._shape)} but expected shape compatible with {ShapeUtil.Format(_inputShapes[i])}");
            }
            if (gi._dtype != _inputTypes[i]) gi = gi.to(_inputTypes[i]);
            if (_once && createGraph && g[0]!.requires_grad)
            {
                gi = gi.detach();
                var error = new ErrorNode("trying to differentiate twice a function that was marked with @once_differentiable");
                error.SetNextEdges(g[0]);
                Autograd.Autograd.SetHistory(gi, error);
            }
            grads[i] = gi;
        }
        return grads;
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
