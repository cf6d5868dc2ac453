namespace Nabla;

// The copy and conversion forms of Tensor (clone, to, cpu, float, ...): each forwards to Ops.Copy, which records
// CloneBackward0 / ToCopyBackward0.
public sealed partial class Tensor
{
    /// <summary>A copy with its own storage (recorded as <c>CloneBackward0</c>).</summary>
    public Tensor clone() => Ops.Copy.Clone(this);

    /// <summary>
    /// This tensor converted to <paramref name="dtype"/> (the same tensor when it already has it; recorded as
    /// <c>ToCopyBackward0</c> otherwise).
    /// </summary>
    public Tensor to(ScalarType dtype) => dtype == _dtype ? this : Ops.Copy.ToDType(this, dtype);

    /// <summary>
    /// This tensor on <paramref name="device"/> (the same tensor when it is already there; a copy recorded as
    /// <c>ToCopyBackward0</c> otherwise). <c>t.to("meta")</c> keeps shape and dtype and drops the data; copying
    /// out of the meta device raises PyTorch's error.
    /// </summary>
    public Tensor to(Device device) => Ops.Copy.ToDevice(this, device, copy: false);

    /// <summary>This tensor on <paramref name="device"/> converted to <paramref name="dtype"/>.</summary>
    public Tensor to(Device device, ScalarType dtype) => to(device).to(dtype);

    /// <summary>This tensor on the CPU (the same tensor when it is already there).</summary>
    public Tensor cpu() => to(Device.CPU);

    /// <summary>This tensor on a CUDA device (raises: Nabla has no CUDA backend yet).</summary>
    public Tensor cuda(int index = -1) => to(new Device(DeviceType.CUDA, index));

    /// <summary>Converts to float32.</summary>
    public Tensor @float() => to(ScalarType.Float32);
    /// <summary>Converts to float64.</summary>
    public Tensor @double() => to(ScalarType.Float64);
    /// <summary>Converts to int64.</summary>
    public Tensor @long() => to(ScalarType.Int64);
    /// <summary>Converts to int32.</summary>
    public Tensor @int() => to(ScalarType.Int32);
    /// <summary>Converts to bool.</summary>
    public Tensor @bool() => to(ScalarType.Bool);
    /// <summary>Converts to the given dtype (TorchSharp spelling).</summary>
    public Tensor to_type(ScalarType dtype) => to(dtype);
    /// <summary>Converts to the dtype of <paramref name="other"/>.</summary>
    public Tensor type_as(Tensor other) => to(other._dtype);
}
