using System.Text.Json;
using Xunit;
using static Nabla.Tests.Serialization.SerializationTestUtil;

namespace Nabla.Tests.Serialization;

/// <summary>torchvision.models.resnet18/34/50(weights: path): local .pth/.safetensors files, torchvision's names.</summary>
[Collection("GlobalGenerator")]
public class VisionWeightsTests
{
    [Theory]
    [InlineData(".pth")]
    [InlineData(".safetensors")]
    public void Resnet18LoadsWeightsFromAFileAndGivesTheSameOutputs(string ext)
    {
        torch.manual_seed(5);
        var source = torchvision.models.resnet18(num_classes: 10);
        using (torch.no_grad())
            foreach (var (name, buffer) in source.named_buffers())
                if (name.EndsWith("running_mean")) buffer.uniform_(-0.1, 0.1);
        source.eval();
        var path = Path.Combine(Path.GetTempPath(), $"nabla-r18-{Guid.NewGuid():N}{ext}");
        try
        {
            if (ext == ".pth") torch.save(source.state_dict(), path);
            else safetensors.save_file(source.state_dict(), path);
            torch.manual_seed(6);
            var loaded = torchvision.models.resnet18(num_classes: 10, weights: path);
            loaded.eval();
            var x = torch.randn(1, 3, 32, 32);
            using (torch.no_grad()) AssertSameTensor(source.call(x), loaded.call(x), "logits", layout: false);
            Assert.Throws<InvalidOperationException>(() => torchvision.models.resnet18(num_classes: 5, weights: path));   // size mismatch for fc
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void MissingWeightsSayWhereToPutTheFile()
    {
        var e = Assert.Throws<FileNotFoundException>(() => torchvision.models.resnet18(weights: "/nonexistent/resnet18.pth"));
        Assert.Contains("/nonexistent/resnet18.pth", e.Message);
        Assert.Contains("resnet18-f37072fd.pth", e.Message);
        Assert.Contains("downloads nothing", e.Message);
    }

    [Fact]
    public void Resnet50HasTorchvisionsNamesAndShapes()
    {
        var fx = JsonDocument.Parse(File.ReadAllText(FixturePath("resnet50_names.json"))).RootElement;
        var model = torchvision.models.resnet50();
        var sd = model.state_dict();
        var expected = fx.GetProperty("state_dict").EnumerateArray().ToList();
        Assert.Equal(expected.Select(e => e[0].GetString()), sd.Keys);
        foreach (var e in expected) Assert.Equal(e[1].EnumerateArray().Select(v => v.GetInt64()), sd[e[0].GetString()!].shape);
        Assert.Equal(fx.GetProperty("numel").GetInt64(), model.parameters().Sum(p => p.numel()));
        Assert.Equal(new long[] { 2, 1000 }, model.call(torch.randn(2, 3, 64, 64)).shape);
    }
}
