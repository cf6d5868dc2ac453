using static Nabla.torch.nn;
using F = Nabla.torch.nn.functional;

namespace Nabla.Modules;

/// <summary>Mean squared error (<c>torch.nn.MSELoss</c>); call with (input, target).</summary>
public sealed class MSELoss : Module<Tensor, Tensor, Tensor>
{
    /// <summary>Creates the loss; <paramref name="reduction"/> is "mean", "sum" or "none".</summary>
    public MSELoss(string reduction = "mean") { Ops.Loss.ParseReduction(reduction); this.reduction = reduction; }
    /// <summary>The reduction.</summary>
    public string reduction { get; }
    /// <inheritdoc/>
    public override Tensor forward(Tensor input, Tensor target) => F.mse_loss(input, target, reduction);
}

/// <summary>Mean absolute error (<c>torch.nn.L1Loss</c>); call with (input, target).</summary>
public sealed class L1Loss : Module<Tensor, Tensor, Tensor>
{
    /// <summary>Creates the loss; <paramref name="reduction"/> is "mean", "sum" or "none".</summary>
    public L1Loss(string reduction = "mean") { Ops.Loss.ParseReduction(reduction); this.reduction = reduction; }
    /// <summary>The reduction.</summary>
    public string reduction { get; }
    /// <inheritdoc/>
    public override Tensor forward(Tensor input, Tensor target) => F.l1_loss(input, target, reduction);
}

/// <summary>Cross entropy of logits against class indices or probabilities (<c>torch.nn.CrossEntropyLoss</c>).</summary>
public sealed class CrossEntropyLoss : Module<Tensor, Tensor, Tensor>
{
    /// <summary>Creates the loss.</summary>
    public CrossEntropyLoss(Tensor? weight = null, long ignore_index = -100, string reduction = "mean", double label_smoothing = 0.0)
    {
        Ops.Loss.ParseReduction(reduction);
        register_buffer("weight", weight);
        this.ignore_index = ignore_index; this.reduction = reduction; this.label_smoothing = label_smoothing;
    }
    /// <summary>Per-class weight, or null.</summary>
    public Tensor? weight => GetBuffer("weight");
    /// <summary>Ignored target value.</summary>
    public long ignore_index { get; }
    /// <summary>The reduction.</summary>
    public string reduction { get; }
    /// <summary>Label smoothing amount.</summary>
    public double label_smoothing { get; }
    /// <inheritdoc/>
    public override Tensor forward(Tensor input, Tensor target) => F.cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing);
}

/// <summary>Negative log likelihood of log-probabilities (<c>torch.nn.NLLLoss</c>).</summary>
public sealed class NLLLoss : Module<Tensor, Tensor, Tensor>
{
    /// <summary>Creates the loss.</summary>
    public NLLLoss(Tensor? weight = null, long ignore_index = -100, string reduction = "mean")
    {
        Ops.Loss.ParseReduction(reduction);
        register_buffer("weight", weight);
        this.ignore_index = ignore_index; this.reduction = reduction;
    }
    /// <summary>Per-class weight, or null.</summary>
    public Tensor? weight => GetBuffer("weight");
    /// <summary>Ignored target value.</summary>
    public long ignore_index { get; }
    /// <summary>The reduction.</summary>
    public string reduction { get; }
    /// <inheritdoc/>
    public override Tensor forward(Tensor input, Tensor target) => F.nll_loss(input, target, weight, ignore_index, reduction);
}

/// <summary>Binary cross entropy of probabilities (<c>torch.nn.BCELoss</c>).</summary>
public sealed class BCELoss : Module<Tensor, Tensor, Tensor>
{
    /// <summary>Creates the loss.</summary>
    public BCELoss(Tensor? weight = null, string reduction = "mean")
    {
        Ops.Loss.ParseReduction(reduction);
        register_buffer("weight", weight);
        this.reduction = reduction;
    }
    /// <summary>Rescaling weight, or null.</summary>
    public Tensor? weight => GetBuffer("weight");
    /// <summary>The reduction.</summary>
    public string reduction { get; }
    /// <inheritdoc/>
    public override Tensor forward(Tensor input, Tensor target) => F.binary_cross_entropy(input, target, weight, reduction);
}

/// <summary>Binary cross entropy of logits, sigmoid fused in (<c>torch.nn.BCEWithLogitsLoss</c>).</summary>
public sealed class BCEWithLogitsLoss : Module<Tensor, Tensor, Tensor>
{
    /// <summary>Creates the loss.</summary>
    public BCEWithLogitsLoss(Tensor? weight = null, string reduction = "mean", Tensor? pos_weight = null)
    {
        Ops.Loss.ParseReduction(reduction);
        register_buffer("weight", weight);
        register_buffer("pos_weight", pos_weight);
        this.reduction = reduction;
    }
    /// <summary>Rescaling weight, or null.</summary>
    public Tensor? weight => GetBuffer("weight");
    /// <summary>Weight of positive examples, or null.</summary>
    public Tensor? pos_weight => GetBuffer("pos_weight");
    /// <summary>The reduction.</summary>
    public string reduction { get; }
    /// <inheritdoc/>
    public override Tensor forward(Tensor input, Tensor target) => F.binary_cross_entropy_with_logits(input, target, weight, pos_weight, reduction);
}
