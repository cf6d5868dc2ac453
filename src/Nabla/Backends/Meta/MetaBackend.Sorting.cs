namespace Nabla.Backends.Meta;

internal sealed partial class MetaBackend
{
    public override void Sort(in Operand values, in Operand indices, in Operand src, int dim, bool descending)
    {
    }

    public override void CumMaxMin(in Operand values, in Operand indices, in Operand src, int dim, bool max)
    {
    }
}
