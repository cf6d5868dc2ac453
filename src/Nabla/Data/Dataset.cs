namespace Nabla;

public static partial class torch
{
    /// <summary>Utilities (<c>torch.utils</c>).</summary>
    public static partial class utils
    {
        /// <summary>Datasets, samplers and the DataLoader (<c>torch.utils.data</c>).</summary>
        public static partial class data
        {
            /// <summary>A map-style dataset (<c>torch.utils.data.Dataset</c>): a size and an item per index.</summary>
            /// <typeparam name="T">The item type, e.g. Tensor[] for a TensorDataset or (Tensor, long) for images with labels.</typeparam>
            public abstract class Dataset<T>
            {
                /// <summary>The number of items (Python's <c>len(dataset)</c>).</summary>
                public abstract long Count { get; }

                /// <summary>The item at <paramref name="index"/> (Python's <c>dataset[index]</c>).</summary>
                public abstract T this[long index] { get; }

                /// <summary>Python's <c>__len__</c>.</summary>
                public long __len__() => Count;

                /// <summary>Concatenation (Python's <c>dataset + other</c>).</summary>
                public static ConcatDataset<T> operator +(Dataset<T> a, Dataset<T> b) => new(new[] { a, b });
            }

            /// <summary>An iterable-style dataset (<c>torch.utils.data.IterableDataset</c>): a stream of items.</summary>
            public abstract class IterableDataset<T> : IEnumerable<T>
            {
                /// <inheritdoc/>
                public abstract IEnumerator<T> GetEnumerator();
                System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
            }

            /// <summary>Items are the index-th slices of tensors with the same first dimension (<c>TensorDataset</c>).</summary>
            public sealed class TensorDataset : Dataset<Tensor[]>
            {
                /// <summary>Creates the dataset.</summary>
                /// <exception cref="ArgumentException">No tensors, or first dimensions that differ.</exception>
                public TensorDataset(params Tensor[] tensors)
                {
                    if (tensors.Length == 0 || tensors.Any(t => t.dim() == 0 || t.shape[0] != tensors[0].shape[0]))
                        throw new ArgumentException("Size mismatch between tensors");
                    this.tensors = tensors;
                }
                /// <summary>The tensors.</summary>
                public Tensor[] tensors { get; }
                /// <inheritdoc/>
                public override long Count => tensors[0].shape[0];
                /// <inheritdoc/>
                /// <exception cref="IndexOutOfRangeException">The index is out of range.</exception>
                public override Tensor[] this[long index]
                {
                    get
                    {
                        long n = Count;
                        if (index < -n || index >= n) throw new IndexOutOfRangeException($"index {index} is out of bounds for dimension 0 with size {n}");
                        return tensors.Select(t => t.select(0, index)).ToArray();
                    }
                }
            }

            /// <summary>Several datasets one after another (<c>ConcatDataset</c>).</summary>
            public sealed class ConcatDataset<T> : Dataset<T>
            {
                readonly long[] _cumulative;
                /// <summary>Creates the concatenation.</summary>
                /// <exception cref="ArgumentException">No datasets.</exception>
                public ConcatDataset(IEnumerable<Dataset<T>> datasets)
                {
                    this.datasets = datasets.ToArray();
                    if (this.datasets.Length == 0) throw new ArgumentException("datasets should not be an empty iterable");
                    _cumulative = new long[this.datasets.Length];
                    long s = 0;
                    for (int i = 0; i < this.datasets.Length; i++) _cumulative[i] = s += this.datasets[i].Count;
                }
                /// <summary>The parts.</summary>
                public Dataset<T>[] datasets { get; }
                /// <summary>Running totals of the parts' sizes.</summary>
                public IReadOnlyList<long> cumulative_sizes => _cumulative;
                /// <inheritdoc/>
                public override long Count => _cumulative[^1];
                /// <inheritdoc/>
                /// <exception cref="ArgumentException">A negative index whose absolute value exceeds the length.</exception>
                public override T this[long index]
                {
                    get
                    {
                        if (index < 0)
                        {
                            if (-index > Count) throw new ArgumentException("absolute value of index should not exceed dataset length");
                            index += Count;
                        }
                        int d = 0;
                        while (d < _cumulative.Length && _cumulative[d] <= index) d++;   // bisect_right
                        if (d == _cumulative.Length) throw new IndexOutOfRangeException($"index {index} is out of range");
                        return datasets[d][d == 0 ? index : index - _cumulative[d - 1]];
                    }
                }
            }

            /// <summary>The items of a dataset at given indices (<c>Subset</c>).</summary>
            public sealed class Subset<T> : Dataset<T>
            {
                /// <summary>Creates the subset.</summary>
                public Subset(Dataset<T> dataset, IReadOnlyList<long> indices) { this.dataset = dataset; this.indices = indices; }
                /// <summary>The whole dataset.</summary>
                public Dataset<T> dataset { get; }
                /// <summary>The chosen indices.</summary>
                public IReadOnlyList<long> indices { get; }
                /// <inheritdoc/>
                public override long Count => indices.Count;
                /// <inheritdoc/>
                public override T this[long index] => dataset[indices[checked((int)index)]];
            }

            /// <summary>
            /// Splits a dataset into non-overlapping random subsets of the given lengths (or fractions summing to 1,
            /// remainders handed out round-robin), as PyTorch: the order is <c>randperm(len, generator)</c>.
            /// </summary>
            /// <exception cref="ArgumentException">Lengths that do not add up to the dataset's length, or fractions outside [0, 1].</exception>
            public static Subset<T>[] random_split<T>(Dataset<T> dataset, double[] lengths, Generator? generator = null)
            {
                long n = dataset.Count;
                long[] sizes;
                double total = lengths.Sum();
                if (Math.Abs(total - 1) < 1e-12 && lengths.Sum() <= 1)
                {
                    sizes = new long[lengths.Length];
                    for (int i = 0; i < lengths.Length; i++)
                    {
                        if (lengths[i] < 0 || lengths[i] > 1) throw new ArgumentException($"Fraction at index {i} is not between 0 and 1");
                        sizes[i] = (long)Math.Floor(n * lengths[i]);
                    }
                    long remainder = n - sizes.Sum();
                    for (long i = 0; i < remainder; i++) sizes[i % sizes.Length] += 1;
                    for (int i = 0; i < sizes.Length; i++)
                        if (sizes[i] == 0) Warnings.Warn($"Length of split at index {i} is 0. This might result in an empty dataset.");
                }
                else sizes = lengths.Select(l => (long)l).ToArray();
                return random_split(dataset, sizes, generator);
            }

            /// <summary>Splits a dataset into non-overlapping random subsets of the given lengths.</summary>
            /// <exception cref="ArgumentException">Lengths that do not add up to the dataset's length.</exception>
            public static Subset<T>[] random_split<T>(Dataset<T> dataset, long[] lengths, Generator? generator = null)
            {
                if (lengths.Sum() != dataset.Count)
                    throw new ArgumentException("Sum of input lengths does not equal the length of the input dataset!");
                var perm = torch.randperm(lengths.Sum(), generator: generator ?? Generator.Default).ToArray<long>();
                var result = new Subset<T>[lengths.Length];
                long offset = 0;
                for (int i = 0; i < lengths.Length; i++)
                {
                    result[i] = new Subset<T>(dataset, new ArraySegment<long>(perm, (int)offset, (int)lengths[i]));
                    offset += lengths[i];
                }
                return result;
            }
        }
    }
}
