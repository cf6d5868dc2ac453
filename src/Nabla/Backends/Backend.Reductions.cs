namespace Nabla.Backends;

// Reductions over a set of dims, arg-reductions and cumulative ops (Note [The backend wall]). The op computes the
// reduced shape and allocates dst dense; src may have any strides (the backend lays it out as it needs).
internal abstract partial class Backend
{
    /// <summary>
    /// dst = the reduction <paramref name="op"/> of src over the dims set in <paramref name="mask"/> (one flag per
    /// dim of src; a rank-0 src has an empty mask). dst is dense, shaped as src reduced (with or without kept dims) and
    /// of src's dtype. <paramref name="arg"/> is p for <see cref="ReduceOp.Norm"/> and the divisor (reduced count
    /// minus correction) for <see cref="ReduceOp.Var"/> / <see cref="ReduceOp.Std"/>, unused otherwise.
    /// </summary>
    public abstract void ReduceDims(ReduceOp op, in Operand dst, in Operand src, bool[] mask, double arg);

    /// <summary>
    /// The extreme (max when <paramref name="max"/>, else min) of src over the masked dims: its value into
    /// <paramref name="values"/> (src's dtype) and its first index along the reduced elements into
    /// <paramref name="indices"/> (int64); either may be <c>default</c> (not wanted). NaN wins, as in PyTorch.
    /// </summary>
    public abstract void MaxMin(in Operand values, in Operand indices, in Operand src, bool[] mask, bool max);

    /// <summary>dst = the running sum of src along <paramref name="dim"/> (dst dense, src's shape and dtype).</summary>
    public abstract void Cumsum(in Operand dst, in Operand src, int dim);
}

/// <summary>The reductions of <see cref="Backend.ReduceDims"/>.</summary>
internal enum ReduceOp { Sum, Prod, LogSumExp, Norm, Var, Std }
