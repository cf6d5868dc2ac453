using System.Buffers;
using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Text;
using System.Text.Json;
using Nabla.Serialization;

namespace Nabla;

/// <summary>
/// The safetensors format (Hugging Face's <c>safetensors</c> package, as <c>safetensors.torch</c>): an 8-byte
/// little-endian header length, a JSON header naming each tensor's dtype, shape and byte range, and the raw
/// little-endian bytes. Headers are validated as the format's specification requires (at most 100 MB, every byte
/// of the data covered exactly once by consecutive tensors, in bounds) before anything is allocated.
/// </summary>
public static class safetensors
{
    /// <summary>The largest header the format allows (100 MB).</summary>
    public const long MaxHeaderSize = 100_000_000;

    /// <summary>Loads every tensor of a safetensors file (sorted by name, as <c>safetensors.torch.load_file</c>).</summary>
    /// <param name="filename">The .safetensors file.</param>
    /// <param name="device">Only <c>"cpu"</c> is supported.</param>
    /// <exception cref="InvalidDataException">The header is malformed or inconsistent with the file.</exception>
    /// <exception cref="NotSupportedException">A tensor has a dtype Nabla cannot hold yet (F16, BF16, I16, I8, U8, ...).</exception>
    public static Dictionary<string, Tensor> load_file(string filename, string device = "cpu")
    {
        CheckDevice(device);
        using var f = safe_open(filename, "pt", device);
        var result = new Dictionary<string, Tensor>();
        foreach (var name in f.keys()) result[name] = f.get_tensor(name);
        return result;
    }

    /// <summary>Loads every tensor from the bytes of a safetensors file (as <c>safetensors.torch.load</c>).</summary>
    public static Dictionary<string, Tensor> load(byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        using var src = new ByteSource.MemorySource(data, data.Length);
        var header = SafetensorsHeader.Parse(src);
        var result = new Dictionary<string, Tensor>();
        foreach (var name in header.Names) result[name] = header.ReadTensor(src, name);
        return result;
    }

