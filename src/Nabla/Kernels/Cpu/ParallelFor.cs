using System.Runtime.ExceptionServices;

namespace Nabla.Kernels.Cpu;

/// <summary>A body run over a sub-range [begin, end) of a parallel loop.</summary>
internal interface IRangeBody
{
    void Invoke(int begin, int end);
}

/// <summary>
/// Splits [0, count) into chunks of at least <c>grain</c> iterations and runs them on up to
/// <see cref="NumThreads"/> threads. Below two grains the body runs inline on the caller's thread,
/// so tiny tensors pay nothing for the machinery.
/// </summary>
/// <remarks>
/// Chunks are handed out by a lightweight dispatcher: <see cref="NumThreads"/> - 1 persistent background workers
/// that spin briefly between jobs and then sleep, and the calling thread, which claims chunks too and so can finish
/// the whole loop alone when the workers are slow to wake (a busy machine). A call costs a few microseconds and
/// one small allocation, rather than <c>Parallel.For</c>'s tens of microseconds. Concurrent and nested calls are
/// safe: every caller completes its own job, with whatever help the workers give.
/// </remarks>
internal static class ParallelFor
{
    static int _numThreads = Environment.ProcessorCount;

    /// <summary>Threads used by intra-op parallel loops (<c>torch.set_num_threads</c>).</summary>
    public static int NumThreads
    {
        get => _numThreads;
        set => _numThreads = Math.Max(1, value);
    }

    /// <summary>Runs <paramref name="body"/> over [0, count) in parallel chunks.</summary>
    public static void For<TBody>(int count, int grain, TBody body) where TBody : struct, IRangeBody
    {
        if (count <= 0) return;
        int threads = NumThreads;
        grain = Math.Max(1, grain);
        int chunks = Math.Min(threads, (count + grain - 1) / grain);
        if (chunks <= 1)
        {
            body.Invoke(0, count);
            return;
        }
        int per = (count + chunks - 1) / chunks;
        chunks = (count + per - 1) / per;
        var job = new Job<TBody>(body, count, chunks, per);
        Pool.Run(job, chunks - 1);
    }

    /// <summary>One parallel loop: chunks are claimed with an atomic counter by the caller and the workers.</summary>
    abstract class Job
    {
        readonly int _count, _chunks, _per;
        int _next;
        int _remaining;
        Exception? _error;

        protected Job(int count, int chunks, int per)
        {
            _count = count;
            _chunks = chunks;
            _per = per;
            _remaining = chunks;
        }

        protected abstract void Invoke(int begin, int end);

        public bool Done => Volatile.Read(ref _remaining) == 0;

        public Exception? Error => _error;

        /// <summary>Claims and runs chunks until none are left.</summary>
        public void Work()
        {
            while (true)
            {
                int c = Interlocked.Increment(ref _next) - 1;
                if (c >= _chunks) return;
                int begin = c * _per;
                int end = Math.Min(_count, begin + _per);
                try
                {
                    if (begin < end) Invoke(begin, end);
                }
                catch (Exception ex)
                {
                    Interlocked.CompareExchange(ref _error, ex, null);
                }
                if (Interlocked.Decrement(ref _remaining) == 0)
                {
                    lock (this) Monitor.PulseAll(this);
                }
            }
        }

        /// <summary>Blocks the caller until every chunk has finished (spinning briefly first).</summary>
        public void Wait()
        {
            if (Done) return;
            var spin = new SpinWait();
            for (int i = 0; i < 200 && !Done; i++) spin.SpinOnce(sleep1Threshold: -1);
            if (Done) return;
            lock (this)
            {
                while (!Done) Monitor.Wait(this);
            }
        }
    }

    sealed class Job<TBody> : Job where TBody : struct, IRangeBody
    {
        TBody _body;

        public Job(TBody body, int count, int chunks, int per) : base(count, chunks, per) => _body = body;

        protected override void Invoke(int begin, int end) => _body.Invoke(begin, end);
    }

    /// <summary>The persistent workers.</summary>
    static class Pool
    {
        static volatile Job? s_current;
        static int s_generation;
        static int s_sleepers;
        static int s_workers;
        static readonly SemaphoreSlim s_wake = new(0);
        static readonly object s_grow = new();

        /// <summary>Iterations of <c>Thread.SpinWait(8)</c> a worker spins for a new job before it sleeps (a few hundred microseconds).</summary>
        const int SpinIterations = 1000;

        public static void Run(Job job, int helpers)
        {
            EnsureWorkers(helpers);
            s_current = job;
            Interlocked.Increment(ref s_generation); // full fence: publish the job before reading s_sleepers
            int sleepers = Volatile.Read(ref s_sleepers);
            if (sleepers > 0) s_wake.Release(Math.Min(sleepers, helpers));
            job.Work();
            job.Wait();
            if (job.Error is { } error) ExceptionDispatchInfo.Throw(error);
        }

        static void EnsureWorkers(int wanted)
        {
            if (Volatile.Read(ref s_workers) >= wanted) return;
            lock (s_grow)
            {
                while (s_workers < wanted)
                {
                    var thread = new Thread(WorkerLoop) { IsBackground = true, Name = "Nabla.ParallelFor" };
                    thread.Start();
                    s_workers++;
                }
            }
        }

        static void WorkerLoop()
        {
            int seen = Volatile.Read(ref s_generation);
            while (true)
            {
                for (int i = 0; i < SpinIterations && Volatile.Read(ref s_generation) == seen; i++)
                    Thread.SpinWait(8);
                if (Volatile.Read(ref s_generation) == seen)
                {
                    Interlocked.Increment(ref s_sleepers); // full fence: announce before re-checking the generation
                    if (Volatile.Read(ref s_generation) == seen) s_wake.Wait();
                    Interlocked.Decrement(ref s_sleepers);
                    continue;
                }
                seen = Volatile.Read(ref s_generation);
                s_current?.Work();
            }
        }
    }
}
