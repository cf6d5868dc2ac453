using static Nabla.torch.nn;
using F = Nabla.torch.nn.functional;

namespace Nabla.Modules;

// Activation and normalisation layers built from existing tensor ops (composites); their gradients come from those
// ops' backward rules and are checked against PyTorch 1.13 (tools/fixtures/nn_layers.py).

/// <summary>x · σ(x) (<c>torch.nn.SiLU</c>).</summary>
public sealed class SiLU : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor forward(Tensor input) => input * input.sigmoid();
}

/// <summary>x · tanh(softplus(x)) (<c>torch.nn.Mish</c>).</summary>
public sealed class Mish : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor forward(Tensor input) => input * Softplus.Apply(input, 1, 20).tanh();
}

/// <summary>log(1 + e^(βx)) / β, linear above threshold (<c>torch.nn.Softplus</c>).</summary>
public sealed class Softplus(double beta = 1, double threshold = 20) : Module<Tensor, Tensor>
{
    /// <summary>β.</summary>
    public double beta { get; } = beta;
    /// <summary>Above β·x &gt; threshold the input passes through.</summary>
    public double threshold { get; } = threshold;
    internal static Tensor Apply(Tensor x, double beta, double threshold)
    {
        var bx = x * beta;
        return torch.where(bx > threshold, x, bx.clamp(max: threshold).exp().log1p() / beta);
    }
    /// <inheritdoc/>
    public override Tensor forward(Tensor input) => Apply(input, beta, threshold);
    /// <inheritdoc/>
    public override string extra_repr() => $"beta={F.PyFloat(beta)}, threshold={F.PyFloat(threshold)}";
}

/// <summary>x · relu6(x + 3) / 6 (<c>torch.nn.Hardswish</c>).</summary>
public sealed class Hardswish : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor forward(Tensor input) => input * (input + 3).clamp(0, 6) / 6;
}

/// <summary>x for x &gt; 0, else negative_slope · x (<c>torch.nn.LeakyReLU</c>).</summary>
public sealed class LeakyReLU(double negative_slope = 0.01) : Module<Tensor, Tensor>
{
    /// <summary>Slope for negative inputs.</summary>
    public double negative_slope { get; } = negative_slope;
    /// <inheritdoc/>
    public override Tensor forward(Tensor input) => torch.where(input > 0, input, input * negative_slope);
    /// <inheritdoc/>
    public override string extra_repr() => $"negative_slope={F.PyFloat(negative_slope)}";
}

/// <summary>x for x &gt; 0, else α(eˣ - 1) (<c>torch.nn.ELU</c>).</summary>
public sealed class ELU(double alpha = 1.0) : Module<Tensor, Tensor>
{
    /// <summary>α.</summary>
    public double alpha { get; } = alpha;
    /// <inheritdoc/>
    public override Tensor forward(Tensor input) => torch.where(input > 0, input, input.clamp(max: 0).expm1() * alpha);
    /// <inheritdoc/>
    public override string extra_repr() => $"alpha={F.PyFloat(alpha)}";
}

/// <summary>Returns its input (<c>torch.nn.Identity</c>).</summary>
public sealed class Identity : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor forward(Tensor input) => input;
}

/// <summary>Softmax along <c>dim</c> (<c>torch.nn.Softmax</c>).</summary>
public sealed class Softmax(long dim) : Module<Tensor, Tensor>
{
    /// <summary>The dimension.</summary>
    public long dim { get; } = dim;
    /// <inheritdoc/>
    public override Tensor forward(Tensor input) => input.softmax(dim);
    /// <inheritdoc/>
    public override string extra_repr() => $"dim={dim}";
}

/// <summary>Log-softmax along <c>dim</c> (<c>torch.nn.LogSoftmax</c>).</summary>
public sealed class LogSoftmax(long dim) : Module<Tensor, Tensor>
{
    /// <summary>The dimension.</summary>
    public long dim { get; } = dim;
    /// <inheritdoc/>
    public override Tensor forward(Tensor input) => input.log_softmax(dim);
    /// <inheritdoc/>
    public override string extra_repr() => $"dim={dim}";
}

