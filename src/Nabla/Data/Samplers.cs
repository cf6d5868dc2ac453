namespace Nabla;

// Note [Sampler order]
// RandomSampler and WeightedRandomSampler draw exactly what PyTorch 1.13 draws, so a DataLoader with the same seed
// visits the same indices: without a generator the sampler seeds a fresh Generator from one int64 random_() of the
// default generator; without replacement each pass is randperm(n, generator); with replacement, randint in chunks
// of 32; WeightedRandomSampler with replacement is multinomial's CPU kernel (normalised cumulative sums, one
// double uniform per sample, binary search). The DataLoader draws its _base_seed (one int64 random_() of its
// generator) before the sampler's first draw, as _BaseDataLoaderIter does.

public static partial class torch
{
    public static partial class utils
    {
        public static partial class data
        {
            /// <summary>Yields dataset indices (<c>torch.utils.data.Sampler</c>).</summary>
            public abstract class Sampler : IEnumerable<long>
            {
                /// <inheritdoc/>
                public abstract IEnumerator<long> GetEnumerator();
                System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
                /// <summary>The number of indices per pass.</summary>
                public abstract long Count { get; }

                /// <summary>One int64 <c>random_()</c> of <paramref name="g"/> (a value in [0, 2^63)), as PyTorch draws seeds.</summary>
                internal static long RandomInt64(Generator g) => (long)(g.NextUInt64() % (1UL << 63));
            }

            /// <summary>0, 1, ..., n-1 (<c>SequentialSampler</c>).</summary>
            public sealed class SequentialSampler : Sampler
            {
                readonly long _n;
                /// <summary>Creates the sampler over <paramref name="n"/> items.</summary>
                public SequentialSampler(long n) => _n = n;
                /// <inheritdoc/>
                public override long Count => _n;
                /// <inheritdoc/>
                public override IEnumerator<long> GetEnumerator() { for (long i = 0; i < _n; i++) yield return i; }
            }

            /// <summary>A random order, or random draws with replacement (<c>RandomSampler</c>, Note [Sampler order]).</summary>
            public sealed class RandomSampler : Sampler
            {
                readonly long _n;
                readonly long? _numSamples;
                /// <summary>Creates the sampler over <paramref name="n"/> items.</summary>
                /// <exception cref="ArgumentException">num_samples not positive.</exception>
                public RandomSampler(long n, bool replacement = false, long? num_samples = null, Generator? generator = null)
                {
                    if (num_samples is { } s && s <= 0) throw new ArgumentException($"num_samples should be a positive integer value, but got num_samples={s}");
                    _n = n; this.replacement = replacement; _numSamples = num_samples; this.generator = generator;
                }
                /// <summary>Draw with replacement.</summary>
                public bool replacement { get; }
                /// <summary>The generator, or null for a fresh one seeded from the default generator at each pass.</summary>
                public Generator? generator { get; }
                /// <inheritdoc/>
                public override long Count => _numSamples ?? _n;

                /// <inheritdoc/>
                public override IEnumerator<long> GetEnumerator()
                {
                    var g = generator;
                    if (g is null) { g = new Generator(); g.manual_seed((ulong)RandomInt64(Generator.Default)); }
                    long num = Count;
                    if (replacement)
                    {
                        for (long i = 0; i < num / 32; i++)
                            foreach (var v in torch.randint(_n, new long[] { 32 }, ScalarType.Int64, generator: g).ToArray<long>()) yield return v;
                        foreach (var v in torch.randint(_n, new long[] { num % 32 }, ScalarType.Int64, generator: g).ToArray<long>()) yield return v;
                    }
                    else
                    {
                        for (long i = 0; i < num / _n; i++)
                            foreach (var v in torch.randperm(_n, generator: g).ToArray<long>()) yield return v;
                        // PyTorch draws this last permutation even when it keeps none of it (num % n == 0).
                        foreach (var v in torch.randperm(_n, generator: g).ToArray<long>().Take((int)(num % _n))) yield return v;
                    }
                }
            }

            /// <summary>The given indices in a random order (<c>SubsetRandomSampler</c>).</summary>
            public sealed class SubsetRandomSampler : Sampler
            {
                readonly long[] _indices;
                /// <summary>Creates the sampler.</summary>
                public SubsetRandomSampler(IEnumerable<long> indices, Generator? generator = null) { _indices = indices.ToArray(); this.generator = generator; }
                /// <summary>The generator (null: the default one).</summary>
                public Generator? generator { get; }
                /// <inheritdoc/>
                public override long Count => _indices.Length;
                /// <inheritdoc/>
                public override IEnumerator<long> GetEnumerator()
                {
                    foreach (var i in torch.randperm(_indices.Length, generator: generator ?? Generator.Default).ToArray<long>()) yield return _indices[i];
                }
            }

