using Nabla.Autograd;


namespace Nabla
{
    public static partial class torch
    {
        public static partial class autograd
        {
            // Note [Gradcheck]
            // PyTorch's slow-mode gradcheck (torch/autograd/gradcheck.py, 1.13). For every differentiable output o and
            // every input x requiring grad, two Jacobians of shape (x.numel(), o.numel()) are built: the numerical one
            // by central differences, perturbing x's storage element by element in row-major order (without bumping
            // its version, as PyTorch perturbs x.data), and the analytical one row by row, calling autograd.grad with a
            // one-hot grad_output for each element of o. They must satisfy |a - n| <= atol + rtol * |n| (allclose).
            // Backward is also run twice to check it is reentrant, and once with a zero grad_output to check that
            // the result is multiplied by it. gradgradcheck runs gradcheck on (inputs, v) -> autograd.grad(f(inputs),
            // inputs, v, create_graph: true), with v random like PyTorch's (randn from the global generator).

            /// <summary>
            /// Checks the gradients computed by backward for <paramref name="fn"/> against finite differences in the
            /// inputs that require grad, as <c>torch.autograd.gradcheck</c> (slow mode). Use float64 inputs: other
            /// dtypes warn and usually fail.
            /// </summary>
            /// <param name="fn">The function to check; it receives <paramref name="inputs"/>.</param>
            /// <param name="inputs">The inputs; those with <c>requires_grad</c> are differentiated.</param>
            /// <param name="eps">Perturbation of the central differences.</param>
            /// <param name="atol">Absolute tolerance.</param>
            /// <param name="rtol">Relative tolerance (relative to the numerical value).</param>
            /// <param name="raise_exception">Throw <see cref="GradcheckError"/> on failure (else return false).</param>
            /// <returns>True when every Jacobian matches.</returns>
            /// <exception cref="GradcheckError">A check failed and <paramref name="raise_exception"/> is set; the message
            /// starts <c>Jacobian mismatch for output i with respect to input j,</c> as PyTorch's.</exception>
            /// <param name="nondet_tol">Tolerance for nondeterminism between two backward passes.</param>
            /// <param name="fast_mode">Check v^T J u for random u, v instead of whole Jacobians.</param>
            public static bool gradcheck(Func<Tensor[], Tensor> fn, Tensor[] inputs, double eps = 1e-6, double atol = 1e-5,
                double rtol = 1e-3, bool raise_exception = true, double nondet_tol = 0.0, bool fast_mode = false) =>
                gradcheck(args => new[] { fn(args) }, inputs, eps, atol, rtol, raise_exception, nondet_tol, fast_mode);

            /// <summary>
            /// <see cref="gradcheck(Func{Tensor[], Tensor}, Tensor[], double, double, double, bool, double, bool)"/> for a function
            /// with several outputs (outputs that do not require grad must have a zero numerical Jacobian).
            /// </summary>
            /// <param name="fn">The function to check; it receives <paramref name="inputs"/>.</param>
            /// <param name="inputs">The inputs; those with <c>requires_grad</c> are differentiated.</param>
            /// <param name="eps">Perturbation of the central differences.</param>
            /// <param name="atol">Absolute tolerance.</param>
            /// <param name="rtol">Relative tolerance (relative to the numerical value).</param>
            /// <param name="raise_exception">Throw <see cref="GradcheckError"/> on failure (else return false).</param>
            /// <param name="nondet_tol">Tolerance for nondeterminism: how far two backward passes with the same
            /// grad_output may differ (0: bitwise equal).</param>
            /// <param name="fast_mode">PyTorch's fast mode: compare v^T J u for random unit vectors u, v (one directional
            /// derivative per input, one backward per output) instead of whole Jacobians.</param>
            /// <returns>True when every Jacobian matches.</returns>
            public static bool gradcheck(Func<Tensor[], Tensor[]> fn, Tensor[] inputs, double eps = 1e-6, double atol = 1e-5,
                double rtol = 1e-3, bool raise_exception = true, double nondet_tol = 0.0, bool fast_mode = false)
            {
                try
                {
                    if (fast_mode) GradCheck.RunFast(fn, inputs, eps, atol, rtol, nondet_tol);
                    else GradCheck.Run(fn, inputs, eps, atol, rtol, nondet_tol);
                    return true;
                }
                catch (GradcheckError) when (!raise_exception)
                {
                    return false;
                }
            }

