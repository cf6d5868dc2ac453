using System.Globalization;
using Nabla.Modules;

namespace Nabla;

// Note [Optimizer options and param groups]
// PyTorch keeps every hyper-parameter in the param group's dict ({"params": [...], "lr": 0.1, "betas": (0.9,
// 0.999), ...}), so schedulers and users change them between steps (param_groups[0]["lr"] = 0.01) and groups carry
// their own options. ParamGroup is that dict: an indexer over option names (values are double, bool, int or a
// (double, double) tuple, as in Python) plus the parameter list; the optimizer's constructor arguments become
// `defaults`, which fill the options a group leaves out (add_param_group). Updates read their options from the
// group at every step. state_dict() uses PyTorch's layout: "state" keyed by the parameter's index in the order of
// the groups, and "param_groups" with "params" as those indices.

public static partial class torch
{
    /// <summary>Optimizers (<c>torch.optim</c>) with PyTorch's update rules, param groups and state dicts.</summary>
    public static partial class optim
    {
        /// <summary>
        /// One parameter group: its parameters and its options, as PyTorch's param_group dict
        /// (Note [Optimizer options and param groups]). <c>group["lr"]</c> reads or changes an option.
        /// </summary>
        public sealed class ParamGroup : IEnumerable<KeyValuePair<string, object>>
        {
            readonly Dictionary<string, object> _options = new();

            /// <summary>Creates a group with a learning rate.</summary>
            public ParamGroup(IEnumerable<Tensor> parameters, double lr) : this(parameters) => _options["lr"] = lr;

            /// <summary>Creates a group; options not set (e.g. with an initializer <c>{ ["lr"] = 0.01 }</c>) come from the optimizer's defaults.</summary>
            public ParamGroup(IEnumerable<Tensor> parameters, IDictionary<string, object>? options = null)
            {
                this.parameters = parameters.ToList();
                if (options is not null) foreach (var kv in options) this[kv.Key] = kv.Value;
            }

            /// <summary>The group's parameters (PyTorch's group["params"]).</summary>
            public List<Tensor> parameters { get; }

            /// <summary>An option (e.g. "lr", "momentum", "betas"); "params" is the parameter list.</summary>
            /// <exception cref="KeyNotFoundException">No such option (PyTorch's KeyError).</exception>
            public object this[string key]
            {
                get
                {
                    if (key == "params") return parameters;
                    return _options.TryGetValue(key, out var v) ? v : throw new KeyNotFoundException($"'{key}'");
                }
                set
                {
                    if (key == "params") throw new ArgumentException("set a group's parameters through the parameters list");
                    _options[key] = value is int i ? (double)i : value is float f ? (double)f : value;
                }
            }

            /// <summary>Whether the option is set.</summary>
            public bool ContainsKey(string key) => key == "params" || _options.ContainsKey(key);

            /// <summary>The option names (without "params").</summary>
            public IEnumerable<string> Keys => _options.Keys;

            /// <summary>The learning rate (schedulers change it).</summary>
            public double lr { get => Double("lr"); set => _options["lr"] = value; }

            /// <summary>A numeric option.</summary>
            public double Double(string key) => Convert.ToDouble(this[key], CultureInfo.InvariantCulture);

            /// <summary>A boolean option.</summary>
            public bool Bool(string key) => (bool)this[key];

            /// <summary>A (double, double) option such as "betas".</summary>
            public (double, double) Pair(string key) => ((double, double))this[key];

            internal void SetDefault(string key, object value)
            {
                if (!_options.ContainsKey(key)) _options[key] = value;
            }

            /// <inheritdoc/>
            public IEnumerator<KeyValuePair<string, object>> GetEnumerator() => _options.GetEnumerator();
            System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
        }

        /// <summary>An optimizer's state in PyTorch's layout: per-parameter state by index, and the groups' options with "params" as indices.</summary>
        public sealed class OptimizerStateDict
        {
            /// <summary>Per-parameter state (e.g. "step", "exp_avg") keyed by the parameter's index over all groups.</summary>
            public Dictionary<int, Dictionary<string, Tensor>> state { get; } = new();
            /// <summary>Each group's options; "params" holds a List&lt;int&gt; of parameter indices.</summary>
            public List<Dictionary<string, object>> param_groups { get; } = new();
        }

        /// <summary>
        /// Base class of optimizers (<c>torch.optim.Optimizer</c>): holds param groups and per-parameter state;
        /// <see cref="step"/> updates the parameters in place without recording.
        /// </summary>
        public abstract class Optimizer
        {
            readonly Dictionary<Tensor, Dictionary<string, Tensor>> _state = new(ReferenceEqualityComparer.Instance);
            readonly bool _builtIn;

