using Nabla.Autograd;
using Nabla.Backends;

namespace Nabla.Ops;

/// <summary>
/// Untracked tensor operations that ops and backward rules build on: type promotion, device checks, result
/// allocation on the operands' device, and one backend primitive call (Note [The backend wall]). Nothing here
/// records autograd history.
/// </summary>
internal static class Raw
{
    /// <summary>PyTorch's result_type for two tensors: dimensioned operands win over 0-d ones of the same category.</summary>
    public static ScalarType ResultType(Tensor a, Tensor b)
    {
        bool a0 = a._shape.Length == 0, b0 = b._shape.Length == 0;
        if (a0 == b0) return ScalarTypeExtensions.Promote(a._dtype, b._dtype);
        var (dimmed, zeroDim) = a0 ? (b, a) : (a, b);
        if (ScalarTypeExtensions.Category(zeroDim._dtype) > ScalarTypeExtensions.Category(dimmed._dtype))
            return ScalarTypeExtensions.Category(zeroDim._dtype) == 2 && ScalarTypeExtensions.Category(dimmed._dtype) < 2
                ? (zeroDim._dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32)
                : zeroDim._dtype;
        return dimmed._dtype;
    }

    /// <summary>Result dtype of tensor (op) scalar: a float scalar lifts an integer/bool tensor to float32.</summary>
    public static ScalarType ResultType(Tensor a, Scalar s)
    {
        int cs = s.Kind == ScalarType.Bool ? 0 : s.IsFloatingPoint ? 2 : 1;
        int ca = ScalarTypeExtensions.Category(a._dtype);
        if (cs <= ca) return a._dtype;
        return cs == 2 ? ScalarType.Float32 : ScalarType.Int64;
    }

    /// <summary>
    /// PyTorch's device check for ops over several tensors (<c>Expected all tensors to be on the same device ...</c>).
    /// </summary>
    public static void CheckSameDevice(Tensor a, Tensor b) => Tensor.CheckSameDevice(a, b);

    /// <summary>The device check of <see cref="CheckSameDevice(Tensor, Tensor)"/> for three tensors.</summary>
    public static void CheckSameDevice(Tensor a, Tensor b, Tensor c)
    {
        CheckSameDevice(a, b);
        CheckSameDevice(a, c);
    }

    /// <summary>
    /// PyTorch lets a 0-d CPU tensor (a wrapped number such as the 1 of <c>1 - y</c>) join an op on another device:
    /// it is copied to the other operand's device here. Other device mixes raise PyTorch's error.
    /// </summary>
    public static void AlignDevices(ref Tensor a, ref Tensor b)
    {
        if (ReferenceEquals(a._storage.Backend, b._storage.Backend)) return;
        if (b._shape.Length == 0 && b._storage.Device.type == DeviceType.CPU) b = OnDevice(b, a._storage.Backend);
        else if (a._shape.Length == 0 && a._storage.Device.type == DeviceType.CPU) a = OnDevice(a, b._storage.Backend);
        else throw DeviceMismatch(a._storage.Device, b._storage.Device);
    }

    static Tensor OnDevice(Tensor t, Backend backend)
    {
        var r = Tensor.EmptyOn(backend, t._dtype, t._shape);
        Copy.Transfer(r, t);
        return r;
    }

    /// <summary>PyTorch's error for operands on different devices.</summary>
    public static InvalidOperationException DeviceMismatch(Device a, Device b) => Tensor.DeviceMismatch(a, b);

    public static Tensor Cast(Tensor t, ScalarType dtype) => t._dtype == dtype ? t : ToDType(t, dtype);

    /// <summary>A contiguous copy converted to <paramref name="dtype"/> (no autograd).</summary>
    public static Tensor ToDType(Tensor t, ScalarType dtype)
    {
        var result = Tensor.EmptyOn(t.Backend, dtype, t._shape);
        t.Backend.Copy(result.Raw, t.Raw);
        return result;
    }

