using static Nabla.torch.nn;
using F = Nabla.torch.nn.functional;

namespace Nabla.Modules;

/// <summary>
/// 2-D convolution (<c>torch.nn.Conv2d</c>): weight (out, in / groups, kH, kW) and optional bias (out),
/// initialised as PyTorch (kaiming_uniform_(a=√5) for the weight, U(-1/√fan_in, 1/√fan_in) for the bias).
/// </summary>
public sealed class Conv2d : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer with square kernel/stride/padding/dilation.</summary>
    public Conv2d(long in_channels, long out_channels, long kernel_size, long stride = 1, long padding = 0, long dilation = 1, long groups = 1, bool bias = true, ScalarType? dtype = null)
        : this(in_channels, out_channels, (kernel_size, kernel_size), (stride, stride), (padding, padding), (dilation, dilation), groups, bias, dtype)
    {
    }

    /// <summary>Creates the layer with (height, width) pairs.</summary>
    /// <exception cref="ArgumentException">Channels not divisible by groups, or non-positive groups.</exception>
    public Conv2d(long in_channels, long out_channels, (long, long) kernel_size, (long, long)? stride = null, (long, long)? padding = null, (long, long)? dilation = null, long groups = 1, bool bias = true, ScalarType? dtype = null)
    {
        if (groups <= 0) throw new ArgumentException("groups must be a positive integer");
        if (in_channels % groups != 0) throw new ArgumentException("in_channels must be divisible by groups");
        if (out_channels % groups != 0) throw new ArgumentException("out_channels must be divisible by groups");
        this.in_channels = in_channels;
        this.out_channels = out_channels;
        this.kernel_size = new[] { kernel_size.Item1, kernel_size.Item2 };
        this.stride = stride is { } s ? new[] { s.Item1, s.Item2 } : new[] { 1L, 1L };
        this.padding = padding is { } p ? new[] { p.Item1, p.Item2 } : new[] { 0L, 0L };
        this.dilation = dilation is { } d ? new[] { d.Item1, d.Item2 } : new[] { 1L, 1L };
        this.groups = groups;
        register_parameter("weight", torch.nn.Parameter(torch.empty(new[] { out_channels, in_channels / groups, kernel_size.Item1, kernel_size.Item2 }, dtype)));
        register_parameter("bias", bias ? torch.nn.Parameter(torch.empty(new[] { out_channels }, dtype)) : null);
        reset_parameters();
    }

    /// <summary>Input channels.</summary>
    public long in_channels { get; }
    /// <summary>Output channels.</summary>
    public long out_channels { get; }
    /// <summary>(kH, kW).</summary>
    public long[] kernel_size { get; }
    /// <summary>(sH, sW).</summary>
    public long[] stride { get; }
    /// <summary>(pH, pW).</summary>
    public long[] padding { get; }
    /// <summary>(dH, dW).</summary>
    public long[] dilation { get; }
    /// <summary>Groups.</summary>
    public long groups { get; }
    /// <summary>(out, in / groups, kH, kW) weight.</summary>
    public Tensor weight { get => GetParameter("weight")!; set => register_parameter("weight", value); }
    /// <summary>(out) bias, or null.</summary>
    public Tensor? bias { get => GetParameter("bias"); set => register_parameter("bias", value); }

    /// <summary>Re-draws the parameters as PyTorch's _ConvNd.reset_parameters.</summary>
    public void reset_parameters()
    {
        init.kaiming_uniform_(weight, a: Math.Sqrt(5));
        if (bias is { } b)
        {
            var (fanIn, _) = init._calculate_fan_in_and_fan_out(weight);
            if (fanIn != 0) init.uniform_(b, -1 / Math.Sqrt(fanIn), 1 / Math.Sqrt(fanIn));
        }
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor input) => F.conv2d(input, weight, bias, stride, padding, dilation, groups);

    static string Tuple(long[] v) => $"({v[0]}, {v[1]})";

    /// <inheritdoc/>
    public override string extra_repr()
    {
        var s = $"{in_channels}, {out_channels}, kernel_size={Tuple(kernel_size)}, stride={Tuple(stride)}";
        if (padding[0] != 0 || padding[1] != 0) s += $", padding={Tuple(padding)}";
        if (dilation[0] != 1 || dilation[1] != 1) s += $", dilation={Tuple(dilation)}";
        if (groups != 1) s += $", groups={groups}";
        if (bias is null) s += ", bias=False";
        return s;
    }
}

