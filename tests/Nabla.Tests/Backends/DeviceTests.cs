using Nabla;
using Xunit;
using static Nabla.torch;

namespace Nabla.Tests.Backends;

public class DeviceTests
{
    [Theory]
    [InlineData("cpu", "cpu", DeviceType.CPU, -1)]
    [InlineData("meta", "meta", DeviceType.META, -1)]
    [InlineData("cuda", "cuda", DeviceType.CUDA, -1)]
    [InlineData("cuda:1", "cuda:1", DeviceType.CUDA, 1)]
    [InlineData("cpu:0", "cpu:0", DeviceType.CPU, 0)]
    public void ParsesAndPrintsAsPyTorch(string text, string printed, DeviceType type, int index)
    {
        var d = device(text);
        Assert.Equal(printed, d.ToString());
        Assert.Equal(type, d.type);
        Assert.Equal(index, d.index);
        Assert.Equal(d, new Device(text));
        Assert.True(d == text);
    }

    [Theory]
    [InlineData("gpu")]
    [InlineData("cuda:")]
    [InlineData("cuda:-1")]
    [InlineData("cuda:01")]
    [InlineData("cuda:x")]
    [InlineData("")]
    public void RejectsBadDeviceStrings(string text) => Assert.ThrowsAny<ArgumentException>(() => device(text));

    [Fact]
    public void EqualityIncludesTheIndex()
    {
        Assert.NotEqual(device("cuda"), device("cuda:0"));
        Assert.Equal(device("cuda", 1), device("cuda:1"));
        Assert.NotEqual(device("cpu"), device("meta"));
    }

    [Fact]
    public void TensorsReportTheirDevice()
    {
        Assert.Equal("cpu", ones(2).device.ToString());
        Assert.Equal(DeviceType.META, zeros(2, 3, device: "meta").device.type);
        Assert.True(randn(new long[] { 4 }, device: META).is_meta);
        Assert.False(ones(1).is_meta);
    }

    [Fact]
    public void CudaIsNotAvailableAndSaysSo()
    {
        Assert.False(cuda.is_available());
        var e = Assert.Throws<NotSupportedException>(() => zeros(2, device: "cuda"));
        Assert.Contains("CUDA", e.Message);
        Assert.Throws<NotSupportedException>(() => ones(2).cuda());
    }

    [Fact]
    public void MetaTensorsHaveShapeAndDtypeButNoData()
    {
        var m = ones(2, 3, dtype: float64, device: "meta");
        Assert.Equal(new long[] { 2, 3 }, m.shape);
        Assert.Equal(float64, m.dtype);
        Assert.Equal("tensor(..., device='meta', size=(2, 3), dtype=torch.float64)", m.ToString());
        Assert.Equal("tensor(..., device='meta', size=(4,))", zeros(4, device: "meta").ToString());
        var e = Assert.Throws<NotSupportedException>(() => m.to("cpu"));
        Assert.StartsWith("Cannot copy out of meta tensor; no data!", e.Message);
        Assert.Throws<NotSupportedException>(() => m.ToArray<double>());
        Assert.Throws<NotSupportedException>(() => zeros(1, device: "meta").item<double>());
    }

    [Fact]
    public void CpuToMetaKeepsShapeDtypeAndHistory()
    {
        var x = tensor(new float[] { 1, 2, 3 }, requires_grad: true);
        var m = x.to("meta");
        Assert.True(m.is_meta);
        Assert.Equal(new long[] { 3 }, m.shape);
        Assert.Equal("ToCopyBackward0", m.grad_fn!.name());
        Assert.Same(x, x.to("cpu"));
        Assert.Same(x, x.cpu());
    }

    [Fact]
    public void MixedDevicesRaisePyTorchsMessage()
    {
        var a = ones(2);
        var b = ones(2, device: "meta");
        var e = Assert.Throws<InvalidOperationException>(() => a + b);
        Assert.Equal("Expected all tensors to be on the same device, but found at least two devices, cpu and meta!", e.Message);
        Assert.Throws<InvalidOperationException>(() => a.mul(b));
        Assert.Throws<InvalidOperationException>(() => a < b);
    }

    [Fact]
    public void ElementwiseOpsRunOnMetaWithCpuShapesAndNodeNames()
    {
        foreach (var dev in new Device[] { CPU, META })
        {
            var a = ones(new long[] { 4, 3 }, requires_grad: true, device: dev);
            var b = ones(new long[] { 4, 3 }, requires_grad: true, device: dev);
            var c = (a * b + 2).relu() - a / b;
            Assert.Equal(new long[] { 4, 3 }, c.shape);
            Assert.Equal("SubBackward0", c.grad_fn!.name());
            Assert.Equal(dev, c.device);
            c.backward(ones_like(c));
            Assert.Equal(dev, a.grad!.device);
            Assert.Equal(new long[] { 4, 3 }, a.grad.shape);
            Assert.Equal(new long[] { 4, 3 }, b.grad!.shape);
            Assert.Equal(DeviceType.META == dev.type, (a < b).is_meta);
        }
    }

    [Fact]
    public void FactoriesOnMetaAllocateNoData()
    {
        Assert.True(rand(new long[] { 1000, 1000 }, device: "meta").is_meta);
        Assert.True(randint(0, 10, new long[] { 5 }, device: "meta").is_meta);
        Assert.True(arange(10, device: "meta").is_meta);
        Assert.True(eye(3, device: "meta").is_meta);
        Assert.True(tensor(new float[] { 1, 2 }, device: "meta").is_meta);
        Assert.True(zeros_like(zeros(2, device: "meta")).is_meta);
        Assert.True(randn_like(zeros(2, device: "meta")).is_meta);
        Assert.False(zeros_like(zeros(2, device: "meta"), device: "cpu").is_meta);
    }
}

public class MetaModelTests
{
    [Fact]
    public void ReadmeMetaSnippetRuns()
    {
        var x = randn(new long[] { 64, 3, 224, 224 }, device: "meta");
        var w = ones(new long[] { 8, 3, 3, 3 }, requires_grad: true, device: META);
        var y = nn.functional.conv2d(x, w).relu().sum();
        y.backward();
        Assert.Equal("tensor(..., device='meta', size=(8, 3, 3, 3))", w.grad!.ToString());
    }

    [Fact]
    public void ResNet18OnMetaAllocatesNoTensorData()
    {
        // Built in a default_device("meta") scope (PyTorch's `with torch.device("meta")`): parameters never get data.
        long before = GC.GetAllocatedBytesForCurrentThread();
        Tensor loss;
        Nabla.Modules.ResNet model;
        using (default_device("meta"))
        {
            model = torchvision.models.resnet18();
            var input = randn(new long[] { 16, 3, 224, 224 });
            var logits = model.call(input);
            Assert.True(logits.is_meta);
            Assert.Equal(new long[] { 16, 1000 }, logits.shape);
            loss = nn.functional.cross_entropy(logits, zeros(new long[] { 16 }, dtype: int64));
            loss.backward();
            Assert.Equal("meta", get_default_device().ToString());
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        long parameters = model.parameters().Sum(p => p.numel());
        Assert.Equal(11_689_512, parameters);   // torchvision's resnet18
        Assert.All(model.parameters(), p => Assert.True(p.grad!.is_meta));
        // On the CPU the parameters alone are 46.8 MB and one batch's activations far more; on meta only metadata.
        Assert.True(allocated < 8_000_000, $"{allocated:N0} bytes allocated on the meta device");
        Assert.Equal("cpu", get_default_device().ToString());
    }
}
