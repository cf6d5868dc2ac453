using Nabla.Modules;

namespace Nabla;

/// <summary>torchvision, as TorchSharp's TorchVision package spells it: model constructors.</summary>
public static partial class torchvision
{
    /// <summary>Model architectures (<c>torchvision.models</c>).</summary>
    public static class models
    {
        /// <summary>
        /// ResNet-18 exactly as torchvision builds it (BasicBlock, layers [2, 2, 2, 2], 11,689,512 parameters for
        /// 1000 classes; convs kaiming_normal_(fan_out, relu), batch norms weight 1 and bias 0). Randomly
        /// initialised: pretrained weights are not downloaded; load them with <c>load_state_dict</c>.
        /// </summary>
        /// <param name="num_classes">Outputs of the final fully connected layer.</param>
        /// <param name="zero_init_residual">Zero the last batch norm of each residual block.</param>
        public static ResNet resnet18(long num_classes = 1000, bool zero_init_residual = false) =>
            new(new long[] { 2, 2, 2, 2 }, num_classes, zero_init_residual);

        /// <summary>ResNet-34 as torchvision builds it (BasicBlock, layers [3, 4, 6, 3]).</summary>
        public static ResNet resnet34(long num_classes = 1000, bool zero_init_residual = false) =>
            new(new long[] { 3, 4, 6, 3 }, num_classes, zero_init_residual);
    }
}
