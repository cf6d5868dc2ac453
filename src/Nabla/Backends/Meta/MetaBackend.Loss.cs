namespace Nabla.Backends.Meta;

internal sealed partial class MetaBackend
{
    public override void BinaryCrossEntropy(in Operand loss, in Operand x, in Operand target, Operand? weight)
    {
    }

    public override void NllLoss(in Operand dst, Operand? coefficients, in Operand x, in Operand target, Operand? weight, bool reduce,
        bool mean, long ignoreIndex)
    {
    }
}
