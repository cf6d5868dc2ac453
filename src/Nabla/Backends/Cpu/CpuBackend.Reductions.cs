using System.Numerics;
using System.Numerics.Tensors;
using Nabla.Kernels.Cpu;

namespace Nabla.Backends.Cpu;

// Note [Row layout for reductions]: how the CPU reduction kernels see their data (ReductionLayout below works on
// operands; the ops, Ops/MinMax.cs RowLayout, only compute masks and result shapes). Two layouts:
// - An (outer, reduce, inner) block (ToBlock; Note [Block reductions for var, max and cumsum]): sum, var/std, and
//   float max/min and cumsum. When the reduced dims are one consecutive run this is the data made contiguous (free
//   when it already is); otherwise the reduced dims are permuted last with one copy and inner is 1.
// - Rows (ToRows): prod, logsumexp, norm, and integer max/min and cumsum bring the reduced dims to the end and make
//   the data contiguous, so a kernel sees `outer` rows of `n` elements: free for the trailing dims of a contiguous
//   tensor, else one strided copy.
// softmax is not a reduction here: it has its own row and column kernels (CpuBackend.Softmax.cs, Note [Column softmax]).

// The reductions of the CPU backend: sum over (outer, reduce, inner) blocks, prod/logsumexp/norm over rows
// (ReductionLayout, Note [Row layout for reductions]), var/std, max/min and cumsum over blocks (Note [Block
// reductions for var, max and cumsum]).
internal sealed partial class CpuBackend
{
    public override void ReduceDims(ReduceOp op, in Operand dst, in Operand src, bool[] mask, double arg)
    {
        switch (op)
        {
            case ReduceOp.Sum: ReductionKernels.Sum(dst, src, mask); break;
            case ReduceOp.Var:
            case ReduceOp.Std:
            {
                var block = ReductionLayout.ToBlock(src, mask, out int outer, out int n, out int inner);
                if (dst.DType == ScalarType.Float32) StatKernels.Var<float>(Dense<float>(block), Dense<float>(dst), outer, n, inner, arg, op == ReduceOp.Std);
                else StatKernels.Var<double>(Dense<double>(block), Dense<double>(dst), outer, n, inner, arg, op == ReduceOp.Std);
                break;
            }
            default:
            {
                var rows = ReductionLayout.ToRows(src, mask, out int outer, out int n);
                switch (op, dst.DType)
                {
                    case (ReduceOp.Prod, ScalarType.Float32): ReductionKernels.ProdRows<float>(rows, dst, outer, n); break;
                    case (ReduceOp.Prod, ScalarType.Float64): ReductionKernels.ProdRows<double>(rows, dst, outer, n); break;
                    case (ReduceOp.Prod, ScalarType.Int64): ReductionKernels.ProdRows<long>(rows, dst, outer, n); break;
                    case (ReduceOp.LogSumExp, ScalarType.Float32): ReductionKernels.LogSumExpRows<float>(rows, dst, outer, n); break;
                    case (ReduceOp.LogSumExp, ScalarType.Float64): ReductionKernels.LogSumExpRows<double>(rows, dst, outer, n); break;
                    case (ReduceOp.Norm, ScalarType.Float32): ReductionKernels.NormRows<float>(rows, dst, outer, n, arg); break;
                    case (ReduceOp.Norm, ScalarType.Float64): ReductionKernels.NormRows<double>(rows, dst, outer, n, arg); break;
                    default: throw new NotSupportedException($"{op} is not implemented for {dst.DType.CppScalarName()}");
                }
                break;
            }
        }
    }

