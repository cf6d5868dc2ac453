using System.Text;

namespace Nabla;

// Note [Module registration]
// Submodules, parameters and buffers live in insertion-ordered tables on the module (PyTorch's _modules,
// _parameters, _buffers). A user's subclass needs no ceremony: fields (and auto-property backing fields) whose
// type is a Module, or a Tensor holding an nn.Parameter / nn.Buffer, register themselves under the field's name,
// in declaration order, the first time the module is traversed (parameters(), state_dict(), named_modules(),
// register_*, ...). The fields stay the single source of truth: every traversal re-reads them, so assigning
// `model.fc = nn.Linear(512, 10)` replaces the child everywhere (forward reads the field, parameters() and
// state_dict() read the table refreshed from it), and register_module("fc", m) on a name bound to a field writes
// the field too (fixes "register_module keeps the old fc in forward"). A field holding a module already
// registered by hand (`_fc = register_module("fc", ...)`) binds to that name instead of its own.
// Why reflection over fields and not a source generator: a generator needs an analyzer package every user project
// must reference and a `partial` keyword on every model class; reading fields is what TorchSharp's
// RegisterComponents does, and it is made trim- and NativeAOT-safe by [DynamicallyAccessedMembers(fields)] on
// Module itself: an annotation on a type applies to every type derived from it, so the trimmer keeps the fields
// (and their metadata) of every user module, with no warning. The order is metadata order, which the C# compiler
// emits in declaration order (base class fields first; the order is checked by a test). FieldInfo lists are
// cached per type; a traversal costs one reflective read per candidate field.

public static partial class torch
{
    public static partial class nn
    {
        /// <summary>
        /// Marks <paramref name="data"/> as a module parameter: returns a leaf tensor sharing its storage that
        /// requires grad (unless <paramref name="requires_grad"/> is false), as <c>torch.nn.Parameter(data)</c>.
        /// </summary>
        /// <param name="data">The initial values (a floating-point tensor).</param>
        /// <param name="requires_grad">Whether the parameter requires grad (default true).</param>
        public static Tensor Parameter(Tensor data, bool requires_grad = true)
        {
            var p = data.detach();
            p._isParameter = true;
            if (requires_grad) p.SetRequiresGrad(true, "Only Tensors of floating point and complex dtype can require gradients");
            return p;
        }

        static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Tensor, BufferMark> _bufferMarks = new();
        sealed class BufferMark { public bool Persistent; }

        /// <summary>
        /// Marks <paramref name="data"/> as a module buffer (PyTorch 2.5's <c>torch.nn.Buffer</c>): a tensor field
        /// holding it registers itself as a buffer (see Note [Module registration]). Returns the tensor itself.
        /// </summary>
        /// <param name="data">The buffer's values.</param>
        /// <param name="persistent">Whether it is part of <see cref="Module.state_dict"/>.</param>
        public static Tensor Buffer(Tensor data, bool persistent = true)
        {
            _bufferMarks.AddOrUpdate(data, new BufferMark { Persistent = persistent });
            return data;
        }

        /// <summary>A handle returned by hook registrations; <see cref="remove"/> unregisters the hook.</summary>
        public sealed class RemovableHandle
        {
            readonly Action _remove;
            internal RemovableHandle(Action remove) => _remove = remove;
            /// <summary>Unregisters the hook (idempotent).</summary>
            public void remove() => _remove();
        }

        /// <summary>
        /// Base class of all neural-network modules (<c>torch.nn.Module</c>): holds named submodules, parameters
        /// and buffers (see Note [Module registration]) and the train/eval flag.
        /// </summary>
        [System.Diagnostics.CodeAnalysis.DynamicallyAccessedMembers(FieldMembers)]
        public abstract class Module
        {
            internal const System.Diagnostics.CodeAnalysis.DynamicallyAccessedMemberTypes FieldMembers =
                System.Diagnostics.CodeAnalysis.DynamicallyAccessedMemberTypes.PublicFields | System.Diagnostics.CodeAnalysis.DynamicallyAccessedMemberTypes.NonPublicFields;

