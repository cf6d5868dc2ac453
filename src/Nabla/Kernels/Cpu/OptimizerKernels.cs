using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Nabla.Kernels.Cpu;

// Note [Fused optimizer steps]
// SGD with momentum and Adam update each parameter with a short chain of elementwise ops (mul_, add_ with alpha,
// addcmul_, sqrt, div, addcdiv_). Run one op at a time, every op is a pass over memory and most allocate a temporary;
// fused, the whole update is one pass that reads the gradient and state once and writes parameter and state once. The
// arithmetic follows PyTorch's kernels op by op (`add` with alpha is a fused multiply-add, as ATen's vectorized add;
// addcmul is a + (v * b) * c; addcdiv is a + v * (b / c)), so the fused step rounds as the unfused one does.

/// <summary>One-pass optimizer updates over dense arrays (see Note [Fused optimizer steps]).</summary>
internal static class OptimizerKernels
{
    /// <summary>Scalars of one SGD step.</summary>
    public struct SgdArgs<T> where T : unmanaged, INumber<T>
    {
        public T Lr, Momentum, OneMinusDampening, WeightDecay;
        public bool Nesterov, Maximize, HasWeightDecay;
    }

    /// <summary>
    /// SGD with a momentum buffer: d = ±g (+ wd·p); buf = buf·momentum + (1 − dampening)·d; d = nesterov ? d + momentum·buf
    /// : buf; p = p − lr·d.
    /// </summary>
    public static void SgdMomentum<T>(Span<T> p, ReadOnlySpan<T> g, Span<T> buf, in SgdArgs<T> a)
        where T : unmanaged, INumber<T>
    {
        int n = p.Length;
        if (g.Length < n || buf.Length < n) throw new ArgumentException("span too short");
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var lr = Vector512.Create(-a.Lr); var mom = Vector512.Create(a.Momentum);
            var omd = Vector512.Create(a.OneMinusDampening); var wd = Vector512.Create(a.WeightDecay);
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
            {
                var vp = Vector512.LoadUnsafe(ref p[0], (nuint)i);
                var d = Vector512.LoadUnsafe(ref Unsafe.AsRef(in g[0]), (nuint)i);
                if (a.Maximize) d = -d;
                if (a.HasWeightDecay) d = GemmMicrokernel.Fma(vp, wd, d);
                var b = GemmMicrokernel.Fma(d, omd, Vector512.LoadUnsafe(ref buf[0], (nuint)i) * mom);
                b.StoreUnsafe(ref buf[0], (nuint)i);
                d = a.Nesterov ? GemmMicrokernel.Fma(b, mom, d) : b;
                GemmMicrokernel.Fma(d, lr, vp).StoreUnsafe(ref p[0], (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var lr = Vector256.Create(-a.Lr); var mom = Vector256.Create(a.Momentum);
            var omd = Vector256.Create(a.OneMinusDampening); var wd = Vector256.Create(a.WeightDecay);
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var vp = Vector256.LoadUnsafe(ref p[0], (nuint)i);
                var d = Vector256.LoadUnsafe(ref Unsafe.AsRef(in g[0]), (nuint)i);
                if (a.Maximize) d = -d;
                if (a.HasWeightDecay) d = GemmMicrokernel.Fma(vp, wd, d);
                var b = GemmMicrokernel.Fma(d, omd, Vector256.LoadUnsafe(ref buf[0], (nuint)i) * mom);
                b.StoreUnsafe(ref buf[0], (nuint)i);
                d = a.Nesterov ? GemmMicrokernel.Fma(b, mom, d) : b;
                GemmMicrokernel.Fma(d, lr, vp).StoreUnsafe(ref p[0], (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            T d = a.Maximize ? -g[i] : g[i];
            if (a.HasWeightDecay) d = GemmMicrokernel.Fma(p[i], a.WeightDecay, d);
            T b = GemmMicrokernel.Fma(d, a.OneMinusDampening, buf[i] * a.Momentum);
            buf[i] = b;
            d = a.Nesterov ? GemmMicrokernel.Fma(b, a.Momentum, d) : b;
            p[i] = GemmMicrokernel.Fma(d, -a.Lr, p[i]);
        }
    }

    /// <summary>Scalars of one Adam step (bias corrections already folded in by the caller).</summary>
    public struct AdamArgs<T> where T : unmanaged, INumber<T>
    {
        public T Beta1, OneMinusBeta1, Beta2, OneMinusBeta2, WeightDecay, Bc2Sqrt, Eps, NegStepSize;
        public bool Maximize, HasWeightDecay, Amsgrad;
    }

    /// <summary>
    /// Adam: g = ±g (+ wd·p); m = m·β₁ + (1−β₁)·g; v = v·β₂ + ((1−β₂)·g)·g; (amsgrad: vmax = maximum(vmax, v));
    /// denom = sqrt(v or vmax) / bc2sqrt + eps; p = p + (−step_size)·(m / denom).
    /// </summary>
    public static void Adam<T>(Span<T> p, ReadOnlySpan<T> g, Span<T> m, Span<T> v, Span<T> vmax, in AdamArgs<T> a)
        where T : unmanaged, INumber<T>
    {
        int n = p.Length;
        if (g.Length < n || m.Length < n || v.Length < n || (a.Amsgrad && vmax.Length < n)) throw new ArgumentException("span too short");
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var b1 = Vector512.Create(a.Beta1); var omb1 = Vector512.Create(a.OneMinusBeta1);
            var b2 = Vector512.Create(a.Beta2); var omb2 = Vector512.Create(a.OneMinusBeta2);
            var wd = Vector512.Create(a.WeightDecay); var bc2 = Vector512.Create(a.Bc2Sqrt);
            var eps = Vector512.Create(a.Eps); var step = Vector512.Create(a.NegStepSize);
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
            {
                var vp = Vector512.LoadUnsafe(ref p[0], (nuint)i);
                var vg = Vector512.LoadUnsafe(ref Unsafe.AsRef(in g[0]), (nuint)i);
                if (a.Maximize) vg = -vg;
                if (a.HasWeightDecay) vg = GemmMicrokernel.Fma(vp, wd, vg);
                var vm = GemmMicrokernel.Fma(vg, omb1, Vector512.LoadUnsafe(ref m[0], (nuint)i) * b1);
                vm.StoreUnsafe(ref m[0], (nuint)i);
                var vv = Vector512.LoadUnsafe(ref v[0], (nuint)i) * b2 + omb2 * vg * vg;
                vv.StoreUnsafe(ref v[0], (nuint)i);
                if (a.Amsgrad)
                {
                    vv = MaxOp<T>.Invoke(Vector512.LoadUnsafe(ref vmax[0], (nuint)i), vv);
                    vv.StoreUnsafe(ref vmax[0], (nuint)i);
                }
                var denom = Vector512.Sqrt(vv) / bc2 + eps;
                (vp + step * (vm / denom)).StoreUnsafe(ref p[0], (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var b1 = Vector256.Create(a.Beta1); var omb1 = Vector256.Create(a.OneMinusBeta1);
            var b2 = Vector256.Create(a.Beta2); var omb2 = Vector256.Create(a.OneMinusBeta2);
            var wd = Vector256.Create(a.WeightDecay); var bc2 = Vector256.Create(a.Bc2Sqrt);
            var eps = Vector256.Create(a.Eps); var step = Vector256.Create(a.NegStepSize);
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var vp = Vector256.LoadUnsafe(ref p[0], (nuint)i);
                var vg = Vector256.LoadUnsafe(ref Unsafe.AsRef(in g[0]), (nuint)i);
                if (a.Maximize) vg = -vg;
                if (a.HasWeightDecay) vg = GemmMicrokernel.Fma(vp, wd, vg);
                var vm = GemmMicrokernel.Fma(vg, omb1, Vector256.LoadUnsafe(ref m[0], (nuint)i) * b1);
                vm.StoreUnsafe(ref m[0], (nuint)i);
                var vv = Vector256.LoadUnsafe(ref v[0], (nuint)i) * b2 + omb2 * vg * vg;
                vv.StoreUnsafe(ref v[0], (nuint)i);
                if (a.Amsgrad)
                {
                    vv = MaxOp<T>.Invoke(Vector256.LoadUnsafe(ref vmax[0], (nuint)i), vv);
                    vv.StoreUnsafe(ref vmax[0], (nuint)i);
                }
                var denom = Vector256.Sqrt(vv) / bc2 + eps;
                (vp + step * (vm / denom)).StoreUnsafe(ref p[0], (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            T vg = a.Maximize ? -g[i] : g[i];
            if (a.HasWeightDecay) vg = GemmMicrokernel.Fma(p[i], a.WeightDecay, vg);
            T vm = GemmMicrokernel.Fma(vg, a.OneMinusBeta1, m[i] * a.Beta1);
            m[i] = vm;
            T vv = v[i] * a.Beta2 + a.OneMinusBeta2 * vg * vg;
            v[i] = vv;
            if (a.Amsgrad) vmax[i] = vv = MaxOp<T>.Invoke(vmax[i], vv);
            T denom = Sqrt(vv) / a.Bc2Sqrt + a.Eps;
            p[i] = p[i] + a.NegStepSize * (vm / denom);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static T Sqrt<T>(T x) where T : unmanaged, INumber<T>
    {
        if (typeof(T) == typeof(float)) return (T)(object)MathF.Sqrt((float)(object)x);
        if (typeof(T) == typeof(double)) return (T)(object)Math.Sqrt((double)(object)x);
        throw new NotSupportedException(typeof(T).Name);
    }
}
