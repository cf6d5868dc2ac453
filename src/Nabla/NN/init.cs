namespace Nabla;

public static partial class torch
{
    public static partial class nn
    {
        /// <summary>
        /// Parameter initialisers (<c>torch.nn.init</c>): each fills its tensor in place without recording and returns
        /// it, drawing from the default generator in PyTorch's order (so <c>manual_seed</c> reproduces PyTorch's values).
        /// </summary>
        public static class init
        {
            /// <summary>The recommended gain for a nonlinearity: linear/conv/sigmoid 1, tanh 5/3, relu √2, leaky_relu √(2/(1+slope²)), selu 3/4.</summary>
            /// <param name="nonlinearity">The function's name as PyTorch spells it.</param>
            /// <param name="param">The negative slope of leaky_relu (default 0.01).</param>
            /// <exception cref="ArgumentException">An unknown nonlinearity.</exception>
            public static double calculate_gain(string nonlinearity, double? param = null) => nonlinearity switch
            {
                "linear" or "conv1d" or "conv2d" or "conv3d" or "conv_transpose1d" or "conv_transpose2d" or "conv_transpose3d" or "sigmoid" => 1,
                "tanh" => 5.0 / 3,
                "relu" => Math.Sqrt(2.0),
                "leaky_relu" => Math.Sqrt(2.0 / (1 + (param ?? 0.01) * (param ?? 0.01))),
                "selu" => 3.0 / 4,
                _ => throw new ArgumentException($"Unsupported nonlinearity {nonlinearity}"),
            };

            /// <summary>(fan_in, fan_out) of a weight: size(1) and size(0) times the receptive field (the product of the other dims).</summary>
            /// <exception cref="ArgumentException">Fewer than 2 dims.</exception>
            public static (long fan_in, long fan_out) _calculate_fan_in_and_fan_out(Tensor tensor)
            {
                if (tensor._shape.Length < 2)
                    throw new ArgumentException("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions");
                long receptive = 1;
                for (int i = 2; i < tensor._shape.Length; i++) receptive *= tensor._shape[i];
                return (tensor._shape[1] * receptive, tensor._shape[0] * receptive);
            }

            static long CorrectFan(Tensor tensor, string mode)
            {
                if (mode != "fan_in" && mode != "fan_out")
                    throw new ArgumentException($"Mode {mode} not supported, please use one of fan_in, fan_out");
                var (fanIn, fanOut) = _calculate_fan_in_and_fan_out(tensor);
                return mode == "fan_in" ? fanIn : fanOut;
            }

            static bool IsEmpty(Tensor tensor)
            {
                if (tensor.numel() != 0) return false;
                Warnings.Warn("Initializing zero-element tensors is a no-op");
                return true;
            }

            /// <summary>Fills with samples of U(a, b).</summary>
            public static Tensor uniform_(Tensor tensor, double a = 0, double b = 1, Generator? generator = null)
            {
                using (no_grad()) return tensor.uniform_(a, b, generator);
            }

            /// <summary>Fills with samples of N(mean, std²).</summary>
            public static Tensor normal_(Tensor tensor, double mean = 0, double std = 1, Generator? generator = null)
            {
                using (no_grad()) return tensor.normal_(mean, std, generator);
            }

            /// <summary>Fills with <paramref name="val"/>.</summary>
            public static Tensor constant_(Tensor tensor, double val)
            {
                using (no_grad()) return tensor.fill_(val);
            }

            /// <summary>Fills with ones.</summary>
            public static Tensor ones_(Tensor tensor) => constant_(tensor, 1);

            /// <summary>Fills with zeros.</summary>
            public static Tensor zeros_(Tensor tensor) => constant_(tensor, 0);

            /// <summary>
            /// He (Kaiming) uniform: U(-bound, bound) with bound = gain · √(3 / fan), gain from
            /// <see cref="calculate_gain"/>(<paramref name="nonlinearity"/>, <paramref name="a"/>).
            /// </summary>
            /// <param name="tensor">A tensor with at least 2 dims.</param>
            /// <param name="a">Negative slope of the rectifier after this layer (leaky_relu only).</param>
            /// <param name="mode">"fan_in" (default) preserves the forward variance, "fan_out" the backward one.</param>
            /// <param name="nonlinearity">"leaky_relu" (default) or "relu" etc.</param>
            /// <param name="generator">Optional generator (default: the global one).</param>
            public static Tensor kaiming_uniform_(Tensor tensor, double a = 0, string mode = "fan_in", string nonlinearity = "leaky_relu", Generator? generator = null)
            {
                if (IsEmpty(tensor)) return tensor;
                long fan = CorrectFan(tensor, mode);
                double std = calculate_gain(nonlinearity, a) / Math.Sqrt(fan);
                double bound = Math.Sqrt(3.0) * std;
                return uniform_(tensor, -bound, bound, generator);
            }

            /// <summary>He (Kaiming) normal: N(0, std²) with std = gain / √fan.</summary>
            /// <param name="tensor">A tensor with at least 2 dims.</param>
            /// <param name="a">Negative slope of the rectifier after this layer (leaky_relu only).</param>
            /// <param name="mode">"fan_in" (default) or "fan_out".</param>
            /// <param name="nonlinearity">"leaky_relu" (default) or "relu" etc.</param>
            /// <param name="generator">Optional generator (default: the global one).</param>
            public static Tensor kaiming_normal_(Tensor tensor, double a = 0, string mode = "fan_in", string nonlinearity = "leaky_relu", Generator? generator = null)
            {
                if (IsEmpty(tensor)) return tensor;
                long fan = CorrectFan(tensor, mode);
                double std = calculate_gain(nonlinearity, a) / Math.Sqrt(fan);
                return normal_(tensor, 0, std, generator);
            }

            /// <summary>Glorot (Xavier) uniform: U(-a, a) with a = gain · √(6 / (fan_in + fan_out)).</summary>
            public static Tensor xavier_uniform_(Tensor tensor, double gain = 1, Generator? generator = null)
            {
                var (fanIn, fanOut) = _calculate_fan_in_and_fan_out(tensor);
                double std = gain * Math.Sqrt(2.0 / (fanIn + fanOut));
                double a = Math.Sqrt(3.0) * std;
                return uniform_(tensor, -a, a, generator);
            }

            /// <summary>Glorot (Xavier) normal: N(0, std²) with std = gain · √(2 / (fan_in + fan_out)).</summary>
            public static Tensor xavier_normal_(Tensor tensor, double gain = 1, Generator? generator = null)
            {
                var (fanIn, fanOut) = _calculate_fan_in_and_fan_out(tensor);
                double std = gain * Math.Sqrt(2.0 / (fanIn + fanOut));
                return normal_(tensor, 0, std, generator);
            }
        }
    }
}
