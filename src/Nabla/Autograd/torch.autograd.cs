using Nabla.Autograd;

namespace Nabla;

public static partial class torch
{
    /// <summary>A scope in which operations are not recorded (<c>using (torch.no_grad()) { ... }</c>).</summary>
    public static GradModeScope no_grad() => new(false);

    /// <summary>A scope in which operations are recorded again (inside <c>no_grad</c>).</summary>
    public static GradModeScope enable_grad() => new(true);

    /// <summary>A scope that turns recording on or off.</summary>
    public static GradModeScope set_grad_enabled(bool enabled) => new(enabled);

    /// <summary>
    /// A scope in which results are inference tensors: not recorded, and not allowed in autograd later.
    /// </summary>
    /// <remarks>As c10::InferenceMode(false), <c>inference_mode(false)</c> turns inference mode off and grad mode on
    /// inside the scope, also when nested in <c>inference_mode()</c>.</remarks>
    public static GradModeScope inference_mode(bool mode = true) =>
        mode ? new(false, inference: true) : new(true, suspendInference: true);

    /// <summary>Whether operations are recorded on this thread.</summary>
    public static bool is_grad_enabled() => GradMode.IsEnabled;

    /// <summary>Whether inference mode is on for this thread.</summary>
    public static bool is_inference_mode_enabled() => GradMode.IsInferenceMode;

    /// <summary>PyTorch's <c>torch.autograd</c>: backward, grad and custom functions.</summary>
    public static partial class autograd
    {
        /// <summary>
        /// Computes the sum of gradients of <paramref name="tensors"/> with respect to the graph leaves and
        /// accumulates them into their <c>.grad</c>.
        /// </summary>
        public static void backward(IList<Tensor> tensors, IList<Tensor?>? grad_tensors = null, bool? retain_graph = null,
            bool create_graph = false, IList<Tensor>? inputs = null)
        {
            if (inputs is not null && inputs.Count == 0)
                throw new InvalidOperationException("'inputs' argument to backward() cannot be empty.");
            var (roots, grads) = PrepareRoots(tensors, grad_tensors, create_graph);
            bool keep = retain_graph ?? create_graph;
            if (create_graph)
                Warnings.Warn(
                    "Using backward() with create_graph=True will create a reference cycle between the parameter and its gradient which can cause a memory leak. We recommend using autograd.grad when creating the graph to avoid this. If you have to use this function, make sure to reset the .grad fields of your parameters to None after use to break the cycle and avoid the leak.");
            if (inputs is null)
            {
                Engine.Execute(roots, grads, keep, create_graph, null, null, accumulateCaptured: true);
                return;
            }
            var edges = new Edge[inputs.Count];
            var targets = new Tensor[inputs.Count];
            for (int i = 0; i < inputs.Count; i++)
            {
                var t = inputs[i];
                if (!t.requires_grad) throw new InvalidOperationException("can't retain_grad on Tensor that has requires_grad=False");
                // As PyTorch's run_backward: a non-leaf input gets retain_grad(), and its node runs (Note [Engine]).
                if (t._gradFn is not null) t.retain_grad();
                edges[i] = History.GradientEdge(t);
                targets[i] = t;
            }
            Engine.Execute(roots, grads, keep, create_graph, edges, targets, accumulateCaptured: true);
        }

