namespace Nabla.Backends.Meta;

// Reductions on meta: results were allocated with their reduced shapes by the op; nothing to compute.
internal sealed partial class MetaBackend
{
    public override void ReduceDims(ReduceOp op, in Operand dst, in Operand src, bool[] mask, double arg)
    {
    }

    public override void MaxMin(in Operand values, in Operand indices, in Operand src, bool[] mask, bool max)
    {
    }

    public override void Cumsum(in Operand dst, in Operand src, int dim)
    {
    }
}
