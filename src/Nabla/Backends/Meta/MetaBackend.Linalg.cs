namespace Nabla.Backends.Meta;

internal sealed partial class MetaBackend
{
    public override void Matmul(in Operand dst, in Operand a, in Operand b, bool accumulate)
    {
    }
}