    /// <summary>
    /// Saves tensors to a safetensors file (as <c>safetensors.torch.save_file</c>): each tensor's values in
    /// row-major order (non-contiguous tensors are written contiguously, shared storages are written once per tensor).
    /// </summary>
    /// <param name="tensors">Tensors by name.</param>
    /// <param name="filename">The file to create.</param>
    /// <param name="metadata">Optional string-to-string metadata stored under <c>__metadata__</c>.</param>
    public static void save_file(IReadOnlyDictionary<string, Tensor> tensors, string filename, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var f = new FileStream(filename, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        SafetensorsHeader.Write(tensors, metadata, f);
    }

    /// <summary>The bytes of a safetensors file holding <paramref name="tensors"/> (as <c>safetensors.torch.save</c>).</summary>
    public static byte[] save(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var ms = new MemoryStream();
        SafetensorsHeader.Write(tensors, metadata, ms);
        return ms.ToArray();
    }

    /// <summary>
    /// Opens a safetensors file lazily (as <c>safetensors.safe_open(filename, framework="pt")</c>): the header is
    /// read and validated at once; tensors are read on demand from a memory mapping of the file.
    /// </summary>
    public static SafeOpen safe_open(string filename, string framework = "pt", string device = "cpu")
    {
        if (framework is not ("pt" or "torch" or "nabla")) throw new ArgumentException($"safe_open: framework '{framework}' is not supported (use \"pt\")");
        CheckDevice(device);
        return new SafeOpen(filename);
    }

    static void CheckDevice(string device)
    {
        if (device != "cpu") throw new NotSupportedException($"safetensors: device '{device}' is not supported: Nabla loads tensors to the CPU");
    }

    /// <summary>A safetensors file opened lazily (<see cref="safe_open"/>): keys, metadata and single tensors on demand.</summary>
    public sealed class SafeOpen : IDisposable
    {
        readonly MappedSource _src;
        readonly SafetensorsHeader _header;

        internal SafeOpen(string filename)
        {
            _src = new MappedSource(filename);
            try { _header = SafetensorsHeader.Parse(_src); }
            catch { _src.Dispose(); throw; }
        }

        /// <summary>The tensor names, sorted.</summary>
        public List<string> keys() => new(_header.Names);

        /// <summary>The <c>__metadata__</c> of the header (null when there is none).</summary>
        public Dictionary<string, string>? metadata() => _header.Metadata is null ? null : new(_header.Metadata);

        /// <summary>The dtype string (<c>F32</c>, <c>BF16</c>, ...) of a tensor, without loading it.</summary>
        public string dtype(string name) => _header.Get(name).DType;

        /// <summary>The shape of a tensor, without loading it.</summary>
        public long[] shape(string name) => (long[])_header.Get(name).Shape.Clone();

        /// <summary>Reads one tensor (a new CPU tensor with its own storage).</summary>
        /// <exception cref="KeyNotFoundException">No tensor has that name.</exception>
        /// <exception cref="NotSupportedException">Its dtype is not supported by Nabla yet.</exception>
        public Tensor get_tensor(string name) => _header.ReadTensor(_src, name);

        /// <summary>Releases the memory mapping.</summary>
        public void Dispose() => _src.Dispose();
    }

    /// <summary>A read-only memory mapping of a file as a byte source.</summary>
    internal sealed unsafe class MappedSource : ByteSource
    {
        readonly MemoryMappedFile? _file;
        readonly MemoryMappedViewAccessor? _view;
        readonly byte* _ptr;
        readonly long _length;

        public MappedSource(string path)
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            _length = fs.Length;
            if (_length == 0) return;
            _file = MemoryMappedFile.CreateFromFile(fs, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            _view = _file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* p = null;
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            _ptr = p + _view.PointerOffset;
        }

        public override long Length => _length;

        protected override void ReadCore(long offset, Span<byte> buffer) => new ReadOnlySpan<byte>(_ptr + offset, buffer.Length).CopyTo(buffer);

        public override void Dispose()
        {
            if (_view is not null)
            {
                _view.SafeMemoryMappedViewHandle.ReleasePointer();
                _view.Dispose();
            }
            _file?.Dispose();
        }
    }
}

/// <summary>A parsed and validated safetensors header.</summary>
internal sealed class SafetensorsHeader
{
    internal sealed record Entry(string DType, long[] Shape, long Begin, long End);

    readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    public readonly List<string> Names = new();
    public Dictionary<string, string>? Metadata;
    public long DataStart;

    public Entry Get(string name) =>
        _entries.TryGetValue(name, out var e) ? e : throw new KeyNotFoundException($"safetensors: no tensor named '{name}' in the file");

    static int ElementSize(string dtype) => dtype switch
    {
        "F64" or "I64" or "U64" => 8,
        "F32" or "I32" or "U32" => 4,
        "F16" or "BF16" or "I16" or "U16" => 2,
        "I8" or "U8" or "BOOL" or "F8_E5M2" or "F8_E4M3" => 1,
        _ => 0,
    };

    static ScalarType? NablaDType(string dtype) => dtype switch
    {
        "F64" => ScalarType.Float64,
        "F32" => ScalarType.Float32,
        "I64" => ScalarType.Int64,
        "I32" => ScalarType.Int32,
        "BOOL" => ScalarType.Bool,
        _ => null,
    };

    static string SafeDType(ScalarType t) => t switch
    {
        ScalarType.Float64 => "F64",
        ScalarType.Float32 => "F32",
        ScalarType.Int64 => "I64",
        ScalarType.Int32 => "I32",
        ScalarType.Bool => "BOOL",
        _ => throw new NotSupportedException($"safetensors: dtype {t} is not supported"),
    };

    static InvalidDataException Bad(string why) => new($"safetensors: invalid header: {why}");

