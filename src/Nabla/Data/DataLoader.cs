using static Nabla.torch.utils.data;
using Nabla.Modules;

namespace Nabla
{

// Note [DataLoader workers]
// PyTorch's workers are processes; here they are thread-pool tasks. With num_workers > 0 the loader keeps up to
// num_workers · prefetch_factor batches in flight (each one fetched and collated by one task) and yields them in
// sampler order, so the order and the batches equal the num_workers = 0 ones. Items are read concurrently, so a
// custom Dataset must allow concurrent reads by index (the built-in ones do). Abandoning an enumeration waits for
// the batches in flight. Grad mode is off in the tasks (as data loading is in PyTorch).

public static partial class torch
{
    public static partial class utils
    {
        public static partial class data
        {
            /// <summary>Stacks each position of the items: a list of (x, y, ...) becomes (stack(xs), stack(ys), ...) (<c>default_collate</c>).</summary>
            /// <exception cref="ArgumentException">Items with different numbers of tensors, or an empty list.</exception>
            public static Tensor[] default_collate(IReadOnlyList<Tensor[]> batch)
            {
                if (batch.Count == 0) throw new ArgumentException("cannot collate an empty batch");
                int k = batch[0].Length;
                if (batch.Any(b => b.Length != k)) throw new ArgumentException("each element in list of batch should be of equal size");
                var result = new Tensor[k];
                for (int j = 0; j < k; j++) result[j] = torch.stack(batch.Select(b => b[j]).ToArray());
                return result;
            }

            /// <summary>Stacks tensors into a batch.</summary>
            public static Tensor default_collate(IReadOnlyList<Tensor> batch) => torch.stack(batch.ToArray());

            /// <summary>Stacks (input, label) pairs into (inputs, int64 labels).</summary>
            public static (Tensor, Tensor) default_collate(IReadOnlyList<(Tensor input, long label)> batch) =>
                (torch.stack(batch.Select(b => b.input).ToArray()), torch.tensor(batch.Select(b => b.label).ToArray()));

            /// <summary>A loader over a dataset of tensor tuples (e.g. a TensorDataset), batches stacked per position.</summary>
            public static DataLoader<Tensor[], Tensor[]> DataLoader(Dataset<Tensor[]> dataset, long batch_size = 1, bool shuffle = false, Sampler? sampler = null,
                int num_workers = 0, bool drop_last = false, Generator? generator = null, int prefetch_factor = 2) =>
                new(dataset, default_collate, batch_size, shuffle, sampler, null, num_workers, drop_last, generator, prefetch_factor);

            /// <summary>A loader over (input, label) items, e.g. MNIST; batches are (inputs, int64 labels).</summary>
            public static DataLoader<(Tensor, long), (Tensor, Tensor)> DataLoader(Dataset<(Tensor, long)> dataset, long batch_size = 1, bool shuffle = false, Sampler? sampler = null,
                int num_workers = 0, bool drop_last = false, Generator? generator = null, int prefetch_factor = 2) =>
                new(dataset, default_collate, batch_size, shuffle, sampler, null, num_workers, drop_last, generator, prefetch_factor);

            /// <summary>A loader over tensor items; batches are stacked.</summary>
            public static DataLoader<Tensor, Tensor> DataLoader(Dataset<Tensor> dataset, long batch_size = 1, bool shuffle = false, Sampler? sampler = null,
                int num_workers = 0, bool drop_last = false, Generator? generator = null, int prefetch_factor = 2) =>
                new(dataset, default_collate, batch_size, shuffle, sampler, null, num_workers, drop_last, generator, prefetch_factor);
        }
    }
}
}

