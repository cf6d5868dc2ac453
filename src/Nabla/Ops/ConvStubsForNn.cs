// TEMPORARY (branch nn): placeholders so torch.nn compiles before branch `conv` is merged.
// DELETE THIS FILE AT MERGE: branch `conv` provides the real Ops.Conv / Ops.Pool / Ops.Norm with these signatures.
namespace Nabla.Ops;

internal static class Conv
{
    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias, long[] stride, long[] padding, long[] dilation, long groups) =>
        throw new NotSupportedException("conv2d: stub, provided by branch conv");
}

internal static class Pool
{
    public static Tensor MaxPool2d(Tensor input, long[] kernel, long[] stride, long[] padding, long[] dilation, bool ceilMode) =>
        throw new NotSupportedException("max_pool2d: stub, provided by branch conv");

    public static Tensor AvgPool2d(Tensor input, long[] kernel, long[] stride, long[] padding, bool ceilMode, bool countIncludePad) =>
        throw new NotSupportedException("avg_pool2d: stub, provided by branch conv");

    public static Tensor AdaptiveAvgPool2d(Tensor input, long[] outputSize) =>
        throw new NotSupportedException("adaptive_avg_pool2d: stub, provided by branch conv");
}

internal static class Norm
{
    public static Tensor BatchNorm(Tensor input, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias, bool training, double momentum, double eps) =>
        throw new NotSupportedException("batch_norm: stub, provided by branch conv");
}
