using static Nabla.torch.nn;
using F = Nabla.torch.nn.functional;

namespace Nabla.Modules;

/// <summary>y = x Wᵀ + b (<c>torch.nn.Linear</c>), initialised as PyTorch: W, b ~ U(-1/√in, 1/√in).</summary>
public sealed class Linear : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer; draws the weight, then the bias, from the default generator.</summary>
    public Linear(long in_features, long out_features, bool bias = true, ScalarType? dtype = null)
    {
        this.in_features = in_features;
        this.out_features = out_features;
        register_parameter("weight", torch.nn.Parameter(torch.empty(new[] { out_features, in_features }, dtype)));
        register_parameter("bias", bias ? torch.nn.Parameter(torch.empty(new[] { out_features }, dtype)) : null);
        reset_parameters();
    }

    /// <summary>Input size.</summary>
    public long in_features { get; }
    /// <summary>Output size.</summary>
    public long out_features { get; }
    /// <summary>(out_features, in_features) weight.</summary>
    public Tensor weight { get => GetParameter("weight")!; set => register_parameter("weight", value); }
    /// <summary>(out_features) bias, or null.</summary>
    public Tensor? bias { get => GetParameter("bias"); set => register_parameter("bias", value); }

    /// <summary>Re-draws the parameters: kaiming_uniform_(a=√5) for the weight, U(-1/√fan_in, 1/√fan_in) for the bias.</summary>
    public void reset_parameters()
    {
        init.kaiming_uniform_(weight, a: Math.Sqrt(5));
        if (bias is { } b)
        {
            var (fanIn, _) = init._calculate_fan_in_and_fan_out(weight);
            double bound = fanIn > 0 ? 1 / Math.Sqrt(fanIn) : 0;
            init.uniform_(b, -bound, bound);
        }
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor input) => F.linear(input, weight, bias);
    /// <inheritdoc/>
    public override string extra_repr() => $"in_features={in_features}, out_features={out_features}, bias={Py(bias is not null)}";
}

/// <summary>max(x, 0) (<c>torch.nn.ReLU</c>).</summary>
public sealed class ReLU : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer; <paramref name="inplace"/> rectifies the input in place.</summary>
    public ReLU(bool inplace = false) => this.inplace = inplace;
    /// <summary>Whether the input is modified in place.</summary>
    public bool inplace { get; }
    /// <inheritdoc/>
    public override Tensor forward(Tensor input) => F.relu(input, inplace);
    /// <inheritdoc/>
    public override string extra_repr() => inplace ? "inplace=True" : "";
}

/// <summary>1 / (1 + e^-x) (<c>torch.nn.Sigmoid</c>).</summary>
public sealed class Sigmoid : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor forward(Tensor input) => input.sigmoid();
}

/// <summary>tanh(x) (<c>torch.nn.Tanh</c>).</summary>
public sealed class Tanh : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor forward(Tensor input) => input.tanh();
}

/// <summary>Zeroes elements with probability p while training, scaling the rest by 1/(1-p) (<c>torch.nn.Dropout</c>).</summary>
public sealed class Dropout : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer.</summary>
    /// <exception cref="ArgumentException"><paramref name="p"/> is outside [0, 1].</exception>
    public Dropout(double p = 0.5, bool inplace = false)
    {
        if (p < 0 || p > 1) throw new ArgumentException($"dropout probability has to be between 0 and 1, but got {F.PyFloat(p)}");
        this.p = p;
        this.inplace = inplace;
    }
    /// <summary>Drop probability.</summary>
    public double p { get; }
    /// <summary>Whether the input is modified in place.</summary>
    public bool inplace { get; }
    /// <inheritdoc/>
    public override Tensor forward(Tensor input) => F.dropout(input, p, training, inplace);
    /// <inheritdoc/>
    public override string extra_repr() => $"p={F.PyFloat(p)}, inplace={Py(inplace)}";
}

/// <summary>Flattens dims start_dim..end_dim into one (<c>torch.nn.Flatten</c>, default from dim 1).</summary>
public sealed class Flatten : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer.</summary>
    public Flatten(long start_dim = 1, long end_dim = -1) { this.start_dim = start_dim; this.end_dim = end_dim; }
    /// <summary>First dim to flatten.</summary>
    public long start_dim { get; }
    /// <summary>Last dim to flatten.</summary>
    public long end_dim { get; }
    /// <inheritdoc/>
    public override Tensor forward(Tensor input) => input.flatten(start_dim, end_dim);
    /// <inheritdoc/>
    public override string extra_repr() => $"start_dim={start_dim}, end_dim={end_dim}";
}

/// <summary>Runs its modules in order, feeding each one's output to the next (<c>torch.nn.Sequential</c>).</summary>
public sealed class Sequential : Module<Tensor, Tensor>
{
    /// <summary>Creates the container; the modules are named "0", "1", ... as in PyTorch.</summary>
    public Sequential(params Module<Tensor, Tensor>[] modules)
    {
        foreach (var m in modules) append(m);
    }

    /// <summary>Creates the container with named modules (PyTorch's OrderedDict form).</summary>
    public Sequential(params (string name, Module<Tensor, Tensor> module)[] modules)
    {
        foreach (var (name, m) in modules) register_module(name, m);
    }

    /// <summary>Adds a module at the end, named by its index; returns this.</summary>
    public Sequential append(Module<Tensor, Tensor> module)
    {
        register_module(ChildCount.ToString(System.Globalization.CultureInfo.InvariantCulture), module);
        return this;
    }

    /// <summary>The number of modules.</summary>
    public int Count => ChildCount;

    /// <summary>The module at <paramref name="index"/> (negative counts from the end); setting replaces it everywhere.</summary>
    /// <exception cref="IndexOutOfRangeException">The index is out of range (PyTorch's IndexError).</exception>
    public Module<Tensor, Tensor> this[int index]
    {
        get => (Module<Tensor, Tensor>)ChildAt(Index(index))!;
        set => register_module(ChildNameAt(Index(index)), value);
    }

    int Index(int index)
    {
        int n = ChildCount;
        if (index < -n || index >= n) throw new IndexOutOfRangeException($"index {index} is out of range");
        return index < 0 ? index + n : index;
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor input)
    {
        foreach (var m in ChildValues()) input = ((Module<Tensor, Tensor>)m).call(input);
        return input;
    }
}
