using Nabla.Autograd;

namespace Nabla.Ops;

/// <summary>
/// sort / argsort / msort / topk and cummax / cummin (issue 12): the Sort and CumMaxMin primitives (Backend.Sorting.cs)
/// for the forward; backward rules scatter the gradient through the returned indices (derivatives.yaml's
/// value_selecting_reduction_backward and cummaxmin_backward), as differentiable tensor code.
/// </summary>
internal static class Sorting
{
    static int Dim(Tensor x, long dim) => ShapeUtil.WrapDim(dim, Math.Max(x._shape.Length, 1));

    /// <summary>Sorted values and their int64 source indices along <paramref name="dim"/> (SortBackward0, or SortBackward1 for the stable overload).</summary>
    public static (Tensor values, Tensor indices) Sort(Tensor x, long dim, bool descending, bool? stable)
    {
        int d = Dim(x, dim);
        var values = Tensor.EmptyLike(x, x._dtype, x._shape);
        var indices = Tensor.EmptyLike(x, ScalarType.Int64, x._shape);
        x.Backend.Sort(values.Raw, indices.Raw, x.Raw, x._shape.Length == 0 ? 0 : d, descending);
        if (History.ShouldRecord(x))
            Record(values, x, stable is null ? "SortBackward0" : "SortBackward1", indices, d, x._shape);
        return (values, indices);
    }

    /// <summary>The <paramref name="k"/> largest (or smallest) elements along <paramref name="dim"/> and their indices (TopkBackward0).</summary>
    public static (Tensor values, Tensor indices) Topk(Tensor x, long k, long dim, bool largest, bool sorted)
    {
        int d = Dim(x, dim);
        long size = x._shape.Length == 0 ? 1 : x._shape[d];
        if (k < 0 || k > size) throw new ArgumentException("selected index k out of range");
        Tensor values, indices;
        using (new GradModeScope(false))
        {
            var (v, i) = Sort(x, dim, largest, null);
            if (x._shape.Length == 0) (values, indices) = (v, i);
            else (values, indices) = (v.narrow(d, 0, k).contiguous(), i.narrow(d, 0, k).contiguous());
        }
        if (History.ShouldRecord(x)) Record(values, x, "TopkBackward0", indices, d, x._shape);
        return (values, indices);
    }

    static void Record(Tensor values, Tensor x, string name, Tensor indices, int dim, long[] shape)
    {
        var node = new FnNode(name, new[] { indices }, (g, saved) => new[] { ScatterBack(g, saved[0], dim, shape) });
        node.SetNextEdges(x);
        History.Set(values, node);
    }

    /// <summary>zeros(shape).scatter(dim, indices, grad): the gradient of a value-selecting op, differentiable in grad.</summary>
    static Tensor ScatterBack(Tensor grad, Tensor indices, int dim, long[] shape)
    {
        if (shape.Length == 0) return grad.clone();
        return torch.zeros(shape, grad._dtype, device: grad.device).scatter(dim, indices, grad);
    }

    /// <summary>Running max (or min) along <paramref name="dim"/> and the indices it was taken from (CummaxBackward0 / CumminBackward0).</summary>
    public static (Tensor values, Tensor indices) CumMaxMin(Tensor x, long dim, bool max)
    {
        int d = Dim(x, dim);
        var values = Tensor.EmptyLike(x, x._dtype, x._shape);
        var indices = Tensor.EmptyLike(x, ScalarType.Int64, x._shape);
        x.Backend.CumMaxMin(values.Raw, indices.Raw, x.Raw, x._shape.Length == 0 ? 0 : d, max);
        if (History.ShouldRecord(x))
        {
            var shape = x._shape;
            var node = new FnNode(max ? "CummaxBackward0" : "CumminBackward0", new[] { indices }, (g, saved) => new[]
            {
                shape.Length == 0 ? g.clone() : torch.zeros(shape, g._dtype, device: g.device).scatter_add(d, saved[0], g),
            });
            node.SetNextEdges(x);
            History.Set(values, node);
        }
        return (values, indices);
    }
}
