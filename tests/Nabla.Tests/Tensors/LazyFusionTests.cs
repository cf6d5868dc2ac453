using Nabla.Backends.Cpu;
using System.Runtime.InteropServices;
using Nabla;
using Xunit;
using static Nabla.torch;

namespace Nabla.Tests;

// Note [Lazy fusion]: large no-grad elementwise ops are deferred and fused. These tests compare every deferred result
// with the eager path (LazyFusion.Enabled = false) bit for bit, check that the deferred path was really taken, and
// exercise every way a source can be written or released before the deferred result is read.
public class LazyFusionTests : IDisposable
{
    const int N = LazyFusion.MinElements;

    readonly bool _saved = LazyFusion.Enabled;
    readonly int _threads = get_num_threads();

    public LazyFusionTests() => LazyFusion.Enabled = true;

    public void Dispose()
    {
        LazyFusion.Enabled = _saved;
        set_num_threads(_threads);
    }

    static T Eager<T>(Func<T> f)
    {
        LazyFusion.Enabled = false;
        try { return f(); }
        finally { LazyFusion.Enabled = true; }
    }

    /// <summary>Random values with negatives, zeros (both signs), NaN and infinities sprinkled in.</summary>
    static Tensor Source(int n, ScalarType dtype, int seed)
    {
        manual_seed(seed);
        var t = randn(n, dtype: dtype);
        t[0] = 0f; t[1] = -0.0; t[2] = double.NaN; t[3] = double.PositiveInfinity; t[4] = double.NegativeInfinity;
        t[n - 1] = double.NaN; t[n / 2] = -0.0;
        return t;
    }

