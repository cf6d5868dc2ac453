using Nabla.Modules;

namespace Nabla;

public static partial class torch
{
    /// <summary>Optimizers (<c>torch.optim</c>): SGD and Adam, with PyTorch's update rules.</summary>
    public static partial class optim
    {
        /// <summary>A set of parameters optimized with one learning rate (PyTorch's param_group, minimal).</summary>
        public sealed class ParamGroup
        {
            /// <summary>Creates a group.</summary>
            public ParamGroup(IEnumerable<Tensor> parameters, double lr) { this.parameters = parameters.ToList(); this.lr = lr; }
            /// <summary>The group's parameters (PyTorch's group["params"]).</summary>
            public List<Tensor> parameters { get; }
            /// <summary>The group's learning rate (schedulers change it).</summary>
            public double lr { get; set; }
        }

        /// <summary>
        /// Base class of optimizers (<c>torch.optim.Optimizer</c>): holds param groups and per-parameter state;
        /// <see cref="step"/> updates the parameters in place without recording.
        /// </summary>
        public abstract class Optimizer
        {
            readonly Dictionary<Tensor, Dictionary<string, Tensor>> _state = new(ReferenceEqualityComparer.Instance);

            /// <summary>Validates the parameters and creates one param group.</summary>
            /// <exception cref="ArgumentException">The list is empty or holds a non-leaf tensor.</exception>
            protected Optimizer(IEnumerable<Tensor> parameters, double lr)
            {
                var list = parameters.ToList();
                if (list.Count == 0) throw new ArgumentException("optimizer got an empty parameter list");
                foreach (var p in list)
                    if (!p.is_leaf) throw new ArgumentException("can't optimize a non-leaf Tensor");
                param_groups = new List<ParamGroup> { new(list, lr) };
                _builtIn = GetType().Assembly == typeof(Optimizer).Assembly;
            }

            /// <summary>The parameter groups.</summary>
            public List<ParamGroup> param_groups { get; }

            /// <summary>Per-parameter state (e.g. momentum_buffer, exp_avg), created lazily by <see cref="step"/>.</summary>
            protected Dictionary<string, Tensor> State(Tensor parameter)
            {
                if (!_state.TryGetValue(parameter, out var s)) _state[parameter] = s = new Dictionary<string, Tensor>();
                return s;
            }

            /// <summary>The state of <paramref name="parameter"/> (empty before its first step).</summary>
            public IReadOnlyDictionary<string, Tensor> state(Tensor parameter) => State(parameter);

            readonly bool _builtIn;

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
            public Tensor? step(Func<Tensor>? closure = null)
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
                                Update(p, grad, group.lr);
                            }
                return loss;
            }

            /// <summary>Updates one parameter in place from its gradient (runs under no_grad).</summary>
            protected abstract void Update(Tensor parameter, Tensor grad, double lr);

            internal static string Py(double v) => nn.functional.PyFloat(v);
        }

        /// <summary>Stochastic gradient descent, optionally with momentum, dampening, weight decay and Nesterov momentum.</summary>
        public static SGD SGD(IEnumerable<Tensor> parameters, double lr, double momentum = 0, double dampening = 0, double weight_decay = 0, bool nesterov = false, bool maximize = false) =>
            new(parameters, lr, momentum, dampening, weight_decay, nesterov, maximize);

        /// <summary>Adam (Kingma and Ba), optionally AMSGrad; betas default to (0.9, 0.999).</summary>
        public static Adam Adam(IEnumerable<Tensor> parameters, double lr = 1e-3, (double, double)? betas = null, double eps = 1e-8, double weight_decay = 0, bool amsgrad = false, bool maximize = false) =>
            new(parameters, lr, betas, eps, weight_decay, amsgrad, maximize);
    }
}
