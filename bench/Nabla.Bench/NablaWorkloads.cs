using N = Nabla.torch;

namespace Nabla.Bench;

/// <summary>
/// The Nabla side: each workload written line for line as on the peer side (PeerWorkloads.cs), in Nabla's
/// TorchSharp-spelled API. Like the peer side, each iteration runs in a <c>torch.NewDisposeScope()</c>, so that
/// the step's temporaries hand their buffers back to Nabla's caching allocator (see <c>Nabla.MemoryPool</c>).
/// </summary>
public static class NablaWorkloads
{
    public static bool Available => true;

    public static void SetThreads(int n) => N.set_num_threads(n);

    /// <summary>The workload; each iteration runs in a dispose scope of its own, as on the peer side.</summary>
    public static Case? Create(Spec s)
    {
        var c = CreateUnscoped(s);
        if (c is null) return null;
        var step = c.Step;
        return new Case(() =>
        {
            using var scope = N.NewDisposeScope();
            step();
        }, c.Cleanup);
    }

    static Case? CreateUnscoped(Spec s) => s.Id switch
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
        "W6" => W6(s.Size),
        "W8" => W8(),
        _ => null,
    };

    static Case W1()
    {
        var a = N.tensor(new float[] { 2, 3 }, requires_grad: true);
        var b = N.tensor(new float[] { 6, 4 }, requires_grad: true);
        return new Case(() =>
        {
            var Q = 3f * a.pow(3) - b.pow(2);
            Q.backward(N.ones_like(Q));
            a.grad!.zero_();
            b.grad!.zero_();
        });
    }

    static Case W1b()
    {
        var x = N.tensor(new float[] { 0.5f }, requires_grad: true);
        return new Case(() =>
        {
            var y = x;
            for (int i = 0; i < 100; i++)
                y = (i % 3) switch { 0 => y * 1.001f, 1 => y + 0.001f, _ => y.tanh() };
            y.backward();
            x.grad!.zero_();
        });
    }

    static Case W2()
    {
        var x = N.randn(100, 3);
        var y = x.mm(N.randn(3, 1)) + 0.1f * N.randn(100, 1);
        var w1 = N.randn(3, 32, requires_grad: true);
        var b1 = N.zeros(1, 32, requires_grad: true);
        var w2 = N.randn(32, 1, requires_grad: true);
        var b2 = N.zeros(1, 1, requires_grad: true);
        const float lr = 1e-4f;
        return new Case(() =>
        {
            var y_pred = x.mm(w1).add(b1).clamp(min: 0).mm(w2).add(b2);
            var loss = (y_pred - y).pow(2).sum();
            loss.backward();
            using (N.no_grad())
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
        });
    }

    static Case W3()
    {
        var model = N.nn.Sequential(
            N.nn.Linear(784, 512), N.nn.ReLU(),
            N.nn.Linear(512, 512), N.nn.ReLU(),
            N.nn.Linear(512, 10));
        var x = N.randn(128, 784);
        var target = N.randint(0, 10, new long[] { 128 });
        var opt = N.optim.SGD(model.parameters(), lr: 0.01, momentum: 0.9);
        return new Case(() =>
        {
            opt.zero_grad();
            var logits = model.forward(x);
            var loss = N.nn.functional.cross_entropy(logits, target);
            loss.backward();
            opt.step();
        });
    }

    static Case W4(int n)
    {
        var A = N.randn(n, n);
        var B = N.randn(n, n);
        return new Case(() => A.mm(B));
    }

    static Case W4b(int n)
    {
        var A = N.randn(n, n, requires_grad: true);
        var B = N.randn(n, n, requires_grad: true);
        return new Case(() => A.mm(B).sum().backward());
    }

    static Case W5InPlace()
    {
        var x = N.rand(Workloads.Big);
        var y = N.rand(Workloads.Big);
        return new Case(() => x.add_(y));
    }

    static Case W5OutOfPlace()
    {
        var x = N.rand(Workloads.Big);
        var y = N.rand(Workloads.Big);
        // Read one element: Nabla defers large elementwise results (Note [Lazy fusion]) and computes the whole of z
        // on first access, so an unread z would measure nothing. TorchSharp's side reads one element too.
        return new Case(() => { var z = x + y; _ = z[0].item<float>(); });
    }

    static Case W5b()
    {
        var x = N.randn(Workloads.Big);
        return new Case(() => (x * 2f + 1f).relu().sum());
    }

    static Case W7()
    {
        var x = N.rand(Workloads.Big);
        return new Case(() => x.sum());
    }

    static Case W6(int batch)
    {
        var model = Nabla.torchvision.models.resnet18();
        var x = N.rand(batch, 3, 64, 64);
        var target = N.rand(batch, 1000);
        var opt = N.optim.SGD(model.parameters(), lr: 0.01, momentum: 0.9);
        return new Case(() =>
        {
            opt.zero_grad();
            var pred = model.call(x);
            var loss = (pred - target).sum();
            loss.backward();
            opt.step();
        });
    }

    static Case W8()
    {
        var x = N.randn(16, 64, 32, 32, requires_grad: true);
        var w = N.randn(64, 64, 3, 3, requires_grad: true);
        return new Case(() => N.nn.functional.conv2d(x, w, padding: new long[] { 1, 1 }).sum().backward());
    }
}
