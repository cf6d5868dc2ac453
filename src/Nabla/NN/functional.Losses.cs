using Nabla.Ops;

namespace Nabla;

public static partial class torch
{
    /// <summary>Neural-network building blocks: modules, layers, losses, initialisers (<c>torch.nn</c>).</summary>
    public static partial class nn
    {
        /// <summary>How a loss reduces its per-element values (PyTorch's "none" / "mean" / "sum").</summary>
        public enum Reduction
        {
            /// <summary>No reduction: the loss has the shape of the per-element values.</summary>
            None = 0,
            /// <summary>The mean of the per-element values (weighted mean for weighted nll/cross entropy).</summary>
            Mean = 1,
            /// <summary>The sum of the per-element values.</summary>
            Sum = 2,
        }

        /// <summary>Stateless functions behind the layers (<c>torch.nn.functional</c>, usually imported as <c>F</c>).</summary>
        public static partial class functional
        {
            static string ReductionName(Reduction r) => r switch { Reduction.None => "none", Reduction.Sum => "sum", _ => "mean" };

            static void WarnIfSizesDiffer(Tensor input, Tensor target)
            {
                if (!ShapeUtil.SameShape(input._shape, target._shape))
                    Warnings.Warn(
                        $"Using a target size ({ShapeUtil.SizeString(target._shape)}) that is different to the input size ({ShapeUtil.SizeString(input._shape)}). This will likely lead to incorrect results due to broadcasting. Please ensure they have the same size.");
            }

            static (Tensor, Tensor) BroadcastPair(Tensor input, Tensor target)
            {
                if (ShapeUtil.SameShape(input._shape, target._shape)) return (input, target);
                var shape = ShapeUtil.Broadcast(input._shape, target._shape);
                return (input.expand(shape), target.expand(shape));
            }

            /// <summary>
            /// Mean squared error (x - y)^2, reduced (MseLossBackward0). A target of another shape warns, as PyTorch
            /// does, and is broadcast.
            /// </summary>
            /// <param name="input">Predictions.</param>
            /// <param name="target">Targets, the same shape as <paramref name="input"/>.</param>
            /// <param name="reduction">"mean" (default), "sum" or "none".</param>
            public static Tensor mse_loss(Tensor input, Tensor target, string reduction = "mean")
            {
                var r = Loss.ParseReduction(reduction);
                WarnIfSizesDiffer(input, target);
                var (x, y) = BroadcastPair(input, target);
                return Loss.MseLoss(x, y, r);
            }

            /// <summary>Mean squared error with the reduction as an enum.</summary>
            public static Tensor mse_loss(Tensor input, Tensor target, Reduction reduction) => mse_loss(input, target, ReductionName(reduction));

            /// <summary>Mean absolute error |x - y|, reduced (recorded as MeanBackward0 over AbsBackward0, as PyTorch).</summary>
            /// <param name="input">Predictions.</param>
            /// <param name="target">Targets, the same shape as <paramref name="input"/>.</param>
            /// <param name="reduction">"mean" (default), "sum" or "none".</param>
            public static Tensor l1_loss(Tensor input, Tensor target, string reduction = "mean")
            {
                var r = Loss.ParseReduction(reduction);
                WarnIfSizesDiffer(input, target);
                return Loss.Reduce((input - target).abs(), r);
            }

            /// <summary>Mean absolute error with the reduction as an enum.</summary>
            public static Tensor l1_loss(Tensor input, Tensor target, Reduction reduction) => l1_loss(input, target, ReductionName(reduction));

