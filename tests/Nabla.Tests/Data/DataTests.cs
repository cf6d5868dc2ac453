using System.IO.Compression;
using System.Text.Json;
using Xunit;
using static Nabla.torch;
using static Nabla.torch.utils.data;
using T = Nabla.torchvision.transforms;

namespace Nabla.Tests;

/// <summary>torch.utils.data and transforms against PyTorch 1.13 / torchvision 0.14 (tools/fixtures/data.py).</summary>
[Collection("GlobalGenerator")]
public class DataTests
{
    static readonly Lazy<JsonElement> Fixture = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "data", "data.json"))).RootElement);

    static long[] Longs(JsonElement e) => e.EnumerateArray().Select(v => v.GetInt64()).ToArray();

    static void AssertEpochs(JsonElement expected, IEnumerable<Tensor[]> loader)
    {
        foreach (var epoch in expected.EnumerateArray())
        {
            var batches = loader.Select(b => b[0].ToArray<long>()).ToList();
            var exp = epoch.EnumerateArray().Select(Longs).ToList();
            Assert.Equal(exp.Count, batches.Count);
            for (int i = 0; i < exp.Count; i++) Assert.Equal(exp[i], batches[i]);
        }
    }

    [Fact]
    public void ShuffleWithGeneratorMatchesPyTorch()
    {
        var ds = new TensorDataset(arange(23));
        var g = new Generator(42);
        var loader = DataLoader(ds, batch_size: 5, shuffle: true, generator: g);
        Assert.Equal(5, loader.Count);
        AssertEpochs(Fixture.Value.GetProperty("shuffle_generator"), loader);
    }

    [Fact]
    public void ShuffleWithGlobalSeedMatchesPyTorchAndWorkersKeepTheOrder()
    {
        var ds = new TensorDataset(arange(23));
        manual_seed(7);
        var loader = DataLoader(ds, batch_size: 4, shuffle: true, drop_last: true);
        Assert.Equal(5, loader.Count);
        AssertEpochs(Fixture.Value.GetProperty("shuffle_global"), loader);
        NnFixtures.AssertClose(NnFixtures.Doubles(Fixture.Value.GetProperty("shuffle_global_after")), rand(3).ToDoubleArray(), 0, 0, "default generator after two epochs");
        manual_seed(7);
        var threaded = DataLoader(ds, batch_size: 4, shuffle: true, drop_last: true, num_workers: 3, prefetch_factor: 1);
        AssertEpochs(Fixture.Value.GetProperty("shuffle_global"), threaded);
    }

    [Fact]
    public void SamplersMatchPyTorch()
    {
        Assert.Equal(Longs(Fixture.Value.GetProperty("random_replacement")), new RandomSampler(23, replacement: true, num_samples: 40, generator: new Generator(3)).ToArray());
        Assert.Equal(Longs(Fixture.Value.GetProperty("random_num_samples")), new RandomSampler(10, num_samples: 25, generator: new Generator(5)).ToArray());
        var w = Fixture.Value.GetProperty("weighted");
        Assert.Equal(Longs(w.GetProperty("indices")), new WeightedRandomSampler(NnFixtures.Doubles(w.GetProperty("weights")), 30, generator: new Generator(11)).ToArray());
        Assert.Equal(Longs(Fixture.Value.GetProperty("subset_random")), new SubsetRandomSampler(new long[] { 10, 20, 30, 40, 50 }, new Generator(9)).ToArray());
        Assert.Equal(new[] { new long[] { 0, 1, 2 }, new long[] { 3, 4 } }, new BatchSampler(new SequentialSampler(5), 3, false).ToArray());
        Assert.Single(new BatchSampler(new SequentialSampler(5), 3, true));
    }

    [Fact]
    public void RandomSplitMatchesPyTorch()
    {
        var ds = new TensorDataset(arange(23));
        var parts = random_split(ds, new long[] { 10, 8, 5 }, new Generator(1));
        var expected = Fixture.Value.GetProperty("random_split").EnumerateArray().Select(Longs).ToList();
        for (int i = 0; i < 3; i++) Assert.Equal(expected[i], parts[i].indices.ToArray());
        Assert.Equal(expected[1][2], parts[1][2][0].ToArray<long>()[0]);
        var fractions = random_split(ds, new[] { 0.5, 0.3, 0.2 }, new Generator(1));
        var expectedF = Fixture.Value.GetProperty("random_split_fractions").EnumerateArray().Select(Longs).ToList();
        for (int i = 0; i < 3; i++) Assert.Equal(expectedF[i], fractions[i].indices.ToArray());
        Assert.Equal("Sum of input lengths does not equal the length of the input dataset!",
            Assert.Throws<ArgumentException>(() => random_split(ds, new long[] { 3, 4 })).Message);
    }

    [Fact]
    public void DatasetsConcatSubsetAndLoaderErrors()
    {
        var a = new TensorDataset(arange(3), arange(3) * 10);
        var b = new TensorDataset(arange(2) + 100, arange(2));
        var c = a + b;
        Assert.Equal(5, c.Count);
        Assert.Equal(101L, c[4][0].ToArray<long>()[0]);
        Assert.Equal(100L, c[-2][0].ToArray<long>()[0]);
        var s = new Subset<Tensor[]>(c, new long[] { 4, 0 });
        Assert.Equal(new long[] { 101, 0 }, DataLoader(s, batch_size: 2).Single()[0].ToArray<long>());
        Assert.Equal("Size mismatch between tensors", Assert.Throws<ArgumentException>(() => new TensorDataset(zeros(3), zeros(4))).Message);
        Assert.Equal("sampler option is mutually exclusive with shuffle",
            Assert.Throws<ArgumentException>(() => DataLoader(a, shuffle: true, sampler: new SequentialSampler(3))).Message);
        var batch = DataLoader(a, batch_size: 2).First();
        Assert.Equal(new long[] { 2 }, batch[0].shape);
        Assert.Equal(new long[] { 0, 10 }, batch[1].ToArray<long>());
        var custom = new Modules.DataLoader<Tensor[], long>(a, items => items.Count, batch_size: 2);
        Assert.Equal(new long[] { 2, 1 }, custom.ToArray());
    }

    [Fact]
    public void TransformsMatchTorchvision()
    {
        var f = Fixture.Value.GetProperty("transforms");
        var img = tensor(NnFixtures.Doubles(f.GetProperty("input")).Select(v => (float)v).ToArray(), new long[] { 2, 6, 7 });
        manual_seed(0);
        var tf = new T.Compose(new T.RandomCrop(4, padding: 1), new T.RandomHorizontalFlip(), new T.Normalize(new[] { 0.5, 1.0 }, new[] { 2.0, 4.0 }));
        foreach (var expected in f.GetProperty("outputs").EnumerateArray())
            NnFixtures.AssertClose(NnFixtures.Doubles(expected), tf.call(img).ToDoubleArray(), 1e-6, 1e-6, "transformed image");
        var t = new T.ToTensor().call(full(new long[] { 2, 3 }, 255.0));
        Assert.Equal(new long[] { 1, 2, 3 }, t.shape);
        Assert.Equal(1.0, t.max().ToDouble());
    }

    static byte[] Idx(int magic, int[] dims, byte[] payload)
    {
        var ms = new MemoryStream();
        void W(int v) { ms.WriteByte((byte)(v >> 24)); ms.WriteByte((byte)(v >> 16)); ms.WriteByte((byte)(v >> 8)); ms.WriteByte((byte)v); }
        W(magic);
        foreach (var d in dims) W(d);
        ms.Write(payload);
        return ms.ToArray();
    }

    [Fact]
    public void IdxReaderReadsRawAndGzippedFiles()
    {
        var dir = Directory.CreateTempSubdirectory("nabla-idx").FullName;
        try
        {
            var pixels = Enumerable.Range(0, 3 * 2 * 2).Select(i => (byte)(i * 20)).ToArray();
            File.WriteAllBytes(Path.Combine(dir, "t10k-images-idx3-ubyte"), Idx(0x803, new[] { 3, 2, 2 }, pixels));
            using (var gz = new GZipStream(File.Create(Path.Combine(dir, "t10k-labels-idx1-ubyte.gz")), CompressionLevel.Fastest))
                gz.Write(Idx(0x801, new[] { 3 }, new byte[] { 7, 0, 9 }));
            var ds = new torchvision.datasets.FashionMNIST(dir, train: false, transform: new T.ToTensor());
            Assert.Equal(3, ds.Count);
            var (x, y) = ds[2];
            Assert.Equal(9, y);
            Assert.Equal(new long[] { 1, 2, 2 }, x.shape);
            NnFixtures.AssertClose(new[] { 160 / 255.0, 180 / 255.0, 200 / 255.0, 220 / 255.0 }, x.ToDoubleArray(), 1e-6, 0, "pixels");
            var (bx, by) = DataLoader(ds, batch_size: 2).First();
            Assert.Equal(new long[] { 2, 1, 2, 2 }, bx.shape);
            Assert.Equal(new long[] { 7, 0 }, by.ToArray<long>());
            var e = Assert.Throws<FileNotFoundException>(() => new torchvision.datasets.MNIST(dir, train: true));
            Assert.Contains("train-images-idx3-ubyte", e.Message);
            File.WriteAllBytes(Path.Combine(dir, "train-images-idx3-ubyte"), new byte[] { 1, 2, 3 });
            File.WriteAllBytes(Path.Combine(dir, "train-labels-idx1-ubyte"), Idx(0x801, new[] { 1 }, new byte[] { 1 }));
            Assert.Throws<InvalidDataException>(() => new torchvision.datasets.MNIST(dir, train: true));
        }
        finally { Directory.Delete(dir, true); }
    }
}
