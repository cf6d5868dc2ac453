using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Nabla.Serialization;

/// <summary>A storage named by a pickle's persistent id: a 1-D tensor over its elements plus the window a legacy storage view takes of it.</summary>
internal sealed class StorageRef(Tensor root, int offset, long length, ScalarType dtype)
{
    public readonly Tensor Root = root;
    public readonly int Offset = offset;
    public readonly long Length = length;
    public readonly ScalarType DType = dtype;
}

/// <summary>Reads PyTorch checkpoints: the zip format (PyTorch ≥ 1.6) and the legacy single-stream format.</summary>
internal sealed class TorchFileReader : IPickleHost
{
    readonly ByteSource _src;
    readonly Dictionary<string, ZipEntry>? _entries;
    readonly string _prefix = "";
    readonly bool _bigEndian;
    readonly Dictionary<string, StorageRef> _storages = new();
    // legacy format: storages declared by the pickle, filled from the records after it
    long _declaredBytes;
    bool _legacy;

    TorchFileReader(ByteSource src, Dictionary<string, ZipEntry>? entries, string prefix, bool bigEndian)
    {
        _src = src;
        _entries = entries;
        _prefix = prefix;
        _bigEndian = bigEndian;
    }

    /// <summary>Loads the object saved in <paramref name="src"/> (zip or legacy format).</summary>
    public static object? Load(ByteSource src)
    {
        if (src.Length == 0) throw new InvalidDataException("torch.load: the file is empty");
        if (ZipReader.LooksLikeZip(src)) return LoadZip(src);
        Span<byte> head = stackalloc byte[Math.Min(262, (int)Math.Min(src.Length, 262))];
        src.Read(0, head, "the file header");
        if (head.Length >= 262 && head[257..262].SequenceEqual("ustar"u8))
            throw new NotSupportedException("torch.load: this is the tar checkpoint format of PyTorch < 0.4, which Nabla does not read; re-save it with a newer PyTorch");
        if (head[0] != 0x80) throw new InvalidDataException("torch.load: not a PyTorch checkpoint (neither a zip archive nor a legacy pickle stream)");
        return LoadLegacy(src);
    }

    static object? LoadZip(ByteSource src)
    {
        var list = ZipReader.ReadEntries(src);
        var entries = new Dictionary<string, ZipEntry>(StringComparer.Ordinal);
        foreach (var e in list) entries.TryAdd(e.Name, e);
        string? prefix = null;
        foreach (var e in list)
        {
            int slash = e.Name.IndexOf('/');
            if (slash > 0 && e.Name.AsSpan(slash + 1).SequenceEqual("data.pkl") ) { prefix = e.Name[..(slash + 1)]; break; }
        }
        if (prefix is null)
        {
            if (list.Any(e => e.Name.EndsWith("/constants.pkl", StringComparison.Ordinal)))
                throw new NotSupportedException("torch.load: this is a TorchScript archive (torch.jit.save); Nabla reads torch.save files. Save the model's state_dict() with torch.save instead.");
            throw new InvalidDataException("torch.load: the zip archive has no <name>/data.pkl record: not a PyTorch checkpoint");
        }
        if (entries.ContainsKey(prefix + "constants.pkl"))
            throw new NotSupportedException("torch.load: this is a TorchScript archive (torch.jit.save); Nabla reads torch.save files. Save the model's state_dict() with torch.save instead.");
        bool big = false;
        if (entries.TryGetValue(prefix + "byteorder", out var bo))
        {
            if (bo.Size > 16) throw new InvalidDataException("torch.load: corrupt byteorder record");
            var text = System.Text.Encoding.ASCII.GetString(ZipReader.ReadAll(src, bo)).Trim();
            big = text switch
            {
                "little" => false,
                "big" => true,
                _ => throw new InvalidDataException($"torch.load: unknown byteorder '{text}'"),
            };
        }
        var pkl = ZipReader.ReadAll(src, entries[prefix + "data.pkl"]);
        var reader = new TorchFileReader(src, entries, prefix, big);
        var result = new Unpickler(pkl, 0, pkl.Length, reader).Load();
        return Finish(result);
    }

    static readonly BigInteger MagicNumber = BigInteger.Parse("1950a86a20f9469cfc6c", System.Globalization.NumberStyles.HexNumber);

