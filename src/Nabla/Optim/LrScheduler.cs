using Nabla.Modules;

namespace Nabla;

// Note [LR scheduler semantics]
// As PyTorch 1.13's _LRScheduler: the constructor stores each group's "initial_lr" (when last_epoch is -1), takes
// base_lrs from them and performs one step, so last_epoch becomes 0 and the groups hold the epoch-0 rate. step()
// uses the chainable form (get_lr, which reads the group's current lr, so schedulers can be stacked); step(epoch)
// uses the closed form where PyTorch has one. SequentialLR and ReduceLROnPlateau follow their own code.

public static partial class torch
{
    public static partial class optim
    {
        /// <summary>Learning-rate schedulers (<c>torch.optim.lr_scheduler</c>).</summary>
        public static partial class lr_scheduler
        {
            /// <summary>Base class of epoch-based schedulers (<c>_LRScheduler</c>), see Note [LR scheduler semantics].</summary>
            public abstract class LRScheduler
            {
                /// <summary>Binds the scheduler; call <see cref="InitialStep"/> at the end of the derived constructor.</summary>
                /// <exception cref="KeyNotFoundException">last_epoch is not -1 and a group has no "initial_lr".</exception>
                protected LRScheduler(Optimizer optimizer, long last_epoch)
                {
                    this.optimizer = optimizer;
                    if (last_epoch == -1)
                        foreach (var g in optimizer.param_groups) g.SetDefault("initial_lr", g.lr);
                    else
                        for (int i = 0; i < optimizer.param_groups.Count; i++)
                            if (!optimizer.param_groups[i].ContainsKey("initial_lr"))
                                throw new KeyNotFoundException($"param 'initial_lr' is not specified in param_groups[{i}] when resuming an optimizer");
                    base_lrs = optimizer.param_groups.Select(g => g.Double("initial_lr")).ToList();
                    this.last_epoch = last_epoch;
                    _last_lr = optimizer.param_groups.Select(g => g.lr).ToList();
                }

                /// <summary>Performs PyTorch's initial step (last_epoch -1 → 0).</summary>
                protected void InitialStep()
                {
                    _step_count = 0;
                    step();
                }

                /// <summary>The optimizer whose groups are scheduled.</summary>
                public Optimizer optimizer { get; }
                /// <summary>Each group's initial learning rate.</summary>
                public List<double> base_lrs { get; protected set; }
                /// <summary>The epoch (number of step calls after construction).</summary>
                public long last_epoch { get; set; }
                /// <summary>Number of step calls (including the constructor's).</summary>
                public int _step_count { get; protected set; }
                /// <summary>The rates set by the last step.</summary>
                protected List<double> _last_lr;

                /// <summary>The learning rates the last step set, one per group.</summary>
                public List<double> get_last_lr() => new(_last_lr);

                /// <summary>The chainable rates for <see cref="last_epoch"/> (from the groups' current rates).</summary>
                public abstract List<double> get_lr();

                /// <summary>The closed-form rates for <see cref="last_epoch"/>, or null where the scheduler has none.</summary>
                protected virtual List<double>? ClosedFormLr() => null;

                /// <summary>Advances one epoch (or, deprecated in PyTorch, jumps to <paramref name="epoch"/>) and sets the groups' rates.</summary>
                public virtual void step(long? epoch = null)
                {
                    _step_count++;
                    List<double> values;
                    if (epoch is null) { last_epoch++; values = get_lr(); }
                    else
                    {
                        Warnings.Warn("The epoch parameter in `scheduler.step()` was not necessary and is being deprecated where possible. Please use `scheduler.step()` to step the scheduler. During the deprecation, if epoch is different from None, the closed form is used instead of the new chainable form, where available. Please open an issue if you are unable to replicate your use case: https://github.com/pytorch/pytorch/issues/new/choose.");
                        last_epoch = epoch.Value;
                        values = ClosedFormLr() ?? get_lr();
                    }
                    for (int i = 0; i < values.Count; i++) optimizer.param_groups[i].lr = values[i];
                    _last_lr = optimizer.param_groups.Select(g => g.lr).ToList();
                }

                /// <summary>The groups' current rates.</summary>
                protected List<double> Current() => optimizer.param_groups.Select(g => g.lr).ToList();

                /// <summary>The scheduler's state (everything but the optimizer, as PyTorch).</summary>
                public virtual Dictionary<string, object> state_dict() => new()
                {
                    ["last_epoch"] = last_epoch, ["base_lrs"] = new List<double>(base_lrs), ["_step_count"] = _step_count, ["_last_lr"] = new List<double>(_last_lr),
                };