    /// <summary>Contiguous data without recording (for kernels): <paramref name="t"/> itself when already contiguous.</summary>
    public static Tensor Contiguous(Tensor t)
    {
        if (t.is_contiguous()) return t;
        var result = Tensor.EmptyLike(t, t._dtype, t._shape);
        t.Backend.Copy(result.Raw, t.Raw);
        return result;
    }

    /// <summary>Copies <paramref name="src"/> (broadcast to dst's shape, any dtype) into <paramref name="dst"/> (any strides).</summary>
    public static void CopyInto(Tensor dst, Tensor src)
    {
        CheckSameDevice(dst, src);
        dst.Backend.Copy(dst.Raw, src.Raw);
    }

    /// <summary>Strides that read <paramref name="t"/> broadcast to <paramref name="shape"/> (0 on broadcast dims).</summary>
    public static long[] BroadcastStrides(Tensor t, ReadOnlySpan<long> shape) => Layout.BroadcastStrides(t.Raw.Layout, shape);

    // ---- binary ----------------------------------------------------------------------------------------------

    /// <summary>True when autograd would record an op on <paramref name="t"/> (deferred results must not be recorded).</summary>
    static bool Records(Tensor t) => GradMode.IsEnabled && (t._requiresGrad || t._gradFn is not null);

    /// <summary>out = a (op) b with broadcasting; both inputs are cast to <paramref name="dtype"/> first.</summary>
    public static Tensor Binary(BinaryOp kind, Tensor a, Tensor b, ScalarType dtype)
    {
        AlignDevices(ref a, ref b);
        var backend = a.Backend;
        if ((a._numel >= backend.MinDeferElements || b._numel >= backend.MinDeferElements)
            && !Records(a) && !Records(b) && backend.TryDeferBinary(kind, a.Raw, b.Raw, dtype) is { } deferred)
            return new Tensor(deferred, a._numel >= b._numel ? a._shape : b._shape);
        a = Cast(a, dtype);
        b = Cast(b, dtype);
        var shape = Tensor.ShapesEqual(a, b) ? a._shape : ShapeUtil.Broadcast(a._shape, b._shape);
        var result = Tensor.EmptyOn(backend, dtype, shape);
        if (result._numel > 0) backend.Binary(kind, result.Raw, a.Raw, b.Raw);
        return result;
    }

    /// <summary>Writes a (op) b into <paramref name="dst"/> (any strides; a and b broadcast to it, same dtype as dst).</summary>
    public static void BinaryInto(BinaryOp kind, Tensor dst, Tensor a, Tensor b)
    {
        // A 0-d CPU operand (a wrapped scalar, as in t.div_(2)) joins an in-place op on any device (AlignDevices).
        if (b._shape.Length == 0 && b._storage.Device.type == DeviceType.CPU && !ReferenceEquals(b._storage.Backend, dst._storage.Backend))
            b = OnDevice(b, dst._storage.Backend);
        CheckSameDevice(dst, a, b);
        if (dst._numel > 0) dst.Backend.Binary(kind, dst.Raw, a.Raw, b.Raw);
    }

    /// <summary>out = a (op) scalar, computed in <paramref name="dtype"/>.</summary>
    public static Tensor BinaryScalar(BinaryOp kind, Tensor a, Scalar s, ScalarType dtype, bool scalarLeft = false)
    {
        var backend = a.Backend;
        if (a._numel >= backend.MinDeferElements && !Records(a) && backend.TryDeferScalar(kind, a.Raw, s, dtype, scalarLeft) is { } deferred)
            return new Tensor(deferred, a._shape);
        a = Cast(a, dtype);
        var result = Tensor.EmptyOn(backend, dtype, a._shape);
        if (result._numel > 0) backend.BinaryScalar(kind, result.Raw, a.Raw, s, scalarLeft);
        return result;
    }

    /// <summary>Writes a (op) scalar into <paramref name="dst"/> (dst's dtype; a of the same shape and dtype).</summary>
    public static void BinaryScalarInto(BinaryOp kind, Tensor dst, Tensor a, Scalar s, bool scalarLeft = false)
    {
        CheckSameDevice(dst, a);
        if (dst._numel > 0) dst.Backend.BinaryScalar(kind, dst.Raw, a.Raw, s, scalarLeft);
    }