/// <summary>Splits dimension <c>dim</c> into <c>unflattened_size</c> (<c>torch.nn.Unflatten</c>).</summary>
public sealed class Unflatten(long dim, long[] unflattened_size) : Module<Tensor, Tensor>
{
    /// <summary>The dimension to split.</summary>
    public long dim { get; } = dim;
    /// <summary>Its new sizes.</summary>
    public long[] unflattened_size { get; } = unflattened_size;
    /// <inheritdoc/>
    public override Tensor forward(Tensor input)
    {
        long d = dim < 0 ? dim + input.dim() : dim;
        var shape = input.shape.Take((int)d).Concat(unflattened_size).Concat(input.shape.Skip((int)d + 1)).ToArray();
        return input.view(shape);
    }
    /// <inheritdoc/>
    public override string extra_repr() => $"dim={dim}, unflattened_size=({string.Join(", ", unflattened_size)}{(unflattened_size.Length == 1 ? "," : "")})";
}

/// <summary>
/// Layer normalisation over the last dims (<c>torch.nn.LayerNorm</c>): (x - mean) / √(var + eps) · weight + bias,
/// the biased variance; weight 1 and bias 0.
/// </summary>
public sealed class LayerNorm : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer.</summary>
    public LayerNorm(long[] normalized_shape, double eps = 1e-5, bool elementwise_affine = true, ScalarType? dtype = null)
    {
        this.normalized_shape = normalized_shape; this.eps = eps; this.elementwise_affine = elementwise_affine;
        register_parameter("weight", elementwise_affine ? torch.nn.Parameter(torch.ones(normalized_shape, dtype)) : null);
        register_parameter("bias", elementwise_affine ? torch.nn.Parameter(torch.zeros(normalized_shape, dtype)) : null);
    }
    /// <summary>The normalised trailing shape.</summary>
    public long[] normalized_shape { get; }
    /// <summary>Variance epsilon.</summary>
    public double eps { get; }
    /// <summary>Whether weight and bias are learned.</summary>
    public bool elementwise_affine { get; }
    /// <summary>Scale, or null.</summary>
    public Tensor? weight => GetParameter("weight");
    /// <summary>Shift, or null.</summary>
    public Tensor? bias => GetParameter("bias");
    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input's trailing shape is not normalized_shape.</exception>
    public override Tensor forward(Tensor input)
    {
        int k = normalized_shape.Length;
        if (input.dim() < k || !input.shape.Skip((int)input.dim() - k).SequenceEqual(normalized_shape))
            throw new ArgumentException($"Given normalized_shape=[{string.Join(", ", normalized_shape)}], expected input with shape [*, {string.Join(", ", normalized_shape)}], but got input of size{ShapeUtil.Format(input.shape)}");
        var dims = Enumerable.Range((int)input.dim() - k, k).Select(d => (long)d).ToArray();
        var mean = input.mean(dims, keepdim: true);
        var centered = input - mean;
        var variance = (centered * centered).mean(dims, keepdim: true);
        var y = centered * (variance + eps).rsqrt();
        if (weight is { } w) y = y * w;
        if (bias is { } b) y = y + b;
        return y;
    }
    /// <inheritdoc/>
    public override string extra_repr() => $"({string.Join(", ", normalized_shape)}{(normalized_shape.Length == 1 ? "," : "")}), eps={F.PyFloat(eps)}, elementwise_affine={Py(elementwise_affine)}";
}

