using System.Runtime.CompilerServices;
using Nabla.Autograd;
using Nabla.Backends;

namespace Nabla;

/// <summary>
/// An n-dimensional array that can record the operations done on it for automatic differentiation, as
/// <c>torch.Tensor</c>. Storage, shape, strides and offset describe the data (views share storage);
/// <see cref="grad_fn"/>, <see cref="requires_grad"/> and <see cref="grad"/> describe its place in the graph.
/// Tensors are garbage collected; <see cref="Dispose"/> (or a <see cref="torch.NewDisposeScope"/>) hands their buffers
/// back to <see cref="MemoryPool"/> early, for reuse.
/// </summary>
public sealed partial class Tensor : IDisposable
{
    internal Storage _storage;
    internal long[] _shape;
    internal long[] _strides;
    internal int _offset;
    internal ScalarType _dtype;           // not readonly: `data = t.to(dtype)` (Module.to) swaps storage and dtype
    internal int _numel;

    // Autograd metadata (Note [Autograd metadata inline]: kept on the tensor itself, not in a side object,
    // so creating a tensor is one object plus its shape arrays).
    internal Node? _gradFn;
    internal int _outputNr;
    internal bool _requiresGrad;          // the leaf flag; non-leaves require grad through their grad_fn
    internal Tensor? _grad;
    internal bool _retainsGrad;
    internal AccumulateGrad? _gradAccumulator;
    internal List<Func<Tensor, Tensor?>>? _hooks;
    internal Tensor? _base;               // the tensor this one is a view of (null if not a view)
    internal bool _isInference;
    internal bool _isParameter;
    internal bool _disposed;
    internal bool _ownedGrad;             // a .grad the engine made and no user code has seen (Note [Owned gradients])
    internal DisposeScope? _scope;        // the dispose scope that will dispose this tensor, if any
    internal bool _gradExclusive;         // only the engine can reach this buffer (Note [Stealing gradients])

    internal Tensor(Storage storage, long[] shape, long[] strides, int offset)
    {
        _storage = storage;
        _shape = shape;
        _strides = strides;
        _offset = offset;
        _dtype = storage.DType;
        _numel = ShapeUtil.Numel(shape);
        if (GradMode.IsInferenceMode) _isInference = true;
        storage.AddRef();
        DisposeScope.Register(this);
    }

    /// <summary>A contiguous tensor of <paramref name="shape"/> over all of <paramref name="storage"/>.</summary>
    internal Tensor(Storage storage, long[] shape) : this(storage, shape, ShapeUtil.ContiguousStrides(shape), 0)
    {
    }

    /// <summary>A fresh contiguous CPU tensor of the given shape (zero-filled unless <paramref name="zero"/> is false).</summary>
    internal Tensor(ScalarType dtype, long[] shape, bool zero = true)
        : this(Backend.Default.Allocate(dtype, ShapeUtil.Numel(shape), zero), shape, ShapeUtil.ContiguousStrides(shape), 0)
    {
    }

    /// <summary>A fresh contiguous tensor on <paramref name="backend"/>'s device (zero-filled unless <paramref name="zero"/> is false).</summary>
    internal Tensor(Backend backend, ScalarType dtype, long[] shape, bool zero)
        : this(backend.Allocate(dtype, ShapeUtil.Numel(shape), zero), shape, ShapeUtil.ContiguousStrides(shape), 0)
    {
    }

    /// <summary>An uninitialised contiguous CPU tensor.</summary>
    internal static Tensor Empty(ScalarType dtype, long[] shape) => new(dtype, shape, zero: false);

    /// <summary>An uninitialised contiguous tensor on <paramref name="backend"/>'s device.</summary>
    internal static Tensor EmptyOn(Backend backend, ScalarType dtype, long[] shape) => new(backend, dtype, shape, zero: false);

    /// <summary>An uninitialised contiguous tensor on the device of <paramref name="like"/>.</summary>
    internal static Tensor EmptyLike(Tensor like, ScalarType dtype, long[] shape) => new(like._storage.Backend, dtype, shape, zero: false);

    /// <summary>This tensor as a backend operand: its storage and layout (Note [The backend wall]).</summary>
    internal Operand Raw => new(_storage, new Layout(_shape, _strides, _offset, _numel));

