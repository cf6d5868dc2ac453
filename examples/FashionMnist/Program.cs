// The main job: trains a small CNN on Fashion-MNIST, the way a PyTorch training script does it — a Module with
// plain fields, a DataLoader over a TensorDataset, AdamW + OneCycleLR, clip_grad_norm_, an evaluation and a checkpoint
// every epoch — with a live progress line, a loss/accuracy chart (SVG) and a per-class report at the end.
// Runs out of the box on the embedded 10k test split (8k train / 2k validation); with the full data
// (apt-get install dataset-fashion-mnist, found automatically, or --data DIR) it trains on 60k and tests on 10k.

using System.Diagnostics;
using System.Globalization;
using System.Text;
using Nabla;
using Nabla.Modules;
using static Nabla.torch;
using static Nabla.torch.utils.data;
using F = Nabla.torch.nn.functional;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

var opts = Options.Parse(args);
if (opts is null) return 0;
if (opts.Error is { } err) { Console.Error.WriteLine(err); Console.Error.WriteLine("Try --help."); return 2; }
if (opts.Threads > 0) set_num_threads(opts.Threads);
Directory.CreateDirectory(opts.Out);
manual_seed(opts.Seed);

// ---- data ---------------------------------------------------------------------------------------------------------
Tensor trainX, trainY, testX, testY;
string source, testName;
string? dataDir = opts.Data == "embedded" ? null : opts.Data ?? (File.Exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz") ? "/usr/share/datasets/fashion-mnist" : null);
try
{
    if (dataDir is not null)
    {
        var train = new torchvision.datasets.FashionMNIST(dataDir, train: true);
        var test = new torchvision.datasets.FashionMNIST(dataDir, train: false);
        (trainX, trainY, testX, testY) = (train.data, train.targets, test.data, test.targets);
        source = $"{dataDir} (60k train / 10k test)";
        testName = "test";
    }
    else
    {
        var asm = typeof(Options).Assembly;
        using var images = asm.GetManifestResourceStream("t10k-images-idx3-ubyte.gz")!;
        using var labels = asm.GetManifestResourceStream("t10k-labels-idx1-ubyte.gz")!;
        var (x, y) = torchvision.datasets.MNIST.Load(images, labels);
        // A fixed split of the embedded 10k test images: 8k to train on, 2k to validate on.
        var perm = randperm(x.shape[0], generator: new Generator(1234));
        var trIdx = perm.narrow(0, 0, 8000); var vaIdx = perm.narrow(0, 8000, 2000);
        (trainX, trainY, testX, testY) = (x.index_select(0, trIdx), y.index_select(0, trIdx), x.index_select(0, vaIdx), y.index_select(0, vaIdx));
        source = "embedded Fashion-MNIST test split (8k train / 2k validation; install dataset-fashion-mnist or pass --data for the full 60k)";
        testName = "validation";
    }
}
catch (Exception e) when (e is FileNotFoundException or InvalidDataException or DirectoryNotFoundException)
{
    Console.Error.WriteLine($"Cannot read Fashion-MNIST: {e.Message}");
    return 1;
}

// ToTensor + Normalize((0.2860,), (0.3530,)) for the whole set at once: (N, 1, 28, 28) float32.
const double Mean = 0.2860, Std = 0.3530;
Tensor Prep(Tensor raw) => ((raw / 255.0 - Mean) / Std).unsqueeze(1).contiguous();
trainX = Prep(trainX); testX = Prep(testX);
string[] classes = { "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot" };

var trainLoader = DataLoader(new TensorDataset(trainX, trainY), batch_size: opts.BatchSize, shuffle: true, generator: new Generator((ulong)opts.Seed), drop_last: true);
var testLoader = DataLoader(new TensorDataset(testX, testY), batch_size: 1000);

// ---- model, optimizer, schedule -----------------------------------------------------------------------------------
var model = new SmallCnn();
long nParams = model.parameters().Sum(p => p.numel());
var optimizer = optim.AdamW(model.parameters(), lr: opts.Lr, weight_decay: 1e-4);
var scheduler = new optim.lr_scheduler.OneCycleLR(optimizer, max_lr: opts.Lr, epochs: opts.Epochs, steps_per_epoch: trainLoader.Count);
var lossFn = nn.CrossEntropyLoss(label_smoothing: 0.05);

Console.WriteLine($"Nabla Fashion-MNIST: {source}");
Console.WriteLine($"model SmallCnn ({nParams:N0} parameters), AdamW + OneCycleLR(max_lr={opts.Lr}), batch {opts.BatchSize}, {opts.Epochs} epochs, {get_num_threads()} threads, seed {opts.Seed}");
Console.WriteLine(model);

var history = new List<(int epoch, double trainLoss, double trainAcc, double testLoss, double testAcc)>();
var total = Stopwatch.StartNew();
long steps = trainLoader.Count;
for (int epoch = 1; epoch <= opts.Epochs; epoch++)
{
    model.train();
    double lossSum = 0; long correct = 0, seen = 0;
    var sw = Stopwatch.StartNew();
    long step = 0;
    foreach (var batch in trainLoader)
    {
        var (x, y) = (batch[0], batch[1]);
        using var scope = NewDisposeScope();
        optimizer.zero_grad();
        var logits = model.call(x);
        var loss = lossFn.call(logits, y);
        loss.backward();
        nn.utils.clip_grad_norm_(model.parameters(), max_norm: 2.0);
        optimizer.step();
        scheduler.step();
        step++;
        lossSum += loss.item<float>() * x.shape[0];
        correct += logits.argmax(1).eq(y).sum().item<long>();
        seen += x.shape[0];
        if (step % 5 == 0 || step == steps)
            Progress.Draw(epoch, opts.Epochs, step, steps, lossSum / seen, (double)correct / seen, seen / sw.Elapsed.TotalSeconds,
                          TimeSpan.FromSeconds(sw.Elapsed.TotalSeconds / step * (steps - step) + (opts.Epochs - epoch) * sw.Elapsed.TotalSeconds / step * steps));
    }
    var (testLoss, testAcc, _) = Evaluate(model, testLoader);
    history.Add((epoch, lossSum / seen, (double)correct / seen, testLoss, testAcc));
    Console.WriteLine();
    Console.WriteLine($"epoch {epoch}/{opts.Epochs}: train loss {lossSum / seen:F4} acc {100.0 * correct / seen:F2}% | {testName} loss {testLoss:F4} acc {100 * testAcc:F2}% | {sw.Elapsed.TotalSeconds:F1} s, lr {scheduler.get_last_lr()[0]:G3}");
    torch.save(model.state_dict(), Path.Combine(opts.Out, "checkpoint.pt"));   // PyTorch's zip format: torch.load in Python reads it
    Chart.Write(Path.Combine(opts.Out, "training.svg"), history);
}
Console.WriteLine($"trained in {total.Elapsed.TotalSeconds:F1} s; checkpoint {Path.Combine(opts.Out, "checkpoint.pt")}, chart {Path.Combine(opts.Out, "training.svg")}");

// The checkpoint loads back into a fresh model and gives the same predictions.
var restored = new SmallCnn();
restored.load_state_dict(torch.serialization.as_state_dict(torch.load(Path.Combine(opts.Out, "checkpoint.pt"))));
var (_, finalAcc, confusion) = Evaluate(restored, testLoader);
Console.WriteLine($"{testName} accuracy of the reloaded checkpoint: {100 * finalAcc:F2}%");
Console.WriteLine();
Console.WriteLine(Report.PerClass(classes, confusion));
Console.WriteLine(Report.Confusion(classes, confusion));
return 0;

static (double loss, double acc, long[,] confusion) Evaluate(SmallCnn model, IEnumerable<Tensor[]> loader)
{
    model.eval();
    var confusion = new long[10, 10];
    double lossSum = 0; long n = 0, correct = 0;
    using (no_grad())
        foreach (var batch in loader)
        {
            using var scope = NewDisposeScope();
            var logits = model.call(batch[0]);
            lossSum += F.cross_entropy(logits, batch[1], reduction: "sum").item<float>();
            var pred = logits.argmax(1).ToArray<long>();
            var truth = batch[1].ToArray<long>();
            for (int i = 0; i < pred.Length; i++) { confusion[truth[i], pred[i]]++; if (pred[i] == truth[i]) correct++; }
            n += pred.Length;
        }
    return (lossSum / n, (double)correct / n, confusion);
}

/// <summary>Two conv blocks and a classifier; the fields register themselves (no register_module calls).</summary>
sealed class SmallCnn : nn.Module<Tensor, Tensor>
{
    public Conv2d conv1 = nn.Conv2d(1, 32, 3, padding: 1);
    public BatchNorm2d bn1 = nn.BatchNorm2d(32);
    public Conv2d conv2 = nn.Conv2d(32, 64, 3, padding: 1);
    public BatchNorm2d bn2 = nn.BatchNorm2d(64);
    public Dropout drop = nn.Dropout(0.25);
    public Linear fc1 = nn.Linear(64 * 7 * 7, 128);
    public Linear fc2 = nn.Linear(128, 10);

    public override Tensor forward(Tensor x)
    {
        x = F.max_pool2d(F.relu(bn1.call(conv1.call(x))), 2);        // (N, 32, 14, 14)
        x = F.max_pool2d(F.relu(bn2.call(conv2.call(x))), 2);        // (N, 64, 7, 7)
        x = drop.call(F.relu(fc1.call(x.flatten(1))));
        return fc2.call(x);
    }
}

sealed class Options
{
    public int Epochs = 3, BatchSize = 128, Seed = 0, Threads;
    public double Lr = 3e-3;
    public string Out = "fashion-mnist-out";
    public string? Data, Error;

    const string Help = """
        Trains a small CNN on Fashion-MNIST with Nabla.

        Usage: dotnet run --project examples/FashionMnist -c Release -- [options]

          --epochs N        epochs (default 3)
          --batch-size N    images per step (default 128)
          --lr X            peak learning rate of the one-cycle schedule (default 0.003)
          --seed N          seed of the weights and of the shuffle (default 0)
          --threads N       CPU threads (default: all cores)
          --out DIR         where the checkpoint and chart go (default fashion-mnist-out)
          --data DIR        folder with the Fashion-MNIST IDX files (train-/t10k-images-idx3-ubyte[.gz], ...);
                            default: /usr/share/datasets/fashion-mnist if dataset-fashion-mnist is installed,
                            else (or with --data embedded) the embedded 10k test split (8k train / 2k validation)
          --help            this text
        """;

    public static Options? Parse(string[] args)
    {
        var o = new Options();
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            if (a is "--help" or "-h") { Console.WriteLine(Help); return null; }
            string? Next() => i + 1 < args.Length ? args[++i] : null;
            bool Int(out int v) => int.TryParse(Next(), NumberStyles.Integer, CultureInfo.InvariantCulture, out v) && v >= 0;
            switch (a)
            {
                case "--epochs": if (!Int(out o.Epochs) || o.Epochs == 0) o.Error = "--epochs needs a positive integer"; break;
                case "--batch-size": if (!Int(out o.BatchSize) || o.BatchSize == 0) o.Error = "--batch-size needs a positive integer"; break;
                case "--seed": if (!Int(out o.Seed)) o.Error = "--seed needs a non-negative integer"; break;
                case "--threads": if (!Int(out o.Threads)) o.Error = "--threads needs a non-negative integer"; break;
                case "--lr": if (!double.TryParse(Next(), NumberStyles.Float, CultureInfo.InvariantCulture, out o.Lr) || !(o.Lr > 0)) o.Error = "--lr needs a positive number"; break;
                case "--out": o.Out = Next() ?? ""; if (o.Out.Length == 0) o.Error = "--out needs a folder"; break;
                case "--data": o.Data = Next(); if (string.IsNullOrEmpty(o.Data)) o.Error = "--data needs a folder"; break;
                default: o.Error = $"unknown option {a}"; break;
            }
            if (o.Error is not null) return o;
        }
        return o;
    }
}