/// <summary>
/// Batch normalisation over the channels of (N, C, H, W) (<c>torch.nn.BatchNorm2d</c>): weight 1 and bias 0,
/// buffers running_mean 0, running_var 1 and num_batches_tracked 0 (int64), updated while training.
/// </summary>
public sealed class BatchNorm2d : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer.</summary>
    /// <param name="num_features">C, the number of channels.</param>
    /// <param name="eps">Added to the variance for stability.</param>
    /// <param name="momentum">Running-statistics factor; null for a cumulative moving average.</param>
    /// <param name="affine">Learn weight and bias.</param>
    /// <param name="track_running_stats">Keep running statistics (and use them in eval mode).</param>
    /// <param name="dtype">Floating-point type of the parameters and buffers.</param>
    public BatchNorm2d(long num_features, double eps = 1e-5, double? momentum = 0.1, bool affine = true, bool track_running_stats = true, ScalarType? dtype = null)
    {
        this.num_features = num_features; this.eps = eps; this.momentum = momentum;
        this.affine = affine; this.track_running_stats = track_running_stats;
        register_parameter("weight", affine ? torch.nn.Parameter(torch.ones(new[] { num_features }, dtype)) : null);
        register_parameter("bias", affine ? torch.nn.Parameter(torch.zeros(new[] { num_features }, dtype)) : null);
        if (track_running_stats)
        {
            register_buffer("running_mean", torch.zeros(new[] { num_features }, dtype));
            register_buffer("running_var", torch.ones(new[] { num_features }, dtype));
            register_buffer("num_batches_tracked", torch.tensor(0L));
        }
        else
        {
            register_buffer("running_mean", null);
            register_buffer("running_var", null);
            register_buffer("num_batches_tracked", null);
        }
    }

    /// <summary>C.</summary>
    public long num_features { get; }
    /// <summary>Variance epsilon.</summary>
    public double eps { get; }
    /// <summary>Running-statistics factor (null: cumulative average).</summary>
    public double? momentum { get; }
    /// <summary>Whether weight and bias are learned.</summary>
    public bool affine { get; }
    /// <summary>Whether running statistics are kept.</summary>
    public bool track_running_stats { get; }
    /// <summary>(C) scale, or null.</summary>
    public Tensor? weight { get => GetParameter("weight"); set => register_parameter("weight", value); }
    /// <summary>(C) shift, or null.</summary>
    public Tensor? bias { get => GetParameter("bias"); set => register_parameter("bias", value); }
    /// <summary>(C) running mean, or null.</summary>
    public Tensor? running_mean => GetBuffer("running_mean");
    /// <summary>(C) running variance, or null.</summary>
    public Tensor? running_var => GetBuffer("running_var");
    /// <summary>Number of training batches seen (int64 0-d), or null.</summary>
    public Tensor? num_batches_tracked => GetBuffer("num_batches_tracked");

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input is not 4-D.</exception>
    public override Tensor forward(Tensor input)
    {
        if (input.dim() != 4) throw new ArgumentException($"expected 4D input (got {input.dim()}D input)");
        double factor = momentum ?? 0.0;
        if (training && track_running_stats && num_batches_tracked is { } n)
        {
            using (torch.no_grad()) n.add_(1);
            factor = momentum ?? 1.0 / n.item<long>();
        }
        bool bnTraining = training || (running_mean is null && running_var is null);
        bool passStats = !training || track_running_stats;
        return F.batch_norm(input, passStats ? running_mean : null, passStats ? running_var : null, weight, bias, bnTraining, factor, eps);
    }

    /// <inheritdoc/>
    public override string extra_repr() =>
        $"{num_features}, eps={F.PyFloat(eps)}, momentum={(momentum is { } m ? F.PyFloat(m) : "None")}, affine={Py(affine)}, track_running_stats={Py(track_running_stats)}";
}

