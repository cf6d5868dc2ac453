using System.Runtime.CompilerServices;
using Nabla.Autograd;

namespace Nabla;

// Tensor API that PyTorch's autograd tests use and that Nabla lacked (issue 16), built from existing public ops: view
// introspection, data_ptr, the in-place forms of unary ops, transpose_/t_, var_mean and post-accumulate-grad hooks.

public sealed partial class Tensor
{
    /// <summary>
    /// Whether this tensor is a view of another as autograd tracks it (PyTorch's <c>_is_view()</c>): inference tensors
    /// carry no autograd view metadata, so a view of one is not a view here.
    /// </summary>
    public bool _is_view() => _base is not null && !_isInference;

    /// <summary>
    /// The tensor this one is a view of, or null (PyTorch's <c>._base</c>; C# cannot reuse the name of the internal
    /// field that holds it).
    /// </summary>
    public Tensor? _base_tensor => _base;

    /// <summary>
    /// An integer identifying the address of this tensor's first element: equal for tensors that share storage and
    /// start at the same element, and advancing by the element size along the storage (PyTorch's <c>data_ptr()</c>).
    /// </summary>
    public long data_ptr() =>
        ((long)RuntimeHelpers.GetHashCode(_storage.BufferId) << 24) + (long)_offset * _dtype.ElementSize();

    Tensor InplaceUnary(Func<Tensor, Tensor> op)
    {
        if (RecordInplace(null)) return TakeOver(op(Snapshot()));
        Tensor r;
        using (new GradModeScope(false)) r = op(this);
        Ops.Raw.CopyInto(this, r);
        BumpVersion();
        return this;
    }

    /// <summary>In-place <see cref="exp"/>.</summary>
    public Tensor exp_() => InplaceUnary(t => t.exp());
    /// <summary>In-place <see cref="log"/>.</summary>
    public Tensor log_() => InplaceUnary(t => t.log());
    /// <summary>In-place <see cref="sin"/>.</summary>
    public Tensor sin_() => InplaceUnary(t => t.sin());
    /// <summary>In-place <see cref="cos"/>.</summary>
    public Tensor cos_() => InplaceUnary(t => t.cos());
    /// <summary>In-place <see cref="tanh"/>.</summary>
    public Tensor tanh_() => InplaceUnary(t => t.tanh());
    /// <summary>In-place <see cref="sigmoid"/>.</summary>
    public Tensor sigmoid_() => InplaceUnary(t => t.sigmoid());
    /// <summary>In-place <see cref="sqrt"/>.</summary>
    public Tensor sqrt_() => InplaceUnary(t => t.sqrt());
    /// <summary>In-place <see cref="abs"/>.</summary>
    public Tensor abs_() => InplaceUnary(t => t.abs());
    /// <summary>In-place <see cref="pow(Scalar)"/>.</summary>
    public Tensor pow_(Scalar exponent) => InplaceUnary(t => t.pow(exponent));

    /// <summary>Transposes this tensor in place (a view op: shape and strides swap, history as <c>transpose</c>).</summary>
    public Tensor transpose_(long dim0, long dim1) => RestrideInPlace(transpose(dim0, dim1));

    /// <summary>In-place <see cref="t"/>.</summary>
    public Tensor t_() => RestrideInPlace(t());

    /// <summary>In-place <see cref="squeeze(long)"/>.</summary>
    public Tensor squeeze_(long dim) => RestrideInPlace(squeeze(dim));

    /// <summary>In-place <see cref="unsqueeze(long)"/>.</summary>
    public Tensor unsqueeze_(long dim) => RestrideInPlace(unsqueeze(dim));

    Tensor RestrideInPlace(Tensor view)
    {
        History.CheckInplace(this);
        _shape = view._shape;
        _strides = view._strides;
        _offset = view._offset;
        if (view._gradFn is not null)
        {
            _gradFn = view._gradFn;
            _outputNr = view._outputNr;
        }
        return this;
    }

    /// <summary>
    /// Registers a hook called with this leaf after its <see cref="grad"/> was accumulated in backward
    /// (PyTorch's <c>register_post_accumulate_grad_hook</c>).
    /// </summary>
    public RemovableHandle register_post_accumulate_grad_hook(Action<Tensor> hook)
    {
        if (_gradFn is not null)
            throw new InvalidOperationException("post accumulate grad hooks cannot be registered on non-leaf tensors");
        if (!requires_grad)
            throw new InvalidOperationException("cannot register a hook on a tensor that doesn't require gradient");
        var node = _gradAccumulator ??= new AccumulateGrad(this);
        var list = node.PostAccumulateHooks ??= new();
        list.Add(hook);
        return new RemovableHandle(() => list.Remove(hook));
    }
}

