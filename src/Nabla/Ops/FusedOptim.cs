namespace Nabla.Ops;

/// <summary>
/// Layout checks for the one-pass optimizer primitives (Note [Fused optimizer steps]); each entry returns false,
/// having written nothing, when the tensors are not dense float tensors of one dtype, size and device, and the
/// optimizer then runs its op-by-op update.
/// </summary>
internal static class FusedOptim
{
    static bool Dense(Tensor reference, Tensor? t) =>
        t is null || (t._dtype == reference._dtype && t._numel == reference._numel && Tensor.ShapesEqual(t, reference) && t.is_contiguous()
            && ReferenceEquals(t.Backend, reference.Backend));

    static bool Eligible(Tensor p, params Tensor?[] others)
    {
        if ((p._dtype != ScalarType.Float32 && p._dtype != ScalarType.Float64) || !p.is_contiguous()) return false;
        foreach (var t in others) if (!Dense(p, t)) return false;
        return true;
    }

    /// <summary>One SGD step with an existing momentum buffer, fused.</summary>
    public static bool SgdMomentum(Tensor p, Tensor g, Tensor buf, double lr, double momentum, double dampening, double weightDecay, bool nesterov, bool maximize)
    {
        if (!Eligible(p, g, buf)) return false;
        p.Backend.SgdMomentumStep(p.Raw, g.Raw, buf.Raw, lr, momentum, dampening, weightDecay, nesterov, maximize);
        return true;
    }

    /// <summary>One Adam step, fused (bias corrections computed by the caller exactly as the unfused path does).</summary>
    public static bool Adam(Tensor p, Tensor g, Tensor m, Tensor v, Tensor? vmax, double beta1, double beta2, double weightDecay,
        double bc2Sqrt, double eps, double stepSize, bool maximize)
    {
        if (!Eligible(p, g, m, v, vmax)) return false;
        p.Backend.AdamStep(p.Raw, g.Raw, m.Raw, v.Raw, vmax?.Raw, beta1, beta2, weightDecay, bc2Sqrt, eps, stepSize, maximize);
        return true;
    }
}
