namespace Nabla.Backends;

/// <summary>
/// The sliding window of a 2-D convolution or pooling: kernel size, stride, padding (each side) and dilation, per
/// spatial dim (height, width). Input and output plane sizes come from the operands' last two dims.
/// </summary>
internal readonly record struct SlidingWindow(int KH, int KW, int SH, int SW, int PH, int PW, int DH, int DW);

// The convolution primitives (Note [The backend wall]): PyTorch's convolution forward and the two halves of
// convolution_backward. The bias gradient is a sum over (N, H, W) and stays a composite reduction above the wall.
internal abstract partial class Backend
{
    /// <summary>
    /// y = conv2d(x, w) + bias: x (N, C, H, W), w (O, C/groups, KH, KW), bias (O) or none, y (N, O, OH, OW) dense and
    /// of x's dtype (float or integer). Inputs may have any strides. Zero input channels give the bias (or zero).
    /// </summary>
    public abstract void ConvForward(in Operand y, in Operand x, in Operand w, Operand? bias, in SlidingWindow window, int groups);

    /// <summary>
    /// gx = the gradient of conv2d with respect to its input: gy (N, O, OH, OW) and w (O, C/groups, KH, KW) of gx's
    /// float dtype, gx (N, C, H, W) dense, overwritten.
    /// </summary>
    public abstract void ConvBackwardInput(in Operand gx, in Operand gy, in Operand w, in SlidingWindow window, int groups);

    /// <summary>
    /// gw = the gradient of conv2d with respect to its weight: x (N, C, H, W) and gy (N, O, OH, OW) of gw's float
    /// dtype, gw (O, C/groups, KH, KW) dense, overwritten.
    /// </summary>
    public abstract void ConvBackwardWeight(in Operand gw, in Operand x, in Operand gy, in SlidingWindow window, int groups);
}
