namespace Nabla.Backends;

// Note [The backend wall]
// Everything that touches tensor elements goes through a Backend: the small set of primitives a device implements
// (this class and its partial files, one per family). Ops (src/Nabla/Ops) compute result shapes and dtypes, check
// arguments, allocate results through the backend of their inputs, and call primitives with Operand values
// (storage + layout); they never see an element array. Backward rules are ordinary Tensor code above the wall.
// Primitives write into a destination the op allocated (PyTorch's structured kernels: the op is the "meta"
// function, the backend the "impl"), so the meta backend implements every primitive as "do nothing" and still
// yields the CPU result's shapes, dtypes and grad_fn names. Anything expressible in other primitives stays a
// composite op above the wall. Kinds of primitives:
//   memory      Allocate, Copy (broadcast + cast + strided), Fill, element reads for item()/printing
//   elementwise Unary (UnaryOp), Binary / BinaryScalar (BinaryOp), Compare (CompareOp), Where, Math (MathOp),
//               fused masks (ClampGrad, ThresholdGrad), Axpy
//   reductions  Sum/Mean/Prod over dims, Var, MaxMin/ArgMaxMin, Cumsum
//   linear alg. Matmul (batched, strided operands)
//   nn          convolution and pooling forward/backward, batch norm, softmax/log-softmax
//   indexing    gather/scatter/index_select/index_add/masked ops
//   optim       fused SGD/Adam steps
// A backend may also defer work (TryDefer*: the CPU backend's lazy fusion, Note [Lazy fusion]).

/// <summary>
/// A device's implementation of Nabla's primitive operations (Note [The backend wall]). One instance per device.
/// </summary>
internal abstract partial class Backend
{
    /// <summary>The device this backend computes on.</summary>
    public abstract Device Device { get; }

    /// <summary>A new buffer of <paramref name="length"/> elements (zero-filled when <paramref name="zero"/>).</summary>
    public abstract Storage Allocate(ScalarType dtype, int length, bool zero);

    /// <summary>
    /// Threads this backend's intra-op parallel loops use (<c>torch.set_num_threads</c> sets the CPU backend's); a
    /// backend without such loops reports 1 and ignores the setting.
    /// </summary>
    public virtual int IntraOpThreads { get => 1; set { } }

    /// <summary>The default backend: the CPU.</summary>
    public static Backend Default => Cpu.CpuBackend.Instance;

    /// <summary>The backend for <paramref name="device"/>; a clear error when this build has none for it.</summary>
    public static Backend For(Device device) => device.type switch
    {
        DeviceType.CPU => Cpu.CpuBackend.Instance,
        DeviceType.META => Meta.MetaBackend.Instance,
        _ => throw new NotSupportedException(
            $"Torch not compiled with CUDA enabled: Nabla has no CUDA backend yet, so device '{device}' is not available " +
            "(torch.cuda.is_available() is false). Use the CPU (\"cpu\") or the meta device (\"meta\")."),
    };

    // ---- memory ------------------------------------------------------------------------------------------------

    /// <summary>dst = src broadcast to dst's shape and converted to dst's dtype (any strides on both sides).</summary>
    public abstract void Copy(in Operand dst, in Operand src);

    /// <summary>Every element of dst set to <paramref name="value"/> (converted to dst's dtype).</summary>
    public abstract void Fill(in Operand dst, Scalar value);

    /// <summary>Element <paramref name="linear"/> (row-major over the layout) as a double.</summary>
    public abstract double ReadElement(in Operand src, int linear);

    /// <summary>Sets element <paramref name="linear"/> (row-major) of dst.</summary>
    public abstract void WriteElement(in Operand dst, int linear, double value);

    /// <summary>The elements of src in row-major order, converted to <typeparamref name="T"/>'s dtype, into host memory.</summary>
    public abstract void CopyToHost<T>(in Operand src, Span<T> dst) where T : unmanaged;

    /// <summary>dst (contiguous) filled from host memory of dst's dtype.</summary>
    public abstract void CopyFromHost<T>(in Operand dst, ReadOnlySpan<T> src) where T : unmanaged;

    // ---- elementwise -------------------------------------------------------------------------------------------

    /// <summary>dst = op(a) (same dtype, a broadcast-free and shaped as dst).</summary>
    public abstract void Unary(UnaryOp op, in Operand dst, in Operand a);

    /// <summary>dst = a (op) b, a and b broadcast to dst's shape and of dst's dtype.</summary>
    public abstract void Binary(BinaryOp op, in Operand dst, in Operand a, in Operand b);

    /// <summary>dst = a (op) s, or s (op) a when <paramref name="scalarLeft"/>; computed in dst's dtype.</summary>
    public abstract void BinaryScalar(BinaryOp op, in Operand dst, in Operand a, Scalar s, bool scalarLeft);

    /// <summary>dst = a + alpha * b in one fused pass, when the backend has one for these layouts; false (nothing written) otherwise.</summary>
    public abstract bool TryAxpy(in Operand dst, in Operand a, in Operand b, double alpha);

    /// <summary>dst = g where lo &lt;= x &lt;= hi else 0, fused, when the backend can; false otherwise.</summary>
    public abstract bool TryClampGrad(in Operand dst, in Operand g, in Operand x, double lo, double hi);

    /// <summary>dst = 0 where y &lt;= threshold else g, fused, when the backend can; false otherwise.</summary>
    public abstract bool TryThresholdGrad(in Operand dst, in Operand g, in Operand y, double threshold);

    /// <summary>dst (bool) = a (op) b, a and b of one dtype broadcast to dst's shape.</summary>
    public abstract void Compare(CompareOp op, in Operand dst, in Operand a, in Operand b);

    // ---- deferral (lazy backends) -----------------------------------------------------------------------------

    /// <summary>
    /// Ops with fewer elements than this are never offered for deferral (a field, so small ops pay no virtual call
    /// to ask); int.MaxValue for backends that do not defer.
    /// </summary>
    public int MinDeferElements { get; protected init; } = int.MaxValue;

    /// <summary>A storage whose elements will be a (op) b, computed later; null to run the op now.</summary>
    public virtual Storage? TryDeferBinary(BinaryOp op, in Operand a, in Operand b, ScalarType dtype) => null;

    /// <summary>A storage whose elements will be a (op) s, computed later; null to run the op now.</summary>
    public virtual Storage? TryDeferScalar(BinaryOp op, in Operand a, Scalar s, ScalarType dtype, bool scalarLeft) => null;

    /// <summary>A storage whose elements will be op(a), computed later; null to run the op now.</summary>
    public virtual Storage? TryDeferUnary(UnaryOp op, in Operand a) => null;

    /// <summary>The float32 sum of a whole deferred tensor without materialising it; false when a is not one.</summary>
    public virtual bool TrySumDeferred(in Operand a, out float sum)
    {
        sum = 0;
        return false;
    }
}

/// <summary>Binary elementwise primitives.</summary>
internal enum BinaryOp { Add, Sub, Mul, Div, Max, Min }

/// <summary>Simple unary elementwise primitives.</summary>
internal enum UnaryOp { Neg, Abs, Relu, Sign }

/// <summary>Comparison primitives (bool results).</summary>
internal enum CompareOp { Eq, Ne, Lt, Le, Gt, Ge }