/// <summary>
/// A lookup table (<c>torch.nn.Embedding</c>): weight (num_embeddings, embedding_dim) ~ N(0, 1), the padding_idx row
/// zeroed and excluded from the gradient.
/// </summary>
public sealed class Embedding : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer; draws the weight from the default generator.</summary>
    /// <exception cref="ArgumentException">padding_idx outside the table.</exception>
    public Embedding(long num_embeddings, long embedding_dim, long? padding_idx = null, ScalarType? dtype = null)
    {
        if (padding_idx is { } p)
        {
            if (p >= num_embeddings || p < -num_embeddings) throw new ArgumentException("Padding_idx must be within num_embeddings");
            if (p < 0) padding_idx = p + num_embeddings;
        }
        this.num_embeddings = num_embeddings; this.embedding_dim = embedding_dim; this.padding_idx = padding_idx;
        register_parameter("weight", torch.nn.Parameter(torch.empty(new[] { num_embeddings, embedding_dim }, dtype)));
        init.normal_(weight);
        if (padding_idx is { } pad) using (torch.no_grad()) weight.select(0, pad).fill_(0);
    }
    /// <summary>Table size.</summary>
    public long num_embeddings { get; }
    /// <summary>Vector size.</summary>
    public long embedding_dim { get; }
    /// <summary>The index whose row gets no gradient, or null.</summary>
    public long? padding_idx { get; }
    /// <summary>(num_embeddings, embedding_dim) table.</summary>
    public Tensor weight => GetParameter("weight")!;
    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The indices are not int64.</exception>
    public override Tensor forward(Tensor input)
    {
        if (input.dtype != ScalarType.Int64 && input.dtype != ScalarType.Int32)
            throw new ArgumentException($"Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; but got torch.{(input.dtype == ScalarType.Float32 ? "FloatTensor" : input.dtype.PythonName())} instead (while checking arguments for embedding)");
        var flat = input.reshape(-1);
        var rows = weight.index_select(0, flat);
        if (padding_idx is { } p)
            rows = torch.where((flat == p).unsqueeze(1), rows.detach(), rows);   // same values, no gradient into the padding row
        return rows.view(input.shape.Append(embedding_dim).ToArray());
    }
    /// <inheritdoc/>
    public override string extra_repr() => $"{num_embeddings}, {embedding_dim}" + (padding_idx is { } p ? $", padding_idx={p}" : "");
}

/// <summary>A list of modules registered as "0", "1", ... (<c>torch.nn.ModuleList</c>).</summary>
public sealed class ModuleList : Module, IEnumerable<Module>
{
    /// <summary>Creates the list.</summary>
    public ModuleList(params Module[] modules) { foreach (var m in modules) append(m); }
    /// <summary>Adds a module at the end; returns this.</summary>
    public ModuleList append(Module module) { register_module(ChildCount.ToString(System.Globalization.CultureInfo.InvariantCulture), module); return this; }
    /// <summary>The number of modules.</summary>
    public int Count => ChildCount;
    /// <summary>The module at <paramref name="index"/> (negative from the end); setting replaces it everywhere.</summary>
    public Module this[int index]
    {
        get => ChildAt(index < 0 ? index + Count : index)!;
        set => register_module(ChildNameAt(index < 0 ? index + Count : index), value);
    }
    /// <inheritdoc/>
    public IEnumerator<Module> GetEnumerator() => ChildValues().GetEnumerator();
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>Modules by name, in insertion order (<c>torch.nn.ModuleDict</c>).</summary>
public sealed class ModuleDict : Module, IEnumerable<(string name, Module module)>
{
    /// <summary>Creates the dictionary.</summary>
    public ModuleDict(params (string name, Module module)[] modules) { foreach (var (n, m) in modules) register_module(n, m); }
    /// <summary>The module named <paramref name="key"/>; setting adds or replaces it.</summary>
    /// <exception cref="KeyNotFoundException">No such module.</exception>
    public Module this[string key]
    {
        get => get_submodule(key.Contains('.') ? throw new KeyNotFoundException(key) : key) ?? throw new KeyNotFoundException(key);
        set => register_module(key, value);
    }
    /// <summary>The number of modules.</summary>
    public int Count => ChildCount;
    /// <summary>The names.</summary>
    public IEnumerable<string> keys() => named_children().Select(c => c.name);
    /// <inheritdoc/>
    public IEnumerator<(string name, Module module)> GetEnumerator() => named_children().GetEnumerator();
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>A list of parameters registered as "0", "1", ... (<c>torch.nn.ParameterList</c>).</summary>
public sealed class ParameterList : Module, IEnumerable<Tensor>
{
    readonly List<Tensor> _items = new();
    /// <summary>Creates the list (plain tensors become parameters).</summary>
    public ParameterList(params Tensor[] parameters) { foreach (var p in parameters) append(p); }
    /// <summary>Adds a parameter at the end; returns this.</summary>
    public ParameterList append(Tensor parameter)
    {
        var p = parameter._isParameter ? parameter : torch.nn.Parameter(parameter);
        register_parameter(_items.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), p);
        _items.Add(p);
        return this;
    }
    /// <summary>The number of parameters.</summary>
    public int Count => _items.Count;
    /// <summary>The parameter at <paramref name="index"/>.</summary>
    public Tensor this[int index] => _items[index < 0 ? index + _items.Count : index];
    /// <inheritdoc/>
    public IEnumerator<Tensor> GetEnumerator() => _items.GetEnumerator();
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