            /// <summary>
            /// Indices drawn with probabilities proportional to <c>weights</c> (<c>WeightedRandomSampler</c>); with
            /// replacement (the default) the draws equal PyTorch's multinomial for the same generator state.
            /// </summary>
            public sealed class WeightedRandomSampler : Sampler
            {
                readonly double[] _weights;
                /// <summary>Creates the sampler.</summary>
                /// <exception cref="ArgumentException">num_samples not positive, negative weights, or more samples than categories without replacement.</exception>
                public WeightedRandomSampler(IEnumerable<double> weights, long num_samples, bool replacement = true, Generator? generator = null)
                {
                    if (num_samples <= 0) throw new ArgumentException($"num_samples should be a positive integer value, but got num_samples={num_samples}");
                    _weights = weights.ToArray();
                    if (_weights.Any(w => w < 0 || !double.IsFinite(w))) throw new ArgumentException("probability tensor contains either `inf`, `nan` or element < 0");
                    if (_weights.Sum() <= 0) throw new ArgumentException("invalid multinomial distribution (sum of probabilities <= 0)");
                    if (!replacement && num_samples > _weights.Count(w => w > 0))
                        throw new ArgumentException("cannot sample n_sample > prob_dist.size(-1) samples without replacement");
                    this.num_samples = num_samples; this.replacement = replacement; this.generator = generator;
                }
                /// <summary>Samples per pass.</summary>
                public long num_samples { get; }
                /// <summary>Draw with replacement.</summary>
                public bool replacement { get; }
                /// <summary>The generator (null: the default one).</summary>
                public Generator? generator { get; }
                /// <inheritdoc/>
                public override long Count => num_samples;

                /// <inheritdoc/>
                public override IEnumerator<long> GetEnumerator()
                {
                    var g = generator ?? Generator.Default;
                    var result = new long[num_samples];
                    int n = _weights.Length;
                    if (replacement && num_samples > 1)
                    {
                        var cum = new double[n];
                        double sum = 0;
                        for (int i = 0; i < n; i++) cum[i] = sum += _weights[i];
                        for (int i = 0; i < n; i++) cum[i] /= sum;
                        var u = new double[1];
                        for (long j = 0; j < num_samples; j++)
                        {
                            g.FillUniform(u, 0, 1);
                            int left = 0, right = n;
                            while (right - left > 0)
                            {
                                int mid = left + (right - left) / 2;
                                if (cum[mid] < u[0]) left = mid + 1; else right = mid;
                            }
                            result[j] = left;
                        }
                    }
                    else
                    {
                        // Without replacement: the largest w / q with q ~ Exp(1) (the Gumbel-top-k trick PyTorch uses;
                        // the exponential draws are ours, so the order is not PyTorch's).
                        var u = new double[n];
                        g.FillUniform(u, 0, 1);
                        var keys = new double[n];
                        for (int i = 0; i < n; i++) keys[i] = _weights[i] / -Math.Log(1 - u[i]);
                        var order = Enumerable.Range(0, n).OrderByDescending(i => keys[i]).Take((int)num_samples).ToArray();
                        for (int j = 0; j < order.Length; j++) result[j] = order[j];
                    }
                    foreach (var v in result) yield return v;
                }
            }

            /// <summary>Groups another sampler's indices into lists of batch_size (<c>BatchSampler</c>).</summary>
            public sealed class BatchSampler : IEnumerable<long[]>
            {
                /// <summary>Creates the batch sampler.</summary>
                /// <exception cref="ArgumentException">batch_size not positive.</exception>
                public BatchSampler(IEnumerable<long> sampler, long batch_size, bool drop_last)
                {
                    if (batch_size <= 0) throw new ArgumentException($"batch_size should be a positive integer value, but got batch_size={batch_size}");
                    this.sampler = sampler; this.batch_size = batch_size; this.drop_last = drop_last;
                }
                /// <summary>The index source.</summary>
                public IEnumerable<long> sampler { get; }
                /// <summary>Indices per batch.</summary>
                public long batch_size { get; }
                /// <summary>Drop a last, smaller batch.</summary>
                public bool drop_last { get; }
                /// <summary>The number of batches (when the sampler has a size).</summary>
                public long Count
                {
                    get
                    {
                        long n = sampler is Sampler s ? s.Count : sampler.LongCount();
                        return drop_last ? n / batch_size : (n + batch_size - 1) / batch_size;
                    }
                }
                /// <inheritdoc/>
                public IEnumerator<long[]> GetEnumerator()
                {
                    var batch = new List<long>((int)batch_size);
                    foreach (var i in sampler)
                    {
                        batch.Add(i);
                        if (batch.Count == batch_size) { yield return batch.ToArray(); batch.Clear(); }
                    }
                    if (batch.Count > 0 && !drop_last) yield return batch.ToArray();
                }
                System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
            }
        }
    }
}
