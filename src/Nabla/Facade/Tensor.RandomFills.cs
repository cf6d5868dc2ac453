namespace Nabla;

// The in-place random fills (normal_, uniform_, bernoulli_): checked and counted as in-place writes.
public sealed partial class Tensor
{
    void FillRandom(Action<Generator, Tensor> fill, Generator? generator)
    {
        Autograd.History.CheckInplace(this);
        var target = is_contiguous() ? this : EmptyLike(this, _dtype, _shape);
        fill(generator ?? Generator.Default, target);
        if (!ReferenceEquals(target, this)) Ops.Raw.CopyInto(this, target);
        BumpVersion();
    }

    /// <summary>Fills in place with normal samples.</summary>
    public Tensor normal_(double mean = 0, double std = 1, Generator? generator = null)
    {
        if (std < 0) throw new ArgumentException($"normal expects std >= 0.0, but found std {std}");
        FillRandom((g, t) => torch.NormalInto(g, t, mean, std), generator);
        return this;
    }

    /// <summary>Fills in place with uniform samples in [from, to).</summary>
    public Tensor uniform_(double from = 0, double to = 1, Generator? generator = null)
    {
        if (from > to) throw new ArgumentException($"uniform_ expects to return a [from, to) range, but found from={from} > to={to}");
        FillRandom((g, t) => torch.UniformInto(g, t, from, to), generator);
        return this;
    }

    /// <summary>Fills in place with 1 (probability <paramref name="p"/>) or 0.</summary>
    public Tensor bernoulli_(double p = 0.5, Generator? generator = null)
    {
        FillRandom((g, t) => t.Backend.RandomFill(RandomKind.Bernoulli, t.Raw, g, p, 0), generator);
        return this;
    }
}