            readonly OrderedDictionary<string, Module?> _modules = new();
            readonly OrderedDictionary<string, Tensor?> _parameters = new();
            readonly OrderedDictionary<string, Tensor?> _buffers = new();
            readonly HashSet<string> _nonPersistent = new();
            string?[]? _fieldNames;       // the name each candidate field is bound to (null: not yet)
            bool _syncing;

            /// <summary>Creates a module in training mode.</summary>
            protected Module() { }

            /// <summary>True in training mode (the default), false after <see cref="eval"/>.</summary>
            public bool training { get; private set; } = true;

            // ---- field binding (Note [Module registration]) ---------------------------------------------------

            static readonly System.Collections.Concurrent.ConcurrentDictionary<Type, System.Reflection.FieldInfo[]> _fieldCache = new();

            static System.Reflection.FieldInfo[] CandidateFields([System.Diagnostics.CodeAnalysis.DynamicallyAccessedMembers(FieldMembers)] Type type) =>
                _fieldCache.GetOrAdd(type, static t => CollectFields(t));

            [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2070",
                Justification = "Every type walked derives from Module, whose DynamicallyAccessedMembers(fields) annotation keeps the fields of all derived types.")]
            [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2067", Justification = "As above.")]
            [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2072", Justification = "As above.")]
            [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "As above.")]
            static System.Reflection.FieldInfo[] CollectFields(Type type)
            {
                var chain = new List<Type>();
                for (var t = type; t is not null && t != typeof(Module) && typeof(Module).IsAssignableFrom(t); t = t.BaseType)
                    chain.Add(t);
                chain.Reverse();   // base class fields first, as Python's __init__ chain usually assigns them
                var result = new List<System.Reflection.FieldInfo>();
                const System.Reflection.BindingFlags flags = System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Public
                    | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.DeclaredOnly;
                foreach (var t in chain)
                {
                    if (t.Assembly == typeof(Module).Assembly && t.IsGenericType) continue;   // Module<T, TResult>: no fields
                    var fields = t.GetFields(flags);
                    Array.Sort(fields, static (a, b) => a.MetadataToken.CompareTo(b.MetadataToken));
                    foreach (var f in fields)
                        if (typeof(Module).IsAssignableFrom(f.FieldType) || f.FieldType == typeof(Tensor)) result.Add(f);
                }
                return result.ToArray();
            }

            static string FieldName(System.Reflection.FieldInfo f)
            {
                var n = f.Name;   // "<fc>k__BackingField" for an auto-property fc
                if (n.StartsWith('<')) { int close = n.IndexOf('>'); if (close > 1) return n.Substring(1, close - 1); }
                return n;
            }

            /// <summary>Registers unbound fields and refreshes the tables from bound ones (Note [Module registration]).</summary>
            void SyncFields(string? pendingName = null, object? pendingValue = null)
            {
                if (_syncing) return;
                var fields = CandidateFields(GetType());
                if (fields.Length == 0) return;
                _syncing = true;
                try
                {
                    _fieldNames ??= new string?[fields.Length];
                    for (int i = 0; i < fields.Length; i++)
                    {
                        var f = fields[i];
                        var value = f.GetValue(this);
                        var bound = _fieldNames[i];
                        if (bound is not null)
                        {
                            if (value is null || value is Module) { if (_modules.TryGetValue(bound, out var cur) && !ReferenceEquals(cur, value)) _modules[bound] = (Module?)value; else if (_parameters.ContainsKey(bound) || _buffers.ContainsKey(bound)) SetTensor(bound, (Tensor?)value); }
                            else SetTensor(bound, (Tensor)value);
                            continue;
                        }
                        if (value is null) continue;
                        if (pendingName is not null && ReferenceEquals(value, pendingValue)) { _fieldNames[i] = pendingName; continue; }
                        if (value is Module m)
                        {
                            string? name = KeyOf(_modules, m);
                            if (name is null) { name = FieldName(f); AddModule(name, m); }
                            _fieldNames[i] = name;
                        }
                        else if (value is Tensor t)
                        {
                            string? name = KeyOf(_parameters, t) ?? KeyOf(_buffers, t);
                            if (name is null)
                            {
                                if (t._isParameter) { name = FieldName(f); AddParameter(name, t); }
                                else if (_bufferMarks.TryGetValue(t, out var mark)) { name = FieldName(f); AddBuffer(name, t, mark.Persistent); }
                            }
                            _fieldNames[i] = name;   // plain tensors stay unbound (PyTorch registers them nowhere)
                        }
                    }
                }
                finally { _syncing = false; }
            }

            void SetTensor(string name, Tensor? value)
            {
                if (_parameters.TryGetValue(name, out var cur))
                {
                    if (ReferenceEquals(cur, value)) return;
                    if (value is not null && !value._isParameter)
                        throw new InvalidOperationException($"cannot assign '{value.dtype.PythonName()}' tensor as parameter '{name}' (torch.nn.Parameter or None expected)");
                    AddParameter(name, value);
                }
                else if (_buffers.TryGetValue(name, out var b) && !ReferenceEquals(b, value)) _buffers[name] = value;
            }

            static string? KeyOf<TV>(OrderedDictionary<string, TV?> table, TV item) where TV : class
            {
                foreach (var kv in table) if (ReferenceEquals(kv.Value, item)) return kv.Key;
                return null;
            }

            /// <summary>Writes <paramref name="value"/> into the field bound to <paramref name="name"/>, if any.</summary>
            void WriteField(string name, object? value, string kind)
            {
                if (_fieldNames is null) return;
                var fields = CandidateFields(GetType());
                for (int i = 0; i < fields.Length; i++)
                {
                    if (_fieldNames[i] != name) continue;
                    var f = fields[i];
                    if (value is not null && !f.FieldType.IsInstanceOfType(value))
                        throw new ArgumentException($"cannot assign '{value.GetType().Name}' as {kind} '{name}' ({f.FieldType.Name} expected)");
                    f.SetValue(this, value);
                }
            }

            // ---- registration ----------------------------------------------------------------------------------

            /// <summary>
            /// Adds (or replaces) the child module <paramref name="name"/>; returns it. Replacing a child bound to a
            /// field also writes the field, so forward uses the new one.
            /// </summary>
            /// <exception cref="ArgumentException">The name is empty, contains '.', or is already a parameter or buffer.</exception>
            public T register_module<T>(string name, T module) where T : Module
            {
                CheckName(name, "module");
                SyncFields(name, module);
                AddModule(name, module);
                WriteField(name, module, "child module");
                return module;
            }

            /// <summary>PyTorch's <c>add_module</c>: the same as <see cref="register_module"/>.</summary>
            public T add_module<T>(string name, T module) where T : Module => register_module(name, module);

            void AddModule(string name, Module? module)
            {
                if (_parameters.ContainsKey(name) || _buffers.ContainsKey(name)) throw new ArgumentException($"attribute '{name}' already exists");
                _modules[name] = module;
            }

            /// <summary>
            /// Adds (or replaces) the parameter <paramref name="name"/>; null registers an absent parameter (e.g. no
            /// bias). A tensor not yet marked as a parameter is marked (it keeps its identity).
            /// </summary>
            /// <exception cref="ArgumentException">The name is empty, contains '.', or is already a module or buffer.</exception>
            public void register_parameter(string name, Tensor? param)
            {
                CheckName(name, "parameter");
                SyncFields(name, param);
                AddParameter(name, param);
                WriteField(name, param, "parameter");
            }

            void AddParameter(string name, Tensor? param)
            {
                if (_modules.ContainsKey(name) || _buffers.ContainsKey(name)) throw new ArgumentException($"attribute '{name}' already exists");
                if (param is not null)
                {
                    if (param._gradFn is not null)
                        throw new ArgumentException(
                            $"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must be created explicitly. To express '{name}' as a function of another Tensor, compute the value in the forward() method.");
                    if (!param._isParameter)
                    {
                        param._isParameter = true;
                        if (!param._requiresGrad && param.is_floating_point()) param._requiresGrad = true;
                    }
                }
                _parameters[name] = param;
            }

            /// <summary>Adds (or replaces) the buffer <paramref name="name"/> (state that is not a parameter, e.g. running statistics).</summary>
            /// <param name="name">Buffer name.</param>
            /// <param name="tensor">The buffer, or null for an absent one.</param>
            /// <param name="persistent">Whether it is part of <see cref="state_dict"/>.</param>
            /// <exception cref="ArgumentException">The name is empty, contains '.', or is already a module or parameter.</exception>
            public void register_buffer(string name, Tensor? tensor, bool persistent = true)
            {
                CheckName(name, "buffer");
                SyncFields(name, tensor);
                AddBuffer(name, tensor, persistent);
                WriteField(name, tensor, "buffer");
            }

            void AddBuffer(string name, Tensor? tensor, bool persistent)
            {
                if (_modules.ContainsKey(name) || _parameters.ContainsKey(name)) throw new ArgumentException($"attribute '{name}' already exists");
                _buffers[name] = tensor;
                if (persistent) _nonPersistent.Remove(name); else _nonPersistent.Add(name);
            }

            static void CheckName(string name, string kind)
            {
                if (name is null) throw new ArgumentNullException(nameof(name), $"{kind} name should be a string. Got NoneType");
                if (name.Length == 0) throw new ArgumentException($"{kind} name can't be empty string \"\"");
                if (name.Contains('.')) throw new ArgumentException($"{kind} name can't contain \".\", got: {name}");
            }

            /// <summary>The registered child modules in order (absent ones skipped), without syncing fields (containers).</summary>
            internal IEnumerable<Module> ChildValues()
            {
                foreach (var kv in _modules) if (kv.Value is not null) yield return kv.Value;
            }

            /// <summary>The number of registered child modules.</summary>
            internal int ChildCount => _modules.Count;

            /// <summary>The registered child at position <paramref name="index"/>.</summary>
            internal Module? ChildAt(int index) => _modules.GetAt(index).Value;

            /// <summary>The registered name at position <paramref name="index"/>.</summary>
            internal string ChildNameAt(int index) => _modules.GetAt(index).Key;

            /// <summary>Removes the child <paramref name="name"/> (containers' del / pop).</summary>
            internal void RemoveChild(string name) => _modules.Remove(name);

            /// <summary>The parameter registered as <paramref name="name"/> on this module (null if absent or unset).</summary>
            protected Tensor? GetParameter(string name) => _parameters.TryGetValue(name, out var p) ? p : null;

            /// <summary>The buffer registered as <paramref name="name"/> on this module (null if absent or unset).</summary>
            protected Tensor? GetBuffer(string name) => _buffers.TryGetValue(name, out var b) ? b : null;

            /// <summary>The child module registered as <paramref name="name"/> (dotted path), or null.</summary>
            public Module? get_submodule(string name)
            {
                if (name.Length == 0) return this;
                Module current = this;
                foreach (var part in name.Split('.'))
                {
                    current.SyncFields();
                    if (!current._modules.TryGetValue(part, out var next) || next is null) return null;
                    current = next;
                }
                return current;
            }

            /// <summary>The parameter at the dotted path <paramref name="target"/> (e.g. "fc.weight").</summary>
            /// <exception cref="ArgumentException">No such module or parameter.</exception>
            public Tensor get_parameter(string target)
            {
                int dot = target.LastIndexOf('.');
                var owner = dot < 0 ? this : get_submodule(target[..dot]) ?? throw new ArgumentException($"{GetType().Name} has no attribute `{target[..dot]}`");
                owner.SyncFields();
                var name = target[(dot + 1)..];
                return owner._parameters.TryGetValue(name, out var p) && p is not null ? p : throw new ArgumentException($"{owner.GetType().Name} has no attribute `{name}`");
            }

            // ---- traversal -------------------------------------------------------------------------------------

            IEnumerable<Module> WalkModules()
            {
                foreach (var (_, m) in named_modules()) yield return m;
            }

            /// <summary>The direct children, in registration order.</summary>
            public IEnumerable<Module> children()
            {
                foreach (var (_, m) in named_children()) yield return m;
            }

            /// <summary>The direct children with their names, in registration order (each module once).</summary>
            public IEnumerable<(string name, Module module)> named_children()
            {
                SyncFields();
                var seen = new HashSet<Module>(ReferenceEqualityComparer.Instance);
                foreach (var kv in _modules.ToList())
                    if (kv.Value is not null && seen.Add(kv.Value)) yield return (kv.Key, kv.Value);
            }

            /// <summary>This module and all descendants, depth first (each module once), with dotted names ("" for this one).</summary>
            public IEnumerable<(string name, Module module)> named_modules()
            {
                var seen = new HashSet<Module>(ReferenceEqualityComparer.Instance);
                return NamedModules("", seen);
            }

            IEnumerable<(string, Module)> NamedModules(string prefix, HashSet<Module> seen)
            {
                if (!seen.Add(this)) yield break;
                SyncFields();
                yield return (prefix, this);
                foreach (var kv in _modules.ToList())
                    if (kv.Value is not null)
                        foreach (var item in kv.Value.NamedModules(prefix.Length == 0 ? kv.Key : prefix + "." + kv.Key, seen))
                            yield return item;
            }

            /// <summary>This module and all descendants, depth first.</summary>
            public IEnumerable<Module> modules() => WalkModules();

            /// <summary>
            /// The parameters of this module (and of its descendants when <paramref name="recurse"/>), with dotted
            /// names such as <c>0.weight</c> or <c>layer1.0.conv1.weight</c>; a tensor shared by two modules is listed once.
            /// </summary>
            public IEnumerable<(string name, Tensor parameter)> named_parameters(bool recurse = true)
            {
                SyncFields();
                var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
                foreach (var (prefix, m) in recurse ? named_modules() : new[] { ("", this) })
                    foreach (var kv in m._parameters.ToList())
                        if (kv.Value is not null && seen.Add(kv.Value))
                            yield return (prefix.Length == 0 ? kv.Key : prefix + "." + kv.Key, kv.Value);
            }

            /// <summary>The parameters, as <see cref="named_parameters"/> without names (what optimizers take).</summary>
            public IEnumerable<Tensor> parameters(bool recurse = true)
            {
                foreach (var (_, p) in named_parameters(recurse)) yield return p;
            }

            /// <summary>The buffers (running statistics and other non-parameter state) with dotted names.</summary>
            public IEnumerable<(string name, Tensor buffer)> named_buffers(bool recurse = true)
            {
                SyncFields();
                var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
                foreach (var (prefix, m) in recurse ? named_modules() : new[] { ("", this) })
                    foreach (var kv in m._buffers.ToList())
                        if (kv.Value is not null && seen.Add(kv.Value))
                            yield return (prefix.Length == 0 ? kv.Key : prefix + "." + kv.Key, kv.Value);
            }

            /// <summary>The buffers, without names.</summary>
            public IEnumerable<Tensor> buffers(bool recurse = true)
            {
                foreach (var (_, b) in named_buffers(recurse)) yield return b;
            }

            // ---- modes and gradients ---------------------------------------------------------------------------

            /// <summary>Sets training mode (true) or evaluation mode (false) on this module and all descendants; returns this.</summary>
            public Module train(bool mode = true)
            {
                foreach (var m in modules()) m.training = mode;
                return this;
            }

            /// <summary>Sets evaluation mode (dropout off, batch norm uses running statistics); returns this.</summary>
            public Module eval() => train(false);

            /// <summary>Calls <paramref name="fn"/> on every descendant (children first) and then on this module, as PyTorch's <c>apply</c>; returns this.</summary>
            public Module apply(Action<Module> fn)
            {
                foreach (var child in children()) child.apply(fn);
                fn(this);
                return this;
            }

            /// <summary>Sets requires_grad on every parameter (freezing with false); returns this.</summary>
            public Module requires_grad_(bool requires_grad = true)
            {
                foreach (var p in parameters()) p.requires_grad_(requires_grad);
                return this;
            }

            /// <summary>
            /// Clears the gradients of all parameters: sets them to null (default, as PyTorch 2.x) or, with
            /// <paramref name="set_to_none"/> false, detaches and zeroes them in place.
            /// </summary>
            public void zero_grad(bool set_to_none = true)
            {
                foreach (var p in parameters()) ZeroGrad(p, set_to_none);
            }

            internal static void ZeroGrad(Tensor p, bool setToNone)
            {
                var g = p._grad;
                if (g is null) return;
                if (setToNone)
                {
                    p._grad = null;
                    if (g._ownedGrad) g.Dispose();   // Note [Owned gradients]: no user code can hold it
                    return;
                }
                if (g._gradFn is not null) g.detach_(); else g._requiresGrad = false;
                using (torch.no_grad()) g.zero_();
            }

            /// <summary>Converts every floating-point parameter, buffer and gradient to <paramref name="dtype"/> in place; returns this.</summary>
            /// <exception cref="ArgumentException"><paramref name="dtype"/> is not a floating-point type.</exception>
            public Module to(ScalarType dtype)
            {
                if (!dtype.IsFloatingPoint())
                    throw new ArgumentException($"nn.Module.to only accepts floating point or complex dtypes, but got desired dtype={dtype.PythonName()}");
                foreach (var m in modules())
                {
                    foreach (var kv in m._parameters) if (kv.Value is { } p && p.is_floating_point()) ConvertInPlace(p, dtype);
                    foreach (var kv in m._buffers) if (kv.Value is { } b && b.is_floating_point()) ConvertInPlace(b, dtype);
                }
                return this;
            }

            /// <summary>Moves the module to <paramref name="device"/>; only "cpu" exists (returns this).</summary>
            /// <exception cref="ArgumentException">Another device.</exception>
            public Module to(string device)
            {
                if (device != "cpu") throw new ArgumentException($"Nabla runs on the CPU only; got device '{device}'");
                return this;
            }

            /// <summary>Converts floating-point parameters and buffers to float64 (<c>module.double()</c>).</summary>
            public Module @double() => to(ScalarType.Float64);

            /// <summary>Converts floating-point parameters and buffers to float32 (<c>module.float()</c>).</summary>
            public Module @float() => to(ScalarType.Float32);

            static void ConvertInPlace(Tensor t, ScalarType dtype)
            {
                if (t._dtype == dtype) return;
                t.data = Ops.Raw.ToDType(t, dtype);
                if (t._grad is { } g) t._grad = Ops.Raw.ToDType(g, dtype);
            }

            // ---- state -----------------------------------------------------------------------------------------

            /// <summary>
            /// Parameters and persistent buffers by dotted name, in PyTorch's order (each module's parameters, then
            /// its buffers, then its children's; the tensors themselves, detached: they share storage with the module).
            /// </summary>
            public Dictionary<string, Tensor> state_dict()
            {
                var result = new Dictionary<string, Tensor>();
                StateDictInto(result, "");
                return result;
            }

            void StateDictInto(Dictionary<string, Tensor> result, string prefix)
            {
                SyncFields();
                foreach (var kv in _parameters) if (kv.Value is not null) result[prefix + kv.Key] = kv.Value.detach();
                foreach (var kv in _buffers) if (kv.Value is not null && !_nonPersistent.Contains(kv.Key)) result[prefix + kv.Key] = kv.Value.detach();
                foreach (var kv in _modules) kv.Value?.StateDictInto(result, prefix + kv.Key + ".");
            }

            /// <summary>
            /// Copies values from <paramref name="state_dict"/> into the parameters and buffers (in place, without
            /// recording). Every key and shape is checked before anything is copied, so a failed load leaves the
            /// module unchanged. With <paramref name="strict"/>, missing or unexpected keys raise PyTorch's error.
            /// </summary>
            /// <returns>The missing keys and the unexpected keys.</returns>
            /// <exception cref="InvalidOperationException">A size mismatch, or (strict) missing/unexpected keys.</exception>
            public (IList<string> missing_keys, IList<string> unexpected_keys) load_state_dict(IDictionary<string, Tensor> state_dict, bool strict = true)
            {
                var own = this.state_dict();
                var missing = new List<string>();
                var unexpected = new List<string>();
                var errors = new List<string>();
                foreach (var key in own.Keys) if (!state_dict.ContainsKey(key)) missing.Add(key);
                foreach (var key in state_dict.Keys) if (!own.ContainsKey(key)) unexpected.Add(key);
                foreach (var (key, target) in own)
                {
                    if (!state_dict.TryGetValue(key, out var source)) continue;
                    if (source is null) throw new ArgumentException($"state_dict entry '{key}' is null");
                    if (!ShapeUtil.SameShape(source._shape, target._shape))
                        errors.Add($"size mismatch for {key}: copying a param with shape {ShapeUtil.SizeString(source._shape)} from checkpoint, the shape in current model is {ShapeUtil.SizeString(target._shape)}.");
                }
                if (strict)
                {
                    if (unexpected.Count > 0) errors.Insert(0, "Unexpected key(s) in state_dict: " + string.Join(", ", unexpected.Select(k => $"\"{k}\"")) + ". ");
                    if (missing.Count > 0) errors.Insert(0, "Missing key(s) in state_dict: " + string.Join(", ", missing.Select(k => $"\"{k}\"")) + ". ");
                }
                if (errors.Count > 0)
                    throw new InvalidOperationException($"Error(s) in loading state_dict for {GetType().Name}:\n\t" + string.Join("\n\t", errors));
                using (torch.no_grad())
                    foreach (var (key, target) in own)
                        if (state_dict.TryGetValue(key, out var source)) target.copy_(source);
                return (missing, unexpected);
            }

            // ---- printing --------------------------------------------------------------------------------------

            /// <summary>The constructor arguments shown inside the parentheses of <see cref="ToString"/> (PyTorch's extra_repr).</summary>
            public virtual string extra_repr() => "";

            /// <summary>PyTorch's module repr: <c>Linear(in_features=3, out_features=2, bias=True)</c>, children indented.</summary>
            public override string ToString()
            {
                SyncFields();
                var sb = new StringBuilder(GetType().Name).Append('(');
                var extra = extra_repr();
                var kids = _modules.Where(kv => kv.Value is not null).ToList();
                if (kids.Count == 0) return sb.Append(extra).Append(')').ToString();
                sb.Append('\n');
                if (extra.Length > 0) sb.Append("  ").Append(extra.Replace("\n", "\n  ")).Append('\n');
                foreach (var kv in kids)
                    sb.Append("  (").Append(kv.Key).Append("): ").Append(kv.Value!.ToString().Replace("\n", "\n  ")).Append('\n');
                return sb.Append(')').ToString();
            }

            /// <summary>Python's spelling of a bool (True/False) for extra_repr.</summary>
            protected static string Py(bool value) => value ? "True" : "False";
        }

