using System.Numerics;
using System.Numerics.Tensors;
using Nabla.Autograd;
using Nabla.Kernels.Cpu;

using Nabla.Backends.Cpu;

namespace Nabla.Ops;

// Note [Row layout for reductions]: every reduction in MinMax/Statistics/Softmax first brings the reduced dims to the
// end and makes the data contiguous, so a kernel sees `outer` rows of `n` elements each. When the reduced dims are
// already the trailing dims of a contiguous tensor (the common case: last-dim reductions) this is free; otherwise it
// costs one strided copy, which is cheaper than strided inner loops for everything but huge tensors.

/// <summary>Moves reduced dims last and lays the data out as contiguous rows.</summary>
internal static class RowLayout
{
    /// <summary>A raw (unrecorded) view of <paramref name="x"/> with its dims permuted.</summary>
    public static Tensor PermuteRaw(Tensor x, int[] perm)
    {
        var shape = new long[perm.Length];
        var strides = new long[perm.Length];
        for (int i = 0; i < perm.Length; i++) { shape[i] = x._shape[perm[i]]; strides[i] = x._strides[perm[i]]; }
        return new Tensor(x._storage, shape, strides, x._offset);
    }

    /// <summary>The permutation that moves the masked dims after the others (order kept inside each group).</summary>
    public static int[] MaskedLast(bool[] mask)
    {
        var perm = new int[mask.Length];
        int k = 0;
        for (int i = 0; i < mask.Length; i++) if (!mask[i]) perm[k++] = i;
        for (int i = 0; i < mask.Length; i++) if (mask[i]) perm[k++] = i;
        return perm;
    }

    static bool IsIdentity(int[] perm)
    {
        for (int i = 0; i < perm.Length; i++) if (perm[i] != i) return false;
        return true;
    }

    /// <summary>Contiguous data of <paramref name="x"/> as [outer, n] rows, the masked dims forming each row.</summary>
    public static Tensor ToRows(Tensor x, bool[] mask, out int outer, out int n)
    {
        long o = 1, r = 1;
        for (int i = 0; i < mask.Length; i++)
        {
            if (mask[i]) r *= x._shape[i];
            else o *= x._shape[i];
        }
        outer = (int)o;
        n = (int)r;
        var perm = MaskedLast(mask);
        return IsIdentity(perm) ? x.ContiguousRaw() : PermuteRaw(x, perm).ContiguousRaw();
    }

    /// <summary>
    /// Contiguous data of <paramref name="x"/> as an (outer, reduce, inner) block, the masked dims forming the middle
    /// axis: free for a contiguous tensor whose masked dims are one consecutive run (inner is the product of the dims
    /// after them), else the masked dims are moved last with one copy (inner = 1). No masked dim: reduce = 1.
    /// </summary>
    public static Tensor ToBlock(Tensor x, bool[] mask, out int outer, out int reduce, out int inner)
    {
        int first = Array.IndexOf(mask, true), last = Array.LastIndexOf(mask, true);
        bool run = true;
        for (int i = Math.Max(first, 0); first >= 0 && i <= last; i++) run &= mask[i];
        if (first < 0 || !run)
        {
            inner = 1;
            return ToRows(x, mask, out outer, out reduce);
        }
        long o = 1, r = 1, n = 1;
        for (int i = 0; i < mask.Length; i++)
        {
            if (i < first) o *= x._shape[i];
            else if (i <= last) r *= x._shape[i];
            else n *= x._shape[i];
        }
        outer = (int)o; reduce = (int)r; inner = (int)n;
        if (inner == 0) { outer = 0; inner = 1; }
        return x.ContiguousRaw();
    }

    /// <summary>A mask with only <paramref name="dim"/> set (a rank-0 tensor gets an empty mask).</summary>
    public static bool[] SingleDim(int dim, int rank)
    {
        var mask = new bool[rank];
        if (rank > 0) mask[dim] = true;
        return mask;
    }

    public static long[] ReducedShape(long[] shape, bool[] mask, bool keepdim)
    {
        var result = new List<long>(shape.Length);
        for (int i = 0; i < shape.Length; i++)
        {
            if (!mask[i]) result.Add(shape[i]);
            else if (keepdim) result.Add(1);
        }
        return result.ToArray();
    }

    /// <summary>
    /// Result of a row kernel laid out as (kept dims..., reduced dims...) turned back to the input's dim order:
    /// the inverse of <see cref="ToRows"/> for element-preserving ops (cumsum, softmax).
    /// </summary>
    public static Tensor FromRows(Tensor rows, long[] shape, bool[] mask)
    {
        var perm = MaskedLast(mask);
        if (IsIdentity(perm)) return new Tensor(rows._storage, shape, ShapeUtil.ContiguousStrides(shape), rows._offset);
        var permutedShape = new long[perm.Length];
        for (int i = 0; i < perm.Length; i++) permutedShape[i] = shape[perm[i]];
        var permuted = new Tensor(rows._storage, permutedShape, ShapeUtil.ContiguousStrides(permutedShape), rows._offset);
        var inverse = new int[perm.Length];
        for (int i = 0; i < perm.Length; i++) inverse[perm[i]] = i;
        return PermuteRaw(permuted, inverse).ContiguousRaw();
    }
}

