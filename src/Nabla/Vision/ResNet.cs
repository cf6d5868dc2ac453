using static Nabla.torch.nn;

namespace Nabla.Modules;

/// <summary>torchvision's BasicBlock: two 3x3 conv + batch norm, ReLU, and a residual connection.</summary>
public sealed class BasicBlock : Module<Tensor, Tensor>
{
    readonly Conv2d _conv1, _conv2;
    readonly BatchNorm2d _bn1, _bn2;
    readonly ReLU _relu;
    readonly Sequential? _downsample;

    /// <summary>Creates the block (submodules conv1, bn1, relu, conv2, bn2 and, if given, downsample).</summary>
    public BasicBlock(long inplanes, long planes, long stride = 1, Sequential? downsample = null)
    {
        _conv1 = register_module("conv1", torch.nn.Conv2d(inplanes, planes, 3, stride: stride, padding: 1, bias: false));
        _bn1 = register_module("bn1", torch.nn.BatchNorm2d(planes));
        _relu = register_module("relu", torch.nn.ReLU(inplace: true));
        _conv2 = register_module("conv2", torch.nn.Conv2d(planes, planes, 3, stride: 1, padding: 1, bias: false));
        _bn2 = register_module("bn2", torch.nn.BatchNorm2d(planes));
        if (downsample is not null) _downsample = register_module("downsample", downsample);
    }

    /// <summary>The second batch norm (zeroed by <c>zero_init_residual</c>).</summary>
    public BatchNorm2d bn2 => _bn2;

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        var identity = x;
        var output = _relu.call(_bn1.call(_conv1.call(x)));
        output = _bn2.call(_conv2.call(output));
        if (_downsample is not null) identity = _downsample.call(x);
        output.add_(identity);
        return _relu.call(output);
    }
}

/// <summary>
/// torchvision's Bottleneck (ResNet V1.5): 1x1 conv, 3x3 conv carrying the stride, 1x1 conv expanding the channels
/// four times, batch norm after each, ReLU, and a residual connection.
/// </summary>
public sealed class Bottleneck : Module<Tensor, Tensor>
{
    /// <summary>Output channels are <c>planes * expansion</c>.</summary>
    public const long expansion = 4;

    readonly Conv2d _conv1, _conv2, _conv3;
    readonly BatchNorm2d _bn1, _bn2, _bn3;
    readonly ReLU _relu;
    readonly Sequential? _downsample;

    /// <summary>Creates the block (submodules conv1, bn1, conv2, bn2, conv3, bn3, relu and, if given, downsample).</summary>
    public Bottleneck(long inplanes, long planes, long stride = 1, Sequential? downsample = null)
    {
        long width = planes;
        _conv1 = register_module("conv1", torch.nn.Conv2d(inplanes, width, 1, bias: false));
        _bn1 = register_module("bn1", torch.nn.BatchNorm2d(width));
        _conv2 = register_module("conv2", torch.nn.Conv2d(width, width, 3, stride: stride, padding: 1, bias: false));
        _bn2 = register_module("bn2", torch.nn.BatchNorm2d(width));
        _conv3 = register_module("conv3", torch.nn.Conv2d(width, planes * expansion, 1, bias: false));
        _bn3 = register_module("bn3", torch.nn.BatchNorm2d(planes * expansion));
        _relu = register_module("relu", torch.nn.ReLU(inplace: true));
        if (downsample is not null) _downsample = register_module("downsample", downsample);
    }

    /// <summary>The third batch norm (zeroed by <c>zero_init_residual</c>).</summary>
    public BatchNorm2d bn3 => _bn3;

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        var identity = x;
        var output = _relu.call(_bn1.call(_conv1.call(x)));
        output = _relu.call(_bn2.call(_conv2.call(output)));
        output = _bn3.call(_conv3.call(output));
        if (_downsample is not null) identity = _downsample.call(x);
        output.add_(identity);
        return _relu.call(output);
    }
}

/// <summary>
/// torchvision's ResNet (BasicBlock or Bottleneck variant): conv1 7x7/2, bn1, relu, maxpool 3/2, layer1..layer4, adaptive
/// average pool, fc. Parameter names and initialisation match torchvision.
/// </summary>
public sealed class ResNet : Module<Tensor, Tensor>
{
    long _inplanes = 64;
    readonly Conv2d _conv1;
    readonly BatchNorm2d _bn1;
    readonly ReLU _relu;
    readonly MaxPool2d _maxpool;
    readonly Sequential _layer1, _layer2, _layer3, _layer4;
    readonly AdaptiveAvgPool2d _avgpool;
    readonly Linear _fc;