        /// <summary>
        /// Computes and returns the sum of gradients of <paramref name="outputs"/> with respect to
        /// <paramref name="inputs"/>, without touching any <c>.grad</c>.
        /// </summary>
        /// <returns>One gradient per input; null for an unused input when <paramref name="allow_unused"/>.</returns>
        /// <param name="outputs">The differentiated outputs.</param>
        /// <param name="inputs">The tensors to differentiate with respect to (non-empty).</param>
        /// <param name="grad_outputs">The vectors of the vector-Jacobian product (null entries: ones for scalars).</param>
        /// <param name="retain_graph">Keep saved tensors for another backward (default: <paramref name="create_graph"/>).</param>
        /// <param name="create_graph">Record the backward computation for higher-order derivatives.</param>
        /// <param name="allow_unused">Return null for inputs not used in the graph instead of failing.</param>
        /// <param name="materialize_grads">Return zeros instead of null for unused inputs (implies <paramref name="allow_unused"/>).</param>
        public static Tensor?[] grad(IList<Tensor> outputs, IList<Tensor> inputs, IList<Tensor?>? grad_outputs = null,
            bool? retain_graph = null, bool create_graph = false, bool? allow_unused = null, bool materialize_grads = false)
        {
            if (materialize_grads && allow_unused == false)
                throw new ArgumentException(
                    "Expected allow_unused to be True or not passed when materialize_grads=True, but got: allow_unused=False.");
            bool allowUnused = allow_unused ?? materialize_grads;
            if (inputs.Count == 0) throw new ArgumentException("grad requires non-empty inputs.");
            var (roots, grads) = PrepareRoots(outputs, grad_outputs, create_graph);
            var edges = new Edge[inputs.Count];
            for (int i = 0; i < inputs.Count; i++)
            {
                var t = inputs[i];
                if (!t.requires_grad) throw new InvalidOperationException("One of the differentiated Tensors does not require grad");
                edges[i] = History.GradientEdge(t);
            }
            var result = Engine.Execute(roots, grads, retain_graph ?? create_graph, create_graph, edges, null, accumulateCaptured: false)!;
            return FinishGrads(result, allowUnused, create_graph, materialize_grads, i => inputs[i]);
        }

        /// <summary>
        /// The gradients autograd.grad returns: unused inputs fail unless allowed, gradients that recorded history are
        /// detached unless create_graph, and unused inputs get zeros when materialize_grads.
        /// </summary>
        static Tensor?[] FinishGrads(Tensor?[] result, bool allowUnused, bool createGraph, bool materializeGrads, Func<int, Tensor> input)
        {
            for (int i = 0; i < result.Length; i++)
            {
                if (result[i] is null && !allowUnused)
                    throw new InvalidOperationException(
                        "One of the differentiated Tensors appears to not have been used in the graph. Set allow_unused=True if this is the desired behavior.");
                if (result[i] is { } g && !createGraph && g._gradFn is not null) result[i] = g.detach();
                if (result[i] is null && materializeGrads) result[i] = torch.zeros_like(input(i)).requires_grad_();
            }
            return result;
        }

        /// <summary>Single-output, single-input form of <see cref="grad(IList{Tensor}, IList{Tensor}, IList{Tensor?}?, bool?, bool, bool?, bool)"/>.</summary>
        public static Tensor?[] grad(Tensor output, Tensor input, Tensor? grad_output = null, bool? retain_graph = null,
            bool create_graph = false, bool? allow_unused = null, bool materialize_grads = false) =>
            grad(new[] { output }, new[] { input }, grad_output is null ? null : new[] { grad_output }, retain_graph, create_graph,
                allow_unused, materialize_grads);

        /// <summary>
        /// <see cref="grad(IList{Tensor}, IList{Tensor}, IList{Tensor?}?, bool?, bool, bool?, bool)"/> with respect to
        /// graph edges (<see cref="GradientEdge"/>, from <see cref="graph.get_gradient_edge"/>), tensors converting implicitly.
        /// </summary>
        /// <param name="outputs">The differentiated outputs.</param>
        /// <param name="inputs">The edges (or tensors) to differentiate with respect to.</param>
        /// <param name="grad_outputs">The vectors of the vector-Jacobian product.</param>
        /// <param name="retain_graph">Keep saved tensors for another backward.</param>
        /// <param name="create_graph">Record the backward computation.</param>
        /// <param name="allow_unused">Return null for unused inputs instead of failing.</param>
        /// <param name="materialize_grads">Return zeros for unused tensor inputs (not allowed with edges).</param>
        public static Tensor?[] grad(IList<Tensor> outputs, IList<GradientEdge> inputs, IList<Tensor?>? grad_outputs = null,
            bool? retain_graph = null, bool create_graph = false, bool? allow_unused = null, bool materialize_grads = false)
        {
            if (materialize_grads && allow_unused == false)
                throw new ArgumentException(
                    "Expected allow_unused to be True or not passed when materialize_grads=True, but got: allow_unused=False.");
            if (inputs.Count == 0) throw new ArgumentException("grad requires non-empty inputs.");
            var edges = new Edge[inputs.Count];
            for (int i = 0; i < inputs.Count; i++)
            {
                if (inputs[i].Tensor is { } t)
                {
                    if (!t.requires_grad) throw new InvalidOperationException("One of the differentiated Tensors does not require grad");
                    edges[i] = History.GradientEdge(t);
                }
                else edges[i] = new Edge(inputs[i].node, inputs[i].output_nr);
            }
            bool allowUnused = allow_unused ?? materialize_grads;
            var (roots, grads) = PrepareRoots(outputs, grad_outputs, create_graph);
            var result = Engine.Execute(roots, grads, retain_graph ?? create_graph, create_graph, edges, null, accumulateCaptured: false)!;
            return FinishGrads(result, allowUnused, create_graph, materialize_grads, i => inputs[i].Tensor
                ?? throw new InvalidOperationException("materialize_grads cannot be used when the given input is a GradientEdge"));
        }

