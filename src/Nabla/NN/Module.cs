using System.Text;

namespace Nabla;

// Note [Module registration]
// Submodules, parameters and buffers live in insertion-ordered tables on the module; they are registered
// explicitly (register_module / register_parameter / register_buffer), not found by reflecting over fields, so
// NativeAOT and trimming keep working. Built-in layers expose their tensors as properties reading those tables,
// so to(dtype) and load_state_dict, which update the tensors in place, are seen through every reference.

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

        /// <summary>
        /// Base class of all neural-network modules (<c>torch.nn.Module</c>): holds named submodules, parameters
        /// and buffers (see Note [Module registration]) and the train/eval flag.
        /// </summary>
        public abstract class Module
        {
            readonly Dictionary<string, Module> _modules = new();
            readonly Dictionary<string, Tensor?> _parameters = new();
            readonly Dictionary<string, Tensor?> _buffers = new();
            readonly HashSet<string> _nonPersistent = new();

            /// <summary>Creates a module in training mode.</summary>
            protected Module() { }

            /// <summary>True in training mode (the default), false after <see cref="eval"/>.</summary>
            public bool training { get; private set; } = true;

            // ---- registration ----------------------------------------------------------------------------------

            /// <summary>Adds (or replaces) the child module <paramref name="name"/>; returns it.</summary>
            /// <exception cref="ArgumentException">The name is empty, contains '.', or is already a parameter or buffer.</exception>
            public T register_module<T>(string name, T module) where T : Module
            {
                CheckName(name, "module");
                if (_parameters.ContainsKey(name) || _buffers.ContainsKey(name)) throw new ArgumentException($"attribute '{name}' already exists");
                _modules[name] = module;
                return module;
            }

            /// <summary>
            /// Adds (or replaces) the parameter <paramref name="name"/>; null registers an absent parameter (e.g. no
            /// bias). A tensor not yet marked as a parameter is marked (it keeps its identity).
            /// </summary>
            /// <exception cref="ArgumentException">The name is empty, contains '.', or is already a module or buffer.</exception>
            public void register_parameter(string name, Tensor? param)
            {
                CheckName(name, "parameter");
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
            public void register_buffer(string name, Tensor? tensor, bool persistent = true)
            {
                CheckName(name, "buffer");
                if (_modules.ContainsKey(name) || _parameters.ContainsKey(name)) throw new ArgumentException($"attribute '{name}' already exists");
                _buffers[name] = tensor;
                if (persistent) _nonPersistent.Remove(name); else _nonPersistent.Add(name);
            }

            static void CheckName(string name, string kind)
            {
                if (string.IsNullOrEmpty(name)) throw new ArgumentException($"{kind} name can't be empty string \"\"");
                if (name.Contains('.')) throw new ArgumentException($"{kind} name can't contain \".\", got: {name}");
            }

            /// <summary>The parameter registered as <paramref name="name"/> on this module (null if absent or unset).</summary>
            protected Tensor? GetParameter(string name) => _parameters.TryGetValue(name, out var p) ? p : null;

            /// <summary>The buffer registered as <paramref name="name"/> on this module (null if absent or unset).</summary>
            protected Tensor? GetBuffer(string name) => _buffers.TryGetValue(name, out var b) ? b : null;

            /// <summary>The child module registered as <paramref name="name"/>, or null.</summary>
            public Module? get_submodule(string name)
            {
                Module current = this;
                foreach (var part in name.Split('.'))
                    if (!current._modules.TryGetValue(part, out current!)) return null;
                return current;
            }

            // ---- traversal -------------------------------------------------------------------------------------

            /// <summary>The direct children, in registration order.</summary>
            public IEnumerable<Module> children()
            {
                foreach (var kv in _modules) yield return kv.Value;
            }

            /// <summary>The direct children with their names, in registration order.</summary>
            public IEnumerable<(string name, Module module)> named_children()
            {
                foreach (var kv in _modules) yield return (kv.Key, kv.Value);
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
                yield return (prefix, this);
                foreach (var kv in _modules)
                    foreach (var item in kv.Value.NamedModules(prefix.Length == 0 ? kv.Key : prefix + "." + kv.Key, seen))
                        yield return item;
            }

            /// <summary>This module and all descendants, depth first.</summary>
            public IEnumerable<Module> modules()
            {
                foreach (var (_, m) in named_modules()) yield return m;
            }

            /// <summary>
            /// The parameters of this module (and of its descendants when <paramref name="recurse"/>), with dotted
            /// names such as <c>0.weight</c> or <c>layer1.0.conv1.weight</c>; a tensor shared by two modules is listed once.
            /// </summary>
            public IEnumerable<(string name, Tensor parameter)> named_parameters(bool recurse = true)
            {
                var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
                foreach (var (prefix, m) in recurse ? named_modules() : new[] { ("", this) })
                    foreach (var kv in m._parameters)
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
                var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
                foreach (var (prefix, m) in recurse ? named_modules() : new[] { ("", this) })
                    foreach (var kv in m._buffers)
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

            static void ConvertInPlace(Tensor t, ScalarType dtype)
            {
                if (t._dtype == dtype) return;
                t.data = Ops.Raw.ToDType(t, dtype);
                if (t._grad is { } g) t._grad = Ops.Raw.ToDType(g, dtype);
            }

            // ---- state -----------------------------------------------------------------------------------------

            /// <summary>
            /// Parameters and persistent buffers by dotted name, in registration order (the tensors themselves,
            /// detached: they share storage with the module).
            /// </summary>
            public Dictionary<string, Tensor> state_dict()
            {
                var result = new Dictionary<string, Tensor>();
                foreach (var (prefix, m) in named_modules())
                {
                    string p = prefix.Length == 0 ? "" : prefix + ".";
                    foreach (var kv in m._parameters) if (kv.Value is not null) result[p + kv.Key] = kv.Value.detach();
                    foreach (var kv in m._buffers) if (kv.Value is not null && !m._nonPersistent.Contains(kv.Key)) result[p + kv.Key] = kv.Value.detach();
                }
                return result;
            }

            /// <summary>
            /// Copies values from <paramref name="state_dict"/> into the parameters and buffers (in place, without
            /// recording). With <paramref name="strict"/>, missing or unexpected keys raise PyTorch's error.
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
                var sb = new StringBuilder(GetType().Name).Append('(');
                var extra = extra_repr();
                if (_modules.Count == 0) return sb.Append(extra).Append(')').ToString();
                sb.Append('\n');
                if (extra.Length > 0) sb.Append("  ").Append(extra.Replace("\n", "\n  ")).Append('\n');
                foreach (var kv in _modules)
                    sb.Append("  (").Append(kv.Key).Append("): ").Append(kv.Value.ToString().Replace("\n", "\n  ")).Append('\n');
                return sb.Append(')').ToString();
            }

            /// <summary>Python's spelling of a bool (True/False) for extra_repr.</summary>
            protected static string Py(bool value) => value ? "True" : "False";
        }

        /// <summary>A module with one input and one output: override <see cref="forward"/>, call <see cref="call"/>.</summary>
        public abstract class Module<T, TResult> : Module
        {
            /// <summary>Computes the output. Override this; run a module with <see cref="call"/>.</summary>
            public abstract TResult forward(T input);

            /// <summary>Runs the module on <paramref name="input"/> (PyTorch's <c>module(input)</c>).</summary>
            public TResult call(T input) => forward(input);
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