        /// <summary>A module with one input and one output: override <see cref="forward"/>, call <see cref="call"/>.</summary>
        public abstract class Module<T, TResult> : Module
        {
            readonly List<(object key, Func<Module<T, TResult>, T, T?> hook)> _preHooks = new();
            readonly List<(object key, Func<Module<T, TResult>, T, TResult, TResult?> hook)> _hooks = new();
            readonly List<(object key, Func<Module, Tensor?[], Tensor?[], Tensor?[]?> hook)> _backwardHooks = new();

            /// <summary>Computes the output. Override this; run a module with <see cref="call"/>.</summary>
            public abstract TResult forward(T input);

            /// <summary>
            /// Runs the module on <paramref name="input"/> (PyTorch's <c>module(input)</c>): forward-pre hooks, a
            /// full backward hook's input side, <see cref="forward"/>, forward hooks, then the backward hook's output side.
            /// </summary>
            public TResult call(T input)
            {
                if (_preHooks.Count == 0 && _hooks.Count == 0 && _backwardHooks.Count == 0) return forward(input);
                foreach (var (_, h) in _preHooks.ToList())
                    if (h(this, input) is { } replaced) input = replaced;
                BackwardHookState? bw = null;
                if (_backwardHooks.Count > 0 && torch.is_grad_enabled() && input is Tensor tin && typeof(TResult) == typeof(Tensor))
                {
                    bw = new BackwardHookState(this, _backwardHooks.Select(h => h.hook).ToList(), tin.requires_grad);
                    if (tin.requires_grad) input = (T)(object)new BackwardHookInput(bw).apply(tin);
                }
                var output = forward(input);
                foreach (var (_, h) in _hooks.ToList())
                    if (h(this, input, output) is { } replaced) output = replaced;
                if (bw is not null && output is Tensor tout && tout.requires_grad)
                    output = (TResult)(object)new BackwardHookOutput(bw).apply(tout);
                return output;
            }

