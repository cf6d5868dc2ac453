using System.Text.Json;
using Xunit;
using static Nabla.torch;

namespace Nabla.Tests;

/// <summary>nn.utils against PyTorch 1.13 (tools/fixtures/nn_clip_grad.py) and the checkpoint round trip.</summary>
public class UtilsAndCheckpointTests
{
    [Theory]
    [InlineData("2.0", 2.0)]
    [InlineData("1.0", 1.0)]
    [InlineData("inf", double.PositiveInfinity)]
    [InlineData("3.0", 3.0)]
    public void ClipGradNormMatchesPyTorch(string key, double normType)
    {
        var f = NnFixtures.Load("clip_grad.json").GetProperty(key);
        var a = zeros(new long[] { 3, 4 }, ScalarType.Float64).requires_grad_();
        var b = zeros(new long[] { 5 }, ScalarType.Float64).requires_grad_();
        var unused = zeros(2, requires_grad: true);
        (a * tensor(NnFixtures.Doubles(f.GetProperty("ga")), new long[] { 3, 4 }, ScalarType.Float64)).sum().backward();
        (b * tensor(NnFixtures.Doubles(f.GetProperty("gb")), ScalarType.Float64)).sum().backward();
        var total = nn.utils.clip_grad_norm_(new[] { a, b, unused }, 0.7, normType);
        NnFixtures.AssertClose(new[] { f.GetProperty("total").GetDouble() }, new[] { total.ToDouble() }, 1e-12, 0, "total norm");
        NnFixtures.AssertClose(NnFixtures.Doubles(f.GetProperty("ca")), a.grad!.ToDoubleArray(), 1e-12, 1e-15, "clipped a");
        NnFixtures.AssertClose(NnFixtures.Doubles(f.GetProperty("cb")), b.grad!.ToDoubleArray(), 1e-12, 1e-15, "clipped b");
    }

    [Fact]
    public void ClipValueVectorAndNonFinite()
    {
        var p = zeros(3, requires_grad: true);
        (p * tensor(new[] { -5f, 0.5f, 9f })).sum().backward();
        nn.utils.clip_grad_value_(new[] { p }, 1.0);
        Assert.Equal(new[] { -1.0, 0.5, 1.0 }, p.grad!.ToDoubleArray());
        var l = nn.Linear(2, 3);
        var v = nn.utils.parameters_to_vector(l.parameters());
        Assert.Equal(new long[] { 9 }, v.shape);
        nn.utils.vector_to_parameters(arange(9).to(ScalarType.Float32), l.parameters());
        Assert.Equal(new[] { 6.0, 7.0, 8.0 }, l.bias!.ToDoubleArray());
        var q = zeros(1, requires_grad: true);
        (q * float.PositiveInfinity).sum().backward();
        Assert.StartsWith("The total norm of order 2.0 for gradients from `parameters` is non-finite",
            Assert.Throws<InvalidOperationException>(() => nn.utils.clip_grad_norm_(new[] { q }, 1.0, error_if_nonfinite: true)).Message);
    }

    [Fact]
    public void CheckpointRoundTripsExactly()
    {
        var model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU());
        model.call(randn(2, 1, 5, 5));   // running stats and num_batches_tracked change
        var ms = new MemoryStream();
        save(model.state_dict(), ms);
        ms.Position = 0;
        var loaded = serialization.as_state_dict(load(ms));
        var fresh = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU());
        fresh.load_state_dict(loaded);
        foreach (var (k, v) in model.state_dict())
        {
            Assert.Equal(v.dtype, fresh.state_dict()[k].dtype);
            Assert.True(equal(v, fresh.state_dict()[k]), k);
        }
        Assert.Equal(new[] { "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked" }, loaded.Keys.ToArray());
        Assert.Throws<InvalidDataException>(() => load(new MemoryStream(new byte[] { 1, 2, 3 })));
    }
}