            /// <summary>
            /// Checks second derivatives, as <c>torch.autograd.gradgradcheck</c>: runs <see cref="gradcheck(Func{Tensor[], Tensor[]}, Tensor[], double, double, double, bool, double, bool)"/>
            /// on the function <c>(inputs, v) -> autograd.grad(fn(inputs), inputs, v, create_graph: true)</c>, so the
            /// gradient of (gradient · v) is compared with finite differences, with respect to the inputs and to v.
            /// </summary>
            /// <param name="fn">The function to check; it receives <paramref name="inputs"/>.</param>
            /// <param name="inputs">The inputs; those with <c>requires_grad</c> are differentiated.</param>
            /// <param name="grad_outputs">The vector v (one per output); random normal (global generator) when null.</param>
            /// <param name="eps">Perturbation of the central differences.</param>
            /// <param name="atol">Absolute tolerance.</param>
            /// <param name="rtol">Relative tolerance (relative to the numerical value).</param>
            /// <param name="raise_exception">Throw <see cref="GradcheckError"/> on failure (else return false).</param>
            /// <param name="nondet_tol">Tolerance for nondeterminism between two backward passes.</param>
            /// <param name="fast_mode">Check v^T J u for random u, v instead of whole Jacobians.</param>
            /// <returns>True when every second-order Jacobian matches.</returns>
            public static bool gradgradcheck(Func<Tensor[], Tensor> fn, Tensor[] inputs, Tensor[]? grad_outputs = null,
                double eps = 1e-6, double atol = 1e-5, double rtol = 1e-3, bool raise_exception = true, double nondet_tol = 0.0,
                bool fast_mode = false) =>
                gradgradcheck(args => new[] { fn(args) }, inputs, grad_outputs, eps, atol, rtol, raise_exception, nondet_tol, fast_mode);

            /// <summary>
            /// <see cref="gradgradcheck(Func{Tensor[], Tensor}, Tensor[], Tensor[], double, double, double, bool, double, bool)"/> for a
            /// function with several outputs.
            /// </summary>
            /// <param name="fn">The function to check; it receives <paramref name="inputs"/>.</param>
            /// <param name="inputs">The inputs; those with <c>requires_grad</c> are differentiated.</param>
            /// <param name="grad_outputs">The vector v (one per output); random normal (global generator) when null.</param>
            /// <param name="eps">Perturbation of the central differences.</param>
            /// <param name="atol">Absolute tolerance.</param>
            /// <param name="rtol">Relative tolerance (relative to the numerical value).</param>
            /// <param name="raise_exception">Throw <see cref="GradcheckError"/> on failure (else return false).</param>
            /// <param name="nondet_tol">Tolerance for nondeterminism between two backward passes.</param>
            /// <param name="fast_mode">Check v^T J u for random u, v instead of whole Jacobians.</param>
            /// <returns>True when every second-order Jacobian matches.</returns>
            public static bool gradgradcheck(Func<Tensor[], Tensor[]> fn, Tensor[] inputs, Tensor[]? grad_outputs = null,
                double eps = 1e-6, double atol = 1e-5, double rtol = 1e-3, bool raise_exception = true, double nondet_tol = 0.0,
                bool fast_mode = false)
            {
                Tensor[] v;
                if (grad_outputs is null)
                {
                    var outputs = fn(inputs);
                    v = new Tensor[outputs.Length];
                    for (int i = 0; i < outputs.Length; i++)
                    {
                        var dtype = outputs[i].is_floating_point() ? outputs[i].dtype : ScalarType.Float64;
                        v[i] = torch.randn(outputs[i].shape, dtype).requires_grad_();
                    }
                }
                else
                {
                    v = grad_outputs;
                }
                int numInputs = inputs.Length, numOutputs = v.Length;
                var diffInputs = new bool[numInputs];
                for (int i = 0; i < numInputs; i++) diffInputs[i] = inputs[i].requires_grad;

                Tensor[] GradOfGrad(Tensor[] args)
                {
                    var diff = new List<Tensor>();
                    for (int i = 0; i < numInputs; i++)
                        if (diffInputs[i]) diff.Add(args[i]);
                    var outs = fn(args[..numInputs]);
                    var differentiable = new List<Tensor>();
                    var gouts = new List<Tensor?>();
                    for (int i = 0; i < outs.Length; i++)
                    {
                        if (!outs[i].requires_grad) continue;
                        differentiable.Add(outs[i]);
                        gouts.Add(args[numInputs + i]);
                    }
                    var grads = grad(differentiable, diff, gouts, create_graph: true, allow_unused: true);
                    var result = new List<Tensor>();
                    foreach (var g in grads)
                        if (g is not null) result.Add(g);
                    return result.ToArray();
                }

                var all = new Tensor[numInputs + numOutputs];
                inputs.CopyTo(all, 0);
                v.CopyTo(all, numInputs);
                return gradcheck(GradOfGrad, all, eps, atol, rtol, raise_exception, nondet_tol, fast_mode);
            }
        }
    }

