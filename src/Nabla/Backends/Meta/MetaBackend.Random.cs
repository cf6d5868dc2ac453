namespace Nabla.Backends.Meta;

internal sealed partial class MetaBackend
{
    public override void RandomFill(RandomKind kind, in Operand dst, Generator generator, double a, double b)
    {
    }
}