                /// <summary>Restores a state from <see cref="state_dict"/>.</summary>
                public virtual void load_state_dict(Dictionary<string, object> state_dict)
                {
                    last_epoch = Convert.ToInt64(state_dict["last_epoch"]);
                    base_lrs = new List<double>((IEnumerable<double>)state_dict["base_lrs"]);
                    _step_count = Convert.ToInt32(state_dict["_step_count"]);
                    _last_lr = new List<double>((IEnumerable<double>)state_dict["_last_lr"]);
                }

                /// <summary>Python's modulo (the result has the divisor's sign).</summary>
                protected static long PyMod(long a, long b) => ((a % b) + b) % b;
            }

            /// <summary>Multiplies the rate by gamma every step_size epochs (<c>StepLR</c>).</summary>
            public sealed class StepLR : LRScheduler
            {
                /// <summary>Creates the scheduler.</summary>
                public StepLR(Optimizer optimizer, long step_size, double gamma = 0.1, long last_epoch = -1) : base(optimizer, last_epoch)
                {
                    this.step_size = step_size; this.gamma = gamma;
                    InitialStep();
                }
                /// <summary>Period of decay.</summary>
                public long step_size { get; }
                /// <summary>Decay factor.</summary>
                public double gamma { get; }
                /// <inheritdoc/>
                public override List<double> get_lr() =>
                    last_epoch == 0 || last_epoch % step_size != 0 ? Current() : Current().Select(l => l * gamma).ToList();
                /// <inheritdoc/>
                protected override List<double> ClosedFormLr() => base_lrs.Select(b => b * Math.Pow(gamma, Math.Floor((double)last_epoch / step_size))).ToList();
            }

            /// <summary>Multiplies the rate by gamma at each milestone epoch (<c>MultiStepLR</c>).</summary>
            public sealed class MultiStepLR : LRScheduler
            {
                readonly long[] _milestones;
                /// <summary>Creates the scheduler.</summary>
                public MultiStepLR(Optimizer optimizer, IEnumerable<long> milestones, double gamma = 0.1, long last_epoch = -1) : base(optimizer, last_epoch)
                {
                    _milestones = milestones.OrderBy(m => m).ToArray(); this.gamma = gamma;
                    InitialStep();
                }
                /// <summary>Decay factor.</summary>
                public double gamma { get; }
                /// <inheritdoc/>
                public override List<double> get_lr()
                {
                    int count = _milestones.Count(m => m == last_epoch);
                    return count == 0 ? Current() : Current().Select(l => l * Math.Pow(gamma, count)).ToList();
                }
                /// <inheritdoc/>
                protected override List<double> ClosedFormLr() => base_lrs.Select(b => b * Math.Pow(gamma, _milestones.Count(m => m <= last_epoch))).ToList();
            }

            /// <summary>Scales the rate by factor until total_iters epochs have passed (<c>ConstantLR</c>).</summary>
            public sealed class ConstantLR : LRScheduler
            {
                /// <summary>Creates the scheduler.</summary>
                /// <exception cref="ArgumentException">factor outside [0, 1].</exception>
                public ConstantLR(Optimizer optimizer, double factor = 1.0 / 3, long total_iters = 5, long last_epoch = -1) : base(optimizer, last_epoch)
                {
                    if (factor > 1.0 || factor < 0) throw new ArgumentException("Constant multiplicative factor expected to be between 0 and 1.");
                    this.factor = factor; this.total_iters = total_iters;
                    InitialStep();
                }
                /// <summary>The factor.</summary>
                public double factor { get; }
                /// <summary>Epochs the factor applies.</summary>
                public long total_iters { get; }
                /// <inheritdoc/>
                public override List<double> get_lr()
                {
                    if (last_epoch == 0) return Current().Select(l => l * factor).ToList();
                    if (last_epoch != total_iters) return Current();
                    return Current().Select(l => l * (1.0 / factor)).ToList();
                }
                /// <inheritdoc/>
                protected override List<double> ClosedFormLr() => base_lrs.Select(b => b * (factor + (last_epoch >= total_iters ? 1 : 0) * (1 - factor))).ToList();
            }

            /// <summary>Scales the rate linearly from start_factor to end_factor over total_iters epochs (<c>LinearLR</c>).</summary>
            public sealed class LinearLR : LRScheduler
            {
                /// <summary>Creates the scheduler.</summary>
                /// <exception cref="ArgumentException">A factor outside its range.</exception>
                public LinearLR(Optimizer optimizer, double start_factor = 1.0 / 3, double end_factor = 1.0, long total_iters = 5, long last_epoch = -1) : base(optimizer, last_epoch)
                {
                    if (start_factor > 1.0 || start_factor <= 0) throw new ArgumentException("Starting multiplicative factor expected to be greater than 0 and less or equal to 1.");
                    if (end_factor > 1.0 || end_factor < 0) throw new ArgumentException("Ending multiplicative factor expected to be between 0 and 1.");
                    this.start_factor = start_factor; this.end_factor = end_factor; this.total_iters = total_iters;
                    InitialStep();
                }
                /// <summary>Factor at epoch 0.</summary>
                public double start_factor { get; }
                /// <summary>Factor from total_iters on.</summary>
                public double end_factor { get; }
                /// <summary>Epochs of the ramp.</summary>
                public long total_iters { get; }
                /// <inheritdoc/>
                public override List<double> get_lr()
                {
                    if (last_epoch == 0) return Current().Select(l => l * start_factor).ToList();
                    if (last_epoch > total_iters) return Current();
                    return Current().Select(l => l * (1.0 + (end_factor - start_factor) / (total_iters * start_factor + (last_epoch - 1) * (end_factor - start_factor)))).ToList();
                }
                /// <inheritdoc/>
                protected override List<double> ClosedFormLr() =>
                    base_lrs.Select(b => b * (start_factor + (end_factor - start_factor) * Math.Min(total_iters, last_epoch) / total_iters)).ToList();
            }

