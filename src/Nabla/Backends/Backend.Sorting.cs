namespace Nabla.Backends;

// Sorting and scans along a dim (issue 12; Note [The backend wall]). Their backward rules are composite above the wall
// (a scatter of the gradient through the returned indices).
internal abstract partial class Backend
{
    /// <summary>
    /// values = src sorted along <paramref name="dim"/> (ascending, or descending when <paramref name="descending"/>),
    /// indices (int64) = the positions the values came from. Always stable (equal elements keep their order); NaN sorts
    /// as the largest value, as in PyTorch. src any strides and dtype; values (src's dtype) and indices dense, of src's
    /// shape. A 0-d src has dim 0.
    /// </summary>
    public abstract void Sort(in Operand values, in Operand indices, in Operand src, int dim, bool descending);

    /// <summary>
    /// Running maximum (or minimum when <paramref name="max"/> is false) along <paramref name="dim"/>: values[i] =
    /// max(src[0..i]), indices[i] (int64) = the position it was taken from (the last one among ties, as PyTorch; a NaN
    /// propagates from its position on). src any strides; values (src's dtype) and indices dense, of src's shape.
    /// </summary>
    public abstract void CumMaxMin(in Operand values, in Operand indices, in Operand src, int dim, bool max);
}
