namespace Nabla.Backends;

// The softmax primitive (Note [The backend wall]). Its backward is composite above the wall (from the saved output).
internal abstract partial class Backend
{
    /// <summary>
    /// dst = softmax(x) along <paramref name="dim"/> (exp(x - max) / sum), or log_softmax when <paramref name="log"/>
    /// (x - max - log(sum(exp(x - max)))); a slice of -inf gives NaN as in PyTorch. x float, any strides; dst dense,
    /// of x's shape and dtype. A 0-d x has dim 0.
    /// </summary>
    public abstract void Softmax(in Operand dst, in Operand x, int dim, bool log);
}
