namespace Nabla.Backends;

// The pooling primitives (Note [The backend wall]): forward and backward of max, average and adaptive average 2-D
// pooling over the last two dims of (planes..., H, W) operands. Backward primitives add into their destination (the
// op zero-fills it), as PyTorch's scatter-style pooling backward kernels do.
internal abstract partial class Backend
{
    /// <summary>
    /// y = the maximum of x over each window, indices (int64) = the flat h*W+w position of that maximum in its plane
    /// (the first one wins; NaN propagates). x (..., H, W) of y's float dtype, any strides; y and indices dense.
    /// </summary>
    public abstract void MaxPool2d(in Operand y, in Operand indices, in Operand x, in SlidingWindow window);

    /// <summary>gx[plane, indices[plane, o]] += gy[plane, o]: the backward of max pooling (gx dense, gy of its dtype).</summary>
    public abstract void MaxPool2dBackward(in Operand gx, in Operand gy, in Operand indices);

    /// <summary>
    /// y = the window sum of x divided by the window size (with or without the padding, per
    /// <paramref name="countIncludePad"/>); float or int64 (truncating division). y dense.
    /// </summary>
    public abstract void AvgPool2d(in Operand y, in Operand x, in SlidingWindow window, bool countIncludePad);

    /// <summary>gx[window] += gy / window size: the backward of <see cref="AvgPool2d"/> (gx dense, float).</summary>
    public abstract void AvgPool2dBackward(in Operand gx, in Operand gy, in SlidingWindow window, bool countIncludePad);

    /// <summary>
    /// y (..., OH, OW) = the mean of x (..., H, W) over rows [floor(i*H/OH), ceil((i+1)*H/OH)) and the same for columns
    /// (adaptive average pooling; float). y dense.
    /// </summary>
    public abstract void AdaptiveAvgPool2d(in Operand y, in Operand x);

    /// <summary>gx[window] += gy / window area: the backward of <see cref="AdaptiveAvgPool2d"/> (gx dense, float).</summary>
    public abstract void AdaptiveAvgPool2dBackward(in Operand gx, in Operand gy);
}