    /// <summary>The error <c>gradcheck</c>/<c>gradgradcheck</c> raise when a check fails (a RuntimeError, as PyTorch's).</summary>
    public sealed class GradcheckError : InvalidOperationException
    {
        /// <summary>Creates the error with PyTorch's message.</summary>
        public GradcheckError(string message) : base(message)
        {
        }
    }
}

namespace Nabla.Autograd
{
    /// <summary>The slow-mode gradient checker behind <c>torch.autograd.gradcheck</c> (Note [Gradcheck]).</summary>
    internal static class GradCheck
    {
        public static void Run(Func<Tensor[], Tensor[]> fn, Tensor[] inputs, double eps, double atol, double rtol, double nondetTol)
        {
            var diffIndices = CheckInputs(inputs);
            var funcOut = fn(inputs);
            var outputs = new List<Tensor>();
            foreach (var o in funcOut)
                if (o.requires_grad) outputs.Add(o);

            // numerical[j][k]: Jacobian of output k (all outputs) with respect to differentiable input j.
            var numerical = new double[diffIndices.Length][][];
            for (int j = 0; j < diffIndices.Length; j++)
                numerical[j] = NumericalJacobian(fn, inputs, diffIndices[j], funcOut, eps);

            if (outputs.Count == 0)
            {
                foreach (var perInput in numerical)
                    foreach (var jac in perInput)
                        foreach (var value in jac)
                            if (value != 0) throw new GradcheckError("Numerical gradient for function expected to be zero");
                return;
            }

            var diffInputs = new Tensor[diffIndices.Length];
            for (int j = 0; j < diffIndices.Length; j++) diffInputs[j] = inputs[diffIndices[j]];

            for (int i = 0, k = 0; k < funcOut.Length; k++)
            {
                var o = funcOut[k];
                if (!o.requires_grad) continue;
                var first = AnalyticalJacobian(o, diffInputs, out bool sizesOk);
                var second = AnalyticalJacobian(o, diffInputs, out _);
                if (!sizesOk) throw new GradcheckError("Analytical gradient has incorrect size");
                for (int j = 0; j < diffInputs.Length; j++)
                    if (!WithinNondetTol(first[j], second[j], nondetTol)) throw NotReentrant(nondetTol);
                for (int j = 0; j < diffInputs.Length; j++)
                {
                    var a = first[j];
                    var n = numerical[j][k];
                    if (!AllClose(a, n, rtol, atol))
                    {
                        long rows = diffInputs[j].numel(), cols = o.numel();
                        var nt = torch.tensor(n, new[] { rows, cols }, o.dtype);
                        var at = torch.tensor(a, new[] { rows, cols }, diffInputs[j].dtype);
                        throw new GradcheckError(
                            $"Jacobian mismatch for output {i} with respect to input {j},\nnumerical:{nt}\nanalytical:{at}\n");
                    }
                }
                i++;
            }
            CheckBackwardMultipliesByGradOutput(outputs, diffInputs);
        }

        static bool WithinNondetTol(double[] a, double[] b, double tol)
        {
            for (int i = 0; i < a.Length; i++)
                if (!(Math.Abs(a[i] - b[i]) <= tol) && a[i] != b[i]) return false;
            return true;
        }

