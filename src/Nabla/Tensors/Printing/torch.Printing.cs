namespace Nabla;

public static partial class torch
{
    /// <summary>
    /// Sets the options for printing tensors, as PyTorch's <c>torch.set_printoptions</c>: a <paramref name="profile"/>
    /// (<c>"default"</c>, <c>"short"</c> or <c>"full"</c>) is applied first, then each option given overrides it.
    /// As in PyTorch, <paramref name="sci_mode"/> is always assigned, so leaving it out resets it to automatic.
    /// </summary>
    /// <param name="precision">Digits after the decimal point (default 4).</param>
    /// <param name="threshold">Element count above which a tensor is summarised (default 1000; an int converts).</param>
    /// <param name="edgeitems">Items shown at each end of a summarised dimension (default 3).</param>
    /// <param name="linewidth">Characters per line (default 80).</param>
    /// <param name="profile"><c>"default"</c>, <c>"short"</c> or <c>"full"</c>.</param>
    /// <param name="sci_mode"><c>true</c>/<c>false</c> forces scientific notation on/off; <c>null</c> chooses.</param>
    public static void set_printoptions(int? precision = null, double? threshold = null, int? edgeitems = null,
        int? linewidth = null, string? profile = null, bool? sci_mode = null)
    {
        var o = PrintOptions.Current;
        lock (o)
        {
            if (profile is not null) o.ApplyProfile(profile);
            if (precision is { } p) o.precision = p;
            if (threshold is { } t) o.threshold = t;
            if (edgeitems is { } e) o.edgeitems = e;
            if (linewidth is { } l) o.linewidth = l;
            o.sci_mode = sci_mode;
        }
    }
}
