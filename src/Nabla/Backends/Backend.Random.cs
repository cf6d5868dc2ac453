namespace Nabla.Backends;

/// <summary>Random fills (the generator's stream is PyTorch's CPU stream, bit for bit).</summary>
internal enum RandomKind
{
    /// <summary>Uniform in [a, b).</summary>
    Uniform,
    /// <summary>Normal with mean a and standard deviation b.</summary>
    Normal,
    /// <summary>Integers in [a, b).</summary>
    Randint,
    /// <summary>1 with probability a, else 0.</summary>
    Bernoulli,
    /// <summary>A random permutation of 0..n-1 (int64, one dimension).</summary>
    Randperm,
}

internal abstract partial class Backend
{
    /// <summary>Fills dense <paramref name="dst"/> from <paramref name="generator"/> (see <see cref="RandomKind"/> for a and b).</summary>
    public abstract void RandomFill(RandomKind kind, in Operand dst, Generator generator, double a, double b);
}
