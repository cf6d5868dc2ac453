namespace Nabla;

public static partial class torch
{
    public static partial class nn
    {
        /// <summary>Gradient clipping and parameter/vector conversion (<c>torch.nn.utils</c>).</summary>
        public static class utils
        {
            /// <summary>
            /// Scales the gradients in place so that their total norm (of all gradients as one vector) is at most
            /// <paramref name="max_norm"/>: g *= min(1, max_norm / (norm + 1e-6)). Returns the total norm before clipping.
            /// </summary>
            /// <param name="parameters">The parameters whose .grad to clip (those without one are skipped).</param>
            /// <param name="max_norm">Largest allowed norm.</param>
            /// <param name="norm_type">p of the p-norm (double.PositiveInfinity for the max norm).</param>
            /// <param name="error_if_nonfinite">Throw when the total norm is NaN or infinite.</param>
            /// <exception cref="InvalidOperationException">The norm is not finite and <paramref name="error_if_nonfinite"/>.</exception>
            public static Tensor clip_grad_norm_(IEnumerable<Tensor> parameters, double max_norm, double norm_type = 2.0, bool error_if_nonfinite = false)
            {
                var grads = parameters.Select(p => p.grad).Where(g => g is not null).Select(g => g!).ToList();
                if (grads.Count == 0) return torch.tensor(0.0f);
                using var _ = torch.no_grad();
                Tensor total;
                if (double.IsPositiveInfinity(norm_type))
                {
                    var norms = grads.Select(g => g.detach().abs().max()).ToArray();
                    total = norms.Length == 1 ? norms[0] : torch.stack(norms).max();
                }
                else total = torch.stack(grads.Select(g => g.detach().norm(norm_type)).ToArray()).norm(norm_type);
                if (error_if_nonfinite && !double.IsFinite(total.ToDouble()))
                    throw new InvalidOperationException($"The total norm of order {functional.PyFloat(norm_type)} for gradients from `parameters` is non-finite, so it cannot be clipped. To disable this error and scale the gradients by the non-finite norm anyway, set `error_if_nonfinite=False`");
                var coef = (max_norm / (total + 1e-6)).clamp(max: 1.0);
                foreach (var g in grads) g.detach().mul_(coef);
                return total;
            }

            /// <summary>Clamps every gradient in place to [-clip_value, clip_value].</summary>
            public static void clip_grad_value_(IEnumerable<Tensor> parameters, double clip_value)
            {
                using var _ = torch.no_grad();
                foreach (var p in parameters)
                    if (p.grad is { } g) g.detach().clamp_(-clip_value, clip_value);
            }

            /// <summary>All parameters flattened and concatenated into one vector.</summary>
            public static Tensor parameters_to_vector(IEnumerable<Tensor> parameters) =>
                torch.cat(parameters.Select(p => p.view(-1)).ToArray());

            /// <summary>Copies consecutive slices of <paramref name="vec"/> into the parameters (in place, not recorded).</summary>
            /// <exception cref="ArgumentException">The vector's length differs from the parameters' total size.</exception>
            public static void vector_to_parameters(Tensor vec, IEnumerable<Tensor> parameters)
            {
                var list = parameters.ToList();
                long total = list.Sum(p => p.numel());
                if (vec.dim() != 1) throw new ArgumentException($"expected torch.Tensor, but got: {vec.dim()}-d tensor");
                if (vec.numel() != total) throw new ArgumentException($"vector has {vec.numel()} elements, the parameters {total}");
                long offset = 0;
                using var _ = torch.no_grad();
                foreach (var p in list)
                {
                    long n = p.numel();
                    p.copy_(vec.narrow(0, offset, n).view_as(p));
                    offset += n;
                }
            }
        }
    }
}