public static partial class torch
{
    /// <summary>
    /// The variance and mean over <paramref name="dim"/> in one op with two outputs (one node, <c>VarMeanBackward0</c>).
    /// </summary>
    public static (Tensor var, Tensor mean) var_mean(Tensor input, long[]? dim = null, long correction = 1, bool keepdim = false)
    {
        Tensor v, m;
        using (new GradModeScope(false))
        {
            v = input.var(dim, correction, keepdim);
            m = dim is null ? input.mean() : input.mean(dim, keepdim);
            if (dim is null && keepdim) m = m.reshape(v._shape);
        }
        if (History.ShouldRecord(input))
        {
            var node = new VarMeanBackward0(input, dim, correction, keepdim);
            node.SetNextEdges(input);
            History.Set(new[] { v, m }, node);
        }
        return (v, m);
    }

    /// <summary><see cref="var_mean(Tensor, long[], long, bool)"/> over one dimension.</summary>
    public static (Tensor var, Tensor mean) var_mean(Tensor input, long dim, long correction = 1, bool keepdim = false) =>
        var_mean(input, new[] { dim }, correction, keepdim);

    /// <summary>Whether <paramref name="input"/> was created in inference mode (<c>torch.is_inference</c>).</summary>
    public static bool is_inference(Tensor input) => input.is_inference();

    /// <summary>
    /// <c>torch.mul(input, other, out=out)</c>: writes the product into <paramref name="out"/> (resized to the result's
    /// shape when it differs). As every out= op, not differentiable: it fails when an argument requires grad.
    /// </summary>
    public static Tensor mul(Tensor input, Tensor other, Tensor @out)
    {
        if (GradMode.IsEnabled && (input.requires_grad || other.requires_grad || @out.requires_grad))
            throw new InvalidOperationException(
                "mul(): functions with out=... arguments don't support automatic differentiation, but one of the arguments requires grad.");
        Tensor r;
        using (new GradModeScope(false)) r = input.mul(other);
        if (!ShapeUtil.SameShape(r._shape, @out._shape))
            throw new ArgumentException($"mul(): out has shape {ShapeUtil.Format(@out._shape)} but the result has shape {ShapeUtil.Format(r._shape)}");
        using (new GradModeScope(false)) @out.copy_(r);
        return @out;
    }

    public static partial class autograd
    {
        /// <summary>PyTorch's <c>torch.autograd.graph</c>.</summary>
        public static partial class graph
        {
            /// <summary>
            /// Bumps the version counter of <paramref name="tensor"/> as an in-place op would, for code that writes
            /// its data behind autograd's back.
            /// </summary>
            public static void increment_version(Tensor tensor)
            {
                if (tensor._isInference) return;
                tensor.BumpVersion();
            }

            /// <summary>The edge a gradient for <paramref name="tensor"/> flows along: its grad_fn (or AccumulateGrad) and output_nr.</summary>
            public static GradientEdge get_gradient_edge(Tensor tensor)
            {
                if (!tensor.requires_grad)
                    throw new InvalidOperationException("It is not possible to get the gradient edge for a Tensor that does not require gradients");
                var e = History.GradientEdge(tensor);
                return new GradientEdge(e.Node!, e.InputNr);
            }
        }
    }
}

/// <summary>Backward of <see cref="torch.var_mean(Tensor, long[], long, bool)"/>: both outputs' gradients summed into the input's.</summary>
internal sealed class VarMeanBackward0 : Node
{
    SavedTensor _self;
    readonly long[]? _dim;
    readonly long _correction;
    readonly bool _keepdim;

    public VarMeanBackward0(Tensor self, long[]? dim, long correction, bool keepdim)
    {
        _self = new SavedTensor(self);
        _dim = dim;
        _correction = correction;
        _keepdim = keepdim;
    }

    public override string name() => "VarMeanBackward0";

    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var x = _self.Unpack(this);
        long n = 1;
        var dims = _dim ?? Enumerable.Range(0, x._shape.Length).Select(i => (long)i).ToArray();
        foreach (var d in dims) n *= x._shape[ShapeUtil.WrapDim(d, x._shape.Length)];
        Tensor Restore(Tensor t)
        {
            if (_keepdim || _dim is null) return t;
            foreach (var d in dims.Select(d => (long)ShapeUtil.WrapDim(d, x._shape.Length)).OrderBy(d => d)) t = t.unsqueeze(d);
            return t;
        }
        Tensor? result = null;
        if (g[0] is { } gv)
        {
            var mean = _dim is null ? x.mean() : x.mean(_dim, true);
            result = Restore(gv) * (x - mean) * (2.0 / Math.Max(0, n - _correction));
        }
        if (g[1] is { } gm)
        {
            var part = (Restore(gm) / n).expand(x._shape);
            result = result is null ? part : result + part;
        }
        return new[] { result };
    }

    protected internal override void ReleaseVariables() => _self.Release();
}