        /// <summary>
        /// <see cref="backward(IList{Tensor}, IList{Tensor?}?, bool?, bool, IList{Tensor}?)"/> accumulating only into the
        /// given inputs, which may be graph edges (the nodes at those edges run; nothing is stored for an edge).
        /// </summary>
        /// <param name="tensors">The tensors to differentiate.</param>
        /// <param name="inputs">The tensors (accumulated into) or edges to stop at.</param>
        /// <param name="grad_tensors">The vectors of the vector-Jacobian product.</param>
        /// <param name="retain_graph">Keep saved tensors for another backward.</param>
        /// <param name="create_graph">Record the backward computation.</param>
        public static void backward(IList<Tensor> tensors, IList<GradientEdge> inputs, IList<Tensor?>? grad_tensors = null,
            bool? retain_graph = null, bool create_graph = false)
        {
            if (inputs.Count == 0) throw new InvalidOperationException("'inputs' argument to backward() cannot be empty.");
            var (roots, grads) = PrepareRoots(tensors, grad_tensors, create_graph);
            var edges = new Edge[inputs.Count];
            for (int i = 0; i < inputs.Count; i++)
            {
                if (inputs[i].Tensor is { } t)
                {
                    if (!t.requires_grad) throw new InvalidOperationException("can't retain_grad on Tensor that has requires_grad=False");
                    if (t._gradFn is not null) t.retain_grad();
                    edges[i] = History.GradientEdge(t);
                }
                else edges[i] = new Edge(inputs[i].node, inputs[i].output_nr);
            }
            Engine.Execute(roots, grads, retain_graph ?? create_graph, create_graph, edges, null, accumulateCaptured: true);
        }

        static (Edge[], Tensor[]) PrepareRoots(IList<Tensor> tensors, IList<Tensor?>? grads, bool createGraph)
        {
            if (grads is not null && grads.Count != tensors.Count)
                throw new ArgumentException($"grad can be implicitly created only for scalar outputs");
            var roots = new Edge[tensors.Count];
            var rootGrads = new Tensor[tensors.Count];
            for (int i = 0; i < tensors.Count; i++)
            {
                var t = tensors[i];
                if (!t.requires_grad)
                    throw new InvalidOperationException($"element {i} of tensors does not require grad and does not have a grad_fn");
                roots[i] = History.GradientEdge(t);
                var g = grads?[i];
                if (g is null)
                {
                    if (t._numel != 1) throw new InvalidOperationException("grad can be implicitly created only for scalar outputs");
                    g = torch.ones_like(t);
                }
                else if (!Tensor.ShapesEqual(g, t))
                {
                    throw new InvalidOperationException(
                        $"Mismatch in shape: grad_output[{i}] has a shape of {ShapeUtil.SizeString(g._shape)} and output[{i}] has a shape of {ShapeUtil.SizeString(t._shape)}.");
                }
                if (g._dtype != t._dtype) g = Ops.Raw.ToDType(g, t._dtype);
                rootGrads[i] = createGraph ? g : g.detach();
            }
            return (roots, rootGrads);
        }
    }
}