namespace Nabla.Modules
{
    /// <summary>
    /// Iterates a dataset in batches (<c>torch.utils.data.DataLoader</c>): shuffling with PyTorch's order for
    /// the same seed (Note [Sampler order]), custom samplers, drop_last, a collate function and background
    /// prefetch on worker threads (Note [DataLoader workers]).
    /// </summary>
    /// <typeparam name="T">The dataset's item type.</typeparam>
    /// <typeparam name="TBatch">What collate_fn makes of a list of items.</typeparam>
    public sealed class DataLoader<T, TBatch> : IEnumerable<TBatch>
    {
        /// <summary>Creates the loader.</summary>
        /// <exception cref="ArgumentException">Mutually exclusive options (PyTorch's messages), or negative num_workers.</exception>
        public DataLoader(Dataset<T> dataset, Func<IReadOnlyList<T>, TBatch> collate_fn, long batch_size = 1, bool shuffle = false,
            Sampler? sampler = null, IEnumerable<long[]>? batch_sampler = null, int num_workers = 0, bool drop_last = false,
            Generator? generator = null, int prefetch_factor = 2)
        {
            if (num_workers < 0) throw new ArgumentException("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.");
            if (sampler is not null && shuffle) throw new ArgumentException("sampler option is mutually exclusive with shuffle");
            if (batch_sampler is not null && (batch_size != 1 || shuffle || sampler is not null || drop_last))
                throw new ArgumentException("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last");
            this.dataset = dataset; this.collate_fn = collate_fn; this.batch_size = batch_size; this.drop_last = drop_last;
            this.num_workers = num_workers; this.generator = generator; this.prefetch_factor = Math.Max(1, prefetch_factor);
            this.sampler = sampler ?? (shuffle ? new RandomSampler(dataset.Count, generator: generator) : new SequentialSampler(dataset.Count));
            this.batch_sampler = batch_sampler ?? new BatchSampler(this.sampler, batch_size, drop_last);
        }

        /// <summary>The dataset.</summary>
        public Dataset<T> dataset { get; }
        /// <summary>Turns a list of items into a batch.</summary>
        public Func<IReadOnlyList<T>, TBatch> collate_fn { get; }
        /// <summary>Items per batch.</summary>
        public long batch_size { get; }
        /// <summary>Whether a last, smaller batch is dropped.</summary>
        public bool drop_last { get; }
        /// <summary>Background tasks fetching batches (0: on the calling thread).</summary>
        public int num_workers { get; }
        /// <summary>Batches in flight per worker.</summary>
        public int prefetch_factor { get; }
        /// <summary>The generator of the shuffle and the base seed (null: the default one).</summary>
        public Generator? generator { get; }
        /// <summary>The index sampler.</summary>
        public Sampler sampler { get; }
        /// <summary>The batch index sampler.</summary>
        public IEnumerable<long[]> batch_sampler { get; }

        /// <summary>The number of batches (Python's <c>len(loader)</c>).</summary>
        public long Count => batch_sampler is BatchSampler b ? b.Count : batch_sampler.LongCount();

        TBatch Fetch(long[] indices)
        {
            var items = new T[indices.Length];
            for (int i = 0; i < indices.Length; i++) items[i] = dataset[indices[i]];
            return collate_fn(items);
        }

        /// <inheritdoc/>
        public IEnumerator<TBatch> GetEnumerator()
        {
            // _BaseDataLoaderIter draws its base seed first (Note [Sampler order]).
            Sampler.RandomInt64(generator ?? Generator.Default);
            if (num_workers == 0)
            {
                foreach (var indices in batch_sampler) yield return Fetch(indices);
                yield break;
            }
            var inFlight = new Queue<Task<TBatch>>();
            int limit = num_workers * prefetch_factor;
            using var batches = batch_sampler.GetEnumerator();
            try
            {
                while (true)
                {
                    while (inFlight.Count < limit && batches.MoveNext())
                    {
                        var indices = batches.Current;
                        inFlight.Enqueue(Task.Run(() => { using (torch.no_grad()) return Fetch(indices); }));
                    }
                    if (inFlight.Count == 0) yield break;
                    yield return inFlight.Dequeue().GetAwaiter().GetResult();
                }
            }
            finally
            {
                foreach (var t in inFlight) try { t.Wait(); } catch (AggregateException) { }
            }
        }
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

}