/// <summary>max/min/argmax/argmin/amax/amin.</summary>
internal static class MinMax
{
    static string Name(bool max) => max ? "max" : "min";

    /// <summary>Values and first indices of the extreme of each row (NaN wins, as PyTorch).</summary>
    static void Rows<T>(Tensor rows, int outer, int n, Tensor? values, Tensor? indices, bool max)
        where T : unmanaged, INumber<T>
    {
        var src = rows.Contiguous<T>();
        var v = values is null ? default : values.Contiguous<T>();
        var ix = indices is null ? default : indices.Contiguous<long>();
        for (int r = 0; r < outer; r++)
        {
            var row = src.Slice(r * n, n);
            int i = max ? TensorPrimitives.IndexOfMax<T>(row) : TensorPrimitives.IndexOfMin<T>(row);
            if (values is not null) v[r] = row[i];
            if (indices is not null) ix[r] = i;
        }
    }

    /// <summary>Runs the row kernel; <paramref name="values"/>/<paramref name="indices"/> are filled when non-null.</summary>
    static void Run(Tensor x, bool[] mask, Tensor? values, Tensor? indices, bool max)
    {
        if (x._dtype is ScalarType.Float32 or ScalarType.Float64)
        {
            // Note [Block reductions for var, max and cumsum]
            var block = RowLayout.ToBlock(x, mask, out int o, out int r, out int inner);
            if (o == 0) return;
            // the column kernel counts rows in float32 lanes: exact up to 2^24
            if (inner > 1 && r > (1 << 24)) { block = RowLayout.ToRows(x, mask, out o, out r); inner = 1; }
            if (x._dtype == ScalarType.Float32)
                StatKernels.MaxMin<float>(block.Contiguous<float>(), values is null ? default : values.Contiguous<float>(),
                    indices is null ? default : indices.Contiguous<long>(), o, r, inner, max);
            else
                StatKernels.MaxMin<double>(block.Contiguous<double>(), values is null ? default : values.Contiguous<double>(),
                    indices is null ? default : indices.Contiguous<long>(), o, r, inner, max);
            return;
        }
        var rows = RowLayout.ToRows(x, mask, out int outer, out int n);
        if (outer == 0) return;
        switch (x._dtype)
        {
            case ScalarType.Int64: Rows<long>(rows, outer, n, values, indices, max); break;
            case ScalarType.Int32: Rows<int>(rows, outer, n, values, indices, max); break;
            default:
            {
                var asInt = Raw.ToDType(rows, ScalarType.Int32);
                var v = values is null ? null : Tensor.Empty(ScalarType.Int32, values._shape);
                Rows<int>(asInt, outer, n, v, indices, max);
                if (values is not null) Raw.CopyInto(values, v!);
                break;
            }
        }
    }

    static void CheckNonEmpty(Tensor x, bool[] mask, string op)
    {
        for (int i = 0; i < mask.Length; i++)
            if (mask[i] && x._shape[i] == 0)
                throw new IndexOutOfRangeException($"{op}(): Expected reduction dim {i} to have non-zero size.");
    }

    /// <summary>max()/min() over all elements (MaxBackward1/MinBackward1: ties share the gradient evenly).</summary>
    public static Tensor All(Tensor x, bool max)
    {
        if (x._numel == 0)
            throw new InvalidOperationException(
                $"{Name(max)}(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument.");
        var mask = Reductions.DimMask(null, x._shape.Length);
        var result = Tensor.Empty(x._dtype, System.Array.Empty<long>());
        Run(x, mask, result, null, max);
        if (Autograd.Autograd.ShouldRecord(x))
        {
            var node = new EvenlyDistributedBackward(max ? "MaxBackward1" : "MinBackward1", x, result, mask, keepdim: false);
            node.SetNextEdges(x);
            Autograd.Autograd.SetHistory(result, node);
        }
        return result;
    }

    /// <summary>max(dim)/min(dim): values and int64 indices (MaxBackward0/MinBackward0: the gradient goes to the index).</summary>
    public static (Tensor values, Tensor indices) Dim(Tensor x, long dim, bool keepdim, bool max)
    {
        int rank = x._shape.Length;
        int d = ShapeUtil.WrapDim(dim, rank);
        var mask = RowLayout.SingleDim(d, rank);
        CheckNonEmpty(x, mask, Name(max));
        var shape = RowLayout.ReducedShape(x._shape, mask, keepdim);
        var values = Tensor.Empty(x._dtype, shape);
        var indices = Tensor.Empty(ScalarType.Int64, shape);
        Run(x, mask, values, indices, max);
        if (Autograd.Autograd.ShouldRecord(x))
        {
            var node = new IndexSelectingBackward(max ? "MaxBackward0" : "MinBackward0", x, indices, d, keepdim);
            node.SetNextEdges(x);
            Autograd.Autograd.SetHistory(values, node);
        }
        return (values, indices);
    }