            /// <summary>Validates the parameters and creates one param group with the learning rate (legacy form).</summary>
            /// <exception cref="ArgumentException">The list is empty or holds a non-leaf tensor.</exception>
            protected Optimizer(IEnumerable<Tensor> parameters, double lr) : this(new[] { new ParamGroup(parameters) }, new Dictionary<string, object> { ["lr"] = lr }) { }

            /// <summary>Creates the optimizer from parameter groups (or one group of all parameters) and its default options.</summary>
            /// <exception cref="ArgumentException">No parameters, a non-leaf tensor, or a parameter in two groups.</exception>
            protected Optimizer(IEnumerable<ParamGroup> groups, IDictionary<string, object> defaults)
            {
                this.defaults = new Dictionary<string, object>(defaults);
                param_groups = new List<ParamGroup>();
                var list = groups.ToList();
                if (list.Count == 0 || (list.Count == 1 && list[0].parameters.Count == 0 && list[0].Keys.Count() == 0))
                    throw new ArgumentException("optimizer got an empty parameter list");
                foreach (var g in list) add_param_group(g);
                _builtIn = GetType().Assembly == typeof(Optimizer).Assembly;
            }

            /// <summary>Wraps a parameter list as one group (what the constructors taking parameters use).</summary>
            internal static IEnumerable<ParamGroup> GroupsOf(IEnumerable<Tensor> parameters) => new[] { new ParamGroup(parameters) };

            /// <summary>The default options (the constructor arguments).</summary>
            public Dictionary<string, object> defaults { get; }

            /// <summary>The parameter groups.</summary>
            public List<ParamGroup> param_groups { get; }

            /// <summary>Adds a group (e.g. layers unfrozen later); options it leaves out come from <see cref="defaults"/>.</summary>
            /// <exception cref="ArgumentException">A non-leaf tensor, or a parameter already in another group.</exception>
            public void add_param_group(ParamGroup param_group)
            {
                foreach (var p in param_group.parameters)
                    if (!p.is_leaf) throw new ArgumentException("can't optimize a non-leaf Tensor");
                if (param_group.parameters.Distinct(ReferenceEqualityComparer.Instance).Count() != param_group.parameters.Count)
                    Warnings.Warn("optimizer contains a parameter group with duplicate parameters; in future, this will cause an error; see github.com/pytorch/pytorch/issues/40967 for more information");
                foreach (var (k, v) in defaults) param_group.SetDefault(k, v);
                var existing = new HashSet<Tensor>(param_groups.SelectMany(g => g.parameters), ReferenceEqualityComparer.Instance);
                if (param_group.parameters.Any(existing.Contains))
                    throw new ArgumentException("some parameters appear in more than one parameter group");
                ValidateGroup(param_group);
                param_groups.Add(param_group);
            }

            /// <summary>Checks a group's options (PyTorch's constructor checks); called for every group added.</summary>
            protected virtual void ValidateGroup(ParamGroup group) { }

            /// <summary>Per-parameter state (e.g. momentum_buffer, exp_avg), created lazily by <see cref="step"/>.</summary>
            protected Dictionary<string, Tensor> State(Tensor parameter)
            {
                if (!_state.TryGetValue(parameter, out var s)) _state[parameter] = s = new Dictionary<string, Tensor>();
                return s;
            }

            /// <summary>The state of <paramref name="parameter"/> (empty before its first step).</summary>
            public IReadOnlyDictionary<string, Tensor> state(Tensor parameter) => State(parameter);

            /// <summary>
            /// Clears the gradients of all optimized parameters: to null (default, as PyTorch 2.x) or, with
            /// <paramref name="set_to_none"/> false, detached and zeroed in place.
            /// </summary>
            public void zero_grad(bool set_to_none = true)
            {
                foreach (var g in param_groups)
                    foreach (var p in g.parameters) nn.Module.ZeroGrad(p, set_to_none);
            }

            /// <summary>
            /// Performs one update. <paramref name="closure"/>, if given, re-evaluates the model (with grad enabled)
            /// and returns the loss, which step returns.
            /// </summary>
            public virtual Tensor? step(Func<Tensor>? closure = null)
            {
                Tensor? loss = null;
                if (closure is not null) using (enable_grad()) loss = closure();
                using (no_grad())
                    foreach (var group in param_groups)
                        foreach (var p in group.parameters)
                            if (p._grad is { } grad)
                            {
                                // A user-defined optimizer could keep the gradient (Note [Owned gradients]).
                                if (!_builtIn) grad._ownedGrad = false;
                                Update(p, grad, group);
                            }
                return loss;
            }