            /// <summary>
            /// Registers <paramref name="hook"/>(module, input) to run before forward; a non-null result replaces the input.
            /// </summary>
            public RemovableHandle register_forward_pre_hook(Func<Module<T, TResult>, T, T?> hook)
            {
                var key = new object();
                _preHooks.Add((key, hook));
                return new RemovableHandle(() => _preHooks.RemoveAll(h => h.key == key));
            }

            /// <summary>
            /// Registers <paramref name="hook"/>(module, input, output) to run after forward; a non-null result replaces the output.
            /// </summary>
            public RemovableHandle register_forward_hook(Func<Module<T, TResult>, T, TResult, TResult?> hook)
            {
                var key = new object();
                _hooks.Add((key, hook));
                return new RemovableHandle(() => _hooks.RemoveAll(h => h.key == key));
            }

            /// <summary>
            /// Registers <paramref name="hook"/>(module, grad_input, grad_output), called when the gradients with
            /// respect to the module's input are computed (grad_input holds null where the input needs no grad); a
            /// non-null result replaces grad_input. Tensor-to-tensor modules only.
            /// </summary>
            /// <exception cref="ArgumentException">The module does not map a Tensor to a Tensor.</exception>
            public RemovableHandle register_full_backward_hook(Func<Module, Tensor?[], Tensor?[], Tensor?[]?> hook)
            {
                if (typeof(T) != typeof(Tensor) || typeof(TResult) != typeof(Tensor))
                    throw new ArgumentException("register_full_backward_hook needs a module whose input and output are Tensors");
                var key = new object();
                _backwardHooks.Add((key, hook));
                return new RemovableHandle(() => _backwardHooks.RemoveAll(h => h.key == key));
            }
        }

