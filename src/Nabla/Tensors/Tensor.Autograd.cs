using Nabla.Autograd;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>
    /// Whether gradients are computed for this tensor: set by the user on a leaf, or true for any result of an op
    /// recorded in the graph. Setting it on a non-leaf fails as in PyTorch.
    /// </summary>
    public bool requires_grad
    {
        get => _requiresGrad || _gradFn is not null;
        set
        {
            if (_gradFn is not null)
                throw new InvalidOperationException("you can only change requires_grad flags of leaf variables.");
            SetRequiresGrad(value, "only Tensors of floating point dtype can require gradients");
        }
    }

    /// <summary>Sets <see cref="requires_grad"/> in place and returns this tensor.</summary>
    public Tensor requires_grad_(bool requires_grad = true)
    {
        if (_gradFn is not null && !requires_grad)
            throw new InvalidOperationException(
                "you can only change requires_grad flags of leaf variables. If you want to use a computed variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach().");
        if (_gradFn is null)
            SetRequiresGrad(requires_grad, "only Tensors of floating point dtype can require gradients");
        return this;
    }

    internal void SetRequiresGrad(bool value, string intMessage)
    {
        if (value && !_dtype.IsFloatingPoint()) throw new InvalidOperationException(intMessage);
        if (value && _isInference && !GradMode.IsInferenceMode)
            throw new InvalidOperationException("Setting requires_grad=True on inference tensor outside InferenceMode is not allowed.");
        _requiresGrad = value;
    }

    /// <summary>True for tensors the user created (or that do not require grad): those with no <see cref="grad_fn"/>.</summary>
    public bool is_leaf => _gradFn is null;

    /// <summary>The backward function that created this tensor, or null for leaves.</summary>
    public Node? grad_fn => _gradFn;

    /// <summary>Which output of <see cref="grad_fn"/> this tensor is.</summary>
    public int output_nr => _outputNr;

    /// <summary>Whether <see cref="retain_grad"/> was called on this non-leaf.</summary>
    public bool retains_grad => _retainsGrad;

    /// <summary>
    /// The gradient accumulated by backward: null until the first backward reaches this tensor. Reading it on a
    /// non-leaf that does not retain its grad warns, as PyTorch does. Assigning checks size and dtype.
    /// </summary>
    public Tensor? grad
    {
        get
        {
            if (_gradFn is not null && !_retainsGrad)
                Warnings.Warn(
                    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute won't be populated during autograd.backward(). If you indeed want the .grad field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead. See github.com/pytorch/pytorch/pull/30531 for more informations.");
            var g = _grad;
            if (g is not null) g._ownedGrad = false;   // user code may keep it now (Note [Owned gradients])
            return g;
        }
        set
        {
            if (value is not null)
            {
                if (ReferenceEquals(value, this)) throw new InvalidOperationException("can't assign Variable as its own grad");
                if (!ShapesEqual(this, value)) throw new InvalidOperationException("assigned grad has data of a different size");
                if (value._dtype != _dtype) throw new InvalidOperationException("assigned grad has data of a different type");
            }
            _grad = value;
        }
    }

    /// <summary>Makes backward populate <see cref="grad"/> on this non-leaf tensor too.</summary>
    public void retain_grad()
    {
        if (!requires_grad) throw new InvalidOperationException("can't retain_grad on Tensor that has requires_grad=False");
        if (_gradFn is null || _retainsGrad) return;
        _retainsGrad = true;
        (_gradFn.RetainGradTensors ??= new())[_outputNr] = new WeakReference<Tensor>(this);
    }

    /// <summary>
    /// Registers a hook called with this tensor's gradient during backward; it may return a replacement (or null to
    /// keep it). Returns a handle whose <c>remove()</c> unregisters it.
    /// </summary>
    public RemovableHandle register_hook(Func<Tensor, Tensor?> hook)
    {
        if (!requires_grad) throw new InvalidOperationException("cannot register a hook on a tensor that doesn't require gradient");
        var node = _gradFn ?? (_gradAccumulator ??= new AccumulateGrad(this));
        int nr = _gradFn is null ? 0 : _outputNr;
        var list = node.TensorPreHooks ??= new();
        var entry = (nr, hook);
        list.Add(entry);
        return new RemovableHandle(() => list.Remove(entry));
    }

    /// <summary>A tensor sharing this one's storage and version counter, with no history and requires_grad false.</summary>
    public Tensor detach()
    {
        var t = new Tensor(_storage, _shape, _strides, _offset);
        t._isInference = _isInference;
        return t;
    }

    /// <summary>Detaches this tensor from the graph in place.</summary>
    public Tensor detach_()
    {
        if (_base is not null)
            throw new InvalidOperationException(
                "Can't detach views in-place. Use detach() instead. If you are using DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set as True, gradients are views of DDP buckets, and hence detach_() cannot be called on these gradients. To fix this error, please refer to the Optimizer.zero_grad() function in torch/optim/optimizer.py as the solution.");
        _gradFn = null;
        _requiresGrad = false;
        _outputNr = 0;
        return this;
    }

    /// <summary>
    /// A tensor sharing storage with this one but not tracked by autograd and with its own version counter
    /// (PyTorch's <c>.data</c>: in-place changes through it are invisible to the graph). Assigning copies values in.
    /// </summary>
    public Tensor data
    {
        get => new(_storage.Alias(), _shape, _strides, _offset);
        set
        {
            if (!ShapesEqual(this, value) || value._dtype != _dtype)
            {
                var old = _storage;
                value._storage.AddRef();
                _storage = value._storage;
                old.Release();
                _dtype = value._dtype;
                _shape = value._shape;
                _strides = value._strides;
                _offset = value._offset;
                _numel = value._numel;
                return;
            }
            new Tensor(_storage.Alias(), _shape, _strides, _offset).CopyUnchecked(value);
        }
    }
}

/// <summary>A handle that unregisters a hook (<c>handle.remove()</c>).</summary>
public sealed class RemovableHandle
{
    Action? _remove;

    internal RemovableHandle(Action remove) => _remove = remove;

    /// <summary>Unregisters the hook; calling it again does nothing.</summary>
    public void remove()
    {
        _remove?.Invoke();
        _remove = null;
    }
}

/// <summary>Where PyTorch's UserWarnings go: to standard error, and to <see cref="OnWarning"/> subscribers.</summary>
public static class Warnings
{
    /// <summary>Raised for every warning; when anyone subscribes, nothing is written to standard error.</summary>
    public static event Action<string>? OnWarning;

    internal static void Warn(string message)
    {
        var handler = OnWarning;
        if (handler is not null) handler(message);
        else Console.Error.WriteLine("UserWarning: " + message);
    }
}