    public override void MaxMin(in Operand values, in Operand indices, in Operand x, bool[] mask, bool max)
    {
        bool hasValues = values.Storage is not null, hasIndices = indices.Storage is not null;
        if (x.DType is ScalarType.Float32 or ScalarType.Float64)
        {
            // Note [Block reductions for var, max and cumsum]
            var block = ReductionLayout.ToBlock(x, mask, out int o, out int r, out int inner);
            if (o == 0) return;
            // the column kernel counts rows in float32 lanes: exact up to 2^24
            if (inner > 1 && r > (1 << 24)) { block = ReductionLayout.ToRows(x, mask, out o, out r); inner = 1; }
            var ix = hasIndices ? Dense<long>(indices) : default;
            if (x.DType == ScalarType.Float32)
                StatKernels.MaxMin<float>(Dense<float>(block), hasValues ? Dense<float>(values) : default, ix, o, r, inner, max);
            else
                StatKernels.MaxMin<double>(Dense<double>(block), hasValues ? Dense<double>(values) : default, ix, o, r, inner, max);
            return;
        }
        var rows = ReductionLayout.ToRows(x, mask, out int outer, out int n);
        if (outer == 0) return;
        switch (x.DType)
        {
            case ScalarType.Int64: ReductionKernels.MaxMinRows<long>(rows, outer, n, values, indices, max); break;
            case ScalarType.Int32: ReductionKernels.MaxMinRows<int>(rows, outer, n, values, indices, max); break;
            default:
            {
                var asInt = ToDType(rows, ScalarType.Int32);
                var v = hasValues ? Empty(ScalarType.Int32, values.Shape) : default;
                ReductionKernels.MaxMinRows<int>(asInt, outer, n, v, indices, max);
                if (hasValues) Copy(values, v);
                break;
            }
        }
    }

    public override void Cumsum(in Operand dst, in Operand src, int dim)
    {
        var mask = new bool[src.Rank];
        if (src.Rank > 0) mask[dim] = true;
        if (dst.DType is ScalarType.Float32 or ScalarType.Float64)
        {
            // Note [Block reductions for var, max and cumsum]: scanned in place of the (outer, n, inner) layout.
            var block = ReductionLayout.ToBlock(src, mask, out int o, out int len, out int inner);
            if (dst.DType == ScalarType.Float32) StatKernels.Cumsum<float>(Dense<float>(block), Dense<float>(dst), o, len, inner);
            else StatKernels.Cumsum<double>(Dense<double>(block), Dense<double>(dst), o, len, inner);
            return;
        }
        var rows = ReductionLayout.ToRows(src, mask, out int outer, out int n);
        // Rows in the input's dim order are dst's own layout; otherwise scan into scratch and permute back.
        bool inPlace = ReductionLayout.IsIdentity(ReductionLayout.MaskedLast(mask));
        var flat = inPlace ? dst : Empty(dst.DType, rows.Shape);
        switch (dst.DType)
        {
            case ScalarType.Int64: ReductionKernels.CumsumRows<long>(rows, flat, outer, n); break;
            case ScalarType.Int32: ReductionKernels.CumsumRows<int>(rows, flat, outer, n); break;
            default: throw new NotSupportedException($"cumsum is not implemented for {dst.DType.CppScalarName()}");
        }
        if (!inPlace) Copy(dst, ReductionLayout.FromRows(flat, dst.Shape, mask));
    }
}

