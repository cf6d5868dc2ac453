using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace Nabla.Serialization;

/// <summary>
/// A pickled global that the file referenced and the allow-list admits (<c>module.name</c>); calling it is done by
/// <see cref="Unpickler"/>'s own code for that name, never by looking anything up.
/// </summary>
internal sealed record PickleGlobal(string Module, string Name)
{
    public string FullName => Module + "." + Name;
    public override string ToString() => FullName;
}

/// <summary>A dtype object named in the pickle (<c>torch.float16</c> ...), kept as its name.</summary>
internal sealed record PickleDType(string Name);

/// <summary>A dict while unpickling (keys compared as Python would for str/int/float/bool/None; others by identity).</summary>
internal sealed class PickleDict
{
    public readonly Dictionary<object, object?> Items = new(KeyComparer.Instance);
    public bool Ordered;

    public void Set(object? key, object? value) => Items[key ?? NoneKey] = value;

    public static readonly object NoneKey = new();

    sealed class KeyComparer : IEqualityComparer<object>
    {
        public static readonly KeyComparer Instance = new();
        public new bool Equals(object? a, object? b) => a is string or long or double or bool or BigInteger ? a.Equals(b) : ReferenceEquals(a, b);
        public int GetHashCode(object o) => o is string or long or double or bool or BigInteger ? o.GetHashCode() : System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(o);
    }
}

/// <summary>What the loader does for the pickle's persistent ids and the tensor-rebuilding globals.</summary>
internal interface IPickleHost
{
    /// <summary>Resolves a persistent id (<c>('storage', type, key, location, numel)</c>) to a storage object.</summary>
    object? PersistentLoad(object? pid);

    /// <summary>Calls an allow-listed torch rebuild function (<c>_rebuild_tensor_v2</c>, <c>_rebuild_parameter</c>, ...).</summary>
    object? Rebuild(PickleGlobal function, object?[] args);
}


// Note [Restricted unpickler]
// Pickle is a small stack machine whose GLOBAL/REDUCE/BUILD/INST/OBJ/NEWOBJ opcodes normally import and call
// arbitrary Python. This unpickler is PyTorch's weights_only=True unpickler in C#: GLOBAL and STACK_GLOBAL look the
// name up in a fixed allow-list (containers, torch rebuild functions, storage classes, dtypes, torch.Size,
// torch.device, _codecs.encode) and raise UnpicklingError naming anything else, before any further opcode runs;
// REDUCE/NEWOBJ/BUILD only apply the hand-written meaning of those names; INST, OBJ, EXT* and out-of-band buffers
// are refused outright. Nothing is ever executed or reflected on. Every read is bounds-checked (truncation ->
// InvalidDataException), every length is checked against the bytes left before allocating, the memo is a
// dictionary (a forged LONG_BINPUT index allocates nothing), and the machine is a loop (no recursion), so a hostile
// pickle costs at most time and memory linear in its own size.

/// <summary>PyTorch's weights-only unpickler (protocols 0-5); see Note [Restricted unpickler].</summary>
internal sealed class Unpickler
{
    readonly byte[] _data;
    readonly int _end;
    int _pos;
    readonly IPickleHost _host;
    readonly List<object?> _stack = new();
    readonly List<int> _marks = new();
    readonly Dictionary<long, object?> _memo = new();

    static readonly object Mark = new();

    public Unpickler(byte[] data, int start, int end, IPickleHost host)
    {
        _data = data;
        _pos = start;
        _end = end;
        _host = host;
    }

    /// <summary>Position after the STOP opcode (the legacy format has several pickles back to back).</summary>
    public int Position => _pos;

    static readonly HashSet<string> StorageTypes = new()
    {
        "FloatStorage", "DoubleStorage", "HalfStorage", "BFloat16Storage", "LongStorage", "IntStorage", "ShortStorage",
        "CharStorage", "ByteStorage", "BoolStorage", "ComplexFloatStorage", "ComplexDoubleStorage", "QUInt8Storage",
        "QInt8Storage", "QInt32Storage", "QUInt4x2Storage", "QUInt2x4Storage", "UntypedStorage",
    };

