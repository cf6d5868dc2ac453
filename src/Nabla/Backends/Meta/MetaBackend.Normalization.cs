namespace Nabla.Backends.Meta;

internal sealed partial class MetaBackend
{
    public override void BatchNorm(in Operand y, in Operand saveMean, in Operand saveInvstd, in Operand x, Operand? weight, Operand? bias,
        Operand? runningMean, Operand? runningVar, bool training, double momentum, double eps)
    {
    }

    public override void BatchNormBackward(Operand? gx, Operand? gw, Operand? gb, in Operand gy, in Operand x, Operand? weight,
        in Operand saveMean, in Operand saveInvstd, bool training)
    {
    }
}