/// <summary>
/// Operand versions of Note [Row layout for reductions]: the reduced dims brought last (or kept as the middle axis of
/// an (outer, reduce, inner) block) in dense CPU scratch.
/// </summary>
internal static class ReductionLayout
{
    /// <summary>A view of <paramref name="x"/> with its dims permuted.</summary>
    public static Operand Permute(in Operand x, int[] perm)
    {
        var shape = new long[perm.Length];
        var strides = new long[perm.Length];
        for (int i = 0; i < perm.Length; i++) { shape[i] = x.Shape[perm[i]]; strides[i] = x.Strides[perm[i]]; }
        return x.With(shape, strides, x.Offset);
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

    public static bool IsIdentity(int[] perm)
    {
        for (int i = 0; i < perm.Length; i++) if (perm[i] != i) return false;
        return true;
    }

    /// <summary>Dense data of <paramref name="x"/> as [outer, n] rows, the masked dims forming each row.</summary>
    public static Operand ToRows(in Operand x, bool[] mask, out int outer, out int n)
    {
        long o = 1, r = 1;
        for (int i = 0; i < mask.Length; i++)
        {
            if (mask[i]) r *= x.Shape[i];
            else o *= x.Shape[i];
        }
        outer = (int)o;
        n = (int)r;
        var perm = MaskedLast(mask);
        return CpuBackend.ContiguousCopy(IsIdentity(perm) ? x : Permute(x, perm));
    }

    /// <summary>
    /// Dense data of <paramref name="x"/> as an (outer, reduce, inner) block, the masked dims forming the middle
    /// axis: free for a dense operand whose masked dims are one consecutive run (inner is the product of the dims
    /// after them), else the masked dims are moved last with one copy (inner = 1). No masked dim: reduce = 1.
    /// </summary>
    public static Operand ToBlock(in Operand x, bool[] mask, out int outer, out int reduce, out int inner)
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
            if (i < first) o *= x.Shape[i];
            else if (i <= last) r *= x.Shape[i];
            else n *= x.Shape[i];
        }
        outer = (int)o; reduce = (int)r; inner = (int)n;
        if (inner == 0) { outer = 0; inner = 1; }
        return CpuBackend.ContiguousCopy(x);
    }

    /// <summary>
    /// Rows laid out as (kept dims..., reduced dims...) viewed back in the input's dim order (shape
    /// <paramref name="shape"/>): the inverse of <see cref="ToRows"/> for element-preserving ops.
    /// </summary>
    public static Operand FromRows(in Operand rows, long[] shape, bool[] mask)
    {
        var perm = MaskedLast(mask);
        if (IsIdentity(perm)) return rows.With(shape, ShapeUtil.ContiguousStrides(shape), rows.Offset);
        var permutedShape = new long[perm.Length];
        for (int i = 0; i < perm.Length; i++) permutedShape[i] = shape[perm[i]];
        var permuted = rows.With(permutedShape, ShapeUtil.ContiguousStrides(permutedShape), rows.Offset);
        var inverse = new int[perm.Length];
        for (int i = 0; i < perm.Length; i++) inverse[perm[i]] = i;
        return Permute(permuted, inverse);
    }
}

