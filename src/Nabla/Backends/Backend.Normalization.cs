namespace Nabla.Backends;

// The batch-norm primitives (Note [The backend wall]), as PyTorch's native_batch_norm and native_batch_norm_backward.
// Operands are (N, C, ...) with the channel on dim 1; per-channel statistics are float64 vectors of C elements.
internal abstract partial class Backend
{
    /// <summary>
    /// y = (x - mean) * invstd * weight + bias per channel (weight 1 and bias 0 when absent). In training mode mean and
    /// invstd = 1 / sqrt(var + eps) come from the batch (biased variance, accumulated in double) and the running stats,
    /// when given, are updated in place: running = (1 - momentum) * running + momentum * stat, with the unbiased
    /// variance (running_var only when the batch is not empty). Otherwise mean and invstd come from the running stats.
    /// The mean and invstd used are written to <paramref name="saveMean"/> and <paramref name="saveInvstd"/> (float64
    /// [C]) for the backward. x float, any strides; y dense; parameters of any float dtype and layout.
    /// </summary>
    public abstract void BatchNorm(in Operand y, in Operand saveMean, in Operand saveInvstd, in Operand x, Operand? weight, Operand? bias,
        Operand? runningMean, Operand? runningVar, bool training, double momentum, double eps);

    /// <summary>
    /// The gradients of batch norm from the saved statistics, for those requested (non-null): gx (x's shape and dtype,
    /// dense) = (gy - [training] mean(gy) - [training] (x - mean) * invstd^2 * mean((x - mean) * gy)) * invstd * weight,
    /// gw = sum((x - mean) * gy) * invstd and gb = sum(gy) per channel (dense [C], the parameters' dtype). gy of x's
    /// dtype, any strides.
    /// </summary>
    public abstract void BatchNormBackward(Operand? gx, Operand? gw, Operand? gb, in Operand gy, in Operand x, Operand? weight,
        in Operand saveMean, in Operand saveInvstd, bool training);
}
