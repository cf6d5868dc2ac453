using Nabla.Kernels.Cpu;

namespace Nabla.Backends.Cpu;

/// <summary>
/// The managed CPU backend: storage is 64-byte aligned pooled managed arrays (<see cref="CpuStorage{T}"/>), and every
/// primitive runs the SIMD kernels of Kernels/Cpu on all cores. Its partial files hold one family of primitives each.
/// </summary>
internal sealed partial class CpuBackend : Backend
{
    /// <summary>The one CPU backend.</summary>
    public static readonly CpuBackend Instance = new();

    CpuBackend()
    {
        MinDeferElements = LazyFusion.MinElements;
    }

    public override Device Device => Device.CPU;

    /// <inheritdoc/>
    public override int IntraOpThreads { get => ParallelFor.NumThreads; set => ParallelFor.NumThreads = value; }

    public override Storage Allocate(ScalarType dtype, int length, bool zero) => dtype switch
    {
        ScalarType.Float32 => new CpuStorage<float>(length, zero),
        ScalarType.Float64 => new CpuStorage<double>(length, zero),
        ScalarType.Int64 => new CpuStorage<long>(length, zero),
        ScalarType.Int32 => new CpuStorage<int>(length, zero),
        ScalarType.Bool => new CpuStorage<bool>(length, zero),
        _ => throw new NotSupportedException($"dtype {dtype} is not supported"),
    };

    /// <summary>A fresh dense CPU operand (scratch for kernels that need a converted or contiguous copy).</summary>
    internal static Operand Empty(ScalarType dtype, long[] shape) =>
        new(Instance.Allocate(dtype, ShapeUtil.Numel(shape), zero: false), Layout.Contiguous(shape));

    /// <summary>A dense copy of <paramref name="a"/> (the operand itself when already dense).</summary>
    internal static Operand ContiguousCopy(in Operand a)
    {
        if (a.IsContiguous) return a;
        var r = Empty(a.DType, a.Shape);
        Instance.Copy(r, a);
        return r;
    }

    /// <summary>A dense copy of <paramref name="a"/> converted to <paramref name="dtype"/> (the operand itself when it has that dtype).</summary>
    internal static Operand ToDType(in Operand a, ScalarType dtype)
    {
        if (a.DType == dtype) return a;
        var r = Empty(dtype, a.Shape);
        Instance.Copy(r, a);
        return r;
    }

    /// <summary>The elements of a dense operand as a span (callers ensure density and dtype).</summary>
    internal static Span<T> Dense<T>(in Operand a) where T : unmanaged
    {
        var s = (CpuStorage<T>)a.Storage;
        return new Span<T>(s.Array, s.Start + a.Offset, a.Numel);
    }

    /// <summary>The elements of a (made) dense operand as a read-only span.</summary>
    internal static ReadOnlySpan<T> Read<T>(in Operand a) where T : unmanaged
    {
        var dense = ContiguousCopy(a);
        var s = (CpuStorage<T>)dense.Storage;
        return new ReadOnlySpan<T>(s.Array, s.Start + dense.Offset, dense.Numel);
    }

    public override void Fill(in Operand dst, Scalar value)
    {
        switch (dst.DType)
        {
            case ScalarType.Float32: FillT(dst, value.As<float>()); break;
            case ScalarType.Float64: FillT(dst, value.As<double>()); break;
            case ScalarType.Int64: FillT(dst, value.As<long>()); break;
            case ScalarType.Int32: FillT(dst, value.As<int>()); break;
            case ScalarType.Bool: FillT(dst, value.Value != 0); break;
        }
    }

    void FillT<T>(in Operand dst, T v) where T : unmanaged
    {
        if (dst.IsContiguous) { Dense<T>(dst).Fill(v); return; }
        var one = new Operand(new CpuStorage<T>(new[] { v }, 0, 1), System.Array.Empty<long>(), System.Array.Empty<long>(), 0);
        Copy(dst, one);
    }

    static int Locate(in Operand a, int linear)
    {
        int offset = a.Offset;
        var shape = a.Shape;
        var strides = a.Strides;
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            int size = (int)shape[d];
            offset += (int)(linear % size * strides[d]);
            linear /= size;
        }
        return offset;
    }

    public override double ReadElement(in Operand a, int linear)
    {
        int i = Locate(a, linear);
        return a.DType switch
        {
            ScalarType.Float32 => ((CpuStorage<float>)a.Storage).Span[i],
            ScalarType.Float64 => ((CpuStorage<double>)a.Storage).Span[i],
            ScalarType.Int64 => ((CpuStorage<long>)a.Storage).Span[i],
            ScalarType.Int32 => ((CpuStorage<int>)a.Storage).Span[i],
            _ => ((CpuStorage<bool>)a.Storage).Span[i] ? 1 : 0,
        };
    }

    public override void WriteElement(in Operand dst, int linear, double value)
    {
        int i = Locate(dst, linear);
        switch (dst.DType)
        {
            case ScalarType.Float32: ((CpuStorage<float>)dst.Storage).Span[i] = (float)value; break;
            case ScalarType.Float64: ((CpuStorage<double>)dst.Storage).Span[i] = value; break;
            case ScalarType.Int64: ((CpuStorage<long>)dst.Storage).Span[i] = (long)value; break;
            case ScalarType.Int32: ((CpuStorage<int>)dst.Storage).Span[i] = (int)value; break;
            default: ((CpuStorage<bool>)dst.Storage).Span[i] = value != 0; break;
        }
    }

    public override void CopyToHost<T>(in Operand src, Span<T> dst)
    {
        if (dst.Length != src.Numel) throw new ArgumentException($"destination holds {dst.Length} elements, the tensor {src.Numel}");
        Read<T>(ToDType(src, DTypeOf<T>.Value)).CopyTo(dst);
    }

    public override void CopyFromHost<T>(in Operand dst, ReadOnlySpan<T> src)
    {
        if (src.Length != dst.Numel) throw new ArgumentException($"source holds {src.Length} elements, the tensor {dst.Numel}");
        if (dst.DType != DTypeOf<T>.Value)
            throw new ArgumentException($"expected scalar type {dst.DType.CppScalarName()} but found {DTypeOf<T>.Value.CppScalarName()}");
        if (dst.IsContiguous) { src.CopyTo(Dense<T>(dst)); return; }
        var tmp = Empty(dst.DType, dst.Shape);
        src.CopyTo(Dense<T>(tmp));
        Copy(dst, tmp);
    }

    // ---- deferral: lazy fusion (Note [Lazy fusion]) --------------------------------------------------------------

    public override Storage? TryDeferBinary(BinaryOp op, in Operand a, in Operand b, ScalarType dtype) =>
        (a.Numel >= LazyFusion.MinElements || b.Numel >= LazyFusion.MinElements) ? LazyFusion.TryBinary(op, a, b, dtype) : null;

    public override Storage? TryDeferScalar(BinaryOp op, in Operand a, Scalar s, ScalarType dtype, bool scalarLeft) =>
        a.Numel >= LazyFusion.MinElements ? LazyFusion.TryScalar(op, a, s, dtype, scalarLeft) : null;

    public override Storage? TryDeferUnary(UnaryOp op, in Operand a) =>
        a.Numel >= LazyFusion.MinElements ? LazyFusion.TryUnary(op, a) : null;

    public override bool TrySumDeferred(in Operand a, out float sum) => LazyFusion.TrySum(a, out sum);
}