            /// <summary>Updates one parameter in place from its gradient with the group's options (runs under no_grad).</summary>
            protected virtual void Update(Tensor parameter, Tensor grad, ParamGroup group) => Update(parameter, grad, group.lr);

            /// <summary>Updates one parameter from its gradient and learning rate (override this or the group form).</summary>
            /// <exception cref="NotImplementedException">Neither form is overridden.</exception>
            protected virtual void Update(Tensor parameter, Tensor grad, double lr) =>
                throw new NotImplementedException($"{GetType().Name} overrides neither Update form");

            /// <summary>The optimizer's state in PyTorch's layout (tensors are shared, not copied; clone to keep a snapshot).</summary>
            public OptimizerStateDict state_dict()
            {
                var result = new OptimizerStateDict();
                int index = 0;
                foreach (var g in param_groups)
                {
                    var d = new Dictionary<string, object>();
                    foreach (var (k, v) in g) d[k] = v;
                    var ids = new List<int>();
                    foreach (var p in g.parameters)
                    {
                        if (_state.TryGetValue(p, out var s) && s.Count > 0) result.state[index] = new Dictionary<string, Tensor>(s);
                        ids.Add(index++);
                    }
                    d["params"] = ids;
                    result.param_groups.Add(d);
                }
                return result;
            }

            /// <summary>
            /// Loads state and group options saved by <see cref="state_dict"/> (the groups must have the same sizes);
            /// state tensors are copied, floating-point ones cast to their parameter's dtype ("step" kept as is).
            /// </summary>
            /// <exception cref="ArgumentException">A different number of groups, or a group of a different size.</exception>
            public void load_state_dict(OptimizerStateDict state_dict)
            {
                if (state_dict.param_groups.Count != param_groups.Count)
                    throw new ArgumentException("loaded state dict has a different number of parameter groups");
                for (int i = 0; i < param_groups.Count; i++)
                {
                    var ids = (IList<int>)state_dict.param_groups[i]["params"];
                    if (ids.Count != param_groups[i].parameters.Count)
                        throw new ArgumentException("loaded state dict contains a parameter group that doesn't match the size of optimizer's group");
                }
                var byId = new Dictionary<int, Tensor>();
                for (int i = 0; i < param_groups.Count; i++)
                {
                    var ids = (IList<int>)state_dict.param_groups[i]["params"];
                    for (int j = 0; j < ids.Count; j++) byId[ids[j]] = param_groups[i].parameters[j];
                }
                _state.Clear();
                foreach (var (id, s) in state_dict.state)
                {
                    if (!byId.TryGetValue(id, out var p)) continue;
                    var copy = new Dictionary<string, Tensor>();
                    foreach (var (k, v) in s)
                    {
                        var t = v.detach().clone();
                        if (k != "step" && t.is_floating_point() && t.dtype != p.dtype) t = t.to(p.dtype);
                        copy[k] = t.DetachFromDisposeScope();
                    }
                    _state[p] = copy;
                }
                for (int i = 0; i < param_groups.Count; i++)
                    foreach (var (k, v) in state_dict.param_groups[i])
                        if (k != "params") param_groups[i][k] = v;
            }

            internal static string Py(double v) => nn.functional.PyFloat(v);

            /// <summary>A float32 0-d "step" counter (PyTorch 1.13 keeps it as a tensor), created on first use; returns the new step.</summary>
            internal static double IncrementStep(Dictionary<string, Tensor> state)
            {
                if (!state.TryGetValue("step", out var s)) state["step"] = s = torch.tensor(0.0f).DetachFromDisposeScope();
                s.add_(1);
                return s.item<float>();
            }
        }

        /// <summary>Stochastic gradient descent, optionally with momentum, dampening, weight decay and Nesterov momentum.</summary>
        public static SGD SGD(IEnumerable<Tensor> parameters, double lr, double momentum = 0, double dampening = 0, double weight_decay = 0, bool nesterov = false, bool maximize = false) =>
            new(parameters, lr, momentum, dampening, weight_decay, nesterov, maximize);

        /// <summary>SGD over parameter groups (options a group leaves out come from the arguments).</summary>
        public static SGD SGD(IEnumerable<ParamGroup> groups, double lr, double momentum = 0, double dampening = 0, double weight_decay = 0, bool nesterov = false, bool maximize = false) =>
            new(groups, lr, momentum, dampening, weight_decay, nesterov, maximize);

