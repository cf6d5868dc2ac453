namespace Nabla.Backends;

// The fused optimizer primitives (Note [The backend wall], Note [Fused optimizer steps]): one pass over parameter,
// gradient and state that rounds as the op-by-op update does. Every operand is dense, of one float dtype and size.
internal abstract partial class Backend
{
    /// <summary>
    /// One SGD step with a momentum buffer, in place on param and buf: d = ±grad (+ weightDecay·param);
    /// buf = buf·momentum + (1 − dampening)·d; d = nesterov ? d + momentum·buf : buf; param -= lr·d.
    /// </summary>
    public abstract void SgdMomentumStep(in Operand param, in Operand grad, in Operand buf, double lr, double momentum, double dampening,
        double weightDecay, bool nesterov, bool maximize);

    /// <summary>
    /// One Adam step, in place on param and the moments: d = ±grad (+ weightDecay·param); m = β1·m + (1 − β1)·d;
    /// v = β2·v + (1 − β2)·d²; with AMSGrad (maxExpAvgSq given) vmax = max(vmax, v) replaces v below;
    /// param -= stepSize · m / (sqrt(v) / bc2Sqrt + eps). The bias corrections come from the caller.
    /// </summary>
    public abstract void AdamStep(in Operand param, in Operand grad, in Operand expAvg, in Operand expAvgSq, Operand? maxExpAvgSq,
        double beta1, double beta2, double weightDecay, double bc2Sqrt, double eps, double stepSize, bool maximize);
}
