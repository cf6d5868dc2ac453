using Nabla.Modules;

namespace Nabla;

/// <summary>torchvision, as TorchSharp's TorchVision package spells it: model constructors.</summary>
public static class torchvision
{
    /// <summary>Model architectures (<c>torchvision.models</c>).</summary>
    public static class models
    {
        /// <summary>
        /// ResNet-18 exactly as torchvision builds it (BasicBlock, layers [2, 2, 2, 2], 11,689,512 parameters for
        /// 1000 classes; convs kaiming_normal_(fan_out, relu), batch norms weight 1 and bias 0). Randomly
        /// initialised unless <paramref name="weights"/> names a local weights file.
        /// </summary>
        /// <param name="num_classes">Outputs of the final fully connected layer.</param>
        /// <param name="zero_init_residual">Zero the last batch norm of each residual block.</param>
        /// <param name="weights">
        /// Path of a torchvision checkpoint (.pth/.pt, as <c>torch.save(model.state_dict())</c> writes it, e.g.
        /// torchvision's <c>resnet18-f37072fd.pth</c>) or a .safetensors file with the same names. Nothing is
        /// downloaded: the file must already be on disk.
        /// </param>
        /// <exception cref="FileNotFoundException">The weights file does not exist (the message says where to get it).</exception>
        public static ResNet resnet18(long num_classes = 1000, bool zero_init_residual = false, string? weights = null) =>
            WithWeights(new(new long[] { 2, 2, 2, 2 }, num_classes, zero_init_residual), weights, "resnet18", "resnet18-f37072fd.pth", "ResNet18_Weights.IMAGENET1K_V1");

        /// <summary>ResNet-34 as torchvision builds it (BasicBlock, layers [3, 4, 6, 3]); see <see cref="resnet18"/> for <paramref name="weights"/>.</summary>
        public static ResNet resnet34(long num_classes = 1000, bool zero_init_residual = false, string? weights = null) =>
            WithWeights(new(new long[] { 3, 4, 6, 3 }, num_classes, zero_init_residual), weights, "resnet34", "resnet34-b627a593.pth", "ResNet34_Weights.IMAGENET1K_V1");

        /// <summary>ResNet-50 as torchvision builds it (Bottleneck, layers [3, 4, 6, 3], 25,557,032 parameters for 1000 classes); see <see cref="resnet18"/> for <paramref name="weights"/>.</summary>
        public static ResNet resnet50(long num_classes = 1000, bool zero_init_residual = false, string? weights = null) =>
            WithWeights(new(new long[] { 3, 4, 6, 3 }, num_classes, zero_init_residual, bottleneck: true), weights, "resnet50", "resnet50-0676ba61.pth", "ResNet50_Weights.IMAGENET1K_V1");

        static ResNet WithWeights(ResNet model, string? weights, string arch, string file, string enumName)
        {
            if (weights is null) return model;
            if (!File.Exists(weights))
                throw new FileNotFoundException(
                    $"{arch}: weights file '{weights}' not found. Nabla downloads nothing: put torchvision's {enumName} checkpoint " +
                    $"({file}, from https://download.pytorch.org/models/{file}) or a .safetensors conversion of it at that path, " +
                    $"or save one from PyTorch with torch.save(torchvision.models.{arch}(weights=\"DEFAULT\").state_dict(), \"{file}\").", weights);
            model.load_state_dict(LoadStateDict(weights));
            return model;
        }

        /// <summary>The state dict in a .pth/.pt or .safetensors file (also inside a {"state_dict": ...} or {"model": ...} wrapper).</summary>
        internal static Dictionary<string, Tensor> LoadStateDict(string path)
        {
            if (path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)) return safetensors.load_file(path);
            var loaded = torch.load(path);
            if (loaded is Dictionary<string, object?> d && !d.Values.All(v => v is Tensor))
                foreach (var key in new[] { "state_dict", "model_state_dict", "model" })
                    if (d.TryGetValue(key, out var inner) && inner is Dictionary<string, object?>) return torch.serialization.as_state_dict(inner);
            return torch.serialization.as_state_dict(loaded);
        }
    }
}
