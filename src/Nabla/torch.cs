namespace Nabla;

/// <summary>
/// The PyTorch-style entry point: tensor creation, math, grad modes, <c>torch.nn</c>, <c>torch.optim</c> and
/// <c>torch.autograd</c>. Spelled as TorchSharp spells it, so code ports line by line
/// (<c>using Nabla; using static Nabla.torch;</c>).
/// </summary>
public static partial class torch
{
}