    static object? LoadLegacy(ByteSource src)
    {
        // Magic number, protocol version and system info are three pickles, then the object, then the storage keys,
        // then each storage as (int64 element count, raw bytes) in key order.
        if (src.Length > Array.MaxLength) throw new InvalidDataException("torch.load: legacy checkpoint too large");
        var bytes = src.ReadArray(0, src.Length, "the checkpoint");
        var none = new NoPersistentIds();
        var up = new Unpickler(bytes, 0, bytes.Length, none);
        var magic = up.Load();
        if (!(magic is BigInteger m && m == MagicNumber))
            throw new InvalidDataException("torch.load: invalid magic number; corrupt file?");
        int pos = up.Position;
        up = new Unpickler(bytes, pos, bytes.Length, none);
        var protocol = up.Load();
        if (protocol is not 1001L) throw new InvalidDataException($"torch.load: invalid protocol version: {protocol}");
        pos = up.Position;
        up = new Unpickler(bytes, pos, bytes.Length, none);
        var sysInfo = up.Load() as PickleDict ?? throw new InvalidDataException("torch.load: corrupt legacy system info");
        bool little = sysInfo.Items.TryGetValue("little_endian", out var le) ? le is true : true;
        pos = up.Position;
        var reader = new TorchFileReader(src, null, "", !little) { _legacy = true };
        up = new Unpickler(bytes, pos, bytes.Length, reader);
        var result = up.Load();
        pos = up.Position;
        up = new Unpickler(bytes, pos, bytes.Length, none);
        var keys = up.Load() as List<object?> ?? throw new InvalidDataException("torch.load: corrupt legacy storage key list");
        long at = up.Position;
        var filled = new HashSet<string>();
        foreach (var k in keys)
        {
            if (k is not string key || !reader._storages.TryGetValue(key, out var st) || st.Offset != 0 || !filled.Add(key))
                throw new InvalidDataException($"torch.load: the legacy storage list names an unknown or repeated storage {Unpickler.Describe(k)}");
            if (at + 8 > bytes.Length) throw new InvalidDataException("torch.load: the checkpoint is truncated (storage header past the end)");
            long numel = little ? BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan((int)at)) : BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan((int)at));
            at += 8;
            if (numel != st.Length) throw new InvalidDataException($"torch.load: storage {key} holds {numel} elements in the file but {st.Length} in the pickle");
            long nbytes = numel * st.DType.ElementSize();
            if (nbytes > bytes.Length - at) throw new InvalidDataException($"torch.load: the checkpoint is truncated (storage {key} needs {nbytes} bytes, {bytes.Length - at} left)");
            FillFromArray(st.Root, bytes, at, nbytes, !little);
            at += nbytes;
        }
        foreach (var key in reader._roots)
            if (!filled.Contains(key))
                throw new InvalidDataException($"torch.load: storage {key} is used but its data is missing from the file");
        return Finish(result);
    }

    readonly HashSet<string> _roots = new();

    static void FillFromArray(Tensor root, byte[] bytes, long at, long nbytes, bool bigEndian)
    {
        int size = root.dtype.ElementSize();
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(ZipReader.ChunkBytes, Math.Max(nbytes, size)));
        try
        {
            int chunk = buffer.Length - buffer.Length % size;
            for (long done = 0; done < nbytes;)
            {
                int n = (int)Math.Min(chunk, nbytes - done);
                var span = buffer.AsSpan(0, n);
                bytes.AsSpan((int)(at + done), n).CopyTo(span);
                TensorBytes.Write(root, (int)(done / size), span, bigEndian);
                done += n;
            }
        }
        finally { ArrayPool<byte>.Shared.Return(buffer); }
    }

    sealed class NoPersistentIds : IPickleHost
    {
        public object? PersistentLoad(object? pid) => throw new InvalidDataException("torch.load: unexpected persistent id in a legacy header pickle");
        public object? Rebuild(PickleGlobal function, object?[] args) => throw new UnpicklingError($"Weights only load failed. Unexpected call to {function.FullName} in a legacy header pickle");
    }

    static (ScalarType? DType, string Name, int ElementSize) StorageDType(object? type)
    {
        string name = type switch
        {
            PickleGlobal { Module: "torch" } g => g.Name,
            PickleDType d => d.Name,
            _ => throw new InvalidDataException($"torch.load: bad storage type {Unpickler.Describe(type)} in a persistent id"),
        };
        return name switch
        {
            "FloatStorage" or "float32" or "float" => (ScalarType.Float32, "torch.float32", 4),
            "DoubleStorage" or "float64" or "double" => (ScalarType.Float64, "torch.float64", 8),
            "LongStorage" or "int64" or "long" => (ScalarType.Int64, "torch.int64", 8),
            "IntStorage" or "int32" or "int" => (ScalarType.Int32, "torch.int32", 4),
            "BoolStorage" or "bool" => (ScalarType.Bool, "torch.bool", 1),
            "HalfStorage" or "float16" or "half" => (null, "torch.float16", 2),
            "BFloat16Storage" or "bfloat16" => (null, "torch.bfloat16", 2),
            "ShortStorage" or "int16" or "short" => (null, "torch.int16", 2),
            "CharStorage" or "int8" => (null, "torch.int8", 1),
            "ByteStorage" or "uint8" => (null, "torch.uint8", 1),
            "ComplexFloatStorage" or "complex64" or "cfloat" => (null, "torch.complex64", 8),
            "ComplexDoubleStorage" or "complex128" or "cdouble" => (null, "torch.complex128", 16),
            "UntypedStorage" => (null, "untyped storage", 1),
            _ => (null, "torch." + name, 1),
        };
    }

    internal static NotSupportedException UnsupportedDType(string name) =>
        new($"torch.load: tensors of dtype {name} are not supported by Nabla yet (supported: torch.float32, torch.float64, torch.int64, torch.int32, torch.bool)");

    /// <inheritdoc/>
    public object? PersistentLoad(object? pid)
    {
        if (pid is not object?[] t || t.Length < 5 || t[0] is not "storage")
            throw new InvalidDataException($"torch.load: unknown persistent id {Unpickler.Describe(pid)} (expected a ('storage', type, key, location, numel) tuple)");
        if (t[2] is not string key || t[3] is not string || t[4] is not long numel || numel < 0)
            throw new InvalidDataException("torch.load: corrupt storage persistent id");
        var (dtype, dtypeName, elementSize) = StorageDType(t[1]);
        object? viewMetadata = _legacy && t.Length > 5 ? t[5] : null;
        if (_storages.TryGetValue(key, out var existing))
        {
            if (viewMetadata is null) return existing;
        }
        else
        {
            // The bytes a storage claims must be in the file (checked before allocating), then its dtype must be one Nabla holds.
            ZipEntry? entry = null;
            if (_legacy)
            {
                long nbytes = numel > long.MaxValue / 16 ? long.MaxValue : numel * elementSize;
                if (nbytes > _src.Length - _declaredBytes) throw new InvalidDataException($"torch.load: storage {key} claims {numel} elements ({nbytes} bytes), more than the file holds");
                _declaredBytes += nbytes;
            }
            else
            {
                if (!_entries!.TryGetValue(_prefix + "data/" + key, out entry))
                    throw new InvalidDataException($"torch.load: the archive has no record data/{key} for a storage the pickle uses");
                if (numel > long.MaxValue / 16 || entry.Size != numel * elementSize)
                    throw new InvalidDataException($"torch.load: record data/{key} holds {entry.Size} bytes, but the pickle says {numel} elements of {elementSize} bytes");
            }
            if (dtype is not { } dt) throw UnsupportedDType(dtypeName);
            if (numel > int.MaxValue) throw new NotSupportedException($"torch.load: storage {key} has {numel} elements; Nabla tensors hold at most {int.MaxValue}");
            if (_legacy)
            {
                existing = new StorageRef(TensorBytes.NewStorage(dt, (int)numel), 0, numel, dt);
                _roots.Add(key);
            }
            else
            {
                var root = TensorBytes.NewStorage(dt, (int)numel);
                ZipReader.ReadEntry(_src, entry!, elementSize, (span, at) => TensorBytes.Write(root, (int)(at / elementSize), span, _bigEndian));
                existing = new StorageRef(root, 0, numel, dt);
            }
            _storages[key] = existing;
        }
        if (viewMetadata is null) return existing;
        // legacy storage view: (view_key, offset, size) into the root storage
        if (viewMetadata is not object?[] { Length: 3 } vm || vm[0] is not string viewKey || vm[1] is not long off || vm[2] is not long size
            || off < 0 || size < 0 || off > existing.Length || size > existing.Length - off)
            throw new InvalidDataException($"torch.load: corrupt storage view of storage {key}");
        if (_storages.TryGetValue(viewKey, out var view)) return view;
        view = new StorageRef(existing.Root, (int)off, size, existing.DType);
        _storages[viewKey] = view;
        return view;
    }

    static long[] Ints(object? o, string what)
    {
        var items = o as object?[] ?? (o as List<object?>)?.ToArray();
        if (o is long[] direct) return (long[])direct.Clone();
        if (items is null) throw new InvalidDataException($"torch.load: tensor {what} is not a tuple of ints");
        var r = new long[items.Length];
        for (int i = 0; i < items.Length; i++) r[i] = items[i] as long? ?? throw new InvalidDataException($"torch.load: tensor {what} is not a tuple of ints");
        return r;
    }

    /// <inheritdoc/>
    public object? Rebuild(PickleGlobal function, object?[] args)
    {
        switch (function.Name)
        {
            case "_rebuild_tensor" or "_rebuild_tensor_v2":
            {
                if (args.Length < 4 || args[0] is not StorageRef storage || args[1] is not long offset)
                    throw new InvalidDataException($"torch.load: bad arguments to {function.FullName}");
                var shape = Ints(args[2], "size");
                var strides = Ints(args[3], "stride");
                bool requiresGrad = args.Length > 4 && args[4] is true;
                if (!TensorBytes.FitsStorage(shape, strides, offset, storage.Length))
                    throw new InvalidDataException(
                        $"torch.load: a tensor of size {ShapeUtil.Format(shape)}, stride {ShapeUtil.Format(strides)} and offset {offset} does not fit its storage of {storage.Length} elements");
                long numel = 1;
                foreach (var s in shape) numel *= s;          // FitsStorage bounded every extent by the storage length (or found a zero)
                if (numel > int.MaxValue) throw new NotSupportedException($"torch.load: a tensor of {numel} elements is larger than Nabla supports");
                var t = TensorBytes.OverStorage(storage.Root, shape, strides, storage.Root.ToStorageOffset(storage.Offset + (int)offset));
                if (requiresGrad)
                {
                    if (!t.is_floating_point()) throw new InvalidDataException("torch.load: only tensors of floating point dtype can require gradients");
                    t.requires_grad_(true);
                }
                return t;
            }
            case "_rebuild_parameter" or "_rebuild_parameter_with_state":
            {
                if (args.Length < 2 || args[0] is not Tensor data || args[1] is not bool requiresGrad)
                    throw new InvalidDataException($"torch.load: bad arguments to {function.FullName}");
                if (requiresGrad && !data.is_floating_point()) throw new InvalidDataException("torch.load: only tensors of floating point dtype can require gradients");
                return torch.nn.Parameter(data, requiresGrad);
            }
            case "_rebuild_from_type_v2":
            {
                if (args.Length < 3 || args[0] is not PickleGlobal func || args[2] is not object?[] inner)
                    throw new InvalidDataException($"torch.load: bad arguments to {function.FullName}");
                if (args[1] is not PickleGlobal { FullName: "torch.Tensor" or "torch.nn.parameter.Parameter" } type)
                    throw new UnpicklingError($"Weights only load failed. Tensor subclass {Unpickler.Describe(args[1])} is not supported");
                if (func.Module is not ("torch._utils" or "torch._tensor") || !func.Name.StartsWith("_rebuild", StringComparison.Ordinal))
                    throw new UnpicklingError($"Weights only load failed. Trying to call reduce for unrecognized function {func.FullName}");
                return Rebuild(func, inner);
            }
            case "_rebuild_sparse_tensor" or "_rebuild_sparse_csr_tensor":
                throw new NotSupportedException("torch.load: sparse tensors are not supported by Nabla");
            case "_rebuild_meta_tensor_no_storage":
                throw new NotSupportedException("torch.load: meta tensors saved without storage are not supported");
            case "_rebuild_qtensor":
                throw new NotSupportedException("torch.load: quantized tensors are not supported by Nabla");
            default:
                throw new UnpicklingError($"Weights only load failed. Trying to call reduce for unrecognized function {function.FullName}");
        }
    }

    // ---- turning the unpickled graph into the public .NET shapes ---------------------------------------------

    const int MaxDepth = 1000;

    static object? Finish(object? root) => Convert(root, new Dictionary<object, object>(ReferenceEqualityComparer.Instance), 0);

    static object? Convert(object? o, Dictionary<object, object> done, int depth)
    {
        if (depth > MaxDepth) throw new InvalidDataException($"torch.load: the pickled object nests more than {MaxDepth} levels deep");
        switch (o)
        {
            case null or string or long or double or bool or BigInteger or Tensor or byte[] or long[]: return o;
            case StorageRef s: return s.Offset == 0 && s.Length == TensorBytes.StorageLength(s.Root) ? s.Root : TensorBytes.OverStorage(s.Root, new[] { s.Length }, new long[] { 1 }, s.Root.ToStorageOffset(s.Offset));
            case PickleDType d: return d.Name switch
            {
                "float32" or "float" => ScalarType.Float32,
                "float64" or "double" => ScalarType.Float64,
                "int64" or "long" => ScalarType.Int64,
                "int32" or "int" => ScalarType.Int32,
                "bool" => ScalarType.Bool,
                _ => throw UnsupportedDType("torch." + d.Name),
            };
            case PickleGlobal g: return g.FullName;
        }
        if (done.TryGetValue(o, out var already)) return already;
        switch (o)
        {
            case List<object?> list:
                done[list] = list;
                for (int i = 0; i < list.Count; i++) list[i] = Convert(list[i], done, depth + 1);
                return list;
            case object?[] tuple:
                done[tuple] = tuple;
                for (int i = 0; i < tuple.Length; i++) tuple[i] = Convert(tuple[i], done, depth + 1);
                return tuple;
            case PickleDict dict:
            {
                bool allStrings = true;
                foreach (var k in dict.Items.Keys) if (k is not string) { allStrings = false; break; }
                if (allStrings)
                {
                    var r = new Dictionary<string, object?>(dict.Items.Count);
                    done[dict] = r;
                    foreach (var (k, v) in dict.Items) r[(string)k] = Convert(v, done, depth + 1);
                    return r;
                }
                else
                {
                    var r = new Dictionary<object, object?>(dict.Items.Count);
                    done[dict] = r;
                    foreach (var (k, v) in dict.Items)
                    {
                        var key = ReferenceEquals(k, PickleDict.NoneKey) ? PickleDict.NoneKey : Convert(k, done, depth + 1)!;
                        r[key] = Convert(v, done, depth + 1);
                    }
                    return r;
                }
            }
            default: return o;
        }
    }
}

