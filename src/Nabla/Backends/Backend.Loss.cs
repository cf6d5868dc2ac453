namespace Nabla.Backends;

// The loss primitives (Note [The backend wall]) that read values to validate them; the other losses are composite.
internal abstract partial class Backend
{
    /// <summary>
    /// loss = -w (t ln(x) + (1 - t) ln(1 - x)) elementwise, each log clamped to >= -100, computed in float64 and
    /// stored in loss's dtype. x, target and weight (none: 1) have loss's shape, any strides and dtypes. Throws PyTorch's
    /// error when an element of x is outside [0, 1].
    /// </summary>
    public abstract void BinaryCrossEntropy(in Operand loss, in Operand x, in Operand target, Operand? weight);

    /// <summary>
    /// Negative log likelihood of x (C), (N, C) or (N, C, d1, ...) at the int64 class indices of target (N, d1, ...):
    /// item = -weight[t] * x[n, t, ...] (weight none: 1), computed in float64. Without <paramref name="reduce"/> dst
    /// (N, d1, ...) receives the items (0 where t == ignoreIndex); otherwise the 0-d dst receives their sum, divided
    /// by the total weight of the counted items when <paramref name="mean"/>. When given, the zero-filled
    /// <paramref name="coefficients"/> (x's shape and dtype) receive d dst / d x: -weight[t] at each target position
    /// (times 1 / total weight for mean, 0 when that is 0). Throws "Target t is out of bounds." for a class index
    /// outside [0, C) other than ignoreIndex. dst of x's dtype.
    /// </summary>
    public abstract void NllLoss(in Operand dst, Operand? coefficients, in Operand x, in Operand target, Operand? weight, bool reduce,
        bool mean, long ignoreIndex);
}
