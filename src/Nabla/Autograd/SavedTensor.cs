namespace Nabla.Autograd;

/// <summary>
/// A tensor saved by a node for its backward, with the version it had when saved. Unpacking after release or
/// after an in-place change raises PyTorch's errors.
/// </summary>
internal struct SavedTensor
{
    Tensor? _tensor;
    int _version;
    bool _wasSaved;
    bool _isOutput;
    string? _outputOf;
    int _outputNr;

    public const string SecondBackwardMessage =
        "Trying to backward through the graph a second time (or directly access saved tensors after they have " +
        "already been freed). Saved intermediate values of the graph are freed when you call .backward() or " +
        "autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or if " +
        "you need to access saved tensors after calling backward.";

    /// <summary>Saves <paramref name="tensor"/>; <paramref name="isOutput"/> when it is an output of the saving node.</summary>
    public SavedTensor(Tensor tensor, bool isOutput = false)
    {
        if (tensor._isInference && !GradMode.IsInferenceMode)
            throw new InvalidOperationException(
                "Inference tensors cannot be saved for backward. To work around you can make a clone to get a normal tensor and use it in autograd.");
        _tensor = tensor;
        _version = tensor._storage.Version;
        _wasSaved = true;
        _isOutput = isOutput;
        _outputOf = isOutput ? null : tensor._gradFn?.name();
        _outputNr = tensor._outputNr;
    }

    /// <summary>The saved tensor, checked. <paramref name="owner"/> names the node in the error when an output was saved.</summary>
    public readonly Tensor Unpack(Node? owner = null)
    {
        if (_tensor is null)
        {
            if (_wasSaved) throw new InvalidOperationException(SecondBackwardMessage);
            throw new InvalidOperationException("saved tensor is undefined");
        }
        int current = _tensor._storage.Version;
        if (current != _version)
        {
            string what = $"[{_tensor._dtype.LegacyTypeName()} {ShapeUtil.Format(_tensor._shape)}]";
            string? producer = _isOutput ? owner?.name() : _outputOf;
            if (producer is not null) what += $", which is output {_outputNr} of {producer},";
            throw new InvalidOperationException(
                "one of the variables needed for gradient computation has been modified by an inplace operation: " +
                $"{what} is at version {current}; expected version {_version} instead. Hint: enable anomaly detection " +
                "to find the operation that failed to compute its gradient, with torch.autograd.set_detect_anomaly(True).");
        }
        return _tensor;
    }

    public void Release() => _tensor = null;
}