    // ---- unary -----------------------------------------------------------------------------------------------

    public static Tensor Unary(UnaryOp kind, Tensor a)
    {
        var backend = a.Backend;
        if (a._numel >= backend.MinDeferElements && !Records(a) && backend.TryDeferUnary(kind, a.Raw) is { } deferred)
            return new Tensor(deferred, a._shape);
        if (a._dtype == ScalarType.Bool) throw new NotSupportedException($"\"{kind}\" not implemented for 'Bool'");
        var result = Tensor.EmptyOn(backend, a._dtype, a._shape);
        if (result._numel > 0) backend.Unary(kind, result.Raw, a.Raw);
        return result;
    }

    /// <summary>Writes op(a) into <paramref name="dst"/> (same dtype and shape).</summary>
    public static void UnaryInto(UnaryOp kind, Tensor dst, Tensor a)
    {
        CheckSameDevice(dst, a);
        if (dst._numel > 0) dst.Backend.Unary(kind, dst.Raw, a.Raw);
    }

    // ---- fused -----------------------------------------------------------------------------------------------

    /// <summary>
    /// dst = a + alpha * b in one fused pass when the backend has one for these operands (dst may be a, for add_);
    /// returns false (nothing written) otherwise, and the caller takes the general path.
    /// </summary>
    public static bool TryAxpy(Tensor dst, Tensor a, Tensor b, double alpha)
    {
        var dt = dst._dtype;
        if ((dt != ScalarType.Float32 && dt != ScalarType.Float64) || a._dtype != dt || b._dtype != dt) return false;
        if (!Tensor.ShapesEqual(a, dst) || !Tensor.ShapesEqual(b, dst)) return false;
        CheckSameDevice(dst, a, b);
        if (dst._numel == 0) return true;
        return dst.Backend.TryAxpy(dst.Raw, a.Raw, b.Raw, alpha);
    }

    /// <summary>
    /// clamp's backward, g where lo &lt;= x &lt;= hi else 0: one fused primitive when nothing records, otherwise the
    /// same rule from recorded ops (so create_graph differentiates it).
    /// </summary>
    public static Tensor ClampGrad(Tensor g, Tensor x, double lo, double hi)
    {
        if (!GradMode.IsEnabled && g._dtype == x._dtype && Tensor.ShapesEqual(g, x))
        {
            CheckSameDevice(g, x);
            var r = Tensor.EmptyOn(g.Backend, g._dtype, g._shape);
            if (g.Backend.TryClampGrad(r.Raw, g.Raw, x.Raw, lo, hi)) return r;
        }
        return torch.where((x >= lo) & (x <= hi), g, torch.zeros_like(g));
    }

    /// <summary>threshold_backward: 0 where y &lt;= threshold, else g (relu's backward from its result), fused as <see cref="ClampGrad"/>.</summary>
    public static Tensor ThresholdGrad(Tensor g, Tensor y, double threshold)
    {
        if (!GradMode.IsEnabled && g._dtype == y._dtype && Tensor.ShapesEqual(g, y))
        {
            CheckSameDevice(g, y);
            var r = Tensor.EmptyOn(g.Backend, g._dtype, g._shape);
            if (g.Backend.TryThresholdGrad(r.Raw, g.Raw, y.Raw, threshold)) return r;
        }
        return torch.where(y <= threshold, torch.zeros_like(g), g);
    }

    // ---- comparisons -------------------------------------------------------------------------------------------

    public static Tensor Compare(CompareOp kind, Tensor a, Tensor b)
    {
        AlignDevices(ref a, ref b);
        var dtype = ResultType(a, b);
        a = Cast(a, dtype);
        b = Cast(b, dtype);
        var shape = Tensor.ShapesEqual(a, b) ? a._shape : ShapeUtil.Broadcast(a._shape, b._shape);
        var result = Tensor.EmptyOn(a.Backend, ScalarType.Bool, shape);
        if (result._numel > 0) a.Backend.Compare(kind, result.Raw, a.Raw, b.Raw);
        return result;
    }
}
