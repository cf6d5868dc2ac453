namespace Nabla.Autograd;

/// <summary>
/// Thread-local grad mode (Note [Grad mode is thread-local]): a thread started while another is inside
/// <c>no_grad</c> still records, as in PyTorch.
/// </summary>
internal static class GradMode
{
    [ThreadStatic] static bool _disabled;
    [ThreadStatic] static int _inferenceDepth;

    public static bool IsEnabled
    {
        get => !_disabled;
        set => _disabled = !value;
    }

    public static bool IsInferenceMode => _inferenceDepth > 0;

    internal static void EnterInference() => _inferenceDepth++;

    internal static void ExitInference() => _inferenceDepth--;

    /// <summary>Turns inference mode off (inference_mode(false)) and returns the depth to restore.</summary>
    internal static int SuspendInference()
    {
        int depth = _inferenceDepth;
        _inferenceDepth = 0;
        return depth;
    }

    internal static void RestoreInference(int depth) => _inferenceDepth = depth;
}

/// <summary>
/// A scope that sets grad mode and restores the previous mode when disposed
/// (<c>using (torch.no_grad()) { ... }</c>).
/// </summary>
public sealed class GradModeScope : IDisposable
{
    readonly bool _previous;
    readonly bool _inference;
    readonly int _suspendedDepth = -1;
    bool _disposed;

    internal GradModeScope(bool enabled, bool inference = false, bool suspendInference = false)
    {
        _previous = GradMode.IsEnabled;
        _inference = inference;
        GradMode.IsEnabled = enabled;
        if (inference) GradMode.EnterInference();
        if (suspendInference) _suspendedDepth = GradMode.SuspendInference();
    }

    /// <summary>Restores the grad mode that was in force when the scope was created.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        GradMode.IsEnabled = _previous;
        if (_inference) GradMode.ExitInference();
        if (_suspendedDepth >= 0) GradMode.RestoreInference(_suspendedDepth);
    }
}
