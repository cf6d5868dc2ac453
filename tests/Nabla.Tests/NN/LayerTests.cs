using System.Text.Json;
using Xunit;
using static Nabla.torch;

namespace Nabla.Tests;

/// <summary>Composite layers: forward and gradients against PyTorch 1.13 (tools/fixtures/nn_layers.py), containers.</summary>
[Collection("GlobalGenerator")]
public class LayerTests
{
    static readonly Lazy<JsonElement> Fixture = new(() => NnFixtures.Load("layers.json"));
    static Tensor T(JsonElement e, params long[] shape) => tensor(NnFixtures.Doubles(e), shape, ScalarType.Float64);

    [Theory]
    [InlineData("silu")]
    [InlineData("mish")]
    [InlineData("softplus")]
    [InlineData("hardswish")]
    [InlineData("leaky_relu")]
    [InlineData("elu")]
    [InlineData("softmax")]
    [InlineData("log_softmax")]
    public void ActivationsMatchPyTorch(string name)
    {
        nn.Module<Tensor, Tensor> m = name switch
        {
            "silu" => nn.SiLU(), "mish" => nn.Mish(), "softplus" => nn.Softplus(beta: 2.0, threshold: 10.0), "hardswish" => nn.Hardswish(),
            "leaky_relu" => nn.LeakyReLU(0.2), "elu" => nn.ELU(0.7), "softmax" => nn.Softmax(1), _ => nn.LogSoftmax(0),
        };
        var f = Fixture.Value.GetProperty(name);
        var x = T(f.GetProperty("x"), 3, 5).requires_grad_();
        var y = m.call(x);
        NnFixtures.AssertClose(T(f.GetProperty("y"), 3, 5), y, 1e-12, 1e-14, name + " forward");
        y.backward(T(f.GetProperty("g"), 3, 5));
        NnFixtures.AssertClose(T(f.GetProperty("gx"), 3, 5), x.grad!, 1e-10, 1e-13, name + " grad");
    }

    [Fact]
    public void LayerNormMatchesPyTorch()
    {
        var f = Fixture.Value.GetProperty("layer_norm");
        var ln = nn.LayerNorm(new long[] { 4, 5 }, eps: 1e-3, dtype: ScalarType.Float64);
        using (no_grad()) { ln.weight!.copy_(T(f.GetProperty("w"), 4, 5)); ln.bias!.copy_(T(f.GetProperty("b"), 4, 5)); }
        var x = T(f.GetProperty("x"), 2, 4, 5).requires_grad_();
        var y = ln.call(x);
        NnFixtures.AssertClose(T(f.GetProperty("y"), 2, 4, 5), y, 1e-12, 1e-13, "layer_norm forward");
        y.backward(T(f.GetProperty("g"), 2, 4, 5));
        NnFixtures.AssertClose(T(f.GetProperty("gx"), 2, 4, 5), x.grad!, 1e-10, 1e-12, "layer_norm grad x");
        NnFixtures.AssertClose(T(f.GetProperty("gw"), 4, 5), ln.weight!.grad!, 1e-10, 1e-12, "layer_norm grad w");
        NnFixtures.AssertClose(T(f.GetProperty("gb"), 4, 5), ln.bias!.grad!, 1e-10, 1e-12, "layer_norm grad b");
        Assert.Equal("Given normalized_shape=[4, 5], expected input with shape [*, 4, 5], but got input of size[2, 5, 4]",
            Assert.Throws<ArgumentException>(() => ln.call(zeros(new long[] { 2, 5, 4 }, ScalarType.Float64))).Message);
    }

    [Fact]
    public void EmbeddingInitAndPaddingGradMatchPyTorch()
    {
        manual_seed(5);
        var emb = nn.Embedding(6, 3, padding_idx: 2);
        NnFixtures.AssertClose(NnFixtures.Doubles(Fixture.Value.GetProperty("embedding_init")), emb.weight.ToDoubleArray(), 1e-6, 1e-7, "embedding init");
        emb.to(ScalarType.Float64);
        var f = Fixture.Value.GetProperty("embedding");
        var y = emb.call(tensor(new long[] { 1, 2, 5, 2, 1, 0 }, new long[] { 2, 3 }));
        NnFixtures.AssertClose(T(f.GetProperty("y"), 2, 3, 3), y, 1e-12, 0, "embedding forward");
        y.backward(T(f.GetProperty("g"), 2, 3, 3));
        NnFixtures.AssertClose(T(f.GetProperty("gw"), 6, 3), emb.weight.grad!, 1e-12, 0, "embedding grad");
        Assert.Equal("Padding_idx must be within num_embeddings", Assert.Throws<ArgumentException>(() => nn.Embedding(3, 2, padding_idx: 3)).Message);
    }

    [Fact]
    public void ContainersRegisterAndReplace()
    {
        var list = nn.ModuleList(nn.Linear(2, 2), nn.ReLU());
        list.append(nn.Linear(2, 1));
        Assert.Equal(new[] { "0.weight", "0.bias", "2.weight", "2.bias" }, list.named_parameters().Select(p => p.name).ToArray());
        list[0] = nn.Linear(2, 2, bias: false);
        Assert.Equal(new[] { "0.weight", "2.weight", "2.bias" }, list.named_parameters().Select(p => p.name).ToArray());
        var dict = nn.ModuleDict(("enc", nn.Linear(3, 3)), ("act", nn.Identity()));
        Assert.Equal(new[] { "enc", "act" }, dict.keys().ToArray());
        Assert.IsType<Modules.Identity>(dict["act"]);
        var plist = nn.ParameterList(ones(2), zeros(3));
        Assert.Equal(new[] { "0", "1" }, plist.named_parameters().Select(p => p.name).ToArray());
        Assert.True(plist[1].requires_grad);
        Assert.Equal(new long[] { 2, 3, 4 }, nn.Unflatten(1, new long[] { 3, 4 }).call(zeros(2, 12)).shape);
    }
}
