using Nabla.Ops;

namespace Nabla;

public static partial class torch
{
    public static partial class nn
    {
        public static partial class functional
        {
            /// <summary>max(x, 0) elementwise (ReluBackward0); in place when <paramref name="inplace"/>.</summary>
            public static Tensor relu(Tensor input, bool inplace = false) => inplace ? input.relu_() : input.relu();

            /// <summary>1 / (1 + e^-x) elementwise (SigmoidBackward0).</summary>
            public static Tensor sigmoid(Tensor input) => input.sigmoid();

            /// <summary>tanh(x) elementwise (TanhBackward0).</summary>
            public static Tensor tanh(Tensor input) => input.tanh();

            /// <summary>exp(x) / sum(exp(x)) along <paramref name="dim"/>, computed stably (SoftmaxBackward0).</summary>
            /// <param name="input">Any floating-point tensor.</param>
            /// <param name="dim">The dim to normalise over (negative counts from the end).</param>
            /// <param name="dtype">If given, the input is converted to it first.</param>
            public static Tensor softmax(Tensor input, long dim, ScalarType? dtype = null) => input.softmax(dim, dtype);

            /// <summary>x - log(sum(exp(x))) along <paramref name="dim"/>, computed stably (LogSoftmaxBackward0).</summary>
            /// <param name="input">Any floating-point tensor.</param>
            /// <param name="dim">The dim to normalise over (negative counts from the end).</param>
            /// <param name="dtype">If given, the input is converted to it first.</param>
            public static Tensor log_softmax(Tensor input, long dim, ScalarType? dtype = null) => input.log_softmax(dim, dtype);

            /// <summary>
            /// input @ weight^T + bias, as PyTorch records it: a 2-D input with bias is one addmm (AddmmBackward0 with
            /// edges bias, input, weight^T); without bias a mm (MmBackward0); a contiguous 3-D input with bias is folded
            /// to 2-D and viewed back (ViewBackward0 over AddmmBackward0); other ranks use matmul (+ bias).
            /// </summary>
            /// <param name="input">(*, in_features).</param>
            /// <param name="weight">(out_features, in_features).</param>
            /// <param name="bias">Optional (out_features).</param>
            public static Tensor linear(Tensor input, Tensor weight, Tensor? bias = null)
            {
                if (input._shape.Length == 2 && bias is not null) return Linalg.Addmm(bias, input, weight.t(), 1, 1);
                if (input._shape.Length == 2) return input.mm(weight.t());
                if (input._shape.Length == 3 && bias is not null && input.is_contiguous())
                {
                    long b0 = input._shape[0], b1 = input._shape[1];
                    var folded = Linalg.Addmm(bias, input.view(-1, input._shape[2]), weight.t(), 1, 1);
                    return folded.view(b0, b1, folded._shape[1]);
                }
                var output = input.matmul(weight.t());
                return bias is null ? output : output + bias;
            }

            /// <summary>
            /// Zeroes each element with probability <paramref name="p"/> and scales the rest by 1 / (1 - p) while
            /// <paramref name="training"/>; returns the input itself when p is 0 or not training. Recorded as
            /// MulBackward0 (input times a scaled Bernoulli mask), as PyTorch's CPU path.
            /// </summary>
            /// <param name="input">Any floating-point tensor.</param>
            /// <param name="p">Probability of an element being zeroed, in [0, 1].</param>
            /// <param name="training">Apply dropout (true) or return the input (false).</param>
            /// <param name="inplace">Multiply the input in place.</param>
            /// <exception cref="ArgumentException"><paramref name="p"/> is outside [0, 1].</exception>
            public static Tensor dropout(Tensor input, double p = 0.5, bool training = true, bool inplace = false)
            {
                if (p < 0 || p > 1)
                    throw new ArgumentException($"dropout probability has to be between 0 and 1, but got {PyFloat(p)}");
                if (p == 0 || !training || input.numel() == 0) return input;
                Tensor noise;
                if (p == 1) noise = torch.zeros(System.Array.Empty<long>(), input.dtype, device: input.device);
                else
                {
                    noise = torch.empty(input.shape, input.dtype, device: input.device);
                    using (torch.no_grad())
                    {
                        noise.bernoulli_(1 - p);
                        noise.div_(1 - p);
                    }
                }
                return inplace ? input.mul_(noise) : input * noise;
            }

            /// <summary>Python's repr of a float (for messages copied from PyTorch): 1.0, 0.5, 1e-05.</summary>
            internal static string PyFloat(double v)
            {
                if (double.IsNaN(v)) return "nan";
                if (double.IsInfinity(v)) return v > 0 ? "inf" : "-inf";
                if (v == Math.Floor(v) && Math.Abs(v) < 1e16) return v.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture);
                var s = v.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
                int e = s.IndexOf('E');
                if (e < 0) return s;
                var exponent = int.Parse(s[(e + 1)..], System.Globalization.CultureInfo.InvariantCulture);
                return s[..e] + "e" + (exponent < 0 ? "-" : "+") + Math.Abs(exponent).ToString("00", System.Globalization.CultureInfo.InvariantCulture);
            }

