using Nabla.Serialization;

namespace Nabla;

// Note [Errors of the loaders]
// torch.load and the safetensors readers raise, for a file that is not what it claims to be:
//   - UnpicklingError (a SerializationException, as Python's pickle.UnpicklingError) when the pickle names a global outside the weights-only allow-list
//     or uses an opcode that would construct arbitrary objects: nothing has been executed;
//   - InvalidDataException for every corrupt, truncated or forged file (bad magic, offsets or sizes past the end,
//     sizes that disagree, a tensor that does not fit its storage, a malformed header), raised before the
//     allocation such a claim would need;
//   - NotSupportedException for valid files holding something Nabla cannot represent yet (float16, bfloat16, int8,
//     uint8, int16 and complex tensors; sparse or quantized tensors; TorchScript archives);
//   - FileNotFoundException/IOException from the file system, as File.OpenRead.
// Anything else escaping a loader is a bug (the fuzz tests assert exactly this set).

/// <summary>
/// Raised by <c>torch.load</c> when the pickle names a global outside PyTorch's weights-only allow-list or uses an
/// opcode that would construct arbitrary objects (Python's <c>pickle.UnpicklingError</c>); nothing was executed.
/// </summary>
public sealed class UnpicklingError : System.Runtime.Serialization.SerializationException
{
    /// <summary>Creates the error with its message.</summary>
    public UnpicklingError(string message) : base(message) { }
}

public static partial class torch
{
    /// <summary>
    /// Loads an object saved with PyTorch's <c>torch.save</c> (the zip format of PyTorch ≥ 1.6, or the legacy
    /// pre-1.6 format) or with Nabla's <see cref="save(object?, string)"/>, unpickling with PyTorch's
    /// <c>weights_only=True</c> rules: only tensors, state dicts and plain containers; any other global raises
    /// <see cref="UnpicklingError"/> naming it, and nothing from the file is ever executed.
    /// </summary>
    /// <returns>
    /// The saved object as .NET values: <see cref="Tensor"/> (dtype, shape, strides and storage sharing kept);
    /// dict/OrderedDict as an insertion-ordered <c>Dictionary&lt;string, object?&gt;</c> (or
    /// <c>Dictionary&lt;object, object?&gt;</c> when some key is not a string, e.g. optimizer state);
    /// list as <c>List&lt;object?&gt;</c>; tuple as <c>object?[]</c>; torch.Size as <c>long[]</c>; int as
    /// <c>long</c> (<see cref="System.Numerics.BigInteger"/> beyond 64 bits); float as <c>double</c>; str; bool;
    /// bytes as <c>byte[]</c>; None as null. Use <see cref="serialization.as_state_dict"/> for a
    /// <c>Dictionary&lt;string, Tensor&gt;</c> to pass to <c>load_state_dict</c>.
    /// </returns>
    /// <param name="f">Path of the checkpoint.</param>
    /// <param name="map_location">Where to put the tensors: only the CPU (the default) is supported; storages saved on
    /// any device are loaded to the CPU.</param>
    /// <exception cref="UnpicklingError">The pickle names a global or opcode outside the allow-list.</exception>
    /// <exception cref="InvalidDataException">The file is corrupt, truncated or forged (see Note [Errors of the loaders]).</exception>
    /// <exception cref="NotSupportedException">The file holds a dtype or tensor kind Nabla cannot represent.</exception>
    public static object? load(string f, Device? map_location = null)
    {
        CheckMapLocation(map_location);
        using var src = ByteSource.OpenFile(f);
        return TorchFileReader.Load(src);
    }

    /// <summary>Loads an object saved by <c>torch.save</c> from a stream (read from its current position); see <see cref="load(string, Device?)"/>.</summary>
    public static object? load(Stream f, Device? map_location = null)
    {
        ArgumentNullException.ThrowIfNull(f);
        CheckMapLocation(map_location);
        using var src = ByteSource.FromStream(f);
        return TorchFileReader.Load(src);
    }

    static void CheckMapLocation(Device? location)
    {
        if (location is { } loc && loc.type != DeviceType.CPU)
            throw new NotSupportedException($"torch.load: map_location '{location}' is not supported: Nabla loads tensors to the CPU");
    }

    /// <summary>
    /// Saves <paramref name="obj"/> in PyTorch's zip checkpoint format (as <c>torch.save</c> of PyTorch ≥ 1.6), which
    /// Python's <c>torch.load(path, weights_only=True)</c> reads back: tensors keep dtype, shape, strides and shared
    /// storages (each storage is written once, whole); a <c>Dictionary&lt;string, Tensor&gt;</c> (a state dict) is
    /// written as an <c>OrderedDict</c>, other dictionaries as dict, lists as list, arrays as tuples, <c>long[]</c>
    /// as a tuple of ints, numbers, strings, bools, null and dtypes as themselves.
    /// </summary>
    /// <param name="obj">What to save, e.g. <c>model.state_dict()</c> or a checkpoint dictionary.</param>
    /// <param name="f">Path of the file to create (overwritten if it exists).</param>
    /// <exception cref="ArgumentException">The object holds a value of a type that cannot be pickled.</exception>
    public static void save(object? obj, string f)
    {
        using var file = new FileStream(f, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        TorchFileWriter.Save(obj, file, leaveOpen: true);
    }

    /// <summary>Saves <paramref name="obj"/> to a stream in PyTorch's zip checkpoint format (see <see cref="save(object?, string)"/>); the stream is left open.</summary>
    public static void save(object? obj, Stream f)
    {
        ArgumentNullException.ThrowIfNull(f);
        TorchFileWriter.Save(obj, f, leaveOpen: true);
    }

    /// <summary>Helpers around <c>torch.save</c>/<c>torch.load</c> (PyTorch's <c>torch.serialization</c>).</summary>
    public static class serialization
    {
        /// <summary>
        /// The state dict inside a loaded object: a dictionary whose keys are strings and whose values are all
        /// tensors, as <c>Dictionary&lt;string, Tensor&gt;</c> in the file's order (what <c>Module.load_state_dict</c>
        /// takes).
        /// </summary>
        /// <param name="obj">What <see cref="load(string, Device?)"/> returned, or a value inside it (e.g. <c>checkpoint["model_state_dict"]</c>).</param>
        /// <exception cref="ArgumentException">The object is not a dictionary of tensors (the message names the first offending key).</exception>
        public static Dictionary<string, Tensor> as_state_dict(object? obj)
        {
            switch (obj)
            {
                case Dictionary<string, Tensor> ready: return new Dictionary<string, Tensor>(ready);
                case Dictionary<string, object?> dict:
                {
                    var result = new Dictionary<string, Tensor>(dict.Count);
                    foreach (var (k, v) in dict)
                        result[k] = v as Tensor ?? throw new ArgumentException(
                            $"as_state_dict: entry '{k}' is {(v is null ? "None" : v.GetType().Name)}, not a tensor; is this a checkpoint dictionary? Pass the entry holding the state dict (e.g. checkpoint[\"model_state_dict\"]).");
                    return result;
                }
                default:
                    throw new ArgumentException($"as_state_dict: expected a dictionary of tensors with string keys, got {(obj is null ? "null" : obj.GetType().Name)}");
            }
        }
    }
}
