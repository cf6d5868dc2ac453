// Schedulers that follow their own code: SequentialLR (chaining) and ReduceLROnPlateau (metric-driven).
using Nabla.Modules;

namespace Nabla;

public static partial class torch
{
    public static partial class optim
    {
        public static partial class lr_scheduler
        {
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
