namespace Nabla;

/// <summary>The kind of device a tensor lives on, as PyTorch's <c>torch.device.type</c>.</summary>
public enum DeviceType
{
    /// <summary>Host memory, computed by the managed CPU backend.</summary>
    CPU = 0,
    /// <summary>An NVIDIA GPU (no backend yet: asking for one raises a clear error).</summary>
    CUDA = 1,
    /// <summary>PyTorch's meta device: shapes, dtypes and strides only, no data.</summary>
    META = 2,
}

/// <summary>
/// A device, as <c>torch.device</c>: a type plus an optional index (<c>cpu</c>, <c>meta</c>, <c>cuda</c>, <c>cuda:1</c>).
/// Parses and prints as PyTorch does; two devices are equal when type and index are.
/// </summary>
public readonly struct Device : IEquatable<Device>
{
    /// <summary>The device type.</summary>
    public DeviceType type { get; }

    /// <summary>The device index, or -1 when none was given (PyTorch's <c>None</c>).</summary>
    public int index { get; }

    /// <summary>A device of the given type and index (-1 for none).</summary>
    public Device(DeviceType type, int index = -1)
    {
        if (index < -1) throw new ArgumentException($"Device index must be -1 or non-negative, got {index}");
        if (type != DeviceType.CUDA && index > 0)
            throw new ArgumentException($"Device index must be -1 or 0 for device type {TypeName(type)}, got {index}");
        this.type = type;
        this.index = index;
    }

    /// <summary>Parses <c>cpu</c>, <c>meta</c>, <c>cuda</c>, <c>cuda:N</c> (as <c>torch.device(str)</c>).</summary>
    public Device(string description) : this(Parse(description, out int idx), idx)
    {
    }

    static DeviceType Parse(string description, out int index)
    {
        ArgumentNullException.ThrowIfNull(description);
        index = -1;
        string name = description;
        int colon = description.IndexOf(':');
        if (colon >= 0)
        {
            name = description[..colon];
            string digits = description[(colon + 1)..];
            if (digits.Length == 0 || digits.Length > 9 || !digits.All(char.IsAsciiDigit) || (digits.Length > 1 && digits[0] == '0'))
                throw new ArgumentException($"Invalid device string: '{description}'");
            index = int.Parse(digits, System.Globalization.CultureInfo.InvariantCulture);
        }
        return name switch
        {
            "cpu" => DeviceType.CPU,
            "cuda" => DeviceType.CUDA,
            "meta" => DeviceType.META,
            _ => throw new ArgumentException(
                "Expected one of cpu, cuda, ipu, xpu, mkldnn, opengl, opencl, ideep, hip, ve, fpga, ort, xla, lazy, vulkan, " +
                $"mps, meta, hpu, mtia, privateuseone device type at start of device string: {description}"),
        };
    }

    /// <summary>True when an index was given.</summary>
    public bool has_index => index >= 0;

    /// <summary>The CPU.</summary>
    public static readonly Device CPU = new(DeviceType.CPU);

    /// <summary>The meta device.</summary>
    public static readonly Device Meta = new(DeviceType.META);

    static string TypeName(DeviceType t) => t switch { DeviceType.CPU => "cpu", DeviceType.CUDA => "cuda", _ => "meta" };

    /// <summary>As PyTorch prints it: <c>cpu</c>, <c>meta</c>, <c>cuda</c>, <c>cuda:1</c>.</summary>
    public override string ToString() => index >= 0 ? $"{TypeName(type)}:{index}" : TypeName(type);

    /// <summary>Equal type and index.</summary>
    public bool Equals(Device other) => type == other.type && index == other.index;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Device d && Equals(d);

    /// <inheritdoc/>
    public override int GetHashCode() => ((int)type << 16) ^ index;

    /// <summary>Equal type and index.</summary>
    public static bool operator ==(Device a, Device b) => a.Equals(b);

    /// <summary>Different type or index.</summary>
    public static bool operator !=(Device a, Device b) => !a.Equals(b);

    /// <summary>Parses a device string (<c>"cpu"</c>, <c>"meta"</c>, <c>"cuda:0"</c>).</summary>
    public static implicit operator Device(string description) => new(description);
}

public static partial class torch
{
    /// <summary>A device from its string (<c>torch.device("cuda:1")</c>).</summary>
    public static Device device(string description) => new(description);

    /// <summary>A device from its type and index (<c>torch.device("cuda", 1)</c>).</summary>
    public static Device device(string type, int index) => new(new Device(type).type, index);

    /// <summary>The CPU device.</summary>
    public static readonly Device CPU = Device.CPU;

    /// <summary>The meta device (shapes only, no data).</summary>
    public static readonly Device META = Device.Meta;

    /// <summary>CUDA support, as <c>torch.cuda</c>.</summary>
    public static class cuda
    {
        /// <summary>False: Nabla has no CUDA backend yet.</summary>
        public static bool is_available() => false;

        /// <summary>0: Nabla has no CUDA backend yet.</summary>
        public static int device_count() => 0;
    }
}