        /// <summary>Adam (Kingma and Ba), optionally AMSGrad; betas default to (0.9, 0.999).</summary>
        public static Adam Adam(IEnumerable<Tensor> parameters, double lr = 1e-3, (double, double)? betas = null, double eps = 1e-8, double weight_decay = 0, bool amsgrad = false, bool maximize = false) =>
            new(parameters, lr, betas, eps, weight_decay, amsgrad, maximize);

        /// <summary>Adam over parameter groups.</summary>
        public static Adam Adam(IEnumerable<ParamGroup> groups, double lr = 1e-3, (double, double)? betas = null, double eps = 1e-8, double weight_decay = 0, bool amsgrad = false, bool maximize = false) =>
            new(groups, lr, betas, eps, weight_decay, amsgrad, maximize);

        /// <summary>AdamW: Adam with decoupled weight decay (default 0.01).</summary>
        public static AdamW AdamW(IEnumerable<Tensor> parameters, double lr = 1e-3, (double, double)? betas = null, double eps = 1e-8, double weight_decay = 1e-2, bool amsgrad = false, bool maximize = false) =>
            new(Optimizer.GroupsOf(parameters), lr, betas, eps, weight_decay, amsgrad, maximize);

        /// <summary>AdamW over parameter groups.</summary>
        public static AdamW AdamW(IEnumerable<ParamGroup> groups, double lr = 1e-3, (double, double)? betas = null, double eps = 1e-8, double weight_decay = 1e-2, bool amsgrad = false, bool maximize = false) =>
            new(groups, lr, betas, eps, weight_decay, amsgrad, maximize);

        /// <summary>RMSprop (Hinton), optionally centered and with momentum.</summary>
        public static RMSprop RMSprop(IEnumerable<Tensor> parameters, double lr = 1e-2, double alpha = 0.99, double eps = 1e-8, double weight_decay = 0, double momentum = 0, bool centered = false, bool maximize = false) =>
            new(Optimizer.GroupsOf(parameters), lr, alpha, eps, weight_decay, momentum, centered, maximize);

        /// <summary>RMSprop over parameter groups.</summary>
        public static RMSprop RMSprop(IEnumerable<ParamGroup> groups, double lr = 1e-2, double alpha = 0.99, double eps = 1e-8, double weight_decay = 0, double momentum = 0, bool centered = false, bool maximize = false) =>
            new(groups, lr, alpha, eps, weight_decay, momentum, centered, maximize);

        /// <summary>Adagrad (Duchi et al.).</summary>
        public static Adagrad Adagrad(IEnumerable<Tensor> parameters, double lr = 1e-2, double lr_decay = 0, double weight_decay = 0, double initial_accumulator_value = 0, double eps = 1e-10, bool maximize = false) =>
            new(Optimizer.GroupsOf(parameters), lr, lr_decay, weight_decay, initial_accumulator_value, eps, maximize);

        /// <summary>Adagrad over parameter groups.</summary>
        public static Adagrad Adagrad(IEnumerable<ParamGroup> groups, double lr = 1e-2, double lr_decay = 0, double weight_decay = 0, double initial_accumulator_value = 0, double eps = 1e-10, bool maximize = false) =>
            new(groups, lr, lr_decay, weight_decay, initial_accumulator_value, eps, maximize);

        /// <summary>Adadelta (Zeiler).</summary>
        public static Adadelta Adadelta(IEnumerable<Tensor> parameters, double lr = 1.0, double rho = 0.9, double eps = 1e-6, double weight_decay = 0, bool maximize = false) =>
            new(Optimizer.GroupsOf(parameters), lr, rho, eps, weight_decay, maximize);

        /// <summary>Adamax: Adam with the infinity norm.</summary>
        public static Adamax Adamax(IEnumerable<Tensor> parameters, double lr = 2e-3, (double, double)? betas = null, double eps = 1e-8, double weight_decay = 0, bool maximize = false) =>
            new(Optimizer.GroupsOf(parameters), lr, betas, eps, weight_decay, maximize);

        /// <summary>NAdam: Adam with Nesterov momentum (PyTorch 1.13 has no maximize option for it).</summary>
        public static NAdam NAdam(IEnumerable<Tensor> parameters, double lr = 2e-3, (double, double)? betas = null, double eps = 1e-8, double weight_decay = 0, double momentum_decay = 4e-3) =>
            new(Optimizer.GroupsOf(parameters), lr, betas, eps, weight_decay, momentum_decay);

        /// <summary>RAdam: rectified Adam.</summary>
        public static RAdam RAdam(IEnumerable<Tensor> parameters, double lr = 1e-3, (double, double)? betas = null, double eps = 1e-8, double weight_decay = 0) =>
            new(Optimizer.GroupsOf(parameters), lr, betas, eps, weight_decay);
    }
}