/// <summary>The row and block loops of the reductions (moved from Ops/Reductions.cs, Statistics.cs and MinMax.cs).</summary>
file static class ReductionKernels
{
    /// <summary>Sum over the masked dims: the reduced dims as one block of the data (permuted there when they are not).</summary>
    internal static void Sum(in Operand dst, in Operand x, bool[] mask)
    {
        int rank = x.Rank;
        // Move reduced dims to a single block: if they are already one contiguous run, (outer, reduce, inner) works
        // on the contiguous data; otherwise permute them to the end first.
        int first = Array.IndexOf(mask, true), last = Array.LastIndexOf(mask, true);
        bool block = first >= 0;
        for (int i = first; block && i <= last; i++) block &= mask[i];
        Operand src;
        long outer = 1, reduce = 1, inner = 1;
        if (first < 0)
        {
            src = CpuBackend.ContiguousCopy(x);
            outer = x.Numel;
        }
        else if (block)
        {
            src = CpuBackend.ContiguousCopy(x);
            for (int i = 0; i < rank; i++)
            {
                if (i < first) outer *= x.Shape[i];
                else if (i <= last) reduce *= x.Shape[i];
                else inner *= x.Shape[i];
            }
        }
        else
        {
            for (int i = 0; i < rank; i++)
            {
                if (!mask[i]) outer *= x.Shape[i];
                else reduce *= x.Shape[i];
            }
            src = CpuBackend.ContiguousCopy(ReductionLayout.Permute(x, ReductionLayout.MaskedLast(mask)));
        }
        switch (dst.DType)
        {
            case ScalarType.Float32: Reduction.SumMiddle(CpuBackend.Dense<float>(src), CpuBackend.Dense<float>(dst), (int)outer, (int)reduce, (int)inner); break;
            case ScalarType.Float64: Reduction.SumMiddle(CpuBackend.Dense<double>(src), CpuBackend.Dense<double>(dst), (int)outer, (int)reduce, (int)inner); break;
            case ScalarType.Int64: Reduction.SumMiddle(CpuBackend.Dense<long>(src), CpuBackend.Dense<long>(dst), (int)outer, (int)reduce, (int)inner); break;
            default: throw new NotSupportedException($"sum is not implemented for {dst.DType}");
        }
    }

    internal static void ProdRows<T>(in Operand rows, in Operand result, int outer, int n) where T : unmanaged, INumber<T>
    {
        var src = CpuBackend.Dense<T>(rows);
        var dst = CpuBackend.Dense<T>(result);
        for (int r = 0; r < outer; r++)
        {
            // prod = x0 * x1 * ... (1 for an empty row)
            T p = T.One;
            var row = src.Slice(r * n, n);
            for (int i = 0; i < row.Length; i++) p *= row[i];
            dst[r] = p;
        }
    }

    internal static void LogSumExpRows<T>(in Operand rows, in Operand result, int outer, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var src = CpuBackend.Dense<T>(rows);
        var dst = CpuBackend.Dense<T>(result);
        for (int r = 0; r < outer; r++)
        {
            // logsumexp = m + log(sum(exp(x - m))), m = max (0 when infinite, so all -inf gives -inf)
            var row = src.Slice(r * n, n);
            T m = n == 0 ? T.Zero : TensorPrimitives.Max<T>(row);
            if (T.IsInfinity(m)) m = T.Zero;
            T s = T.Zero;
            for (int i = 0; i < row.Length; i++) s += T.Exp(row[i] - m);
            dst[r] = T.Log(s) + m;
        }
    }

    internal static void NormRows<T>(in Operand rows, in Operand result, int outer, int n, double p) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var src = CpuBackend.Dense<T>(rows);
        var dst = CpuBackend.Dense<T>(result);
        for (int r = 0; r < outer; r++)
        {
            var row = src.Slice(r * n, n);
            double acc = 0;
            if (p == 2) acc = Math.Sqrt(double.CreateTruncating(TensorPrimitives.SumOfSquares<T>(row)));
            else if (p == 1) acc = double.CreateTruncating(TensorPrimitives.SumOfMagnitudes<T>(row));
            else if (double.IsPositiveInfinity(p)) acc = n == 0 ? 0 : double.CreateTruncating(T.Abs(TensorPrimitives.MaxMagnitude<T>(row)));
            else if (double.IsNegativeInfinity(p)) acc = n == 0 ? double.PositiveInfinity : double.CreateTruncating(T.Abs(TensorPrimitives.MinMagnitude<T>(row)));
            else if (p == 0) { for (int i = 0; i < row.Length; i++) if (row[i] != T.Zero) acc++; }
            else
            {
                // norm = (sum |x|^p)^(1/p)
                for (int i = 0; i < row.Length; i++) acc += Math.Pow(Math.Abs(double.CreateTruncating(row[i])), p);
                acc = Math.Pow(acc, 1 / p);
            }
            dst[r] = T.CreateTruncating(acc);
        }
    }

    internal static void CumsumRows<T>(in Operand rows, in Operand result, int outer, int n) where T : unmanaged, INumber<T>
    {
        var src = CpuBackend.Dense<T>(rows);
        var dst = CpuBackend.Dense<T>(result);
        for (int r = 0; r < outer; r++)
        {
            // y_i = y_{i-1} + x_i
            T acc = T.Zero;
            int b = r * n;
            for (int i = 0; i < n; i++) { acc += src[b + i]; dst[b + i] = acc; }
        }
    }

    /// <summary>Values and first indices of the extreme of each row (NaN wins, as PyTorch); default operands are skipped.</summary>
    internal static void MaxMinRows<T>(in Operand rows, int outer, int n, in Operand values, in Operand indices, bool max)
        where T : unmanaged, INumber<T>
    {
        bool hasValues = values.Storage is not null, hasIndices = indices.Storage is not null;
        var src = CpuBackend.Dense<T>(rows);
        var v = hasValues ? CpuBackend.Dense<T>(values) : default;
        var ix = hasIndices ? CpuBackend.Dense<long>(indices) : default;
        for (int r = 0; r < outer; r++)
        {
            var row = src.Slice(r * n, n);
            int i = max ? TensorPrimitives.IndexOfMax<T>(row) : TensorPrimitives.IndexOfMin<T>(row);
            if (hasValues) v[r] = row[i];
            if (hasIndices) ix[r] = i;
        }
    }
}
