using System.IO.Compression;
using static Nabla.torch.utils.data;

namespace Nabla;

// Note [IDX datasets]
// MNIST and Fashion-MNIST ship as IDX files (big-endian magic 0x00000803 + sizes + uint8 pixels for images,
// 0x00000801 + count + uint8 labels), usually gzipped. The reader accepts either form (gzip is detected by its
// 1f 8b header, whatever the file name) and the file names of the original distribution, with or without .gz,
// directly under the root or under root/{MNIST,FashionMNIST}/raw as torchvision stores them. Images are kept as
// one float32 (N, 28, 28) tensor of the values 0..255 (Nabla has no uint8 dtype), labels as int64 (N).

public static partial class torchvision
{
    /// <summary>Datasets (<c>torchvision.datasets</c>).</summary>
    public static class datasets
    {
        /// <summary>
        /// MNIST digits (<c>torchvision.datasets.MNIST</c>): items are (image, label); the image is a (28, 28) float32
        /// tensor of 0..255 values, or what <c>transform</c> makes of it (ToTensor gives (1, 28, 28) in [0, 1]).
        /// </summary>
        public class MNIST : Dataset<(Tensor, long)>
        {
            /// <summary>Loads the train (60k) or test (10k) split from <paramref name="root"/> (Note [IDX datasets]).</summary>
            /// <exception cref="FileNotFoundException">The IDX files are not there (the message lists where they were looked for).</exception>
            /// <exception cref="InvalidDataException">A file is not an IDX file of the expected kind.</exception>
            public MNIST(string root, bool train = true, transforms.Transform? transform = null, Func<long, long>? target_transform = null)
                : this(root, train, transform, target_transform, "MNIST") { }

            /// <summary>Loads a split of an MNIST-format dataset stored under <paramref name="folder"/>.</summary>
            protected MNIST(string root, bool train, transforms.Transform? transform, Func<long, long>? target_transform, string folder)
            {
                this.root = root; this.train = train; this.transform = transform; this.target_transform = target_transform;
                string prefix = train ? "train" : "t10k";
                (data, targets) = Load(FindFile(root, folder, prefix + "-images-idx3-ubyte"), FindFile(root, folder, prefix + "-labels-idx1-ubyte"));
            }

            /// <summary>Wraps already-loaded images and labels (e.g. a split read from a stream).</summary>
            public MNIST(Tensor data, Tensor targets, transforms.Transform? transform = null)
            {
                root = ""; this.data = data; this.targets = targets; this.transform = transform;
            }

            /// <summary>The dataset folder.</summary>
            public string root { get; }
            /// <summary>Whether this is the training split.</summary>
            public bool train { get; }
            /// <summary>(N, 28, 28) float32 pixel values 0..255.</summary>
            public Tensor data { get; }
            /// <summary>(N) int64 labels.</summary>
            public Tensor targets { get; }
            /// <summary>Applied to each image.</summary>
            public transforms.Transform? transform { get; }
            /// <summary>Applied to each label.</summary>
            public Func<long, long>? target_transform { get; }
            /// <summary>Class names.</summary>
            public virtual string[] classes => new[] { "0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine" };

            long[]? _labels;

            /// <inheritdoc/>
            public override long Count => targets.shape[0];

            /// <inheritdoc/>
            public override (Tensor, long) this[long index]
            {
                get
                {
                    _labels ??= targets.ToArray<long>();
                    var img = data.select(0, index);
                    long label = _labels[index];
                    if (transform is not null) img = transform.call(img);
                    if (target_transform is not null) label = target_transform(label);
                    return (img, label);
                }
            }

            static string FindFile(string root, string folder, string name)
            {
                var candidates = new List<string>();
                foreach (var dir in new[] { root, Path.Combine(root, folder, "raw"), Path.Combine(root, folder) })
                    foreach (var n in new[] { name, name + ".gz", name.Replace("-idx", ".idx") , name.Replace("-idx", ".idx") + ".gz" })
                        candidates.Add(Path.Combine(dir, n));
                foreach (var c in candidates) if (File.Exists(c)) return c;
                throw new FileNotFoundException($"Dataset not found: looked for {name}[.gz] in {root} and {Path.Combine(root, folder, "raw")}. "
                    + "Download is not supported; copy the IDX files there (for Fashion-MNIST: apt-get install dataset-fashion-mnist, or https://github.com/zalandoresearch/fashion-mnist).");
            }

            /// <summary>Reads an images file and a labels file (IDX, raw or gzipped).</summary>
            /// <exception cref="InvalidDataException">Not IDX files of the right kind, or counts that differ.</exception>
            public static (Tensor data, Tensor targets) Load(string imagesPath, string labelsPath)
            {
                using var images = File.OpenRead(imagesPath);
                using var labels = File.OpenRead(labelsPath);
                return Load(images, labels);
            }

