using System.Text.Json;
using Xunit;
using static Nabla.torch;

namespace Nabla.Tests;

/// <summary>torchvision.models.resnet18: architecture, names, count and init against a transcription of torchvision.</summary>
[Collection("GlobalGenerator")]
public class ResNetTests
{
    [Fact]
    public void Resnet18ParametersMatchTorchvision()
    {
        var fixture = NnFixtures.Load("resnet18.json");
        manual_seed(0);
        var model = torchvision.models.resnet18();
        var names = model.named_parameters().ToList();
        var expected = fixture.GetProperty("parameters").EnumerateArray().ToList();
        Assert.Equal(expected.Count, names.Count);
        for (int i = 0; i < names.Count; i++)
        {
            Assert.Equal(expected[i][0].GetString(), names[i].name);
            Assert.Equal(expected[i][1].EnumerateArray().Select(v => v.GetInt64()).ToArray(), names[i].parameter.shape);
        }
        Assert.Equal(fixture.GetProperty("numel").GetInt64(), model.parameters().Sum(p => p.numel()));
        Assert.Equal(11_689_512L, model.parameters().Sum(p => p.numel()));
        Assert.Equal(fixture.GetProperty("buffers").EnumerateArray().Select(b => b[0].GetString()).ToArray(), model.named_buffers().Select(b => b.name).ToArray());
        Assert.Equal(fixture.GetProperty("state_dict").EnumerateArray().Select(k => k.GetString()).ToArray(), model.state_dict().Keys.ToArray());

        var byName = names.ToDictionary(n => n.name, n => n.parameter);
        var report = new List<string>();
        foreach (var sample in fixture.GetProperty("samples").EnumerateObject())
        {
            var actual = byName[sample.Name].reshape(-1).narrow(0, 0, 6).ToDoubleArray();
            try { NnFixtures.AssertClose(NnFixtures.Doubles(sample.Value), actual, 1e-6, 1e-7, sample.Name); }
            catch (Xunit.Sdk.XunitException e) { report.Add(e.Message); }
        }
        Assert.True(report.Count == 0, string.Join("\n", report));
        var head = string.Join("\n", model.get_submodule("conv1")!, model.get_submodule("bn1")!, model.get_submodule("maxpool")!,
            model.get_submodule("avgpool")!, model.get_submodule("fc")!, model.get_submodule("layer2.0.downsample")!);
        Assert.Equal(fixture.GetProperty("repr_head").GetString(), head);
    }

    static bool ConvAvailable()
    {
        try { Ops.Conv.Conv2d(zeros(1, 1, 1, 1), zeros(1, 1, 1, 1), null, new[] { 1L, 1 }, new[] { 0L, 0 }, new[] { 1L, 1 }, 1); return true; }
        catch (NotSupportedException) { return false; }
    }

    [Fact]
    public void Resnet18ForwardBackwardStep()
    {
        // Runs once the conv/pool/batch-norm ops (branch conv) are merged; the stubs on branch nn throw NotSupportedException.
        if (!ConvAvailable()) return;
        manual_seed(0);
        var model = torchvision.models.resnet18(num_classes: 10);
        var x = randn(2, 3, 64, 64);
        var y = tensor(new long[] { 3, 7 });
        var opt = optim.SGD(model.parameters(), lr: 0.01, momentum: 0.9);
        var logits = model.call(x);
        Assert.Equal(new long[] { 2, 10 }, logits.shape);
        var loss = nn.functional.cross_entropy(logits, y);
        loss.backward();
        Assert.All(model.parameters(), p => Assert.NotNull(p.grad));
        var before = model.get_submodule("fc") is Modules.Linear fc ? fc.weight.clone() : throw new InvalidOperationException();
        opt.step();
        Assert.False(((Modules.Linear)model.get_submodule("fc")!).weight.equal(before));
        Assert.Equal(1L, ((Modules.BatchNorm2d)model.get_submodule("bn1")!).num_batches_tracked!.item<long>());
        model.eval();
        Assert.Equal(new long[] { 2, 10 }, model.call(x).shape);
    }
}