    readonly bool _bottleneck;

    /// <summary>Creates the network with <paramref name="layers"/> BasicBlocks per stage.</summary>
    /// <param name="layers">Blocks in each of the four stages, e.g. {2, 2, 2, 2} for ResNet-18.</param>
    /// <param name="num_classes">Outputs of the final fully connected layer.</param>
    /// <param name="zero_init_residual">Zero the last batch norm weight of each block, as torchvision's option.</param>
    public ResNet(long[] layers, long num_classes = 1000, bool zero_init_residual = false) : this(layers, num_classes, zero_init_residual, bottleneck: false)
    {
    }

    /// <summary>Creates the network with <paramref name="layers"/> blocks per stage, Bottleneck blocks when <paramref name="bottleneck"/> is true.</summary>
    /// <param name="layers">Blocks in each of the four stages, e.g. {3, 4, 6, 3} for ResNet-50.</param>
    /// <param name="num_classes">Outputs of the final fully connected layer.</param>
    /// <param name="zero_init_residual">Zero the last batch norm weight of each block, as torchvision's option.</param>
    /// <param name="bottleneck">Bottleneck blocks (ResNet-50 and deeper) instead of BasicBlocks.</param>
    public ResNet(long[] layers, long num_classes, bool zero_init_residual, bool bottleneck)
    {
        _bottleneck = bottleneck;
        if (layers.Length != 4) throw new ArgumentException("layers must have 4 entries");
        _conv1 = register_module("conv1", torch.nn.Conv2d(3, 64, 7, stride: 2, padding: 3, bias: false));
        _bn1 = register_module("bn1", torch.nn.BatchNorm2d(64));
        _relu = register_module("relu", torch.nn.ReLU(inplace: true));
        _maxpool = register_module("maxpool", torch.nn.MaxPool2d(3, stride: 2, padding: 1));
        _layer1 = register_module("layer1", MakeLayer(64, layers[0], 1));
        _layer2 = register_module("layer2", MakeLayer(128, layers[1], 2));
        _layer3 = register_module("layer3", MakeLayer(256, layers[2], 2));
        _layer4 = register_module("layer4", MakeLayer(512, layers[3], 2));
        _avgpool = register_module("avgpool", torch.nn.AdaptiveAvgPool2d((1, 1)));
        _fc = register_module("fc", torch.nn.Linear(512 * Expansion, num_classes));

        foreach (var m in modules())
        {
            if (m is Conv2d conv) init.kaiming_normal_(conv.weight, mode: "fan_out", nonlinearity: "relu");
            else if (m is BatchNorm2d bn) { init.constant_(bn.weight!, 1); init.constant_(bn.bias!, 0); }
        }
        if (zero_init_residual)
            foreach (var m in modules())
                if (m is BasicBlock block) init.constant_(block.bn2.weight!, 0);
                else if (m is Bottleneck b) init.constant_(b.bn3.weight!, 0);
    }

    long Expansion => _bottleneck ? Bottleneck.expansion : 1;

    Module<Tensor, Tensor> Block(long inplanes, long planes, long stride = 1, Sequential? downsample = null) =>
        _bottleneck ? new Bottleneck(inplanes, planes, stride, downsample) : new BasicBlock(inplanes, planes, stride, downsample);

    Sequential MakeLayer(long planes, long blocks, long stride)
    {
        Sequential? downsample = null;
        if (stride != 1 || _inplanes != planes * Expansion)
            downsample = torch.nn.Sequential(torch.nn.Conv2d(_inplanes, planes * Expansion, 1, stride: stride, bias: false), torch.nn.BatchNorm2d(planes * Expansion));
        var layer = torch.nn.Sequential(Block(_inplanes, planes, stride, downsample));
        _inplanes = planes * Expansion;
        for (long i = 1; i < blocks; i++) layer.append(Block(_inplanes, planes));
        return layer;
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        x = _maxpool.call(_relu.call(_bn1.call(_conv1.call(x))));
        x = _layer4.call(_layer3.call(_layer2.call(_layer1.call(x))));
        return _fc.call(_avgpool.call(x).flatten(1));
    }
}