        sealed class BackwardHookState(Module module, List<Func<Module, Tensor?[], Tensor?[], Tensor?[]?>> hooks, bool inputRequiresGrad)
        {
            public Tensor?[] GradOutput = { null };
            public readonly bool InputRequiresGrad = inputRequiresGrad;

            public Tensor?[] Run(Tensor?[] gradInput)
            {
                foreach (var h in hooks)
                {
                    var r = h(module, gradInput, GradOutput);
                    if (r is not null)
                    {
                        if (r.Length != gradInput.Length)
                            throw new InvalidOperationException($"Backward hook returned an invalid number of grad_input, got {r.Length}, but expected {gradInput.Length}");
                        gradInput = r;
                    }
                }
                return gradInput;
            }
        }

        sealed class BackwardHookInput(BackwardHookState state) : autograd.Function
        {
            public override Tensor forward(AutogradContext ctx, Tensor[] inputs) => inputs[0];
            public override Tensor?[] backward(AutogradContext ctx, Tensor grad_output) => state.Run(new Tensor?[] { grad_output });
        }

        sealed class BackwardHookOutput(BackwardHookState state) : autograd.Function
        {
            public override Tensor forward(AutogradContext ctx, Tensor[] inputs) => inputs[0];
            public override Tensor?[] backward(AutogradContext ctx, Tensor grad_output)
            {
                state.GradOutput = new Tensor?[] { grad_output };
                if (!state.InputRequiresGrad) state.Run(new Tensor?[] { null });
                return new Tensor?[] { grad_output };
            }
        }

        /// <summary>A module with two inputs and one output (losses take (input, target)).</summary>
        public abstract class Module<T1, T2, TResult> : Module
        {
            /// <summary>Computes the output. Override this; run a module with <see cref="call"/>.</summary>
            public abstract TResult forward(T1 input1, T2 input2);

            /// <summary>Runs the module (PyTorch's <c>module(a, b)</c>).</summary>
            public TResult call(T1 input1, T2 input2) => forward(input1, input2);
        }
    }
}