        static GradcheckError NotReentrant(double tol) => new(
            "Backward is not reentrant, i.e., running backward with same input and grad_output multiple times gives different values, although analytical gradient matches numerical gradient.The tolerance for nondeterminism was " +
            tol.ToString("0.0###############", System.Globalization.CultureInfo.InvariantCulture) + ".");

        // Note [Fast gradcheck]
        // PyTorch's fast mode (gradcheck.py, _fast_gradcheck): for each differentiable input j a random unit vector u_j
        // of its size and for each output k a random unit vector v_k. Numerically, the directional derivative
        // (f(x + eps u_j) - f(x - eps u_j)) / 2eps projected on v_k; analytically, autograd.grad(out_k, inputs, v_k)
        // projected on u_j. The two scalars v_k^T J_kj u_j must be allclose; backward is run twice (nondet_tol).
        public static void RunFast(Func<Tensor[], Tensor[]> fn, Tensor[] inputs, double eps, double atol, double rtol, double nondetTol)
        {
            var diffIndices = CheckInputs(inputs);
            var funcOut = fn(inputs);
            bool anyDiff = false;
            foreach (var o in funcOut) anyDiff |= o.requires_grad;
            if (!anyDiff)
            {
                Run(fn, inputs, eps, atol, rtol, nondetTol);   // only the zero numerical gradient is checked
                return;
            }
            var u = new double[diffIndices.Length][];
            for (int j = 0; j < u.Length; j++) u[j] = RandomUnit((int)inputs[diffIndices[j]].numel());
            var v = new double[funcOut.Length][];
            for (int k = 0; k < v.Length; k++) v[k] = RandomUnit((int)funcOut[k].numel());

            var numerical = new double[diffIndices.Length, funcOut.Length];
            for (int j = 0; j < diffIndices.Length; j++)
            {
                var x = inputs[diffIndices[j]];
                int n = (int)x.numel();
                var offsets = new int[n];
                var orig = new double[n];
                for (int r = 0; r < n; r++) { offsets[r] = StorageOffset(x, r); orig[r] = Read(x, offsets[r]); }
                for (int r = 0; r < n; r++) Write(x, offsets[r], orig[r] - eps * u[j][r]);
                var outA = Evaluate(fn, inputs);
                for (int r = 0; r < n; r++) Write(x, offsets[r], orig[r] + eps * u[j][r]);
                var outB = Evaluate(fn, inputs);
                for (int r = 0; r < n; r++) Write(x, offsets[r], orig[r]);
                if (outA.Length != funcOut.Length || outB.Length != funcOut.Length)
                    throw new GradcheckError("Expected `func` to return the same number of outputs when inputs are perturbed");
                for (int k = 0; k < funcOut.Length; k++)
                {
                    int cols = (int)funcOut[k].numel();
                    if (outA[k].Length != cols || outB[k].Length != cols)
                        throw new GradcheckError(
                            $"Expected `func` to return outputs with the same dtype and shape when inputs are perturbed by eps, but got: shapes {ShapeUtil.SizeString(funcOut[k]._shape)} differ.");
                    double dot = 0;
                    for (int c = 0; c < cols; c++) dot += v[k][c] * (outB[k][c] - outA[k][c]) / (2 * eps);
                    numerical[j, k] = dot;
                }
            }

            var diffInputs = new Tensor[diffIndices.Length];
            for (int j = 0; j < diffIndices.Length; j++) diffInputs[j] = inputs[diffIndices[j]];
            var outputs = new List<Tensor>();
            for (int i = 0, k = 0; k < funcOut.Length; k++)
            {
                var o = funcOut[k];
                if (!o.requires_grad)
                {
                    for (int j = 0; j < diffIndices.Length; j++)
                        if (numerical[j, k] != 0) throw new GradcheckError("Numerical gradient for function expected to be zero");
                    continue;
                }
                outputs.Add(o);
                var vk = torch.tensor(v[k], o.shape, o.dtype);
                var first = torch.autograd.grad(new[] { o }, diffInputs, new Tensor?[] { vk }, retain_graph: true, allow_unused: true);
                var second = torch.autograd.grad(new[] { o }, diffInputs, new Tensor?[] { vk }, retain_graph: true, allow_unused: true);
                for (int j = 0; j < diffInputs.Length; j++)
                {
                    var a1 = first[j]?.ToDoubleArray() ?? new double[diffInputs[j].numel()];
                    var a2 = second[j]?.ToDoubleArray() ?? new double[diffInputs[j].numel()];
                    if (a1.Length != u[j].Length) throw new GradcheckError("Analytical gradient has incorrect size");
                    if (!WithinNondetTol(a1, a2, nondetTol)) throw NotReentrant(nondetTol);
                    double analytical = 0;
                    for (int r = 0; r < a1.Length; r++) analytical += a1[r] * u[j][r];
                    double num = numerical[j, k];
                    if (!AllClose(new[] { analytical }, new[] { num }, rtol, atol))
                        throw new GradcheckError(
                            $"Jacobian mismatch for output {i} with respect to input {j},\nnumerical:{num}\nanalytical:{analytical}\n\n" +
                            "The above quantities relating the numerical and analytical jacobians are computed \nin fast mode. See: https://github.com/pytorch/pytorch/issues/53876 for more background \nabout fast mode.");
                }
                i++;
            }
            CheckBackwardMultipliesByGradOutput(outputs, diffInputs);
        }

