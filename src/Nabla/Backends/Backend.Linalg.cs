namespace Nabla.Backends;

// The linear-algebra primitive (Note [The backend wall]): one matrix product over strided, optionally batched operands.
internal abstract partial class Backend
{
    /// <summary>
    /// dst = a @ b, or dst += a @ b when <paramref name="accumulate"/>: matrices (m, k) @ (k, n) -> (m, n), or batches
    /// (B, m, k) @ (B, k, n) -> (B, m, n). a and b (one dtype, dst's; float or integer) are read with their own strides,
    /// so transposed views are never copied; dst is dense. Integer products are exact.
    /// </summary>
    public abstract void Matmul(in Operand dst, in Operand a, in Operand b, bool accumulate);
}