            /// <summary>
            /// Binary cross entropy -w (t log x + (1 - t) log(1 - x)) of probabilities <paramref name="input"/> in [0, 1]
            /// (BinaryCrossEntropyBackward0). Each log is clamped to at least -100, as PyTorch does.
            /// </summary>
            /// <param name="input">Probabilities, every element in [0, 1].</param>
            /// <param name="target">Targets in [0, 1], the same shape as <paramref name="input"/>.</param>
            /// <param name="weight">Optional rescaling weight, broadcast to the input's shape.</param>
            /// <param name="reduction">"mean" (default), "sum" or "none".</param>
            /// <exception cref="ArgumentException">The target's size differs from the input's.</exception>
            /// <exception cref="InvalidOperationException">An input element lies outside [0, 1].</exception>
            public static Tensor binary_cross_entropy(Tensor input, Tensor target, Tensor? weight = null, string reduction = "mean")
            {
                var r = Loss.ParseReduction(reduction);
                if (!ShapeUtil.SameShape(input._shape, target._shape))
                    throw new ArgumentException(
                        $"Using a target size ({ShapeUtil.SizeString(target._shape)}) that is different to the input size ({ShapeUtil.SizeString(input._shape)}) is deprecated. Please ensure they have the same size.");
                return Loss.BinaryCrossEntropy(input, target, weight, r);
            }

            /// <summary>Binary cross entropy with the reduction as an enum.</summary>
            public static Tensor binary_cross_entropy(Tensor input, Tensor target, Reduction reduction, Tensor? weight = null) =>
                binary_cross_entropy(input, target, weight, ReductionName(reduction));

            /// <summary>
            /// Binary cross entropy on logits, sigmoid fused in for numerical stability
            /// (BinaryCrossEntropyWithLogitsBackward0): (1 - t) x + (1 + (pw - 1) t) log(1 + e^-x), times weight.
            /// </summary>
            /// <param name="input">Logits.</param>
            /// <param name="target">Targets in [0, 1], the same shape as <paramref name="input"/>.</param>
            /// <param name="weight">Optional rescaling weight, broadcast to the input's shape.</param>
            /// <param name="pos_weight">Optional weight of positive examples, broadcast along the last (class) dim.</param>
            /// <param name="reduction">"mean" (default), "sum" or "none".</param>
            /// <exception cref="ArgumentException">The target's size differs from the input's.</exception>
            public static Tensor binary_cross_entropy_with_logits(Tensor input, Tensor target, Tensor? weight = null, Tensor? pos_weight = null, string reduction = "mean")
            {
                var r = Loss.ParseReduction(reduction);
                if (!ShapeUtil.SameShape(input._shape, target._shape))
                    throw new ArgumentException($"Target size ({ShapeUtil.SizeString(target._shape)}) must be the same as input size ({ShapeUtil.SizeString(input._shape)})");
                return Loss.BinaryCrossEntropyWithLogits(input, target, weight, pos_weight, r);
            }

            /// <summary>binary_cross_entropy_with_logits with the reduction as an enum.</summary>
            public static Tensor binary_cross_entropy_with_logits(Tensor input, Tensor target, Reduction reduction, Tensor? weight = null, Tensor? pos_weight = null) =>
                binary_cross_entropy_with_logits(input, target, weight, pos_weight, ReductionName(reduction));

            /// <summary>
            /// Negative log likelihood of log-probabilities <paramref name="input"/> (N, C) or (C) or (N, C, d1, ...)
            /// at int64 class indices <paramref name="target"/> (NllLossBackward0; NllLoss2DBackward0 beyond 2-D).
            /// "mean" divides by the summed weights of the non-ignored targets.
            /// </summary>
            /// <param name="input">Log-probabilities, classes along dim 1 (dim 0 for a 1-D input).</param>
            /// <param name="target">Class indices (int64) in [0, C), shape (N) or () or (N, d1, ...).</param>
            /// <param name="weight">Optional per-class weight of shape (C).</param>
            /// <param name="ignore_index">Targets equal to this contribute nothing.</param>
            /// <param name="reduction">"mean" (default), "sum" or "none".</param>
            /// <exception cref="ArgumentException">Batch sizes differ.</exception>
            /// <exception cref="IndexOutOfRangeException">A target is outside [0, C).</exception>
            public static Tensor nll_loss(Tensor input, Tensor target, Tensor? weight = null, long ignore_index = -100, string reduction = "mean") =>
                Loss.NllLoss(input, target, weight, Loss.ParseReduction(reduction), ignore_index);

            /// <summary>nll_loss with the reduction as an enum.</summary>
            public static Tensor nll_loss(Tensor input, Tensor target, Reduction reduction, Tensor? weight = null, long ignore_index = -100) =>
                Loss.NllLoss(input, target, weight, (LossReduction)reduction, ignore_index);