        static double[] RandomUnit(int n)
        {
            var r = torch.rand(new long[] { n }, ScalarType.Float64).ToDoubleArray();
            double norm = 0;
            foreach (var x in r) norm += x * x;
            norm = Math.Sqrt(norm);
            if (norm > 0) for (int i = 0; i < r.Length; i++) r[i] /= norm;
            return r;
        }

        static int[] CheckInputs(Tensor[] inputs)
        {
            var indices = new List<int>();
            for (int idx = 0; idx < inputs.Length; idx++)
            {
                var t = inputs[idx];
                if (!t.requires_grad) continue;
                if (t.dtype != ScalarType.Float64)
                    Warnings.Warn(
                        $"Input #{idx} requires gradient and is not a double precision floating point or complex. This check will likely fail if all the inputs are not of double precision floating point or complex. ");
                for (int d = 0; d < t._shape.Length; d++)
                    if (t._strides[d] <= 0 && t._shape[d] > 1)
                        throw new InvalidOperationException(
                            $"The {idx}th input has a dimension with stride 0. gradcheck only supports inputs that are non-overlapping to be able to compute the numerical gradients correctly. You should call .contiguous on the input before passing it to gradcheck.");
                indices.Add(idx);
            }
            if (indices.Count == 0)
                throw new ArgumentException(
                    "gradcheck expects at least one input tensor to require gradient, but none of the them have requires_grad=True.");
            return indices.ToArray();
        }

        /// <summary>Central differences: for each output, a row-major (input.numel() x output.numel()) matrix.</summary>
        static double[][] NumericalJacobian(Func<Tensor[], Tensor[]> fn, Tensor[] inputs, int inputIndex, Tensor[] funcOut, double eps)
        {
            var x = inputs[inputIndex];
            int rows = (int)x.numel();
            var jacobians = new double[funcOut.Length][];
            for (int k = 0; k < funcOut.Length; k++) jacobians[k] = new double[rows * funcOut[k].numel()];
            for (int r = 0; r < rows; r++)
            {
                int offset = StorageOffset(x, r);
                double orig = Read(x, offset);
                Write(x, offset, orig - eps);
                var outA = Evaluate(fn, inputs);
                Write(x, offset, orig + eps);
                var outB = Evaluate(fn, inputs);
                Write(x, offset, orig);
                if (outA.Length != funcOut.Length || outB.Length != funcOut.Length)
                    throw new GradcheckError("Expected `func` to return the same number of outputs when inputs are perturbed");
                for (int k = 0; k < funcOut.Length; k++)
                {
                    var a = outA[k];
                    var b = outB[k];
                    int cols = (int)funcOut[k].numel();
                    if (a.Length != cols || b.Length != cols)
                        throw new GradcheckError(
                            $"Expected `func` to return outputs with the same dtype and shape when inputs are perturbed by eps, but got: shapes {ShapeUtil.SizeString(funcOut[k]._shape)} differ.");
                    var jac = jacobians[k];
                    for (int c = 0; c < cols; c++) jac[r * cols + c] = (b[c] - a[c]) / (2 * eps);
                }
            }
            return jacobians;
        }

