namespace Nabla.Backends.Meta;

// Pointwise math on meta: the op allocated the result with its shape and dtype; there is nothing to compute.
internal sealed partial class MetaBackend
{
    public override void ApplyMath(MathOp op, in Operand dst, in Operand a)
    {
    }

    public override void PowScalar(in Operand dst, in Operand a, double exponent)
    {
    }

    public override void Pow(in Operand dst, in Operand a, in Operand b)
    {
    }

    public override void Where(in Operand dst, in Operand condition, in Operand x, in Operand y)
    {
    }
}