            /// <summary>
            /// Cross entropy of unnormalised logits: nll_loss(log_softmax(input, class dim)) for int64 class indices
            /// (NllLossBackward0 over LogSoftmaxBackward0), or -(target * log_softmax(input)).sum(class dim) for
            /// floating-point class probabilities of the input's shape. <paramref name="label_smoothing"/> mixes the
            /// target with the uniform distribution, as PyTorch does.
            /// </summary>
            /// <param name="input">Logits (N, C), (C) or (N, C, d1, ...).</param>
            /// <param name="target">Class indices (int64) or class probabilities (floating point, same shape as input).</param>
            /// <param name="weight">Optional per-class weight of shape (C).</param>
            /// <param name="ignore_index">Class-index targets equal to this contribute nothing.</param>
            /// <param name="reduction">"mean" (default), "sum" or "none".</param>
            /// <param name="label_smoothing">In [0, 1]: the amount of smoothing.</param>
            public static Tensor cross_entropy(Tensor input, Tensor target, Tensor? weight = null, long ignore_index = -100, string reduction = "mean", double label_smoothing = 0.0)
            {
                var r = Loss.ParseReduction(reduction);
                if (label_smoothing < 0 || label_smoothing > 1)
                    throw new InvalidOperationException($"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}");
                long classDim = input._shape.Length == 1 ? 0 : 1;
                var logp = input.log_softmax(classDim);
                long classes = input._shape.Length == 0 ? 1 : input._shape[classDim];
                Tensor? weightView = null;
                if (weight is not null)
                {
                    var shape = new long[input._shape.Length];
                    Array.Fill(shape, 1L);
                    shape[classDim] = weight.numel();
                    weightView = weight.view(shape);
                }
                if (target.is_floating_point())
                    return SoftTargetCrossEntropy(input, logp, target, weightView, r, label_smoothing, classDim, classes);
                var nll = Loss.NllLoss(logp, target, weight, r, ignore_index);
                if (label_smoothing == 0) return nll;

                // (1 - eps) * nll + eps / C * smooth, smooth = -(logp * w).sum(class dim), zeroed at ignored targets.
                var smooth = (weightView is null ? logp : logp * weightView).sum(classDim).neg();
                var keep = target.ne(ignore_index);
                smooth = torch.where(keep, smooth, torch.zeros_like(smooth));
                Tensor ret;
                if (r == LossReduction.Mean)
                {
                    Tensor denominator;
                    if (weight is null) denominator = keep.sum();
                    else
                    {
                        double total = 0;
                        var k = keep.ToDoubleArray();
                        var t = target.ToArray<long>();
                        var w = weight.ToDoubleArray();
                        for (int i = 0; i < k.Length; i++) if (k[i] != 0) total += w[t[i]];
                        denominator = torch.tensor(total, weight.dtype);
                    }
                    ret = smooth.sum() / denominator;
                }
                else ret = r == LossReduction.Sum ? smooth.sum() : smooth;
                return nll * (1 - label_smoothing) + ret * (label_smoothing / classes);
            }

            static Tensor SoftTargetCrossEntropy(Tensor input, Tensor logp, Tensor target, Tensor? weightView, LossReduction r, double smoothing, long classDim, long classes)
            {
                if (!ShapeUtil.SameShape(input._shape, target._shape))
                    throw new InvalidOperationException(
                        $"Expected target size {ShapeUtil.Format(input._shape)}, got {ShapeUtil.Format(target._shape)}");
                if (smoothing > 0) target = target * (1 - smoothing) + smoothing / classes;
                var product = weightView is null ? logp * target : logp * target * weightView;
                return r switch
                {
                    LossReduction.Mean => product.sum().neg() / (double)(input.numel() / classes),
                    LossReduction.Sum => product.sum().neg(),
                    _ => product.sum(classDim).neg(),
                };
            }

            /// <summary>cross_entropy with the reduction as an enum.</summary>
            public static Tensor cross_entropy(Tensor input, Tensor target, Reduction reduction, Tensor? weight = null, long ignore_index = -100, double label_smoothing = 0.0) =>
                cross_entropy(input, target, weight, ignore_index, ReductionName(reduction), label_smoothing);
        }
    }
}