        static double[][] Evaluate(Func<Tensor[], Tensor[]> fn, Tensor[] inputs)
        {
            var outs = fn(inputs);
            var values = new double[outs.Length][];
            for (int k = 0; k < outs.Length; k++) values[k] = outs[k].ToDoubleArray();
            return values;
        }

        /// <summary>Row by row: d(inputs)/d(output[c]) from autograd.grad with a one-hot grad_output at c.</summary>
        static double[][] AnalyticalJacobian(Tensor output, Tensor[] diffInputs, out bool sizesOk)
        {
            sizesOk = true;
            int cols = (int)output.numel();
            var jacobians = new double[diffInputs.Length][];
            for (int j = 0; j < diffInputs.Length; j++) jacobians[j] = new double[diffInputs[j].numel() * cols];
            var gradOut = torch.zeros(output.shape, output.dtype);
            for (int c = 0; c < cols; c++)
            {
                if (c > 0) gradOut.SetFlat(c - 1, 0);
                gradOut.SetFlat(c, 1);
                var grads = torch.autograd.grad(new[] { output }, diffInputs, new Tensor?[] { gradOut }, retain_graph: true, allow_unused: true);
                for (int j = 0; j < diffInputs.Length; j++)
                {
                    var g = grads[j];
                    if (g is null) continue;
                    if (g.numel() != diffInputs[j].numel())
                    {
                        sizesOk = false;
                        continue;
                    }
                    var values = g.ToDoubleArray();
                    var jac = jacobians[j];
                    for (int r = 0; r < values.Length; r++) jac[r * cols + c] = values[r];
                }
            }
            return jacobians;
        }

        static void CheckBackwardMultipliesByGradOutput(List<Tensor> outputs, Tensor[] diffInputs)
        {
            var zeros = new Tensor?[outputs.Count];
            for (int i = 0; i < zeros.Length; i++) zeros[i] = torch.zeros_like(outputs[i]);
            var grads = torch.autograd.grad(outputs, diffInputs, zeros, allow_unused: true);
            for (int j = 0; j < grads.Length; j++)
            {
                var gi = grads[j];
                if (gi is null) continue;
                foreach (var value in gi.ToDoubleArray())
                    if (value != 0) throw new GradcheckError("backward not multiplied by grad_output");
                var di = diffInputs[j];
                if (gi.dtype != di.dtype) throw new GradcheckError("grad is incorrect type");
                if (!Tensor.ShapesEqual(gi, di)) throw new GradcheckError("grad is incorrect size");
            }
        }

        /// <summary>allclose(analytical, numerical): |a - n| &lt;= atol + rtol * |n|, NaN never close.</summary>
        static bool AllClose(double[] a, double[] n, double rtol, double atol)
        {
            for (int i = 0; i < a.Length; i++)
            {
                double diff = Math.Abs(a[i] - n[i]);
                if (!(diff <= atol + rtol * Math.Abs(n[i])))
                {
                    if (a[i] == n[i]) continue; // equal infinities
                    return false;
                }
            }
            return true;
        }

        static int StorageOffset(Tensor x, int linear)
        {
            int offset = x._offset;
            for (int d = x._shape.Length - 1; d >= 0; d--)
            {
                int size = (int)x._shape[d];
                offset += (int)(linear % size * x._strides[d]);
                linear /= size;
            }
            return offset;
        }

        /// <summary>The one element at storage offset <paramref name="offset"/>, as a 0-d operand of x's storage.</summary>
        static Operand Element(Tensor x, int offset) =>
            new(x._storage, System.Array.Empty<long>(), System.Array.Empty<long>(), offset);

        static double Read(Tensor x, int offset) => x._dtype is ScalarType.Float64 or ScalarType.Float32
            ? x._storage.Backend.ReadElement(Element(x, offset), 0)
            : throw new GradcheckError($"gradcheck cannot perturb an input of dtype {x._dtype}");

        static void Write(Tensor x, int offset, double value) => x._storage.Backend.WriteElement(Element(x, offset), 0, value);
    }
}