            /// <summary>Multiplies the rate by gamma every epoch (<c>ExponentialLR</c>).</summary>
            public sealed class ExponentialLR : LRScheduler
            {
                /// <summary>Creates the scheduler.</summary>
                public ExponentialLR(Optimizer optimizer, double gamma, long last_epoch = -1) : base(optimizer, last_epoch)
                {
                    this.gamma = gamma;
                    InitialStep();
                }
                /// <summary>Decay factor.</summary>
                public double gamma { get; }
                /// <inheritdoc/>
                public override List<double> get_lr() => last_epoch == 0 ? Current() : Current().Select(l => l * gamma).ToList();
                /// <inheritdoc/>
                protected override List<double> ClosedFormLr() => base_lrs.Select(b => b * Math.Pow(gamma, last_epoch)).ToList();
            }

            /// <summary>Cosine annealing from the base rate to eta_min over T_max epochs (<c>CosineAnnealingLR</c>, chainable form).</summary>
            public sealed class CosineAnnealingLR : LRScheduler
            {
                /// <summary>Creates the scheduler.</summary>
                public CosineAnnealingLR(Optimizer optimizer, long T_max, double eta_min = 0, long last_epoch = -1) : base(optimizer, last_epoch)
                {
                    this.T_max = T_max; this.eta_min = eta_min;
                    InitialStep();
                }
                /// <summary>Half period.</summary>
                public long T_max { get; }
                /// <summary>Minimum rate.</summary>
                public double eta_min { get; }
                /// <inheritdoc/>
                public override List<double> get_lr()
                {
                    var cur = Current();
                    if (last_epoch == 0) return cur;
                    if (_step_count == 1 && last_epoch > 0)
                        return base_lrs.Select(b => eta_min + (b - eta_min) * (1 + Math.Cos(last_epoch * Math.PI / T_max)) / 2).ToList();
                    if (PyMod(last_epoch - 1 - T_max, 2 * T_max) == 0)
                        return cur.Select((l, i) => l + (base_lrs[i] - eta_min) * (1 - Math.Cos(Math.PI / T_max)) / 2).ToList();
                    return cur.Select(l => (1 + Math.Cos(Math.PI * last_epoch / T_max)) / (1 + Math.Cos(Math.PI * (last_epoch - 1) / T_max)) * (l - eta_min) + eta_min).ToList();
                }
                /// <inheritdoc/>
                protected override List<double> ClosedFormLr() => base_lrs.Select(b => eta_min + (b - eta_min) * (1 + Math.Cos(Math.PI * last_epoch / T_max)) / 2).ToList();
            }

            /// <summary>Sets each group's rate to base_lr · lr_lambda(epoch) (<c>LambdaLR</c>).</summary>
            public sealed class LambdaLR : LRScheduler
            {
                readonly Func<long, double>[] _lambdas;
                /// <summary>Creates the scheduler with one function for every group.</summary>
                public LambdaLR(Optimizer optimizer, Func<long, double> lr_lambda, long last_epoch = -1) : this(optimizer, Enumerable.Repeat(lr_lambda, optimizer.param_groups.Count).ToArray(), last_epoch) { }
                /// <summary>Creates the scheduler with one function per group.</summary>
                /// <exception cref="ArgumentException">The number of functions differs from the number of groups.</exception>
                public LambdaLR(Optimizer optimizer, Func<long, double>[] lr_lambda, long last_epoch = -1) : base(optimizer, last_epoch)
                {
                    if (lr_lambda.Length != optimizer.param_groups.Count)
                        throw new ArgumentException($"Expected {optimizer.param_groups.Count} lr_lambdas, but got {lr_lambda.Length}");
                    _lambdas = lr_lambda;
                    InitialStep();
                }
                /// <inheritdoc/>
                public override List<double> get_lr() => base_lrs.Select((b, i) => b * _lambdas[i](last_epoch)).ToList();
            }
        }
    }
}
