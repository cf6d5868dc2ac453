namespace Nabla.Backends.Meta;

// Indexing on meta: the result shapes come from the index shapes (allocated by the op); index values cannot be
// validated (there are none), as PyTorch's meta kernels skip that check. Only nonzero, whose result size depends on
// the data, cannot be answered.
internal sealed partial class MetaBackend
{
    public override void Gather(in Operand dst, in Operand self, in Operand index, int dim)
    {
    }

    public override void Scatter(ScatterMode mode, in Operand dst, in Operand index, in Operand src, int dim, Scalar value)
    {
    }

    public override void IndexSelect(in Operand dst, in Operand self, in Operand index, int dim)
    {
    }

    public override void MaskedFill(in Operand dst, in Operand src, in Operand mask, Scalar value)
    {
    }

    public override void IndexGather(in Operand dst, in Operand src, Operand[] indices)
    {
    }

    public override void IndexScatter(in Operand dst, Operand[] indices, in Operand values, bool accumulate)
    {
    }

    public override int CountNonzero(in Operand mask) => throw NoValue("nonzero (indexing with a boolean mask)");

    public override void NonzeroPerDim(in Operand dst, in Operand mask) => throw NoValue("nonzero (indexing with a boolean mask)");
}
