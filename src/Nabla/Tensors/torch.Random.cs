namespace Nabla;

public static partial class torch
{
    /// <summary>Seeds the default generator (bit-identical streams to PyTorch's CPU generator).</summary>
    public static Generator manual_seed(long seed) => Generator.Default.manual_seed((ulong)seed);

    /// <summary>The seed the default generator started from.</summary>
    public static long initial_seed() => (long)Generator.Default.initial_seed();

    static Tensor Random(long[] size, ScalarType? dtype, bool requires_grad, Generator? generator, Device? device, Action<Generator, Tensor> fill)
    {
        var d = dtype ?? get_default_dtype();
        var t = new Tensor(BackendFor(device), d, (long[])size.Clone(), zero: false);
        fill(generator ?? Generator.Default, t);
        if (requires_grad) t.SetRequiresGrad(true, FactoryRequiresGradMessage);
        return t;
    }

    static void FillUniform(Generator g, Tensor t, double from, double to)
    {
        t.Backend.RandomFill(RandomKind.Uniform, t.Raw, g, from, to);
    }

    static void FillNormal(Generator g, Tensor t, double mean, double std)
    {
        t.Backend.RandomFill(RandomKind.Normal, t.Raw, g, mean, std);
    }

    /// <summary>Uniform samples in [0, 1).</summary>
    public static Tensor rand(long[] size, ScalarType? dtype = null, bool requires_grad = false, Generator? generator = null, Device? device = null) =>
        Random(size, dtype, requires_grad, generator, device, static (g, t) => FillUniform(g, t, 0, 1));
    /// <summary>Uniform samples in [0, 1), 1-D.</summary>
    public static Tensor rand(long size0, ScalarType? dtype = null, bool requires_grad = false, Generator? generator = null, Device? device = null) => rand(new[] { size0 }, dtype, requires_grad, generator, device);
    /// <summary>Uniform samples in [0, 1), 2-D.</summary>
    public static Tensor rand(long size0, long size1, ScalarType? dtype = null, bool requires_grad = false, Generator? generator = null, Device? device = null) => rand(new[] { size0, size1 }, dtype, requires_grad, generator, device);
    /// <summary>Uniform samples in [0, 1), 3-D.</summary>
    public static Tensor rand(long size0, long size1, long size2, ScalarType? dtype = null, bool requires_grad = false, Generator? generator = null, Device? device = null) => rand(new[] { size0, size1, size2 }, dtype, requires_grad, generator, device);
    /// <summary>Uniform samples in [0, 1), 4-D.</summary>
    public static Tensor rand(long size0, long size1, long size2, long size3, ScalarType? dtype = null, bool requires_grad = false, Generator? generator = null, Device? device = null) => rand(new[] { size0, size1, size2, size3 }, dtype, requires_grad, generator, device);

    /// <summary>Standard normal samples.</summary>
    public static Tensor randn(long[] size, ScalarType? dtype = null, bool requires_grad = false, Generator? generator = null, Device? device = null) =>
        Random(size, dtype, requires_grad, generator, device, static (g, t) => FillNormal(g, t, 0, 1));
    /// <summary>Standard normal samples, 1-D.</summary>
    public static Tensor randn(long size0, ScalarType? dtype = null, bool requires_grad = false, Generator? generator = null, Device? device = null) => randn(new[] { size0 }, dtype, requires_grad, generator, device);
    /// <summary>Standard normal samples, 2-D.</summary>
    public static Tensor randn(long size0, long size1, ScalarType? dtype = null, bool requires_grad = false, Generator? generator = null, Device? device = null) => randn(new[] { size0, size1 }, dtype, requires_grad, generator, device);
    /// <summary>Standard normal samples, 3-D.</summary>
    public static Tensor randn(long size0, long size1, long size2, ScalarType? dtype = null, bool requires_grad = false, Generator? generator = null, Device? device = null) => randn(new[] { size0, size1, size2 }, dtype, requires_grad, generator, device);
    /// <summary>Standard normal samples, 4-D.</summary>
    public static Tensor randn(long size0, long size1, long size2, long size3, ScalarType? dtype = null, bool requires_grad = false, Generator? generator = null, Device? device = null) => randn(new[] { size0, size1, size2, size3 }, dtype, requires_grad, generator, device);

    /// <summary>Uniform samples shaped like <paramref name="input"/>.</summary>
    public static Tensor rand_like(Tensor input, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) => rand(input.shape, dtype ?? input.dtype, requires_grad, device: device ?? input.device);
    /// <summary>Normal samples shaped like <paramref name="input"/>.</summary>
    public static Tensor randn_like(Tensor input, ScalarType? dtype = null, bool requires_grad = false, Device? device = null) => randn(input.shape, dtype ?? input.dtype, requires_grad, device: device ?? input.device);

    /// <summary>Random integers in [low, high) (int64 unless <paramref name="dtype"/> says otherwise).</summary>
    public static Tensor randint(long low, long high, long[] size, ScalarType? dtype = null, bool requires_grad = false, Generator? generator = null, Device? device = null)
    {
        if (low >= high) throw new ArgumentException($"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}");
        var t = new Tensor(BackendFor(device), dtype ?? ScalarType.Int64, (long[])size.Clone(), zero: false);
        t.Backend.RandomFill(RandomKind.Randint, t.Raw, generator ?? Generator.Default, low, high);
        if (requires_grad) t.SetRequiresGrad(true, FactoryRequiresGradMessage);
        return t;
    }

    /// <summary>Random integers in [0, high).</summary>
    public static Tensor randint(long high, long[] size, ScalarType? dtype = null, bool requires_grad = false, Generator? generator = null, Device? device = null) =>
        randint(0, high, size, dtype, requires_grad, generator, device);

    /// <summary>A random permutation of 0..n-1 (int64).</summary>
    public static Tensor randperm(long n, ScalarType? dtype = null, Generator? generator = null, Device? device = null)
    {
        if (n < 0) throw new ArgumentException($"n must be non-negative, got{n}");
        var t = new Tensor(BackendFor(device), ScalarType.Int64, new[] { n }, zero: false);
        t.Backend.RandomFill(RandomKind.Randperm, t.Raw, generator ?? Generator.Default, 0, 0);
        return dtype is { } d && d != ScalarType.Int64 ? t.to(d) : t;
    }
}

public static partial class torch
{
    internal static void NormalInto(Generator g, Tensor t, double mean, double std) => FillNormal(g, t, mean, std);
    internal static void UniformInto(Generator g, Tensor t, double from, double to) => FillUniform(g, t, from, to);
}
