using System.Buffers.Binary;
using System.Collections;
using System.Numerics;
using System.Text;

namespace Nabla.Serialization;

/// <summary>
/// Writes .NET values as a protocol-2 pickle in the shape PyTorch's <c>torch.save</c> produces: tensors as
/// <c>torch._utils._rebuild_tensor_v2</c> calls over persistent-id storages, state dicts as
/// <c>collections.OrderedDict</c>, other dictionaries as dict, lists as list, arrays as tuples.
/// </summary>
internal sealed class Pickler
{
    readonly MemoryStream _out = new();
    readonly Func<Tensor, (string Key, string StorageType, long Numel)> _storageOf;
    readonly Dictionary<object, int> _memo = new(ReferenceEqualityComparer.Instance);
    const int MaxDepth = 1000;

    public Pickler(Func<Tensor, (string, string, long)> storageOf) => _storageOf = storageOf;

    /// <summary>The pickle of <paramref name="obj"/> (PROTO 2 ... STOP).</summary>
    public byte[] Dump(object? obj)
    {
        _out.WriteByte(0x80);
        _out.WriteByte(2);
        Save(obj, 0);
        _out.WriteByte((byte)'.');
        return _out.ToArray();
    }

    void Op(char c) => _out.WriteByte((byte)c);
    void Op(byte b) => _out.WriteByte(b);

    void Global(string module, string name)
    {
        Op('c');
        var bytes = Encoding.ASCII.GetBytes(module + "\n" + name + "\n");
        _out.Write(bytes);
    }

    bool TryGet(object o)
    {
        if (!_memo.TryGetValue(o, out int idx)) return false;
        if (idx < 256) { Op('h'); Op((byte)idx); }
        else { Op('j'); Span<byte> b = stackalloc byte[4]; BinaryPrimitives.WriteInt32LittleEndian(b, idx); _out.Write(b); }
        return true;
    }

    void Put(object o)
    {
        int idx = _memo.Count;
        _memo[o] = idx;
        if (idx < 256) { Op('q'); Op((byte)idx); }
        else { Op('r'); Span<byte> b = stackalloc byte[4]; BinaryPrimitives.WriteInt32LittleEndian(b, idx); _out.Write(b); }
    }