    static readonly HashSet<string> DTypeNames = new()
    {
        "float32", "float", "float64", "double", "float16", "half", "bfloat16", "int64", "long", "int32", "int", "int16",
        "short", "int8", "uint8", "bool", "complex32", "complex64", "complex128", "cfloat", "cdouble", "qint8", "quint8", "qint32", "quint4x2",
    };

    static readonly HashSet<string> TensorClasses = new()
    {
        "FloatTensor", "DoubleTensor", "HalfTensor", "BFloat16Tensor", "LongTensor", "IntTensor", "ShortTensor",
        "CharTensor", "ByteTensor", "BoolTensor",
    };

    static readonly HashSet<string> Allowed = new()
    {
        "collections.OrderedDict", "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state", "torch._tensor._rebuild_from_type_v2",
        "torch._utils._rebuild_sparse_tensor", "torch._utils._rebuild_meta_tensor_no_storage", "torch._utils._rebuild_sparse_csr_tensor",
        "torch._utils._rebuild_qtensor", "torch.nn.parameter.Parameter", "torch.Tensor", "torch.Size", "torch.device",
        "_codecs.encode", "torch.serialization._get_layout", "torch.storage.UntypedStorage", "torch.storage.TypedStorage",
    };

    static object ResolveGlobal(string module, string name)
    {
        string full = module + "." + name;
        if (module == "torch" && StorageTypes.Contains(name)) return new PickleGlobal(module, name);
        if (module == "torch" && TensorClasses.Contains(name)) return new PickleGlobal(module, name);
        if (module == "torch" && DTypeNames.Contains(name)) return new PickleDType(name);
        if (Allowed.Contains(full)) return new PickleGlobal(module, name);
        throw new UnpicklingError(
            $"Weights only load failed. Unsupported global: GLOBAL {full} was not an allowed global by default. " +
            "Nabla's torch.load unpickles only tensors, state dicts and plain containers, and never runs code from the file.");
    }

    InvalidDataException Truncated() => new("the pickle data is truncated (ran past its end)");

    byte ReadByte() => _pos < _end ? _data[_pos++] : throw Truncated();

    ReadOnlySpan<byte> ReadBytes(long n)
    {
        if (n < 0 || n > _end - _pos) throw new InvalidDataException($"the pickle data is truncated (a {n}-byte value runs past its end)");
        var s = _data.AsSpan(_pos, (int)n);
        _pos += (int)n;
        return s;
    }

    string ReadLine()
    {
        int nl = Array.IndexOf(_data, (byte)'\n', _pos, _end - _pos);
        if (nl < 0) throw Truncated();
        var s = Encoding.ASCII.GetString(_data, _pos, nl - _pos);
        _pos = nl + 1;
        return s.EndsWith('\r') ? s[..^1] : s;
    }

    object? Pop()
    {
        if (_stack.Count == 0 || (_marks.Count > 0 && _stack.Count <= _marks[^1])) throw new InvalidDataException("corrupt pickle: stack underflow");
        var v = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        return v;
    }

    object? Peek()
    {
        if (_stack.Count == 0 || (_marks.Count > 0 && _stack.Count <= _marks[^1])) throw new InvalidDataException("corrupt pickle: stack underflow");
        return _stack[^1];
    }

    List<object?> PopMark()
    {
        if (_marks.Count == 0) throw new InvalidDataException("corrupt pickle: MARK missing");
        int m = _marks[^1];
        _marks.RemoveAt(_marks.Count - 1);
        var items = _stack.GetRange(m, _stack.Count - m);
        _stack.RemoveRange(m, _stack.Count - m);
        return items;
    }

    static object FromLong(BigInteger v) => v >= long.MinValue && v <= long.MaxValue ? (object)(long)v : v;

    void Memoize(long index)
    {
        if (index < 0) throw new InvalidDataException("corrupt pickle: negative memo index");
        _memo[index] = Peek();
    }

    object? MemoGet(long index) =>
        _memo.TryGetValue(index, out var v) ? v : throw new InvalidDataException($"corrupt pickle: memo entry {index} was never stored");

