using Xunit;
using static Nabla.torch;

namespace Nabla.Tests.PyTorchSuite;

/// <summary>
/// The pieces of PyTorch's TestCase that the ported autograd tests use: assertEqual on tensors (allclose with
/// PyTorch's default tolerances for the dtype), assertRaisesRegex, and capturing UserWarnings.
/// </summary>
internal static class Suite
{
    static (double rtol, double atol) Tol(ScalarType t) => t == float64 ? (1e-7, 1e-7) : (1.3e-6, 1e-5);

    public static void Equal(Tensor? expected, Tensor? actual, double? atol = null, double? rtol = null)
    {
        Assert.NotNull(expected);
        Assert.NotNull(actual);
        Assert.Equal(expected!.shape, actual!.shape);
        var (r, a) = Tol(actual.dtype == float64 && expected.dtype == float64 ? float64 : float32);
        var e = expected.detach().to(float64);
        var x = actual.detach().to(float64);
        Assert.True(e.allclose(x, rtol ?? r, atol ?? a, equal_nan: true),
            $"tensors differ:\nexpected {expected.detach()}\nactual {actual.detach()}");
    }

    public static void Equal(double expected, Tensor? actual, double atol = 1e-5)
    {
        Assert.NotNull(actual);
        Assert.Equal(1, actual!.numel());
        Assert.Equal(expected, actual.detach().to(float64).item<double>(), atol);
    }

    public static void NotEqual(Tensor expected, Tensor actual) =>
        Assert.False(ShapesEqual(expected, actual) && expected.detach().to(float64).allclose(actual.detach().to(float64), 1.3e-6, 1e-5));

    static bool ShapesEqual(Tensor a, Tensor b) => a.shape.AsSpan().SequenceEqual(b.shape);

    /// <summary>assertRaisesRegex: the action throws <typeparamref name="T"/> (or a subclass) whose message matches.</summary>
    public static T Raises<T>(string regex, Action action) where T : Exception
    {
        var ex = Assert.ThrowsAny<T>(action);
        Assert.Matches(regex, ex.Message);
        return ex;
    }

    /// <summary>PyTorch's RuntimeError: Nabla's InvalidOperationException family (and NotSupportedException).</summary>
    public static Exception RuntimeError(string regex, Action action)
    {
        var ex = Assert.ThrowsAny<Exception>(action);
        Assert.True(ex is InvalidOperationException or NotSupportedException or ArgumentException,
            $"expected a RuntimeError-like exception, got {ex.GetType()}: {ex.Message}");
        Assert.Matches(regex, ex.Message);
        return ex;
    }

    public static List<string> CaptureWarnings(Action action)
    {
        var messages = new List<string>();
        void Handler(string m)
        {
            lock (messages) messages.Add(m);
        }
        Warnings.OnWarning += Handler;
        try { action(); }
        finally { Warnings.OnWarning -= Handler; }
        return messages;
    }

    /// <summary>graph_desc(fn) of test_autograd.py: the node's type name and, recursively, its next functions.</summary>
    public static string GraphDesc(Nabla.Autograd.Node? fn)
    {
        if (fn is null) return "None";
        string n = fn.name();
        int i = n.LastIndexOf("::", StringComparison.Ordinal);
        if (i >= 0) n = n[(i + 2)..];
        var parts = fn.next_functions.Select(nf => GraphDesc(nf.node));
        return n + "(" + string.Join(", ", parts) + ")";
    }

    public static double Item(Tensor t) => t.detach().to(float64).item<double>();
}

/// <summary>
/// torch._C._functions.UndefinedGrad: passes its input through and sends back an undefined (null) gradient.
/// </summary>
internal sealed class UndefinedGrad : torch.autograd.MultiOutputFunction
{
    public override object?[] forward(AutogradContext ctx, object?[] args) => new object?[] { ((Tensor)args[0]!).clone() };
    public override Tensor?[] backward(AutogradContext ctx, Tensor?[] grad_outputs) => new Tensor?[] { null };
}
