namespace Nabla;

/// <summary>
/// Options for printing tensors, as PyTorch's <c>torch._tensor_str.PRINT_OPTS</c>. One process-wide instance,
/// <see cref="Current"/>, is changed by <see cref="torch.set_printoptions"/> and read by <c>Tensor.ToString()</c>.
/// </summary>
public sealed class PrintOptions
{
    /// <summary>Digits after the decimal point for floating-point values (default 4).</summary>
    public int precision { get; set; } = 4;

    /// <summary>Element count above which a tensor is summarised with <c>...</c> (default 1000;
    /// <see cref="double.PositiveInfinity"/> never summarises, as the <c>full</c> profile).</summary>
    public double threshold { get; set; } = 1000;

    /// <summary>Items shown at each end of a summarised dimension (default 3).</summary>
    public int edgeitems { get; set; } = 3;

    /// <summary>Characters per line before wrapping (default 80).</summary>
    public int linewidth { get; set; } = 80;

    /// <summary>Force scientific notation on (<c>true</c>) or off (<c>false</c>); <c>null</c> lets the
    /// formatter choose from the values.</summary>
    public bool? sci_mode { get; set; }

    /// <summary>The process-wide options that <c>print</c>/<c>ToString()</c> use.</summary>
    public static PrintOptions Current { get; } = new();

    /// <summary>A copy of these options (a snapshot to format with while another thread may change them).</summary>
    public PrintOptions Clone() => (PrintOptions)MemberwiseClone();

    /// <summary>Applies a PyTorch profile: <c>default</c> (4, 1000, 3, 80), <c>short</c> (2, 1000, 2, 80) or
    /// <c>full</c> (4, infinite, 3, 80). <see cref="sci_mode"/> is left alone.</summary>
    /// <exception cref="ArgumentException">The profile is not one of the three names.</exception>
    public void ApplyProfile(string profile)
    {
        (precision, threshold, edgeitems, linewidth) = profile switch
        {
            "default" => (4, 1000d, 3, 80),
            "short" => (2, 1000d, 2, 80),
            "full" => (4, double.PositiveInfinity, 3, 80),
            _ => throw new ArgumentException(
                $"Unknown print profile '{profile}': expected 'default', 'short' or 'full'.", nameof(profile)),
        };
    }
}