internal static class TensorStorageOffsetExtensions
{
    /// <summary>The element offset, inside the storage, of element <paramref name="offset"/> of this 1-D storage tensor.</summary>
    public static int ToStorageOffset(this Tensor storageTensor, int offset) => checked((int)storageTensor.storage_offset() + offset);
}

/// <summary>Writes the zip checkpoint format of PyTorch ≥ 1.6.</summary>
internal static class TorchFileWriter
{
    public static void Save(object? obj, Stream output, bool leaveOpen)
    {
        var storages = new List<(string Key, Tensor Whole)>();
        var keys = new Dictionary<object, string>(ReferenceEqualityComparer.Instance);
        var pickler = new Pickler(t =>
        {
            var id = TensorBytes.StorageId(t);
            if (!keys.TryGetValue(id, out var key))
            {
                key = storages.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
                keys[id] = key;
                storages.Add((key, TensorBytes.WholeStorage(t)));
            }
            return (key, StorageTypeName(t.dtype), TensorBytes.StorageLength(t));
        });
        var pkl = pickler.Dump(obj);
        using var zip = new ZipWriter(output, leaveOpen);
        const string prefix = "archive/";
        zip.Add(prefix + "data.pkl", pkl);
        zip.Add(prefix + "byteorder", "little"u8);
        foreach (var (key, whole) in storages)
        {
            int size = whole.dtype.ElementSize();
            long nbytes = (long)TensorBytes.StorageLength(whole) * size;
            zip.Add(prefix + "data/" + key, nbytes, emit =>
            {
                var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(ZipReader.ChunkBytes, Math.Max(nbytes, size)));
                try
                {
                    int chunk = buffer.Length - buffer.Length % size;
                    for (long done = 0; done < nbytes;)
                    {
                        int n = (int)Math.Min(chunk, nbytes - done);
                        TensorBytes.Read(whole, (int)(done / size), buffer.AsSpan(0, n));
                        emit(buffer.AsMemory(0, n));
                        done += n;
                    }
                }
                finally { ArrayPool<byte>.Shared.Return(buffer); }
            });
        }
        zip.Add(prefix + "version", "3\n"u8);
        zip.Finish();
    }

    static string StorageTypeName(ScalarType t) => t switch
    {
        ScalarType.Float32 => "FloatStorage",
        ScalarType.Float64 => "DoubleStorage",
        ScalarType.Int64 => "LongStorage",
        ScalarType.Int32 => "IntStorage",
        ScalarType.Bool => "BoolStorage",
        _ => throw new NotSupportedException($"torch.save: dtype {t} is not supported"),
    };
}
