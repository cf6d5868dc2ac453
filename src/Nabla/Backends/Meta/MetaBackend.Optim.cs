namespace Nabla.Backends.Meta;

internal sealed partial class MetaBackend
{
    public override void SgdMomentumStep(in Operand param, in Operand grad, in Operand buf, double lr, double momentum, double dampening,
        double weightDecay, bool nesterov, bool maximize)
    {
    }

    public override void AdamStep(in Operand param, in Operand grad, in Operand expAvg, in Operand expAvgSq, Operand? maxExpAvgSq,
        double beta1, double beta2, double weightDecay, double bc2Sqrt, double eps, double stepSize, bool maximize)
    {
    }
}
