// The cyclic schedulers: cosine annealing with warm restarts and the one-cycle policy (Note [LR scheduler semantics]).
using Nabla.Modules;

namespace Nabla;

public static partial class torch
{
    public static partial class optim
    {
        public static partial class lr_scheduler
        {
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
        }
    }
}