/// <summary>2-D max pooling (<c>torch.nn.MaxPool2d</c>); stride defaults to the kernel size.</summary>
public sealed class MaxPool2d : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer.</summary>
    public MaxPool2d(long kernel_size, long? stride = null, long padding = 0, long dilation = 1, bool ceil_mode = false)
    {
        this.kernel_size = kernel_size; this.stride = stride ?? kernel_size; this.padding = padding;
        this.dilation = dilation; this.ceil_mode = ceil_mode;
    }
    /// <summary>Window size.</summary>
    public long kernel_size { get; }
    /// <summary>Window stride.</summary>
    public long stride { get; }
    /// <summary>Implicit -inf padding.</summary>
    public long padding { get; }
    /// <summary>Window dilation.</summary>
    public long dilation { get; }
    /// <summary>Ceil instead of floor for the output size.</summary>
    public bool ceil_mode { get; }
    /// <inheritdoc/>
    public override Tensor forward(Tensor input) =>
        F.max_pool2d(input, new[] { kernel_size }, new[] { stride }, new[] { padding }, new[] { dilation }, ceil_mode);
    /// <inheritdoc/>
    public override string extra_repr() => $"kernel_size={kernel_size}, stride={stride}, padding={padding}, dilation={dilation}, ceil_mode={Py(ceil_mode)}";
}

/// <summary>2-D average pooling (<c>torch.nn.AvgPool2d</c>); stride defaults to the kernel size.</summary>
public sealed class AvgPool2d : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer.</summary>
    public AvgPool2d(long kernel_size, long? stride = null, long padding = 0, bool ceil_mode = false, bool count_include_pad = true)
    {
        this.kernel_size = kernel_size; this.stride = stride ?? kernel_size; this.padding = padding;
        this.ceil_mode = ceil_mode; this.count_include_pad = count_include_pad;
    }
    /// <summary>Window size.</summary>
    public long kernel_size { get; }
    /// <summary>Window stride.</summary>
    public long stride { get; }
    /// <summary>Implicit zero padding.</summary>
    public long padding { get; }
    /// <summary>Ceil instead of floor for the output size.</summary>
    public bool ceil_mode { get; }
    /// <summary>Count padding in the denominator.</summary>
    public bool count_include_pad { get; }
    /// <inheritdoc/>
    public override Tensor forward(Tensor input) =>
        F.avg_pool2d(input, new[] { kernel_size }, new[] { stride }, new[] { padding }, ceil_mode, count_include_pad);
    /// <inheritdoc/>
    public override string extra_repr() => $"kernel_size={kernel_size}, stride={stride}, padding={padding}";
}

/// <summary>Average pooling to a fixed (H_out, W_out) (<c>torch.nn.AdaptiveAvgPool2d</c>).</summary>
public sealed class AdaptiveAvgPool2d : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer with a square output.</summary>
    public AdaptiveAvgPool2d(long output_size) { this.output_size = new[] { output_size, output_size }; _repr = output_size.ToString(System.Globalization.CultureInfo.InvariantCulture); }
    /// <summary>Creates the layer with an (H_out, W_out) output.</summary>
    public AdaptiveAvgPool2d((long, long) output_size) { this.output_size = new[] { output_size.Item1, output_size.Item2 }; _repr = $"({output_size.Item1}, {output_size.Item2})"; }
    readonly string _repr;
    /// <summary>(H_out, W_out).</summary>
    public long[] output_size { get; }
    /// <inheritdoc/>
    public override Tensor forward(Tensor input) => F.adaptive_avg_pool2d(input, output_size);
    /// <inheritdoc/>
    public override string extra_repr() => $"output_size={_repr}";
}