    public static SafetensorsHeader Parse(ByteSource src)
    {
        if (src.Length < 8) throw Bad($"the file has {src.Length} bytes, fewer than the 8-byte header length");
        Span<byte> n8 = stackalloc byte[8];
        src.Read(0, n8, "the header length");
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(n8);
        if (n > safetensors.MaxHeaderSize) throw Bad($"the header claims {n} bytes, more than the format's limit of {safetensors.MaxHeaderSize}");
        if ((long)n > src.Length - 8) throw Bad($"the header claims {n} bytes but the file has only {src.Length - 8} after the length");
        var json = src.ReadArray(8, (long)n, "the header");
        if (json.Length < 2 || json[0] != (byte)'{') throw Bad("the header must be a JSON object starting with '{'");
        if (!System.Text.Unicode.Utf8.IsValid(json)) throw Bad("the header is not valid UTF-8");
        var h = new SafetensorsHeader { DataStart = 8 + (long)n };
        long dataLength = src.Length - h.DataStart;
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 8 }); }
        catch (JsonException e) { throw Bad("the header is not valid JSON (" + e.Message + ")"); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw Bad("the header must be a JSON object");
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (!seen.Add(prop.Name)) throw Bad($"duplicate key '{prop.Name}'");
                if (prop.Name == "__metadata__")
                {
                    if (prop.Value.ValueKind != JsonValueKind.Object) throw Bad("__metadata__ must be an object of strings");
                    h.Metadata = new Dictionary<string, string>();
                    foreach (var m in prop.Value.EnumerateObject())
                    {
                        if (m.Value.ValueKind != JsonValueKind.String) throw Bad($"__metadata__ value '{m.Name}' is not a string");
                        h.Metadata[m.Name] = m.Value.GetString()!;
                    }
                    continue;
                }
                var v = prop.Value;
                if (v.ValueKind != JsonValueKind.Object
                    || !v.TryGetProperty("dtype", out var dt) || dt.ValueKind != JsonValueKind.String
                    || !v.TryGetProperty("shape", out var sh) || sh.ValueKind != JsonValueKind.Array
                    || !v.TryGetProperty("data_offsets", out var off) || off.ValueKind != JsonValueKind.Array || off.GetArrayLength() != 2)
                    throw Bad($"tensor '{prop.Name}' needs \"dtype\" (string), \"shape\" (array) and \"data_offsets\" ([begin, end])");
                string dtype = dt.GetString()!;
                int size = ElementSize(dtype);
                if (size == 0) throw Bad($"tensor '{prop.Name}' has unknown dtype '{dtype}'");
                var shape = new long[sh.GetArrayLength()];
                long nbytes = size;
                int i = 0;
                foreach (var d in sh.EnumerateArray())
                {
                    if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long dim) || dim < 0) throw Bad($"tensor '{prop.Name}' has a bad shape entry");
                    shape[i++] = dim;
                    nbytes = dim == 0 || nbytes == 0 ? 0 : nbytes > long.MaxValue / dim ? -1 : nbytes * dim;
                    if (nbytes < 0) throw Bad($"tensor '{prop.Name}' has a shape whose size overflows");
                }
                var offs = off.EnumerateArray().ToArray();
                if (offs[0].ValueKind != JsonValueKind.Number || offs[1].ValueKind != JsonValueKind.Number
                    || !offs[0].TryGetInt64(out long begin) || !offs[1].TryGetInt64(out long end) || begin < 0 || end < begin)
                    throw Bad($"tensor '{prop.Name}' has bad data_offsets");
                if (end > dataLength) throw Bad($"tensor '{prop.Name}' ends at byte {end} of the data, beyond its {dataLength} bytes");
                if (end - begin != nbytes) throw Bad($"tensor '{prop.Name}' of dtype {dtype} and shape [{string.Join(", ", shape)}] needs {nbytes} bytes but data_offsets span {end - begin}");
                h._entries[prop.Name] = new Entry(dtype, shape, begin, end);
            }
        }
        // Every byte of the data section belongs to exactly one tensor: sorted by offsets, each starts where the previous ended.
        var byOffset = h._entries.OrderBy(e => e.Value.Begin).ThenBy(e => e.Value.End).ToList();
        long expect = 0;
        foreach (var (name, e) in byOffset)
        {
            if (e.Begin != expect) throw Bad(e.Begin < expect ? $"tensor '{name}' overlaps the previous tensor" : $"the data has a hole before tensor '{name}' (offset {e.Begin}, expected {expect})");
            expect = e.End;
        }
        if (expect != dataLength) throw Bad($"the tensors cover {expect} bytes of data but the file holds {dataLength}");
        h.Names.AddRange(h._entries.Keys.OrderBy(k => k, StringComparer.Ordinal));
        return h;
    }

    public Tensor ReadTensor(ByteSource src, string name)
    {
        var e = Get(name);
        var dtype = NablaDType(e.DType) ?? throw new NotSupportedException(
            $"safetensors: tensor '{name}' has dtype {e.DType}, which Nabla does not support yet (supported: F64, F32, I64, I32, BOOL)");
        long numel = (e.End - e.Begin) / ElementSize(e.DType);
        foreach (var d in e.Shape) if (d == 0) numel = 0;
        if (numel > int.MaxValue) throw new NotSupportedException($"safetensors: tensor '{name}' has {numel} elements; Nabla tensors hold at most {int.MaxValue}");
        var flat = TensorBytes.NewStorage(dtype, (int)numel);
        int size = dtype.ElementSize();
        long nbytes = numel * size;
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(ZipReader.ChunkBytes, Math.Max(nbytes, size)));
        try
        {
            int chunk = buffer.Length - buffer.Length % size;
            for (long done = 0; done < nbytes;)
            {
                int n = (int)Math.Min(chunk, nbytes - done);
                var span = buffer.AsSpan(0, n);
                src.Read(DataStart + e.Begin + done, span, $"tensor '{name}'");
                TensorBytes.Write(flat, (int)(done / size), span, bigEndian: false);
                done += n;
            }
        }
        finally { ArrayPool<byte>.Shared.Return(buffer); }
        return TensorBytes.OverStorage(flat, (long[])e.Shape.Clone(), ShapeUtil.ContiguousStrides(e.Shape), 0);
    }

    public static void Write(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata, Stream output)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        // Order of the data as the reference writer: larger element sizes first, then by name.
        var order = tensors.OrderByDescending(kv => kv.Value.dtype.ElementSize()).ThenBy(kv => kv.Key, StringComparer.Ordinal).ToList();
        var json = new MemoryStream();
        using (var w = new Utf8JsonWriter(json))
        {
            w.WriteStartObject();
            if (metadata is not null)
            {
                w.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) w.WriteString(k, v);
                w.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, t) in order)
            {
                if (name == "__metadata__") throw new ArgumentException("safetensors: '__metadata__' is reserved and cannot name a tensor");
                if (t.is_meta) throw new ArgumentException($"safetensors: tensor '{name}' is on the meta device and has no data");
                long nbytes = t.numel() * t.dtype.ElementSize();
                w.WriteStartObject(name);
                w.WriteString("dtype", SafeDType(t.dtype));
                w.WriteStartArray("shape");
                foreach (var d in t.shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + nbytes);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += nbytes;
            }
            w.WriteEndObject();
        }
        int pad = (int)((8 - json.Length % 8) % 8);
        for (int i = 0; i < pad; i++) json.WriteByte((byte)' ');
        Span<byte> n8 = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(n8, (ulong)json.Length);
        output.Write(n8);
        json.Position = 0;
        json.CopyTo(output);
        var buffer = ArrayPool<byte>.Shared.Rent(ZipReader.ChunkBytes);
        try
        {
            foreach (var (_, t) in order)
            {
                var flat = t.FlatValues();
                int size = t.dtype.ElementSize();
                long nbytes = t.numel() * size;
                int chunk = buffer.Length - buffer.Length % size;
                for (long done = 0; done < nbytes;)
                {
                    int n = (int)Math.Min(chunk, nbytes - done);
                    TensorBytes.Read(flat, (int)(done / size), buffer.AsSpan(0, n));
                    output.Write(buffer, 0, n);
                    done += n;
                }
            }
        }
        finally { ArrayPool<byte>.Shared.Return(buffer); }
        output.Flush();
    }
}