            /// <summary>Reads images and labels from IDX streams (raw or gzipped).</summary>
            /// <exception cref="InvalidDataException">Not IDX streams of the right kind, or counts that differ.</exception>
            public static (Tensor data, Tensor targets) Load(Stream images, Stream labels)
            {
                var img = ReadAll(images);
                var lab = ReadAll(labels);
                if (img.Length < 16 || BigEndian(img, 0) != 0x803) throw new InvalidDataException("not an IDX image file (magic 0x00000803 expected)");
                if (lab.Length < 8 || BigEndian(lab, 0) != 0x801) throw new InvalidDataException("not an IDX label file (magic 0x00000801 expected)");
                int n = BigEndian(img, 4), rows = BigEndian(img, 8), cols = BigEndian(img, 12);
                int m = BigEndian(lab, 4);
                if (n != m) throw new InvalidDataException($"{n} images but {m} labels");
                if (img.Length < 16 + (long)n * rows * cols || lab.Length < 8 + m) throw new InvalidDataException("truncated IDX file");
                var pixels = new float[(long)n * rows * cols];
                for (long i = 0; i < pixels.Length; i++) pixels[i] = img[16 + i];
                var targets = new long[m];
                for (int i = 0; i < m; i++) targets[i] = lab[8 + i];
                return (torch.tensor(pixels, new long[] { n, rows, cols }), torch.tensor(targets));
            }

            static int BigEndian(byte[] b, int offset) => (b[offset] << 24) | (b[offset + 1] << 16) | (b[offset + 2] << 8) | b[offset + 3];

            static byte[] ReadAll(Stream s)
            {
                var ms = new MemoryStream();
                s.CopyTo(ms);
                var bytes = ms.ToArray();
                if (bytes.Length >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b)
                {
                    using var gz = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
                    var outMs = new MemoryStream();
                    gz.CopyTo(outMs);
                    return outMs.ToArray();
                }
                return bytes;
            }
        }

        /// <summary>Fashion-MNIST (<c>torchvision.datasets.FashionMNIST</c>): Zalando's article images in MNIST's format.</summary>
        public sealed class FashionMNIST : MNIST
        {
            /// <summary>Loads the train (60k) or test (10k) split from <paramref name="root"/> (Note [IDX datasets]).</summary>
            /// <exception cref="FileNotFoundException">The IDX files are not there.</exception>
            public FashionMNIST(string root, bool train = true, transforms.Transform? transform = null, Func<long, long>? target_transform = null)
                : base(root, train, transform, target_transform, "FashionMNIST") { }

            /// <inheritdoc/>
            public override string[] classes => new[] { "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot" };
        }
    }

    /// <summary>Image transforms on tensors (<c>torchvision.transforms</c>), made of Nabla ops.</summary>
    public static class transforms
    {
        /// <summary>A transform of one image tensor.</summary>
        public abstract class Transform
        {
            /// <summary>Applies the transform.</summary>
            public abstract Tensor call(Tensor img);
        }

        /// <summary>Applies transforms in order (<c>Compose</c>).</summary>
        public sealed class Compose(params Transform[] transforms) : Transform
        {
            /// <summary>The transforms.</summary>
            public Transform[] transforms { get; } = transforms;
            /// <inheritdoc/>
            public override Tensor call(Tensor img)
            {
                foreach (var t in transforms) img = t.call(img);
                return img;
            }
        }

        /// <summary>
        /// Pixel values 0..255 to a float32 (C, H, W) tensor in [0, 1] (<c>ToTensor</c>): an (H, W) image gains a
        /// channel dimension, an (H, W, C) one is permuted.
        /// </summary>
        public sealed class ToTensor : Transform
        {
            /// <inheritdoc/>
            /// <exception cref="ArgumentException">The image is not 2-D or 3-D.</exception>
            public override Tensor call(Tensor img) => img.dim() switch
            {
                2 => img.unsqueeze(0).to(ScalarType.Float32).div(255),
                3 => img.permute(2, 0, 1).to(ScalarType.Float32).div(255),
                _ => throw new ArgumentException($"pic should be 2/3 dimensional. Got {img.dim()} dimensions."),
            };
        }