static class Progress
{
    public static void Draw(int epoch, int epochs, long step, long steps, double loss, double acc, double imagesPerSecond, TimeSpan eta)
    {
        const int Width = 28;
        int filled = (int)(Width * step / steps);
        var bar = new string('#', filled) + new string('-', Width - filled);
        var line = $"\repoch {epoch}/{epochs} [{bar}] {step}/{steps} loss {loss:F4} acc {100 * acc:F2}% {imagesPerSecond:F0} img/s ETA {eta:mm\\:ss}";
        if (Console.IsOutputRedirected) { if (step == steps) Console.Write(line.TrimStart('\r')); }
        else Console.Write(line.PadRight(Math.Min(Console.BufferWidth - 1, 110)));
    }
}

static class Chart
{
    /// <summary>Writes loss (left) and accuracy (right) per epoch as an SVG line chart.</summary>
    public static void Write(string path, List<(int epoch, double trainLoss, double trainAcc, double testLoss, double testAcc)> h)
    {
        const int W = 900, H = 360, P = 50, Gap = 60;
        int pw = (W - 2 * P - Gap) / 2, ph = H - 2 * P;
        var sb = new StringBuilder();
        sb.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        void Panel(int x0, string title, double[] a, double[] b, string la, string lb, bool percent)
        {
            double lo = Math.Min(a.Min(), b.Min()), hi = Math.Max(a.Max(), b.Max());
            if (hi - lo < 1e-9) { lo -= 0.5; hi += 0.5; }
            double pad = (hi - lo) * 0.08; lo -= pad; hi += pad;
            int n = a.Length;
            double X(int i) => x0 + (n == 1 ? pw / 2.0 : i * pw / (double)(n - 1));
            double Y(double v) => P + ph - (v - lo) / (hi - lo) * ph;
            sb.Append($"<text x=\"{x0 + pw / 2}\" y=\"{P - 20}\" text-anchor=\"middle\" font-size=\"14\">{title}</text>\n");
            sb.Append($"<rect x=\"{x0}\" y=\"{P}\" width=\"{pw}\" height=\"{ph}\" fill=\"none\" stroke=\"#888\"/>\n");
            for (int k = 0; k <= 4; k++)
            {
                double v = lo + (hi - lo) * k / 4;
                sb.Append($"<line x1=\"{x0}\" x2=\"{x0 + pw}\" y1=\"{Y(v):F1}\" y2=\"{Y(v):F1}\" stroke=\"#eee\"/><text x=\"{x0 - 4}\" y=\"{Y(v) + 4:F1}\" text-anchor=\"end\">{(percent ? $"{100 * v:F1}%" : $"{v:F3}")}</text>\n");
            }
            for (int i = 0; i < n; i++) sb.Append($"<text x=\"{X(i):F1}\" y=\"{P + ph + 16}\" text-anchor=\"middle\">{i + 1}</text>\n");
            sb.Append($"<text x=\"{x0 + pw / 2}\" y=\"{P + ph + 34}\" text-anchor=\"middle\">epoch</text>\n");
            foreach (var (vals, color, label, row) in new[] { (a, "#1f77b4", la, 0), (b, "#d62728", lb, 1) })
            {
                sb.Append($"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{string.Join(" ", vals.Select((v, i) => $"{X(i):F1},{Y(v):F1}"))}\"/>\n");
                foreach (var (v, i) in vals.Select((v, i) => (v, i))) sb.Append($"<circle cx=\"{X(i):F1}\" cy=\"{Y(v):F1}\" r=\"3\" fill=\"{color}\"/>\n");
                sb.Append($"<text x=\"{x0 + 8}\" y=\"{P + 16 + 14 * row}\" fill=\"{color}\">{label}</text>\n");
            }
        }
        Panel(P, "loss", h.Select(e => e.trainLoss).ToArray(), h.Select(e => e.testLoss).ToArray(), "train", "test", false);
        Panel(P + pw + Gap, "accuracy", h.Select(e => e.trainAcc).ToArray(), h.Select(e => e.testAcc).ToArray(), "train", "test", true);
        sb.Append("</svg>\n");
        File.WriteAllText(path, sb.ToString());
    }
}

static class Report
{
    public static string PerClass(string[] classes, long[,] c)
    {
        var sb = new StringBuilder("per-class accuracy\n");
        for (int i = 0; i < classes.Length; i++)
        {
            long row = 0; for (int j = 0; j < classes.Length; j++) row += c[i, j];
            double acc = row == 0 ? 0 : (double)c[i, i] / row;
            sb.Append($"  {classes[i],-12} {100 * acc,6:F2}%  {new string('█', (int)Math.Round(acc * 30))}\n");
        }
        return sb.ToString();
    }

    public static string Confusion(string[] classes, long[,] c)
    {
        var sb = new StringBuilder("confusion matrix (rows: true class, columns: predicted)\n");
        sb.Append(new string(' ', 14));
        for (int j = 0; j < classes.Length; j++) sb.Append($"{j,6}");
        sb.Append('\n');
        for (int i = 0; i < classes.Length; i++)
        {
            sb.Append($"{i} {classes[i],-11} ");
            for (int j = 0; j < classes.Length; j++) sb.Append($"{c[i, j],6}");
            sb.Append('\n');
        }
        return sb.ToString();
    }
}