    static void AssertBitEqual(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.shape, actual.shape);
        Assert.Equal(expected.dtype, actual.dtype);
        if (expected.dtype == ScalarType.Float32)
            Assert.True(MemoryMarshal.Cast<float, int>(expected.ToArray<float>()).SequenceEqual(MemoryMarshal.Cast<float, int>(actual.ToArray<float>())), "float32 results differ");
        else
            Assert.True(MemoryMarshal.Cast<double, long>(expected.ToArray<double>()).SequenceEqual(MemoryMarshal.Cast<double, long>(actual.ToArray<double>())), "float64 results differ");
    }

    public static IEnumerable<object[]> Ops() =>
        new[] { "x+y", "x-y", "x*y", "x/y", "x+2", "2+x", "x-3", "3-x", "x*0.1", "x/3", "3/x", "-x", "abs", "relu",
                "maximum", "x*0d", "0d-x", "x*x", "chain", "both pending", "deep" }.Select(n => new object[] { n });

    static Func<Tensor, Tensor, Tensor> OpByName(string name) =>
        name switch
        {
            "x+y" => (x, y) => x + y, "x-y" => (x, y) => x - y, "x*y" => (x, y) => x * y, "x/y" => (x, y) => x / y,
            "x+2" => (x, y) => x + 2, "2+x" => (x, y) => 2 + x, "x-3" => (x, y) => x - 3, "3-x" => (x, y) => 3 - x,
            "x*0.1" => (x, y) => x * 0.1, "x/3" => (x, y) => x / 3, "3/x" => (x, y) => 3 / x, "-x" => (x, y) => -x,
            "abs" => (x, y) => x.abs(), "relu" => (x, y) => x.relu(), "maximum" => (x, y) => maximum(x, y),
            "x*0d" => (x, y) => x * tensor(1.5, dtype: x.dtype), "0d-x" => (x, y) => tensor(1.5, dtype: x.dtype) - x,
            "x*x" => (x, y) => x * x,
            "chain" => (x, y) => ((x * 2 + 1).relu() - y) / 3,
            "both pending" => (x, y) => (x * 2 + 1) * (y - 1).abs(),
            "deep" => (x, y) =>
            {
                var t = x;
                for (int i = 0; i < 20; i++) t = (t * 1.01 + y).relu() - 0.5;
                return t;
            },
            _ => throw new ArgumentException(name),
        };

    [Theory]
    [MemberData(nameof(Ops))]
    public void DeferredOpsEqualEagerBitForBit(string name)
    {
        var f = OpByName(name);
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.Float64 })
            foreach (int n in new[] { N, N + 13 })
            {
                var x = Source(n, dtype, 1);
                var y = Source(n, dtype, 2);
                var expected = Eager(() => f(x, y));
                Assert.False(LazyFusion.IsPending(expected._storage));
                var actual = f(x, y);
                Assert.True(LazyFusion.IsPending(actual._storage), $"{name} was not deferred");
                AssertBitEqual(expected, actual);
                Assert.False(LazyFusion.IsPending(actual._storage));
            }
    }

    [Fact]
    public void BelowTheThresholdOpsStayEager()
    {
        var x = rand(N - 1);
        Assert.False(LazyFusion.IsPending((x * 2 + 1)._storage));
        var big = rand(N);
        Assert.True(LazyFusion.IsPending((big * 2)._storage));
        LazyFusion.Enabled = false;
        Assert.False(LazyFusion.IsPending((big * 2)._storage));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void FusedSumEqualsTheEagerSumBitForBit(int threads)
    {
        // The fused sum uses Reduction.PairwiseSum's exact grouping, so it equals the eager sum of the materialized
        // tensor exactly (for a given thread count: 1 thread takes the sequential tree).
        set_num_threads(threads);
        foreach (int n in new[] { N, N + 1, N + 1023, N + 1024, 3 * N + 517 })
        {
            manual_seed(n);
            var x = randn(n);
            var y = randn(n);
            Func<Tensor> f = () => ((x * 2 + 1).relu() - y * 0.25).abs();
            float expectedSum = Eager(() => f().sum()).item<float>();
            float expectedMean = Eager(() => f().mean()).item<float>();
            var d = f();
            Assert.True(LazyFusion.IsPending(d._storage));
            Assert.Equal(BitConverter.SingleToInt32Bits(expectedSum), BitConverter.SingleToInt32Bits(d.sum().item<float>()));
            Assert.True(LazyFusion.IsPending(d._storage), "the fused sum must not materialize the tensor");
            Assert.Equal(BitConverter.SingleToInt32Bits(expectedMean), BitConverter.SingleToInt32Bits(d.mean().item<float>()));
            // The same tensor materialized afterwards sums to the same value.
            var values = d.ToArray<float>();
            Assert.False(LazyFusion.IsPending(d._storage));
            Assert.Equal(BitConverter.SingleToInt32Bits(expectedSum), BitConverter.SingleToInt32Bits(d.sum().item<float>()));
            Assert.Equal(expectedSum, tensor(values).sum().item<float>());
        }
    }

    [Fact]
    public void Float64SumOfADeferredTensorMatchesEager()
    {
        var x = randn(N + 7, dtype: ScalarType.Float64);
        double expected = Eager(() => (x * 3 - 1).sum()).item<double>();
        Assert.Equal(expected, (x * 3 - 1).sum().item<double>());
    }

    // ---- every way a source can change before the deferred result is read ----------------------------------------

    public static IEnumerable<object[]> Mutations() =>
        new[] { "add_", "mul_", "copy_", "setter", "index_put_", "fill_", "zero_", "uniform_", "normal_", "dispose",
                "scope", "data", "view add_", "sub_ with self" }.Select(m => new object[] { m });

    static void Mutate(string how, ref Tensor x)
    {
        switch (how)
        {
            case "add_": x.add_(1); break;
            case "mul_": x.mul_(-3); break;
            case "copy_": x.copy_(full(x.shape, 9f)); break;
            case "setter": x[5] = 123f; break;
            case "index_put_": x.index_put_(77f, TensorIndex.Slice(10, 20)); break;
            case "fill_": x.fill_(4); break;
            case "zero_": x.zero_(); break;
            case "uniform_": x.uniform_(); break;
            case "normal_": x.normal_(); break;
            case "dispose":
                x.Dispose();
                x = full(x.shape, 7f); // may reuse a pooled buffer of the same size: must not be x's
                break;
            case "data": x.data.add_(2); break;
            case "view add_": x.narrow(0, 3, 5).add_(1000); break;
            case "sub_ with self": x.sub_(x * 2); break;
            default: throw new ArgumentException(how);
        }
    }

    [Theory]
    [MemberData(nameof(Mutations))]
    public void WritingASourceFirstComputesItsPendingReaders(string how)
    {
        var x = rand(N + 5);
        var z = rand(N + 5);
        var before = x.ToArray<float>();
        var expected = Eager(() => (tensor(before) * 2 + z).relu());
        Tensor y;
        Tensor pendingSum;
        if (how == "scope")
        {
            using (var scope = NewDisposeScope())
            {
                var inner = x.clone();
                y = (inner * 2 + z).relu().MoveToOuterDisposeScope();
                pendingSum = (inner * 2 + z).relu().MoveToOuterDisposeScope();
            }
            var reuse = full(x.shape, 7f); // the scope's buffers went back to the pool
            Assert.Equal(7f, reuse[0].item<float>());
        }
        else
        {
            y = (x * 2 + z).relu();
            pendingSum = (x * 2 + z).relu();
            Assert.True(LazyFusion.IsPending(y._storage));
            Mutate(how, ref x);
        }
        Assert.True(LazyFusion.IsPending((pendingSum)._storage) || how != "dispose" && how != "scope");
        Assert.Equal(Eager(() => expected.sum()).item<float>(), pendingSum.sum().item<float>());
        AssertBitEqual(expected, y);
    }

    [Fact]
    public void WritingASecondSourceAlsoComputesTheReader()
    {
        var x = rand(N);
        var z = rand(N);
        var expected = Eager(() => x * z);
        var y = x * z;
        z.fill_(0);
        AssertBitEqual(expected, y);
    }

    [Fact]
    public void ReadingASourceLeavesItsValuesAndTheReadersIntact()
    {
        var x = rand(N);
        var expected = Eager(() => x * 2);
        var y = x * 2;
        var y2 = x - 1; // a second reader of the same source
        Assert.Equal(Eager(() => x.sum()).item<float>(), x.sum().item<float>());
        AssertBitEqual(expected, y);
        AssertBitEqual(Eager(() => x - 1), y2);
    }

    [Fact]
    public void ADeferredTensorWrittenInPlace()
    {
        var x = rand(N + 3);
        var expected = Eager(() => (x * 2).add_(1).mul_(x));
        var y = (x * 2).add_(1).mul_(x);
        AssertBitEqual(expected, y);
        var w = x * 3;
        w[0] = -1f;
        Assert.Equal(-1f, w[0].item<float>());
        Assert.Equal(x[1].item<float>() * 3, w[1].item<float>());
    }

    [Fact]
    public void ViewsOfADeferredTensor()
    {
        var x = rand(N + 16);
        var expected = Eager(() => x * 2 - 1);
        var y = x * 2 - 1;
        var v = y.view(-1, 16).narrow(0, 2, 10);
        var tail = y.narrow(0, 1, N + 15) + 1; // a pending offset view cannot be inlined: computed, then fused from
        Assert.True(LazyFusion.IsPending(tail._storage));
        AssertBitEqual(Eager(() => expected.view(-1, 16).narrow(0, 2, 10)), v);
        AssertBitEqual(Eager(() => expected.narrow(0, 1, N + 15) + 1), tail);
        AssertBitEqual(expected, y);
        Assert.Equal(expected.to(ScalarType.Float64).ToArray<double>(), (x * 2 - 1).to(ScalarType.Float64).ToArray<double>());
        Assert.Equal(Eager(() => expected.ToString()), (x * 2 - 1).ToString());
    }

    [Fact]
    public void ManyThreadsReadingOneDeferredTensor()
    {
        for (int round = 0; round < 5; round++)
        {
            var x = rand(N + 99);
            var expected = Eager(() => (x * 2 + 1).relu() - x);
            float expectedSum = Eager(() => expected.sum()).item<float>();
            var y = (x * 2 + 1).relu() - x;
            var sums = new float[8];
            var arrays = new float[8][];
            var threads = Enumerable.Range(0, 8).Select(i => new Thread(() =>
            {
                if (i % 2 == 0) sums[i] = y.sum().item<float>();
                else arrays[i] = y.ToArray<float>();
            })).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join());
            var e = expected.ToArray<float>();
            for (int i = 0; i < 8; i++)
            {
                if (i % 2 == 0) Assert.Equal(expectedSum, sums[i]);
                else Assert.Equal(e, arrays[i]);
            }
        }
    }

    [Fact]
    public void ThreadsWritingSourcesOfOtherThreadsReaders()
    {
        // Each thread builds pending readers of a shared source and of its own tensor, then writes its own tensor:
        // exercises the locks between pending buffers and their sources from several threads at once.
        var shared = rand(N);
        var sharedValues = shared.ToArray<float>();
        var errors = new List<string>();
        var threads = Enumerable.Range(0, 4).Select(i => new Thread(() =>
        {
            var own = full(new long[] { N }, (float)i);
            for (int k = 0; k < 4; k++)
            {
                var y = shared * own + k;
                own.add_(1);
                float v = y[12345].item<float>();
                float expected = sharedValues[12345] * (i + k) + k;
                if (v != expected) lock (errors) errors.Add($"thread {i} round {k}: {v} != {expected}");
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.Empty(errors);
        Assert.Equal(sharedValues, shared.ToArray<float>());
    }

    [Fact]
    public void GradModeWithRequiresGradSourcesTakesTheEagerPath()
    {
        var x = rand(new long[] { N }, requires_grad: true);
        var y = x * 2;
        Assert.False(LazyFusion.IsPending(y._storage));
        Assert.Equal("MulBackward1", y.grad_fn!.name());
        var r = (y + 1).relu();
        Assert.False(LazyFusion.IsPending(r._storage));
        Assert.Equal("ReluBackward0", r.grad_fn!.name());
        using (no_grad())
        {
            var d = x * 2;
            Assert.True(LazyFusion.IsPending(d._storage));
            Assert.Null(d.grad_fn);
        }
    }

    [Fact]
    public void BackwardThroughLargeTensorsAndRequiresGradOnADeferredTensor()
    {
        // Backward rules run without grad mode: their large intermediates are deferred, and AccumulateGrad may adopt
        // (rehome) such a buffer as .grad.
        var x = rand(new long[] { N + 1 }, requires_grad: true);
        ((x * 3).relu() * 2).sum().backward();
        AssertBitEqual(Eager(() => full(new long[] { N + 1 }, 6f)), x.grad!);

        Tensor d;
        using (no_grad()) d = x * 2;
        Assert.True(LazyFusion.IsPending(d._storage));
        d.requires_grad_();
        var loss = (d * d).sum();
        loss.backward();
        AssertBitEqual(Eager(() => x.detach() * 4), d.grad!);
    }

    [Fact]
    public void SgdStepOnLargeParameters()
    {
        var w = rand(new long[] { N }, requires_grad: true);
        var w0 = w.detach().clone();
        var opt = optim.SGD(new[] { w }, lr: 0.5, momentum: 0.9);
        for (int i = 0; i < 2; i++)
        {
            opt.zero_grad();
            (w * w).sum().backward();
            opt.step();
        }
        Tensor expected;
        using (no_grad())
        {
            LazyFusion.Enabled = false;
            var e = w0.clone().requires_grad_();
            var o = optim.SGD(new[] { e }, lr: 0.5, momentum: 0.9);
            for (int i = 0; i < 2; i++)
            {
                o.zero_grad();
                using (enable_grad()) (e * e).sum().backward();
                o.step();
            }
            LazyFusion.Enabled = true;
            expected = e.detach();
        }
        AssertBitEqual(expected, w.detach());
    }

    [Fact]
    public void DisposingAPendingTensorReleasesItsSources()
    {
        var x = rand(N);
        var values = x.ToArray<float>();
        var y = x * 2;
        y.Dispose();
        Assert.Throws<ObjectDisposedException>(() => y.sum());
        x.add_(1); // no pending reader any more: nothing to compute
        Assert.Equal(values[7] + 1, x[7].item<float>());
        x.Dispose();
        Assert.Throws<ObjectDisposedException>(() => x * 2);
    }
}
