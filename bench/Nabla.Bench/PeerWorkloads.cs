using System.Runtime.CompilerServices;
using TorchSharp;
using TS = TorchSharp.torch;

namespace Nabla.Bench;

/// <summary>
/// The peer side: each workload written as a TorchSharp 0.107 user would write it. Every iteration runs in its own
/// <c>NewDisposeScope</c> (TorchSharp's documented way to free temporaries); the set-up tensors live in an outer scope
/// that <see cref="Case.Cleanup"/> disposes.
/// </summary>
public static class PeerWorkloads
{
    /// <summary>Why TorchSharp did not load, or null when it did (after <see cref="TryLoad"/>).</summary>
    public static string? LoadError { get; private set; }

    /// <summary>Loads libtorch through TorchSharp; false (with <see cref="LoadError"/>) where it cannot be loaded.</summary>
    public static bool TryLoad()
    {
        try
        {
            Touch();
            return true;
        }
        catch (Exception e)
        {
            // DllNotFoundException / TypeInitializationException (libLibTorchSharp's GLIBCXX_3.4.32 without setup.sh
            // and LD_PRELOAD), NotSupportedException (TorchSharp's loader trace), FileNotFoundException...
            var inner = e;
            while (inner.InnerException is not null) inner = inner.InnerException;
            string msg = inner.Message.Split('\n')[0];
            LoadError = $"{e.GetType().Name}: {(inner == e ? "" : inner.GetType().Name + ": ")}{msg}";
            return false;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static void Touch()
    {
        using var t = TS.zeros(2);
        _ = t.sum().item<float>();
    }

    public static string Version => typeof(TS).Assembly.GetName().Version?.ToString() ?? "?";

    public static void SetThreads(int n) => TS.set_num_threads(n);

    public static Case? Create(Spec s) => s.Id switch
    {
        "W1" => W1(),
        "W1b" => W1b(),
        "W2" => W2(),
        "W3" => W3(),
        "W4" => W4(s.Size),
        "W4b" => W4b(s.Size),
        "W5" => s.Variant == "inplace" ? W5InPlace() : W5OutOfPlace(),
        "W5b" => W5b(),
        "W7" => W7(),
        "W8" => W8(),
        _ => null,
    };

    /// <summary>Runs set-up in a scope kept until cleanup; each step runs in a scope of its own.</summary>
    static Case Scoped(Func<List<IDisposable>, Action> setup)
    {
        var owned = new List<IDisposable>();
        var scope = TS.NewDisposeScope();
        Action step;
        try
        {
            step = setup(owned);
        }
        catch
        {
            scope.Dispose();
            throw;
        }
        return new Case(
            () =>
            {
                using var iteration = TS.NewDisposeScope();
                step();
            },
            () =>
            {
                foreach (var d in owned) d.Dispose();
                scope.Dispose();
            });
    }

    static Case W1() => Scoped(_ =>
    {
        var a = TS.tensor(new float[] { 2, 3 }, requires_grad: true);
        var b = TS.tensor(new float[] { 6, 4 }, requires_grad: true);
        return () =>
        {
            var Q = 3f * a.pow(3) - b.pow(2);
            Q.backward(new[] { TS.ones_like(Q) });
            a.grad!.zero_();
            b.grad!.zero_();
        };
    });

    static Case W1b() => Scoped(_ =>
    {
        var x = TS.tensor(new float[] { 0.5f }, requires_grad: true);
        return () =>
        {
            var y = x;
            for (int i = 0; i < 100; i++)
                y = (i % 3) switch { 0 => y * 1.001f, 1 => y + 0.001f, _ => y.tanh() };
            y.backward();
            x.grad!.zero_();
        };
    });

    static Case W2() => Scoped(_ =>
    {
        TS.manual_seed(0);
        var x = TS.randn(100, 3);
        var y = x.mm(TS.randn(3, 1)) + 0.1f * TS.randn(100, 1);
        var w1 = TS.randn(3, 32, requires_grad: true);
        var b1 = TS.zeros(1, 32, requires_grad: true);
        var w2 = TS.randn(32, 1, requires_grad: true);
        var b2 = TS.zeros(1, 1, requires_grad: true);
        const float lr = 1e-4f;
        return () =>
        {
            var y_pred = x.mm(w1).add(b1).clamp(min: 0f).mm(w2).add(b2);
            var loss = (y_pred - y).pow(2).sum();
            loss.backward();
            using (TS.no_grad())
            {
                w1.sub_(lr * w1.grad!);
                b1.sub_(lr * b1.grad!);
                w2.sub_(lr * w2.grad!);
                b2.sub_(lr * b2.grad!);
            }
            w1.grad!.zero_();
            b1.grad!.zero_();
            w2.grad!.zero_();
            b2.grad!.zero_();
        };
    });

    static Case W3() => Scoped(owned =>
    {
        TS.manual_seed(0);
        var model = TS.nn.Sequential(
            TS.nn.Linear(784, 512), TS.nn.ReLU(),
            TS.nn.Linear(512, 512), TS.nn.ReLU(),
            TS.nn.Linear(512, 10));
        owned.Add(model);
        var x = TS.randn(128, 784);
        var target = TS.randint(0, 10, new long[] { 128 }, dtype: TS.ScalarType.Int64);
        var opt = TS.optim.SGD(model.parameters(), 0.01, momentum: 0.9);
        owned.Add(opt);
        return () =>
        {
            opt.zero_grad();
            var logits = model.forward(x);
            var loss = TS.nn.functional.cross_entropy(logits, target);
            loss.backward();
            opt.step();
        };
    });

    static Case W4(int n) => Scoped(_ =>
    {
        var A = TS.randn(n, n);
        var B = TS.randn(n, n);
        return () => A.mm(B);
    });

    static Case W4b(int n) => Scoped(_ =>
    {
        var A = TS.randn(n, n, requires_grad: true);
        var B = TS.randn(n, n, requires_grad: true);
        return () => A.mm(B).sum().backward();
    });

    static Case W5InPlace() => Scoped(_ =>
    {
        var x = TS.rand(Workloads.Big);
        var y = TS.rand(Workloads.Big);
        return () => x.add_(y);
    });

    static Case W5OutOfPlace() => Scoped(_ =>
    {
        var x = TS.rand(Workloads.Big);
        var y = TS.rand(Workloads.Big);
        return () => { var z = x + y; z[0].item<float>(); };
    });

    static Case W5b() => Scoped(_ =>
    {
        var x = TS.randn(Workloads.Big);
        return () => (x * 2f + 1f).relu().sum();
    });

    static Case W7() => Scoped(_ =>
    {
        var x = TS.rand(Workloads.Big);
        return () => x.sum();
    });

    static Case W8() => Scoped(_ =>
    {
        var x = TS.randn(16, 64, 32, 32, requires_grad: true);
        var w = TS.randn(64, 64, 3, 3, requires_grad: true);
        return () => TS.nn.functional.conv2d(x, w, padding: new long[] { 1, 1 }).sum().backward();
    });
}
