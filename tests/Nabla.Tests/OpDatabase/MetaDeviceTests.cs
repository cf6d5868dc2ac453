using Nabla.Backends.Meta;
using Xunit;

namespace Nabla.Tests.OpDatabase;

/// <summary>
/// The meta device runs the op database (issue 8: it proves the backend wall): every sample of every op, forward
/// and backward, on meta inputs with the CPU sample's shapes and strides, gives the CPU result's shape, dtype and
/// grad_fn name, and gradients of the inputs' shapes and dtypes — with no element memory anywhere.
/// </summary>
public class MetaDeviceTests
{
    // Ops that still run a CPU-only path somewhere in forward or backward (a file not yet behind the wall, see
    // ArchitectureTests): on meta they raise NotSupportedException. The test fails when one starts working, so the
    // list only shrinks.
    internal static readonly HashSet<string> Pending = new()
    {
        "index_mask",
    };

    /// <summary>A meta tensor with <paramref name="t"/>'s shape, strides, offset, dtype and requires_grad.</summary>
    internal static Tensor ToMeta(Tensor t)
    {
        var storage = MetaBackend.Instance.Allocate(t._dtype, t._storage.Length, zero: false);
        var m = new Tensor(storage, t.shape, t.stride(), (int)t.storage_offset());
        if (t.requires_grad) m.requires_grad_();
        return m;
    }

    [Theory]
    [MemberData(nameof(OpDb.Cases), MemberType = typeof(OpDb))]
    public void Op_runs_on_meta_like_on_cpu(string op, string spec)
    {
        var info = OpDb.Get(op);
        var cpuInputs = SampleSpec.Build(spec, _ => ScalarType.Float64, requiresGrad: true);
        var cpuOut = info.Op(cpuInputs);
        var cpuLeaves = cpuInputs.Where(t => t.requires_grad).ToArray();
        var cpuGrads = cpuOut.requires_grad
            ? torch.autograd.grad(new[] { cpuOut }, cpuLeaves, new Tensor?[] { SampleSpec.Upstream(cpuOut.shape, cpuOut.dtype) }, allow_unused: true)
            : new Tensor?[cpuLeaves.Length];

        if (Pending.Contains(op)) return;   // checked by Pending_ops_still_fail_on_meta
        var metaInputs = cpuInputs.Select(ToMeta).ToArray();
        var (metaOut, metaGrads) = Run(info, metaInputs);
        Assert.True(metaOut.is_meta, "the output of an op on meta inputs must be on meta");
        Assert.Equal(cpuOut.shape, metaOut.shape);
        Assert.Equal(cpuOut.dtype, metaOut.dtype);
        Assert.Equal(cpuOut.grad_fn?.name(), metaOut.grad_fn?.name());
        Assert.Equal(cpuGrads.Length, metaGrads.Length);
        for (int i = 0; i < cpuGrads.Length; i++)
        {
            Assert.Equal(cpuGrads[i] is null, metaGrads[i] is null);
            if (cpuGrads[i] is null) continue;
            Assert.True(metaGrads[i]!.is_meta, $"gradient {i} is not on meta");
            Assert.Equal(cpuGrads[i]!.shape, metaGrads[i]!.shape);
            Assert.Equal(cpuGrads[i]!.dtype, metaGrads[i]!.dtype);
        }
    }

    [Fact]
    public void Pending_ops_still_fail_on_meta()
    {
        var working = new List<string>();
        foreach (var op in Pending)
        {
            var info = OpDb.Get(op);
            bool anyFails = false;
            foreach (var spec in info.Samples)
            {
                var inputs = SampleSpec.Build(spec, _ => ScalarType.Float64, requiresGrad: true).Select(ToMeta).ToArray();
                try
                {
                    var (output, grads) = Run(info, inputs);
                    if (!output.is_meta || grads.Any(g => g is not null && !g.is_meta)) anyFails = true;
                }
                catch (Exception)
                {
                    anyFails = true;
                }
            }
            if (!anyFails) working.Add(op);
        }
        Assert.True(working.Count == 0, "these ops now run on meta; remove them from Pending: " + string.Join(", ", working));
    }

    static (Tensor Out, Tensor?[] Grads) Run(OpInfo info, Tensor[] inputs)
    {
        var output = info.Op(inputs);
        var leaves = inputs.Where(t => t.requires_grad).ToArray();
        if (!output.requires_grad) return (output, new Tensor?[leaves.Length]);
        var upstream = ToMeta(SampleSpec.Upstream(output.shape, output.dtype));
        var grads = torch.autograd.grad(new[] { output }, leaves, new Tensor?[] { upstream }, allow_unused: true);
        return (output, grads);
    }
}