    void SaveLong(long v)
    {
        Span<byte> b = stackalloc byte[8];
        if (v >= 0 && v < 256) { Op('K'); Op((byte)v); }
        else if (v >= 0 && v < 65536) { Op('M'); BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)v); _out.Write(b[..2]); }
        else if (v >= int.MinValue && v <= int.MaxValue) { Op('J'); BinaryPrimitives.WriteInt32LittleEndian(b, (int)v); _out.Write(b[..4]); }
        else SaveBig(v);
    }

    void SaveBig(BigInteger v)
    {
        var bytes = v.ToByteArray();   // little-endian two's complement, minimal
        if (bytes.Length < 256) { Op(0x8a); Op((byte)bytes.Length); }
        else { Op(0x8b); Span<byte> b = stackalloc byte[4]; BinaryPrimitives.WriteInt32LittleEndian(b, bytes.Length); _out.Write(b); }
        _out.Write(bytes);
    }

    void SaveString(string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        Op('X');
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(b, bytes.Length);
        _out.Write(b);
        _out.Write(bytes);
    }

    void SaveTuple(IReadOnlyList<object?> items, int depth)
    {
        if (items.Count == 0) { Op(')'); return; }
        if (items.Count <= 3)
        {
            foreach (var x in items) Save(x, depth + 1);
            Op((byte)(0x84 + items.Count));   // TUPLE1..TUPLE3
            return;
        }
        Op('(');
        foreach (var x in items) Save(x, depth + 1);
        Op('t');
    }

    void SaveItems(IEnumerable<KeyValuePair<object, object?>> items, int depth)
    {
        int n = 0;
        foreach (var (k, v) in items)
        {
            if (n == 0) Op('(');
            Save(k, depth + 1);
            Save(v, depth + 1);
            if (++n == 1000) { Op('u'); n = 0; }
        }
        if (n > 0) Op('u');
    }

    static IEnumerable<KeyValuePair<object, object?>> Entries(IDictionary d)
    {
        foreach (DictionaryEntry e in d) yield return new(e.Key, e.Value);
    }

    void Save(object? obj, int depth)
    {
        if (depth > MaxDepth) throw new ArgumentException($"torch.save: the object nests more than {MaxDepth} levels deep");
        switch (obj)
        {
            case null: Op('N'); return;
            case bool b: Op(b ? (byte)0x88 : (byte)0x89); return;
            case long l: SaveLong(l); return;
            case int i: SaveLong(i); return;
            case short s: SaveLong(s); return;
            case byte u8: SaveLong(u8); return;
            case sbyte i8: SaveLong(i8); return;
            case uint u32: SaveLong(u32); return;
            case BigInteger big: if (big >= long.MinValue && big <= long.MaxValue) SaveLong((long)big); else SaveBig(big); return;
            case double d: { Op('G'); Span<byte> b8 = stackalloc byte[8]; BinaryPrimitives.WriteDoubleBigEndian(b8, d); _out.Write(b8); return; }
            case float f: { Op('G'); Span<byte> b8 = stackalloc byte[8]; BinaryPrimitives.WriteDoubleBigEndian(b8, f); _out.Write(b8); return; }
            case string str: SaveString(str); return;
            case ScalarType dt: Global("torch", dt.PythonName()["torch.".Length..]); return;
            case byte[] bytes:
                // Protocol 2 spells bytes as _codecs.encode(latin-1 text, 'latin1'), as Python's pickle does.
                Global("_codecs", "encode");
                SaveString(Encoding.Latin1.GetString(bytes));
                SaveString("latin1");
                Op(0x86);
                Op('R');
                return;
            case Tensor t: SaveTensor(t, depth); return;
            case long[] size: SaveTuple(size.Select(v => (object?)v).ToArray(), depth); return;
            case object?[] tuple:
                if (TryGet(tuple)) return;
                SaveTuple(tuple, depth);
                Put(tuple);
                return;
            case IDictionary dict:
            {
                if (TryGet(dict)) return;
                bool stateDict = IsStateDict(dict);
                if (stateDict) { Global("collections", "OrderedDict"); Op(')'); Op('R'); }
                else Op('}');
                Put(dict);
                SaveItems(Entries(dict), depth);
                return;
            }
            case IList list:
            {
                if (TryGet(list)) return;
                Op(']');
                Put(list);
                int n = 0;
                foreach (var x in list)
                {
                    if (n == 0) Op('(');
                    Save(x, depth + 1);
                    if (++n == 1000) { Op('e'); n = 0; }
                }
                if (n > 0) Op('e');
                return;
            }
            default:
                throw new ArgumentException(
                    $"torch.save: can't pickle an object of type {obj.GetType().Name} (supported: Tensor, dictionaries, lists, arrays, " +
                    "numbers, strings, bools, null, dtypes); to save a module, save its state_dict()");
        }
    }

    /// <summary>A dictionary from names to tensors (what <c>Module.state_dict()</c> returns) pickles as an OrderedDict, as in PyTorch.</summary>
    static bool IsStateDict(IDictionary d)
    {
        var type = d.GetType();
        return type.IsGenericType && type.GetGenericArguments() is [var k, var v] && k == typeof(string) && v == typeof(Tensor);
    }

    void SaveTensor(Tensor t, int depth)
    {
        if (TryGet(t)) return;
        if (t.is_meta) throw new ArgumentException("torch.save: meta tensors have no data to save");
        bool parameter = t._isParameter;
        if (parameter) Global("torch._utils", "_rebuild_parameter");
        Global("torch._utils", "_rebuild_tensor_v2");
        Op('(');
        var (key, storageType, numel) = _storageOf(t);
        // persistent id ('storage', torch.<Type>Storage, key, location, numel)
        Op('(');
        SaveString("storage");
        Global("torch", storageType);
        SaveString(key);
        SaveString("cpu");
        SaveLong(numel);
        Op('t');
        Op('Q');
        SaveLong(t.storage_offset());
        SaveTuple(t.shape.Select(v => (object?)v).ToArray(), depth);
        SaveTuple(t.stride().Select(v => (object?)v).ToArray(), depth);
        Op(t.requires_grad && !parameter ? (byte)0x88 : (byte)0x89);
        Global("collections", "OrderedDict"); Op(')'); Op('R');   // backward_hooks
        Op('t');
        Op('R');
        if (parameter)
        {
            Op(t.requires_grad ? (byte)0x88 : (byte)0x89);
            Global("collections", "OrderedDict"); Op(')'); Op('R');
            Op(0x87);   // TUPLE3 (tensor, requires_grad, hooks)
            Op('R');
        }
        Put(t);
    }
}