    /// <summary>argmax/argmin over all elements (flattened) or over one dim; int64, never differentiable.</summary>
    public static Tensor Arg(Tensor x, long? dim, bool keepdim, bool max)
    {
        string op = max ? "argmax" : "argmin";
        int rank = x._shape.Length;
        if (dim is null)
        {
            if (x._numel == 0) throw new IndexOutOfRangeException($"{op}(): Expected reduction dim to be specified for input.numel() == 0.");
            var all = Reductions.DimMask(null, rank);
            var flat = Tensor.Empty(ScalarType.Int64, keepdim ? RowLayout.ReducedShape(x._shape, all, true) : System.Array.Empty<long>());
            Run(x, all, null, flat, max);
            return flat;
        }
        int d = ShapeUtil.WrapDim(dim.Value, rank);
        var mask = RowLayout.SingleDim(d, rank);
        CheckNonEmpty(x, mask, op);
        var indices = Tensor.Empty(ScalarType.Int64, RowLayout.ReducedShape(x._shape, mask, keepdim));
        Run(x, mask, null, indices, max);
        return indices;
    }

    /// <summary>amax/amin over dims (all dims when empty): AmaxBackward0/AminBackward0, ties share evenly.</summary>
    public static Tensor Amax(Tensor x, long[] dims, bool keepdim, bool max)
    {
        int rank = x._shape.Length;
        var mask = Reductions.DimMask(dims, rank);
        CheckNonEmpty(x, mask, max ? "amax" : "amin");
        var result = Tensor.Empty(x._dtype, RowLayout.ReducedShape(x._shape, mask, keepdim));
        Run(x, mask, result, null, max);
        if (Autograd.Autograd.ShouldRecord(x))
        {
            var node = new EvenlyDistributedBackward(max ? "AmaxBackward0" : "AminBackward0", x, result, mask, keepdim);
            node.SetNextEdges(x);
            Autograd.Autograd.SetHistory(result, node);
        }
        return result;
    }
}

/// <summary>
/// Backward of max()/min()/amax/amin: the gradient is shared evenly by every element equal to the result
/// (PyTorch's evenly_distribute_backward / scale_grad_by_count), NaN matching NaN.
/// </summary>
internal sealed class EvenlyDistributedBackward : Node
{
    readonly string _name;
    SavedTensor _self, _result;
    readonly bool[] _mask;
    readonly bool _keepdim;

    public EvenlyDistributedBackward(string name, Tensor self, Tensor result, bool[] mask, bool keepdim)
    {
        _name = name;
        _self = new SavedTensor(self);
        _result = new SavedTensor(result, isOutput: true);
        _mask = mask;
        _keepdim = keepdim;
    }

    public override string name() => _name;

    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var x = _self.Unpack(this);
        var result = Reductions.Unsqueeze(_result.Unpack(this).detach(), _mask, _keepdim);
        var grad = Reductions.Unsqueeze(g[0]!, _mask, _keepdim);
        var hit = (x == result) | (IsNaN(x) & IsNaN(result));
        var hits = hit.to(x._dtype);
        var dims = new List<long>();
        for (int i = 0; i < _mask.Length; i++) if (_mask[i]) dims.Add(i);
        var count = dims.Count == 0 ? hits : hits.sum(dims.ToArray(), keepdim: true);
        return new[] { grad.div(count) * hits };
    }

    static Tensor IsNaN(Tensor t) => Raw.Compare(CompareOp.Ne, t, t);

    protected internal override void ReleaseVariables()
    {
        _self.Release();
        _result.Release();
    }
}

/// <summary>Backward of max(dim)/min(dim): the gradient scattered into zeros at the chosen indices.</summary>
internal sealed class IndexSelectingBackward : Node
{
    readonly string _name;
    readonly long[] _selfShape;
    readonly ScalarType _selfType;
    SavedTensor _indices;
    readonly int _dim;
    readonly bool _keepdim;

    public IndexSelectingBackward(string name, Tensor self, Tensor indices, int dim, bool keepdim)
    {
        _name = name;
        _selfShape = self._shape;
        _selfType = self._dtype;
        _indices = new SavedTensor(indices);
        _dim = dim;
        _keepdim = keepdim;
    }

    public override string name() => _name;

    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var grad = g[0]!;
        if (_selfShape.Length == 0) return new[] { grad };
        var indices = _indices.Unpack(this);
        if (!_keepdim)
        {
            grad = grad.unsqueeze(_dim);
            indices = indices.unsqueeze(_dim);
        }
        return new[] { torch.zeros(_selfShape, _selfType).scatter(_dim, indices, grad) };
    }

    protected internal override void ReleaseVariables() => _indices.Release();
}