    /// <summary>Runs the pickle up to its STOP opcode and returns the object it built.</summary>
    public object? Load()
    {
        while (true)
        {
            byte op = ReadByte();
            switch (op)
            {
                case 0x80: // PROTO
                {
                    int proto = ReadByte();
                    if (proto > 5) throw new InvalidDataException($"unsupported pickle protocol: {proto}");
                    break;
                }
                case 0x95: ReadBytes(8); break;                        // FRAME: a length hint, the data follows inline
                case (byte)'.': return Pop();                          // STOP
                case (byte)'(': _marks.Add(_stack.Count); break;       // MARK
                case (byte)'0': Pop(); break;                          // POP
                case (byte)'1': PopMark(); break;                      // POP_MARK
                case (byte)'2': _stack.Add(Peek()); break;             // DUP
                case (byte)'N': _stack.Add(null); break;
                case 0x88: _stack.Add(true); break;
                case 0x89: _stack.Add(false); break;
                case (byte)'J': _stack.Add((long)BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4))); break;
                case (byte)'K': _stack.Add((long)ReadByte()); break;
                case (byte)'M': _stack.Add((long)BinaryPrimitives.ReadUInt16LittleEndian(ReadBytes(2))); break;
                case 0x8a: _stack.Add(FromLong(new BigInteger(ReadBytes(ReadByte()), isUnsigned: false, isBigEndian: false))); break;
                case 0x8b: _stack.Add(FromLong(new BigInteger(ReadBytes(BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4))), isUnsigned: false, isBigEndian: false))); break;
                case (byte)'G': _stack.Add(BinaryPrimitives.ReadDoubleBigEndian(ReadBytes(8))); break;
                case (byte)'I': // INT (text): also True/False as "01"/"00"
                {
                    var line = ReadLine();
                    if (line == "01") _stack.Add(true);
                    else if (line == "00") _stack.Add(false);
                    else _stack.Add(FromLong(ParseInt(line)));
                    break;
                }
                case (byte)'L': _stack.Add(FromLong(ParseInt(ReadLine().TrimEnd('L')))); break;
                case (byte)'F':
                {
                    var line = ReadLine();
                    if (!double.TryParse(line, NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
                        throw new InvalidDataException($"corrupt pickle: bad float literal '{Clip(line)}'");
                    _stack.Add(d);
                    break;
                }
                case (byte)'X': _stack.Add(Utf8(ReadBytes(BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4))))); break;
                case 0x8c: _stack.Add(Utf8(ReadBytes(ReadByte()))); break;
                case 0x8d: _stack.Add(Utf8(ReadBytes(Len8()))); break;
                case (byte)'V': _stack.Add(UnescapeRawUnicode(ReadLine())); break;
                case (byte)'T': _stack.Add(Latin1(ReadBytes(BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4))))); break;
                case (byte)'U': _stack.Add(Latin1(ReadBytes(ReadByte()))); break;
                case (byte)'S': _stack.Add(ParseStringLiteral(ReadLine())); break;
                case (byte)'B': _stack.Add(ReadBytes(BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4))).ToArray()); break;
                case (byte)'C': _stack.Add(ReadBytes(ReadByte()).ToArray()); break;
                case 0x8e: _stack.Add(ReadBytes(Len8()).ToArray()); break;
                case 0x96: _stack.Add(ReadBytes(Len8()).ToArray()); break; // BYTEARRAY8
                case (byte)')': _stack.Add(System.Array.Empty<object?>()); break;
                case (byte)'t': _stack.Add(PopMark().ToArray()); break;
                case 0x85: { var a = Pop(); _stack.Add(new[] { a }); break; }
                case 0x86: { var b = Pop(); var a = Pop(); _stack.Add(new[] { a, b }); break; }
                case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); _stack.Add(new[] { a, b, c }); break; }
                case (byte)']': _stack.Add(new List<object?>()); break;
                case (byte)'l': _stack.Add(PopMark()); break;
                case (byte)'a': { var v = Pop(); AsList(Peek(), "APPEND").Add(v); break; }
                case (byte)'e': { var items = PopMark(); AsList(Peek(), "APPENDS").AddRange(items); break; }
                case (byte)'}': _stack.Add(new PickleDict()); break;
                case (byte)'d':
                {
                    var items = PopMark();
                    var d = new PickleDict();
                    if (items.Count % 2 != 0) throw new InvalidDataException("corrupt pickle: odd number of items for DICT");
                    for (int i = 0; i < items.Count; i += 2) d.Set(items[i], items[i + 1]);
                    _stack.Add(d);
                    break;
                }
                case (byte)'s': { var v = Pop(); var k = Pop(); AsDict(Peek(), "SETITEM").Set(k, v); break; }
                case (byte)'u':
                {
                    var items = PopMark();
                    var d = AsDict(Peek(), "SETITEMS");
                    if (items.Count % 2 != 0) throw new InvalidDataException("corrupt pickle: odd number of items for SETITEMS");
                    for (int i = 0; i < items.Count; i += 2) d.Set(items[i], items[i + 1]);
                    break;
                }
                case 0x8f: _stack.Add(new List<object?>()); break;                                  // EMPTY_SET (as a list)
                case 0x90: { var items = PopMark(); AsList(Peek(), "ADDITEMS").AddRange(items); break; }
                case 0x91: _stack.Add(PopMark()); break;                                            // FROZENSET
                case (byte)'g': _stack.Add(MemoGet(ParseIntLong(ReadLine()))); break;
                case (byte)'h': _stack.Add(MemoGet(ReadByte())); break;
                case (byte)'j': _stack.Add(MemoGet(BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4)))); break;
                case (byte)'p': Memoize(ParseIntLong(ReadLine())); break;
                case (byte)'q': Memoize(ReadByte()); break;
                case (byte)'r': Memoize(BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4))); break;
                case 0x94: Memoize(_memo.Count); break;                                              // MEMOIZE
                case (byte)'c': // GLOBAL "module\nname\n"
                {
                    var module = ReadLine();
                    var name = ReadLine();
                    _stack.Add(ResolveGlobal(module, name));
                    break;
                }
                case 0x93: // STACK_GLOBAL
                {
                    var name = Pop() as string;
                    var module = Pop() as string;
                    if (name is null || module is null) throw new InvalidDataException("corrupt pickle: STACK_GLOBAL needs two strings");
                    _stack.Add(ResolveGlobal(module, name));
                    break;
                }
                case (byte)'Q': _stack.Add(_host.PersistentLoad(Pop())); break;                        // BINPERSID
                case (byte)'P': _stack.Add(_host.PersistentLoad(ReadLine())); break;                   // PERSID
                case (byte)'R': // REDUCE
                {
                    var args = Pop() as object?[] ?? throw new InvalidDataException("corrupt pickle: REDUCE arguments are not a tuple");
                    var callable = Pop();
                    _stack.Add(Call(callable, args));
                    break;
                }
                case 0x81: // NEWOBJ cls args -> cls.__new__(cls, *args)
                {
                    var args = Pop() as object?[] ?? throw new InvalidDataException("corrupt pickle: NEWOBJ arguments are not a tuple");
                    var cls = Pop();
                    _stack.Add(NewObject(cls, args));
                    break;
                }
                case 0x92: // NEWOBJ_EX cls args kwargs
                {
                    var kwargs = Pop() as PickleDict;
                    var args = Pop() as object?[] ?? throw new InvalidDataException("corrupt pickle: NEWOBJ_EX arguments are not a tuple");
                    var cls = Pop();
                    if (kwargs is null || kwargs.Items.Count != 0) throw new UnpicklingError($"Weights only load failed. NEWOBJ_EX with keyword arguments for {cls} is not supported");
                    _stack.Add(NewObject(cls, args));
                    break;
                }
                case (byte)'b': // BUILD: only OrderedDict attributes (state dict _metadata) and tensor/parameter state
                {
                    var state = Pop();
                    var inst = Peek();
                    if (inst is PickleDict) break;                 // OrderedDict.__dict__ (the _metadata of a state dict): dropped
                    if (inst is Tensor && (state is null || state is PickleDict || state is object?[])) break;
                    throw new UnpicklingError($"Weights only load failed. Can only build Tensor, Parameter or OrderedDict objects, but got {Describe(inst)}");
                }
                case (byte)'i': throw new UnpicklingError("Weights only load failed. Unsupported operand INST (it creates arbitrary class instances)");
                case (byte)'o': throw new UnpicklingError("Weights only load failed. Unsupported operand OBJ (it creates arbitrary class instances)");
                case 0x82 or 0x83 or 0x84: throw new UnpicklingError("Weights only load failed. Unsupported operand EXT (extension registry globals)");
                case 0x97 or 0x98: throw new UnpicklingError("Weights only load failed. Out-of-band pickle buffers (NEXT_BUFFER/READONLY_BUFFER) are not supported");
                default:
                    throw new InvalidDataException($"corrupt pickle: unknown opcode 0x{op:x2} at byte {_pos - 1}");
            }
        }
    }

    long Len8()
    {
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(ReadBytes(8));
        if (n > (ulong)(_end - _pos)) throw new InvalidDataException($"the pickle data is truncated (a {n}-byte value runs past its end)");
        return (long)n;
    }

    static string Clip(string s) => s.Length > 40 ? s[..40] + "..." : s;

    static BigInteger ParseInt(string s)
    {
        if (s.Length > 4096 || !BigInteger.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v))
            throw new InvalidDataException($"corrupt pickle: bad integer literal '{Clip(s)}'");
        return v;
    }

    static long ParseIntLong(string s) =>
        long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v : throw new InvalidDataException($"corrupt pickle: bad memo index '{Clip(s)}'");

    static readonly UTF8Encoding StrictUtf8 = new(false, true);

    static string Utf8(ReadOnlySpan<byte> b)
    {
        try { return StrictUtf8.GetString(b); }
        catch (DecoderFallbackException) { return Encoding.UTF8.GetString(b); }   // Python's 'surrogatepass' strings: keep replacement chars
    }

    static string Latin1(ReadOnlySpan<byte> b) => Encoding.Latin1.GetString(b);

    static string UnescapeRawUnicode(string s)
    {
        if (!s.Contains("\\u", StringComparison.Ordinal) && !s.Contains("\\U", StringComparison.Ordinal)) return s;
        var sb = new StringBuilder(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\' && i + 5 < s.Length + 0 && s[i + 1] == 'u' && int.TryParse(s.AsSpan(i + 2, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int cp))
            { sb.Append((char)cp); i += 5; }
            else sb.Append(s[i]);
        }
        return sb.ToString();
    }

    static string ParseStringLiteral(string s)
    {
        if (s.Length < 2 || s[0] != s[^1] || (s[0] != '\'' && s[0] != '"')) throw new InvalidDataException("corrupt pickle: the STRING opcode argument must be quoted");
        var body = s[1..^1];
        if (!body.Contains('\\')) return body;
        var sb = new StringBuilder(body.Length);
        for (int i = 0; i < body.Length; i++)
        {
            char c = body[i];
            if (c != '\\' || i + 1 >= body.Length) { sb.Append(c); continue; }
            char e = body[++i];
            switch (e)
            {
                case 'n': sb.Append('\n'); break;
                case 't': sb.Append('\t'); break;
                case 'r': sb.Append('\r'); break;
                case 'x' when i + 2 < body.Length && int.TryParse(body.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int h):
                    sb.Append((char)h); i += 2; break;
                default: sb.Append(e); break;
            }
        }
        return sb.ToString();
    }

    static List<object?> AsList(object? o, string op) =>
        o as List<object?> ?? throw new UnpicklingError($"Weights only load failed. Can only {op} to lists, but got {Describe(o)}");

    static PickleDict AsDict(object? o, string op) =>
        o as PickleDict ?? throw new UnpicklingError($"Weights only load failed. Can only {op} for dict, but got {Describe(o)}");

    internal static string Describe(object? o) => o switch
    {
        null => "None",
        PickleGlobal g => g.FullName,
        PickleDict => "dict",
        List<object?> => "list",
        object?[] => "tuple",
        Tensor => "torch.Tensor",
        string => "str",
        long or BigInteger => "int",
        double => "float",
        bool => "bool",
        byte[] => "bytes",
        _ => o.GetType().Name,
    };

    object? NewObject(object? cls, object?[] args)
    {
        if (cls is PickleGlobal { FullName: "collections.OrderedDict" }) return new PickleDict { Ordered = true };
        if (cls is PickleGlobal { FullName: "torch.nn.parameter.Parameter" } && args.Length >= 1 && args[0] is Tensor)
            return _host.Rebuild(new PickleGlobal("torch._utils", "_rebuild_parameter"), new[] { args[0], args.Length > 1 ? args[1] : true, null });
        throw new UnpicklingError($"Weights only load failed. Trying to instantiate unsupported class {Describe(cls)}");
    }

    object? Call(object? callable, object?[] args)
    {
        if (callable is not PickleGlobal g)
            throw new UnpicklingError($"Weights only load failed. Trying to call reduce for unrecognized function {Describe(callable)}");
        switch (g.FullName)
        {
            case "collections.OrderedDict":
            {
                var d = new PickleDict { Ordered = true };
                if (args.Length == 0) return d;
                if (args.Length == 1 && args[0] is List<object?> pairs)
                {
                    foreach (var p in pairs)
                        if (p is object?[] { Length: 2 } kv) d.Set(kv[0], kv[1]);
                        else throw new InvalidDataException("corrupt pickle: OrderedDict items must be pairs");
                    return d;
                }
                if (args.Length == 1 && args[0] is PickleDict src) { foreach (var kv in src.Items) d.Items[kv.Key] = kv.Value; return d; }
                throw new InvalidDataException("corrupt pickle: bad OrderedDict arguments");
            }
            case "torch.Size":
            {
                var items = args.Length == 0 ? System.Array.Empty<object?>() : args[0] as object?[] ?? (args[0] as List<object?>)?.ToArray();
                if (items is null || args.Length > 1) throw new InvalidDataException("corrupt pickle: torch.Size takes one tuple of ints");
                var size = new long[items.Length];
                for (int i = 0; i < items.Length; i++) size[i] = items[i] as long? ?? throw new InvalidDataException("corrupt pickle: torch.Size entries must be ints");
                return size;
            }
            case "torch.device":
            {
                if (args.Length is < 1 or > 2 || args[0] is not string type) throw new InvalidDataException("corrupt pickle: torch.device takes a string (and an index)");
                return args.Length == 2 && args[1] is long idx ? $"{type}:{idx}" : type;
            }
            case "_codecs.encode":
            {
                if (args.Length is < 1 or > 2 || args[0] is not string text) throw new InvalidDataException("corrupt pickle: _codecs.encode takes a string and an encoding");
                var encoding = args.Length == 2 ? args[1] as string : "utf-8";
                return encoding switch
                {
                    "latin1" or "latin-1" or "iso-8859-1" => Encoding.Latin1.GetBytes(text),
                    "utf-8" or "utf8" => Encoding.UTF8.GetBytes(text),
                    "ascii" => Encoding.ASCII.GetBytes(text),
                    _ => throw new UnpicklingError($"Weights only load failed. _codecs.encode with encoding '{encoding}' is not supported"),
                };
            }
            case "torch.serialization._get_layout":
                return args.Length == 1 && args[0] is "torch.strided" ? "torch.strided"
                    : throw new NotSupportedException($"torch.load: tensor layout {Describe(args.FirstOrDefault())} is not supported (only torch.strided)");
            case "torch._utils._rebuild_tensor":
            case "torch._utils._rebuild_tensor_v2":
            case "torch._utils._rebuild_parameter":
            case "torch._utils._rebuild_parameter_with_state":
            case "torch._tensor._rebuild_from_type_v2":
            case "torch._utils._rebuild_sparse_tensor":
            case "torch._utils._rebuild_sparse_csr_tensor":
            case "torch._utils._rebuild_meta_tensor_no_storage":
            case "torch._utils._rebuild_qtensor":
                return _host.Rebuild(g, args);
            default:
                throw new UnpicklingError($"Weights only load failed. Trying to call reduce for unrecognized function {g.FullName}");
        }
    }
}