        /// <summary>(x - mean[c]) / std[c] per channel of a (..., C, H, W) tensor (<c>Normalize</c>).</summary>
        public sealed class Normalize : Transform
        {
            readonly Tensor _mean, _std;
            /// <summary>Creates the transform.</summary>
            /// <exception cref="ArgumentException">A zero std, or mean and std of different lengths.</exception>
            public Normalize(double[] mean, double[] std, bool inplace = false)
            {
                if (mean.Length != std.Length) throw new ArgumentException("mean and std must have the same length");
                if (std.Any(s => s == 0)) throw new ArgumentException($"std evaluated to zero after conversion to torch.float32, leading to division by zero.");
                this.mean = mean; this.std = std; this.inplace = inplace;
                _mean = torch.tensor(mean.Select(v => (float)v).ToArray()).view(-1, 1, 1);
                _std = torch.tensor(std.Select(v => (float)v).ToArray()).view(-1, 1, 1);
            }
            /// <summary>Per-channel means.</summary>
            public double[] mean { get; }
            /// <summary>Per-channel standard deviations.</summary>
            public double[] std { get; }
            /// <summary>Whether the input is changed in place.</summary>
            public bool inplace { get; }
            /// <inheritdoc/>
            /// <exception cref="ArgumentException">Fewer than 3 dims.</exception>
            public override Tensor call(Tensor img)
            {
                if (img.dim() < 3) throw new ArgumentException($"Expected tensor to be a tensor image of size (..., C, H, W). Got tensor.size() = {ShapeUtil.SizeString(img.shape)}");
                var m = _mean.to(img.dtype); var s = _std.to(img.dtype);
                return inplace ? img.sub_(m).div_(s) : img.sub(m).div(s);
            }
        }

        /// <summary>Crops a random (h, w) window, after optional zero padding (<c>RandomCrop</c>); positions from the default generator as torchvision.</summary>
        public sealed class RandomCrop : Transform
        {
            /// <summary>Creates the transform.</summary>
            public RandomCrop(long size, long padding = 0, bool pad_if_needed = false, double fill = 0) : this((size, size), padding, pad_if_needed, fill) { }
            /// <summary>Creates the transform with an (h, w) size.</summary>
            public RandomCrop((long h, long w) size, long padding = 0, bool pad_if_needed = false, double fill = 0)
            {
                this.size = size; this.padding = padding; this.pad_if_needed = pad_if_needed; this.fill = fill;
            }
            /// <summary>Output (h, w).</summary>
            public (long h, long w) size { get; }
            /// <summary>Padding on every side.</summary>
            public long padding { get; }
            /// <summary>Pad when the image is smaller than the crop.</summary>
            public bool pad_if_needed { get; }
            /// <summary>Padding value.</summary>
            public double fill { get; }

            static Tensor Pad(Tensor img, long top, long left, double fill)
            {
                var shape = img.shape.ToArray();
                int d = shape.Length;
                shape[d - 2] += 2 * top; shape[d - 1] += 2 * left;
                var result = torch.full(shape, fill, img.dtype);
                result.narrow(d - 2, top, img.shape[d - 2]).narrow(d - 1, left, img.shape[d - 1]).copy_(img);
                return result;
            }

            /// <inheritdoc/>
            /// <exception cref="ArgumentException">The crop is larger than the (padded) image.</exception>
            public override Tensor call(Tensor img)
            {
                if (padding > 0) img = Pad(img, padding, padding, fill);
                int d = (int)img.dim();
                long h = img.shape[d - 2], w = img.shape[d - 1];
                if (pad_if_needed && h < size.h) { img = Pad(img, size.h - h, 0, fill); h = img.shape[d - 2]; }
                if (pad_if_needed && w < size.w) { img = Pad(img, 0, size.w - w, fill); w = img.shape[d - 1]; }
                if (h < size.h || w < size.w)
                    throw new ArgumentException($"Required crop size ({size.h}, {size.w}) is larger than input image size ({h}, {w})");
                if (h == size.h && w == size.w) return img;
                long i = torch.randint(0, h - size.h + 1, new long[] { 1 }).ToArray<long>()[0];
                long j = torch.randint(0, w - size.w + 1, new long[] { 1 }).ToArray<long>()[0];
                return img.narrow(d - 2, i, size.h).narrow(d - 1, j, size.w);
            }
        }

        /// <summary>Mirrors the image left-right with probability p (<c>RandomHorizontalFlip</c>; one torch.rand(1) draw per call, as torchvision).</summary>
        public sealed class RandomHorizontalFlip(double p = 0.5) : Transform
        {
            /// <summary>Flip probability.</summary>
            public double p { get; } = p;
            /// <inheritdoc/>
            public override Tensor call(Tensor img) => torch.rand(1).ToDouble() < p ? img.flip(-1) : img;
        }

        /// <summary>Wraps a function as a transform (<c>Lambda</c>).</summary>
        public sealed class Lambda(Func<Tensor, Tensor> lambd) : Transform
        {
            /// <inheritdoc/>
            public override Tensor call(Tensor img) => lambd(img);
        }
    }
}
