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

            /// <summary>Cosine annealing with warm restarts every T_i epochs, T_i growing by T_mult (<c>CosineAnnealingWarmRestarts</c>).</summary>
            public sealed class CosineAnnealingWarmRestarts : LRScheduler
            {
                /// <summary>Creates the scheduler.</summary>
                /// <exception cref="ArgumentException">T_0 not positive or T_mult below 1.</exception>
                public CosineAnnealingWarmRestarts(Optimizer optimizer, long T_0, long T_mult = 1, double eta_min = 0, long last_epoch = -1) : base(optimizer, last_epoch)
                {
                    if (T_0 <= 0) throw new ArgumentException($"Expected positive integer T_0, but got {T_0}");
                    if (T_mult < 1) throw new ArgumentException($"Expected integer T_mult >= 1, but got {T_mult}");
                    this.T_0 = T_0; T_i = T_0; this.T_mult = T_mult; this.eta_min = eta_min; T_cur = last_epoch;
                    InitialStep();
                }
                /// <summary>First period.</summary>
                public long T_0 { get; }
                /// <summary>Current period.</summary>
                public double T_i { get; private set; }
                /// <summary>Period growth factor.</summary>
                public long T_mult { get; }
                /// <summary>Minimum rate.</summary>
                public double eta_min { get; }
                /// <summary>Epochs since the last restart (fractional with step(epoch)).</summary>
                public double T_cur { get; private set; }
                /// <inheritdoc/>
                public override List<double> get_lr() => base_lrs.Select(b => eta_min + (b - eta_min) * (1 + Math.Cos(Math.PI * T_cur / T_i)) / 2).ToList();

                /// <inheritdoc/>
                public override void step(long? epoch = null) => step((double?)epoch);

                /// <summary>Advances one epoch, or jumps to a (possibly fractional) epoch, e.g. epoch + i / iters within an epoch.</summary>
                /// <exception cref="ArgumentException">A negative epoch.</exception>
                public void step(double? epoch)
                {
                    double e;
                    if (epoch is null && last_epoch < 0) epoch = 0;
                    if (epoch is null)
                    {
                        e = last_epoch + 1;
                        T_cur += 1;
                        if (T_cur >= T_i) { T_cur -= T_i; T_i *= T_mult; }
                    }
                    else
                    {
                        e = epoch.Value;
                        if (e < 0) throw new ArgumentException($"Expected non-negative epoch, but got {e}");
                        if (e >= T_0)
                        {
                            if (T_mult == 1) T_cur = PyFmod(e, T_0);
                            else
                            {
                                int n = (int)(Math.Log(e / T_0 * (T_mult - 1) + 1) / Math.Log(T_mult));
                                T_cur = e - T_0 * (Math.Pow(T_mult, n) - 1) / (T_mult - 1);
                                T_i = T_0 * Math.Pow(T_mult, n);
                            }
                        }
                        else { T_i = T_0; T_cur = e; }
                    }
                    last_epoch = (long)Math.Floor(e);
                    _step_count++;
                    var values = get_lr();
                    for (int i = 0; i < values.Count; i++) optimizer.param_groups[i].lr = values[i];
                    _last_lr = Current();
                }

                static double PyFmod(double a, double b) => a - b * Math.Floor(a / b);

                /// <inheritdoc/>
                public override Dictionary<string, object> state_dict()
                {
                    var d = base.state_dict();
                    d["T_i"] = T_i; d["T_cur"] = T_cur;
                    return d;
                }

                /// <inheritdoc/>
                public override void load_state_dict(Dictionary<string, object> state_dict)
                {
                    base.load_state_dict(state_dict);
                    T_i = Convert.ToDouble(state_dict["T_i"]); T_cur = Convert.ToDouble(state_dict["T_cur"]);
                }
            }

            /// <summary>
            /// The 1cycle policy (<c>OneCycleLR</c>, Smith): the rate warms from max_lr/div_factor to max_lr over
            /// pct_start of the steps and anneals to initial/final_div_factor; momentum (or Adam's beta1) cycles inversely.
            /// Step it after every batch.
            /// </summary>
            public sealed class OneCycleLR : LRScheduler
            {
                readonly (double endStep, string startLr, string endLr, string startM, string endM)[] _phases;
                readonly bool _useBeta1;

                /// <summary>Creates the scheduler; give total_steps, or epochs and steps_per_epoch.</summary>
                /// <exception cref="ArgumentException">Bad step counts, pct_start, anneal strategy, or momentum cycling on an optimizer without momentum.</exception>
                public OneCycleLR(Optimizer optimizer, double max_lr, long? total_steps = null, long? epochs = null, long? steps_per_epoch = null,
                    double pct_start = 0.3, string anneal_strategy = "cos", bool cycle_momentum = true, double base_momentum = 0.85,
                    double max_momentum = 0.95, double div_factor = 25.0, double final_div_factor = 1e4, bool three_phase = false, long last_epoch = -1)
                    : this(optimizer, Enumerable.Repeat(max_lr, optimizer.param_groups.Count).ToArray(), total_steps, epochs, steps_per_epoch, pct_start,
                           anneal_strategy, cycle_momentum, base_momentum, max_momentum, div_factor, final_div_factor, three_phase, last_epoch) { }

                /// <summary>Creates the scheduler with one max_lr per group.</summary>
                /// <exception cref="ArgumentException">As the other constructor.</exception>
                public OneCycleLR(Optimizer optimizer, double[] max_lr, long? total_steps = null, long? epochs = null, long? steps_per_epoch = null,
                    double pct_start = 0.3, string anneal_strategy = "cos", bool cycle_momentum = true, double base_momentum = 0.85,
                    double max_momentum = 0.95, double div_factor = 25.0, double final_div_factor = 1e4, bool three_phase = false, long last_epoch = -1)
                    : base(Prepare(optimizer, max_lr, div_factor, final_div_factor, last_epoch), last_epoch)
                {
                    if (total_steps is null && epochs is null && steps_per_epoch is null)
                        throw new ArgumentException("You must define either total_steps OR (epochs AND steps_per_epoch)");
                    if (total_steps is { } ts)
                    {
                        if (ts <= 0) throw new ArgumentException($"Expected positive integer total_steps, but got {ts}");
                        this.total_steps = ts;
                    }
                    else
                    {
                        if (epochs is not { } ep || ep <= 0) throw new ArgumentException($"Expected positive integer epochs, but got {epochs}");
                        if (steps_per_epoch is not { } spe || spe <= 0) throw new ArgumentException($"Expected positive integer steps_per_epoch, but got {steps_per_epoch}");
                        this.total_steps = ep * spe;
                    }
                    if (pct_start < 0 || pct_start > 1) throw new ArgumentException($"Expected float between 0 and 1 pct_start, but got {nn.functional.PyFloat(pct_start)}");
                    if (anneal_strategy != "cos" && anneal_strategy != "linear")
                        throw new ArgumentException($"anneal_strategy must by one of 'cos' or 'linear', instead got {anneal_strategy}");
                    this.anneal_strategy = anneal_strategy;
                    double T = this.total_steps;
                    _phases = three_phase
                        ? new[] { (pct_start * T - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                                  (2 * pct_start * T - 2, "max_lr", "initial_lr", "base_momentum", "max_momentum"),
                                  (T - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum") }
                        : new[] { (pct_start * T - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                                  (T - 1, "max_lr", "min_lr", "base_momentum", "max_momentum") };
                    this.cycle_momentum = cycle_momentum;
                    if (cycle_momentum)
                    {
                        if (!optimizer.defaults.ContainsKey("momentum") && !optimizer.defaults.ContainsKey("betas"))
                            throw new ArgumentException("optimizer must support momentum with `cycle_momentum` option enabled");
                        _useBeta1 = optimizer.defaults.ContainsKey("betas");
                        if (last_epoch == -1)
                            foreach (var g in optimizer.param_groups)
                            {
                                if (_useBeta1) g["betas"] = (max_momentum, g.Pair("betas").Item2);
                                else g["momentum"] = max_momentum;
                                g["max_momentum"] = max_momentum;
                                g["base_momentum"] = base_momentum;
                            }
                    }
                    InitialStep();
                }

                static Optimizer Prepare(Optimizer optimizer, double[] maxLr, double divFactor, double finalDivFactor, long lastEpoch)
                {
                    if (maxLr.Length != optimizer.param_groups.Count)
                        throw new ArgumentException($"expected {optimizer.param_groups.Count} values for max_lr, got {maxLr.Length}");
                    if (lastEpoch == -1)
                        for (int i = 0; i < maxLr.Length; i++)
                        {
                            var g = optimizer.param_groups[i];
                            double initial = maxLr[i] / divFactor;
                            g["initial_lr"] = initial;
                            g["max_lr"] = maxLr[i];
                            g["min_lr"] = initial / finalDivFactor;
                        }
                    return optimizer;
                }

                /// <summary>Total number of steps in the cycle.</summary>
                public long total_steps { get; }
                /// <summary>"cos" or "linear".</summary>
                public string anneal_strategy { get; }
                /// <summary>Whether momentum cycles.</summary>
                public bool cycle_momentum { get; }

                double Anneal(double start, double end, double pct) =>
                    anneal_strategy == "cos" ? end + (start - end) / 2.0 * (Math.Cos(Math.PI * pct) + 1) : (end - start) * pct + start;

                /// <inheritdoc/>
                /// <exception cref="InvalidOperationException">Stepped more than total_steps times.</exception>
                public override List<double> get_lr()
                {
                    var lrs = new List<double>();
                    long stepNum = last_epoch;
                    if (stepNum > total_steps)
                        throw new InvalidOperationException($"Tried to step {stepNum} times. The specified number of total steps is {total_steps}");
                    foreach (var g in optimizer.param_groups)
                    {
                        double startStep = 0, lr = 0, momentum = 0;
                        for (int i = 0; i < _phases.Length; i++)
                        {
                            var ph = _phases[i];
                            if (stepNum <= ph.endStep || i == _phases.Length - 1)
                            {
                                double pct = (stepNum - startStep) / (ph.endStep - startStep);
                                lr = Anneal(g.Double(ph.startLr), g.Double(ph.endLr), pct);
                                if (cycle_momentum) momentum = Anneal(g.Double(ph.startM), g.Double(ph.endM), pct);
                                break;
                            }
                            startStep = ph.endStep;
                        }
                        lrs.Add(lr);
                        if (cycle_momentum)
                        {
                            if (_useBeta1) g["betas"] = (momentum, g.Pair("betas").Item2);
                            else g["momentum"] = momentum;
                        }
                    }
                    return lrs;
                }
            }

            /// <summary>
            /// Chains schedulers: the first until the first milestone, and so on (<c>SequentialLR</c>, PyTorch 1.13's
            /// behaviour: each scheduler's constructor has already stepped once; at a milestone the next one is stepped with epoch 0).
            /// </summary>
            public sealed class SequentialLR : LRScheduler
            {
                readonly LRScheduler[] _schedulers;
                readonly long[] _milestones;

                /// <summary>Creates the chain.</summary>
                /// <exception cref="ArgumentException">Schedulers of another optimizer, or milestones that do not number schedulers - 1.</exception>
                public SequentialLR(Optimizer optimizer, LRScheduler[] schedulers, long[] milestones, long last_epoch = -1) : base(optimizer, last_epoch)
                {
                    for (int i = 0; i < schedulers.Length; i++)
                        if (!ReferenceEquals(schedulers[i].optimizer, optimizer))
                            throw new ArgumentException($"Sequential Schedulers expects all schedulers to belong to the same optimizer, but got schedulers at index {i} to be different than the optimizer passed in.");
                    if (milestones.Length != schedulers.Length - 1)
                        throw new ArgumentException($"Sequential Schedulers expects number of schedulers provided to be one more than the number of milestone points, but got number of schedulers {schedulers.Length} and the number of milestones to be equal to {milestones.Length}");
                    _schedulers = schedulers; _milestones = milestones;
                    this.last_epoch = last_epoch + 1;
                    _last_lr = schedulers[0].get_last_lr();
                }

                /// <inheritdoc/>
                public override List<double> get_lr() => _schedulers[Index()].get_lr();

                int Index()
                {
                    int idx = 0;
                    while (idx < _milestones.Length && _milestones[idx] <= last_epoch) idx++;   // bisect_right
                    return idx;
                }

                /// <inheritdoc/>
                public override void step(long? epoch = null)
                {
                    last_epoch++;
                    int idx = Index();
                    var s = _schedulers[idx];
                    if (idx > 0 && _milestones[idx - 1] == last_epoch) s.step(0);
                    else s.step();
                    _last_lr = s.get_last_lr();
                }
            }

            /// <summary>
            /// Reduces the rate by factor when a metric stops improving for patience epochs (<c>ReduceLROnPlateau</c>);
            /// call <see cref="step(double)"/> with the metric.
            /// </summary>
            public sealed class ReduceLROnPlateau
            {
                readonly double[] _minLrs;
                /// <summary>Creates the scheduler.</summary>
                /// <exception cref="ArgumentException">factor ≥ 1, an unknown mode or threshold mode, or a min_lr list of the wrong length.</exception>
                public ReduceLROnPlateau(Optimizer optimizer, string mode = "min", double factor = 0.1, long patience = 10, double threshold = 1e-4,
                    string threshold_mode = "rel", long cooldown = 0, double min_lr = 0, double eps = 1e-8, double[]? min_lrs = null)
                {
                    if (factor >= 1.0) throw new ArgumentException("Factor should be < 1.0.");
                    if (mode != "min" && mode != "max") throw new ArgumentException($"mode {mode} is unknown!");
                    if (threshold_mode != "rel" && threshold_mode != "abs") throw new ArgumentException($"threshold mode {threshold_mode} is unknown!");
                    if (min_lrs is not null && min_lrs.Length != optimizer.param_groups.Count)
                        throw new ArgumentException($"expected {optimizer.param_groups.Count} min_lrs, got {min_lrs.Length}");
                    this.optimizer = optimizer; this.mode = mode; this.factor = factor; this.patience = patience; this.threshold = threshold;
                    this.threshold_mode = threshold_mode; this.cooldown = cooldown; this.eps = eps;
                    _minLrs = min_lrs ?? Enumerable.Repeat(min_lr, optimizer.param_groups.Count).ToArray();
                    best = mode == "min" ? double.PositiveInfinity : double.NegativeInfinity;
                    _last_lr = optimizer.param_groups.Select(g => g.lr).ToList();
                }

                List<double> _last_lr;
                /// <summary>The optimizer.</summary>
                public Optimizer optimizer { get; }
                /// <summary>"min" or "max".</summary>
                public string mode { get; }
                /// <summary>Reduction factor.</summary>
                public double factor { get; }
                /// <summary>Epochs without improvement before reducing.</summary>
                public long patience { get; }
                /// <summary>Improvement threshold.</summary>
                public double threshold { get; }
                /// <summary>"rel" or "abs".</summary>
                public string threshold_mode { get; }
                /// <summary>Epochs to wait after a reduction.</summary>
                public long cooldown { get; }
                /// <summary>Minimal change of the rate to apply.</summary>
                public double eps { get; }
                /// <summary>The best metric so far.</summary>
                public double best { get; private set; }
                /// <summary>Epochs since the best.</summary>
                public long num_bad_epochs { get; private set; }
                /// <summary>Remaining cooldown epochs.</summary>
                public long cooldown_counter { get; private set; }
                /// <summary>Number of step calls.</summary>
                public long last_epoch { get; private set; }

                /// <summary>The rates after the last step.</summary>
                public List<double> get_last_lr() => new(_last_lr);

                bool IsBetter(double a) => (mode, threshold_mode) switch
                {
                    ("min", "rel") => a < best * (1 - threshold),
                    ("min", _) => a < best - threshold,
                    (_, "rel") => a > best * (threshold + 1),
                    _ => a > best + threshold,
                };

                /// <summary>Records this epoch's metric and reduces the rates after patience bad epochs.</summary>
                public void step(double metrics)
                {
                    last_epoch++;
                    if (IsBetter(metrics)) { best = metrics; num_bad_epochs = 0; } else num_bad_epochs++;
                    if (cooldown_counter > 0) { cooldown_counter--; num_bad_epochs = 0; }
                    if (num_bad_epochs > patience)
                    {
                        for (int i = 0; i < optimizer.param_groups.Count; i++)
                        {
                            var g = optimizer.param_groups[i];
                            double old = g.lr, next = Math.Max(old * factor, _minLrs[i]);
                            if (old - next > eps) g.lr = next;
                        }
                        cooldown_counter = cooldown;
                        num_bad_epochs = 0;
                    }
                    _last_lr = optimizer.param_groups.Select(g => g.lr).ToList();
                }

                /// <summary>The scheduler's state.</summary>
                public Dictionary<string, object> state_dict() => new()
                {
                    ["best"] = best, ["num_bad_epochs"] = num_bad_epochs, ["cooldown_counter"] = cooldown_counter, ["last_epoch"] = last_epoch, ["_last_lr"] = new List<double>(_last_lr),
                };

                /// <summary>Restores a state from <see cref="state_dict"/>.</summary>
                public void load_state_dict(Dictionary<string, object> state_dict)
                {
                    best = Convert.ToDouble(state_dict["best"]); num_bad_epochs = Convert.ToInt64(state_dict["num_bad_epochs"]);
                    cooldown_counter = Convert.ToInt64(state_dict["cooldown_counter"]); last_epoch = Convert.ToInt64(state_dict["last_epoch"]);
                    _last_lr = new List<double>((IEnumerable<double>)state_dict["_last_lr"]);
                }
            }
        }
    }
}