            static long[] Pair(long[]? v, long fallback, string name)
            {
                if (v is null) return new[] { fallback, fallback };
                if (v.Length == 1) return new[] { v[0], v[0] };
                if (v.Length != 2) throw new ArgumentException($"{name} must be an int or a pair of ints, got {v.Length} values");
                return v;
            }

            /// <summary>2-D convolution (cross-correlation) of (N, C_in, H, W) by (C_out, C_in / groups, kH, kW).</summary>
            /// <param name="input">(N, C_in, H, W) or unbatched (C_in, H, W).</param>
            /// <param name="weight">(C_out, C_in / groups, kH, kW).</param>
            /// <param name="bias">Optional (C_out).</param>
            /// <param name="stride">One value or (sH, sW); default 1.</param>
            /// <param name="padding">Zero padding, one value or (pH, pW); default 0.</param>
            /// <param name="dilation">One value or (dH, dW); default 1.</param>
            /// <param name="groups">Number of blocked connections from input to output channels.</param>
            public static Tensor conv2d(Tensor input, Tensor weight, Tensor? bias = null, long[]? stride = null, long[]? padding = null, long[]? dilation = null, long groups = 1) =>
                Conv.Conv2d(input, weight, bias, Pair(stride, 1, "stride"), Pair(padding, 0, "padding"), Pair(dilation, 1, "dilation"), groups);

            /// <summary>2-D max pooling over (N, C, H, W) windows.</summary>
            /// <param name="input">(N, C, H, W) or (C, H, W).</param>
            /// <param name="kernel_size">Window, one value or (kH, kW).</param>
            /// <param name="stride">Default: the kernel size.</param>
            /// <param name="padding">Implicit -inf padding on both sides; default 0.</param>
            /// <param name="dilation">Spacing between window elements; default 1.</param>
            /// <param name="ceil_mode">Use ceil instead of floor for the output size.</param>
            public static Tensor max_pool2d(Tensor input, long[] kernel_size, long[]? stride = null, long[]? padding = null, long[]? dilation = null, bool ceil_mode = false)
            {
                var k = Pair(kernel_size, 1, "kernel_size");
                return Pool.MaxPool2d(input, k, stride is null || stride.Length == 0 ? k : Pair(stride, 1, "stride"), Pair(padding, 0, "padding"), Pair(dilation, 1, "dilation"), ceil_mode);
            }

            /// <summary>2-D average pooling over (N, C, H, W) windows.</summary>
            /// <param name="input">(N, C, H, W) or (C, H, W).</param>
            /// <param name="kernel_size">Window, one value or (kH, kW).</param>
            /// <param name="stride">Default: the kernel size.</param>
            /// <param name="padding">Implicit zero padding on both sides; default 0.</param>
            /// <param name="ceil_mode">Use ceil instead of floor for the output size.</param>
            /// <param name="count_include_pad">Count the zero padding in the averaging denominator.</param>
            public static Tensor avg_pool2d(Tensor input, long[] kernel_size, long[]? stride = null, long[]? padding = null, bool ceil_mode = false, bool count_include_pad = true)
            {
                var k = Pair(kernel_size, 1, "kernel_size");
                return Pool.AvgPool2d(input, k, stride is null || stride.Length == 0 ? k : Pair(stride, 1, "stride"), Pair(padding, 0, "padding"), ceil_mode, count_include_pad);
            }

            /// <summary>2-D average pooling to a fixed output size (H_out, W_out), whatever the input size.</summary>
            /// <param name="input">(N, C, H, W) or (C, H, W).</param>
            /// <param name="output_size">One value or (H_out, W_out).</param>
            public static Tensor adaptive_avg_pool2d(Tensor input, long[] output_size) =>
                Pool.AdaptiveAvgPool2d(input, Pair(output_size, 1, "output_size"));

            /// <summary>
            /// Batch normalisation over dim 1: (x - mean) / sqrt(var + eps) * weight + bias, with batch statistics while
            /// <paramref name="training"/> (updating the running statistics by <paramref name="momentum"/>), the running
            /// statistics otherwise.
            /// </summary>
            /// <param name="input">(N, C, ...).</param>
            /// <param name="running_mean">(C) running mean, updated in place when training; may be null.</param>
            /// <param name="running_var">(C) running (unbiased) variance, updated in place when training; may be null.</param>
            /// <param name="weight">Optional (C) scale.</param>
            /// <param name="bias">Optional (C) shift.</param>
            /// <param name="training">Use batch statistics.</param>
            /// <param name="momentum">Running-statistics update factor.</param>
            /// <param name="eps">Added to the variance for stability.</param>
            public static Tensor batch_norm(Tensor input, Tensor? running_mean, Tensor? running_var, Tensor? weight = null, Tensor? bias = null, bool training = false, double momentum = 0.1, double eps = 1e-5) =>
                Norm.BatchNorm(input, running_mean, running_var, weight, bias, training, momentum, eps);
        }
    }
}