    /// <summary>The backend of the device this tensor lives on.</summary>
    internal Backend Backend => _storage.Backend;

    /// <summary>True when this tensor is dense and covers its whole buffer from the start (it could own it as .grad).</summary>
    internal bool CoversWholeBuffer => _offset == 0 && _storage.Length == _numel && is_contiguous();

    // ---- layout -------------------------------------------------------------------------------------------

    /// <summary>The sizes of each dimension (a copy).</summary>
    public long[] shape => (long[])_shape.Clone();

    /// <summary>The sizes of each dimension, as <c>size()</c> in PyTorch.</summary>
    public long[] size() => shape;

    /// <summary>The size of dimension <paramref name="dim"/> (negative counts from the end).</summary>
    public long size(long dim) => _shape[ShapeUtil.WrapDim(dim, _shape.Length)];

    /// <summary>The strides of each dimension, in elements.</summary>
    public long[] stride() => (long[])_strides.Clone();

    /// <summary>The stride of dimension <paramref name="dim"/>.</summary>
    public long stride(long dim) => _strides[ShapeUtil.WrapDim(dim, _shape.Length)];

    /// <summary>Offset of the first element inside the storage, in elements.</summary>
    public long storage_offset() => _offset;

    /// <summary>Number of dimensions.</summary>
    public long dim() => _shape.Length;

    /// <summary>Number of dimensions (TorchSharp's property spelling).</summary>
    public long Dimensions => _shape.Length;

    /// <summary>Number of dimensions (<c>ndim</c>).</summary>
    public long ndim => _shape.Length;

    /// <summary>Total number of elements.</summary>
    public long numel() => _numel;

    /// <summary>Total number of elements (TorchSharp's property spelling).</summary>
    public long NumberOfElements => _numel;

    /// <summary>The element type.</summary>
    public ScalarType dtype => _dtype;

    /// <summary>True when the elements are laid out in row-major order with no gaps.</summary>
    public bool is_contiguous() => ShapeUtil.IsContiguous(_shape, _strides);

    /// <summary>True for float32/float64 tensors.</summary>
    public bool is_floating_point() => _dtype.IsFloatingPoint();

    /// <summary>The device the tensor lives on (<c>cpu</c>, <c>meta</c>, ...).</summary>
    public Device device => _storage.Device;

    /// <summary>True on the meta device (shapes and dtypes only, no data).</summary>
    public bool is_meta => _storage.Device.type == DeviceType.META;

    /// <summary>True when this tensor was created in <c>torch.inference_mode()</c>.</summary>
    public bool is_inference() => _isInference;

    /// <summary>The version counter: how many in-place writes the shared storage has seen.</summary>
    public long _version
    {
        get
        {
            if (_isInference) throw new InvalidOperationException("Inference tensors do not track version counter.");
            return _storage.Version;
        }
    }

    internal void BumpVersion() => _storage.Version++;

    internal bool IsView => _base is not null;

    internal void CheckDType<T>() where T : unmanaged
    {
        if (DTypeOf<T>.Value != _dtype)
            throw new InvalidOperationException($"expected scalar type {DTypeOf<T>.Value.CppScalarName()} but found {_dtype.CppScalarName()}");
    }

    /// <summary>
    /// Releases this tensor's reference to its storage, as TorchSharp's <c>Dispose</c>. When no other tensor (view,
    /// <c>detach()</c>, <c>.data</c>, ...) uses the storage any more, its buffer goes back to <see cref="MemoryPool"/>
    /// for reuse. Using the tensor's elements afterwards throws <see cref="ObjectDisposedException"/>. Disposing is
    /// never required (tensors are garbage collected), and disposing twice does nothing.
    /// </summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _scope = null;
        var storage = _storage;
        _storage = storage.DisposedSentinel;
        storage.Release();
    }

    /// <summary>True once <see cref="Dispose"/> ran (directly or through a dispose scope).</summary>
    public bool IsInvalid => _disposed;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool ShapesEqual(Tensor a, Tensor b) => a._shape.AsSpan().SequenceEqual(b._shape);
}
