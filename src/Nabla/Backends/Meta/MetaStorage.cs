namespace Nabla.Backends.Meta;

/// <summary>Storage on the meta device: a dtype and an element count, no elements (PyTorch's meta tensors).</summary>
internal sealed class MetaStorage : Storage
{
    readonly ScalarType _dtype;
    readonly int _length;
    readonly object _buffer;

    public MetaStorage(ScalarType dtype, int length) : this(dtype, length, new object())
    {
    }

    MetaStorage(ScalarType dtype, int length, object buffer)
    {
        if (length < 0) throw new ArgumentException($"Trying to create tensor with negative dimension {length}");
        _dtype = dtype;
        _length = length;
        _buffer = buffer;
    }

    public override Backend Backend => MetaBackend.Instance;

    public override int Length => _length;

    public override ScalarType DType => _dtype;

    public override Storage Alias() => new MetaStorage(_dtype, _length, _buffer) { Serial = Serial };

    internal override void AddRef()
    {
    }

    internal override void Release()
    {
    }

    internal override object BufferId => _buffer;

    internal override Storage DisposedSentinel => this;

    internal override Storage Rehome() => new MetaStorage(_dtype, _length) { Serial = Serial, Version = Version };

    internal override bool IsSoleOwner => false;
}
