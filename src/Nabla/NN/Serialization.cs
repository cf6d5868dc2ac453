using System.Text;

namespace Nabla;

// Note [Checkpoint format]
// torch.save writes Python pickles inside a zip; reading or writing those needs a pickle implementation, which the
// core package does not carry. torch.save/torch.load here store a state dict (name → tensor) in a small documented
// binary format instead: "NABLASD1", int32 count, then per entry: UTF-8 name (int32 length + bytes), dtype (sbyte,
// PyTorch's ScalarType number), int32 rank, int64 sizes, and the contiguous elements little-endian. Files are not
// interchangeable with PyTorch's; values round-trip exactly.

public static partial class torch
{
    const string CheckpointMagic = "NABLASD1";

    /// <summary>Writes a state dict (e.g. <c>model.state_dict()</c>) to <paramref name="path"/> (Note [Checkpoint format]).</summary>
    public static void save(IDictionary<string, Tensor> state_dict, string path)
    {
        using var file = File.Create(path);
        save(state_dict, file);
    }

    /// <summary>Writes a state dict to a stream (Note [Checkpoint format]).</summary>
    public static void save(IDictionary<string, Tensor> state_dict, Stream stream)
    {
        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        w.Write(Encoding.ASCII.GetBytes(CheckpointMagic));
        w.Write(state_dict.Count);
        foreach (var (name, t) in state_dict)
        {
            var bytes = Encoding.UTF8.GetBytes(name);
            w.Write(bytes.Length); w.Write(bytes);
            w.Write((sbyte)t.dtype);
            w.Write((int)t.dim());
            foreach (var s in t.shape) w.Write(s);
            var c = t.detach().contiguous();
            switch (t.dtype)
            {
                case ScalarType.Float32: foreach (var v in c.ToArray<float>()) w.Write(v); break;
                case ScalarType.Float64: foreach (var v in c.ToArray<double>()) w.Write(v); break;
                case ScalarType.Int64: foreach (var v in c.ToArray<long>()) w.Write(v); break;
                case ScalarType.Int32: foreach (var v in c.ToArray<int>()) w.Write(v); break;
                case ScalarType.Bool: foreach (var v in c.ToArray<bool>()) w.Write(v); break;
                default: throw new ArgumentException($"cannot save dtype {t.dtype}");
            }
        }
    }

    /// <summary>Reads a state dict written by <see cref="save(IDictionary{string, Tensor}, string)"/>, in the saved order.</summary>
    /// <exception cref="InvalidDataException">The file is not a Nabla checkpoint or is truncated.</exception>
    public static Dictionary<string, Tensor> load(string path)
    {
        using var file = File.OpenRead(path);
        return load(file);
    }

    /// <summary>Reads a state dict from a stream.</summary>
    /// <exception cref="InvalidDataException">Not a Nabla checkpoint, or truncated.</exception>
    public static Dictionary<string, Tensor> load(Stream stream)
    {
        using var r = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        try
        {
            if (Encoding.ASCII.GetString(r.ReadBytes(CheckpointMagic.Length)) != CheckpointMagic)
                throw new InvalidDataException("not a Nabla checkpoint (torch.save of Nabla writes its own format; PyTorch's pickled .pt files cannot be read)");
            int count = r.ReadInt32();
            var result = new Dictionary<string, Tensor>();
            for (int i = 0; i < count; i++)
            {
                string name = Encoding.UTF8.GetString(r.ReadBytes(r.ReadInt32()));
                var dtype = (ScalarType)r.ReadSByte();
                var shape = new long[r.ReadInt32()];
                for (int d = 0; d < shape.Length; d++) shape[d] = r.ReadInt64();
                long n = shape.Aggregate(1L, (a, b) => a * b);
                Tensor t = dtype switch
                {
                    ScalarType.Float32 => tensor(Read(n, r.ReadSingle), shape),
                    ScalarType.Float64 => tensor(Read(n, r.ReadDouble), shape),
                    ScalarType.Int64 => tensor(Read(n, r.ReadInt64), shape),
                    ScalarType.Int32 => tensor(Read(n, () => (long)r.ReadInt32()), shape).to(ScalarType.Int32),
                    ScalarType.Bool => tensor(Read(n, () => r.ReadBoolean() ? 1L : 0L), shape).to(ScalarType.Bool),
                    _ => throw new InvalidDataException($"unknown dtype {(int)dtype} in checkpoint"),
                };
                result[name] = t;
            }
            return result;
        }
        catch (EndOfStreamException e) { throw new InvalidDataException("truncated Nabla checkpoint", e); }
    }

    static T[] Read<T>(long n, Func<T> read)
    {
        var a = new T[n];
        for (long i = 0; i < n; i++) a[i] = read();
        return a;
    }
}
