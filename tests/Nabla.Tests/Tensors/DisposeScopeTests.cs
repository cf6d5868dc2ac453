using Nabla.Backends.Cpu;
using Nabla;
using Xunit;
using static Nabla.torch;

namespace Nabla.Tests;

public class DisposeScopeTests
{
    // 3001 floats = 12 KB: pooled (>= 4 KB) and a size no other test uses.
    const int Odd = 3001;

    static float[] Values(Tensor t) => t.ToArray<float>();

    [Fact]
    public void DisposingAViewKeepsTheBaseIntact()
    {
        var x = arange(Odd, dtype: ScalarType.Float32);
        var v = x.view(-1).narrow(0, 0, 10);
        var d = x.detach();
        var data = x.data;
        v.Dispose();
        d.Dispose();
        data.Dispose();
        // The base still owns its buffer: a new allocation of the same size must not reuse it.
        var other = full(new long[] { Odd }, 7f);
        Assert.Equal(0f, x[0].item<float>());
        Assert.Equal(Odd - 1, x[Odd - 1].item<float>());
        Assert.Equal(7f, other[0].item<float>());
    }

    [Fact]
    public void DisposingTheBaseKeepsAViewIntact()
    {
        var x = arange(Odd, dtype: ScalarType.Float32);
        var v = x.narrow(0, 1, Odd - 1);
        x.Dispose();
        var other = full(new long[] { Odd }, 7f);
        Assert.Equal(1f, v[0].item<float>());
        Assert.Equal(Odd - 1, v[Odd - 2].item<float>());
        Assert.Equal(7f, other[0].item<float>());
    }

    [Fact]
    public void ScopeDisposesTemporariesAndMovedOutTensorsSurvive()
    {
        var outside = ones(Odd);
        Tensor temp, kept, detached;
        using (var scope = NewDisposeScope())
        {
            temp = outside * 2;
            kept = (outside + 1).MoveToOuterDisposeScope();
            detached = (outside + 2).DetachFromDisposeScope();
            Assert.True(scope.Contains(temp));
            Assert.False(scope.Contains(kept));
            Assert.Equal(1, scope.DisposablesCount);
        }
        Assert.True(temp.IsInvalid);
        Assert.False(kept.IsInvalid);
        Assert.False(outside.IsInvalid);
        Assert.All(Values(kept), v => Assert.Equal(2f, v));
        Assert.All(Values(detached), v => Assert.Equal(3f, v));
        Assert.All(Values(outside), v => Assert.Equal(1f, v));
    }

    [Fact]
    public void MoveToOuterGoesToTheEnclosingScope()
    {
        Tensor inner;
        using (NewDisposeScope())
        {
            using (NewDisposeScope())
            {
                inner = ones(Odd).MoveToOuterDisposeScope();
            }
            Assert.False(inner.IsInvalid);
            Assert.Equal(1f, inner[5].item<float>());
        }
        Assert.True(inner.IsInvalid);
    }

    [Fact]
    public void PooledBufferIsReused()
    {
        var before = MemoryPool.memory_stats();
        var a = ones(Odd + 2);
        var storage = (CpuStorage<float>)a._storage;
        var array = storage.Array;
        a.Dispose();
        Assert.True(MemoryPool.CachedBytes > 0);
        var b = zeros(Odd + 2);
        Assert.Same(array, ((CpuStorage<float>)b._storage).Array);
        Assert.All(Values(b), v => Assert.Equal(0f, v));   // zeros() clears the recycled buffer
        var after = MemoryPool.memory_stats();
        Assert.True(after["pool.hits"] > before["pool.hits"]);
        Assert.True(after["pool.returned"] > before["pool.returned"]);
    }

    [Fact]
    public void EmptyCacheDropsCachedBuffers()
    {
        ones(Odd + 4).Dispose();
        Assert.True(MemoryPool.CachedBytes > 0);
        MemoryPool.EmptyCache();
        Assert.Equal(0, MemoryPool.CachedBytes);
    }

    [Fact]
    public void GradSurvivesTheScope()
    {
        var w = ones(Odd, requires_grad: true);
        for (int step = 0; step < 2; step++)
        {
            using (NewDisposeScope())
            {
                var loss = (w * 3).sum();
                loss.backward();
            }
            Assert.False(w.grad!.IsInvalid);
            Assert.All(Values(w.grad!), v => Assert.Equal(3f * (step + 1), v));
        }
    }

    [Fact]
    public void TrainingLoopInAScopeMatchesOneWithout()
    {
        static float[] Train(bool scoped)
        {
            manual_seed(0);
            var model = nn.Linear(40, 30);
            var opt = optim.SGD(model.parameters(), lr: 0.1, momentum: 0.9);
            var x = randn(32, 40);
            for (int i = 0; i < 3; i++)
            {
                using var scope = scoped ? NewDisposeScope() : null;
                opt.zero_grad();
                var loss = model.forward(x).pow(2).mean();
                loss.backward();
                opt.step();
            }
            return model.weight!.ToArray<float>();
        }
        Assert.Equal(Train(false), Train(true));
    }

    [Fact]
    public void UsingADisposedTensorThrows()
    {
        var x = ones(Odd);
        var y = x * 2;
        y.Dispose();
        y.Dispose(); // twice is fine
        var e = Assert.Throws<ObjectDisposedException>(() => y.sum());
        Assert.Contains("disposed", e.Message);
        Assert.Throws<ObjectDisposedException>(() => y[0].item<float>());
        // Small (unpooled) tensors too.
        var s = tensor(new float[] { 1, 2 });
        s.Dispose();
        Assert.Throws<ObjectDisposedException>(() => s.ToArray<float>());
    }
}

public class OwnedGradientTests
{
    [Fact]
    public void ZeroGradRecyclesUnseenGradientsOnly()
    {
        var model = nn.Linear(64, 32);   // weight grad 8 KB: pooled
        var opt = optim.SGD(model.parameters(), lr: 0.1);
        var x = randn(4, 64);
        model.forward(x).sum().backward();
        var seen = model.weight!.grad!;              // read by user code: must survive zero_grad
        var copy = seen.clone();
        opt.zero_grad();
        Assert.False(seen.IsInvalid);
        Assert.Equal(copy.ToArray<float>(), seen.ToArray<float>());

        // A gradient nobody read is recycled: the next backward reuses its buffer and stays correct.
        model.forward(x).sum().backward();
        long hits = MemoryPool.memory_stats()["pool.hits"];
        opt.zero_grad();
        model.forward(x).sum().backward();
        Assert.True(MemoryPool.memory_stats()["pool.hits"] > hits);
        Assert.Equal(copy.ToArray<float>(), model.weight!.grad!.ToArray<float>());
        Assert.Equal(copy.ToArray<float>(), seen.ToArray<float>());
    }
}
