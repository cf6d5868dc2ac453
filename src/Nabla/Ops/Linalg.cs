using Nabla.Autograd;
using Nabla.Backends;

namespace Nabla.Ops;

// Matrix products: shape and dtype checks, autograd, and the Matmul primitive (Note [The backend wall]), which reads
// the operands with their own strides, so transposed views (as in every backward rule: grad @ b.T, a.T @ grad) are
// never copied.

internal static class Linalg
{
    static ScalarType CheckTypes(Tensor a, Tensor b, string op)
    {
        if (a._dtype != b._dtype)
            throw new InvalidOperationException($"expected m1 and m2 to have the same dtype, but got: {a._dtype.CppScalarName().ToLowerInvariant()} != {b._dtype.CppScalarName().ToLowerInvariant()}");
        if (a._dtype == ScalarType.Bool)
            throw new NotSupportedException($"\"{op}\" not implemented for '{a._dtype.CppScalarName()}'");
        return a._dtype;
    }

    /// <summary>Raw 2-D product into a new contiguous tensor (no autograd).</summary>
    public static Tensor MmRaw(Tensor a, Tensor b)
    {
        Raw.CheckSameDevice(a, b);
        var c = Tensor.EmptyLike(a, a._dtype, new long[] { a._shape[0], b._shape[1] });
        a.Backend.Matmul(c.Raw, a.Raw, b.Raw, accumulate: false);
        return c;
    }

    public static Tensor Mm(Tensor a, Tensor b)
    {
        if (a._shape.Length != 2) throw new ArgumentException($"self must be a matrix");
        if (b._shape.Length != 2) throw new ArgumentException($"mat2 must be a matrix");
        if (a._shape[1] != b._shape[0])
            throw new ArgumentException(
                $"mat1 and mat2 shapes cannot be multiplied ({a._shape[0]}x{a._shape[1]} and {b._shape[0]}x{b._shape[1]})");
        CheckTypes(a, b, "addmm_impl_cpu_");
        var result = MmRaw(a, b);
        if (History.ShouldRecord(a, b))
        {
            var node = new MmBackward0(a, b);
            node.SetNextEdges(a, b);
            History.Set(result, node);
        }
        return result;
    }

    /// <summary>beta * input + alpha * (a @ b) (AddmmBackward0).</summary>
    public static Tensor Addmm(Tensor input, Tensor a, Tensor b, Scalar beta, Scalar alpha)
    {
        if (a._shape.Length != 2 || b._shape.Length != 2) throw new ArgumentException("mat1 and mat2 must be matrices");
        if (a._shape[1] != b._shape[0])
            throw new ArgumentException(
                $"mat1 and mat2 shapes cannot be multiplied ({a._shape[0]}x{a._shape[1]} and {b._shape[0]}x{b._shape[1]})");
        CheckTypes(a, b, "addmm_impl_cpu_");
        var outShape = new[] { a._shape[0], b._shape[1] };
        Raw.CheckSameDevice(a, b);
        var c = Tensor.EmptyLike(a, a._dtype, outShape);
        Raw.CopyInto(c, beta.Value == 1 ? input : Raw.BinaryScalar(BinaryOp.Mul, input, beta, input._dtype));
        if (alpha.Value == 1) a.Backend.Matmul(c.Raw, a.Raw, b.Raw, accumulate: true);
        else
        {
            var p = MmRaw(a, b);
            Raw.BinaryInto(BinaryOp.Add, c, c, Raw.BinaryScalar(BinaryOp.Mul, p, alpha, p._dtype));
        }
        if (History.ShouldRecord(new[] { input, a, b }))
        {
            var node = new AddmmBackward0(input, a, b, beta, alpha);
            node.SetNextEdges(new Tensor?[] { input, a, b });
            History.Set(c, node);
        }
        return c;
    }

    public static Tensor Bmm(Tensor a, Tensor b)
    {
        if (a._shape.Length != 3) throw new ArgumentException($"batch1 must be a 3D tensor");
        if (b._shape.Length != 3) throw new ArgumentException($"batch2 must be a 3D tensor");
        if (a._shape[0] != b._shape[0] || a._shape[2] != b._shape[1])
            throw new ArgumentException(
                $"Expected size for first two dimensions of batch2 tensor to be: [{a._shape[0]}, {a._shape[2]}] but got: [{b._shape[0]}, {b._shape[1]}].");
        CheckTypes(a, b, "bmm");
        var result = BmmRaw(a, b);
        if (History.ShouldRecord(a, b))
        {
            var node = new BmmBackward0(a, b);
            node.SetNextEdges(a, b);
            History.Set(result, node);
        }
        return result;
    }

    static Tensor BmmRaw(Tensor a, Tensor b)
    {
        Raw.CheckSameDevice(a, b);
        var c = Tensor.EmptyLike(a, a._dtype, new long[] { a._shape[0], a._shape[1], b._shape[2] });
        if (c._numel > 0) a.Backend.Matmul(c.Raw, a.Raw, b.Raw, accumulate: false);
        return c;
    }

    public static Tensor Dot(Tensor a, Tensor b)
    {
        if (a._shape.Length != 1 || b._shape.Length != 1)
            throw new ArgumentException($"1D tensors expected, but got {a._shape.Length}D and {b._shape.Length}D tensors");
        if (a._shape[0] != b._shape[0])
            throw new ArgumentException($"inconsistent tensor size, expected tensor [{a._shape[0]}] and src [{b._shape[0]}] to have the same number of elements, but got {a._shape[0]} and {b._shape[0]} elements respectively");
        CheckTypes(a, b, "dot");
        Tensor result;
        using (torch.no_grad()) result = MmRaw(a.unsqueeze(0), b.unsqueeze(1)).reshape(System.Array.Empty<long>());
        result = new Tensor(result._storage, System.Array.Empty<long>(), System.Array.Empty<long>(), result._offset);
        if (History.ShouldRecord(a, b))
        {
            var node = new DotBackward0(a, b);
            node.SetNextEdges(a, b);
            History.Set(result, node);
        }
        return result;
    }

    public static Tensor Mv(Tensor a, Tensor v)
    {
        if (a._shape.Length != 2 || v._shape.Length != 1)
            throw new ArgumentException($"vector + matrix @ vector expected, got 1, {a._shape.Length}, {v._shape.Length}");
        if (a._shape[1] != v._shape[0])
            throw new ArgumentException($"size mismatch, got input ({a._shape[0]}), mat ({a._shape[0]}x{a._shape[1]}), vec ({v._shape[0]})");
        CheckTypes(a, v, "mv");
        Tensor result;
        using (torch.no_grad()) result = MmRaw(a, v.unsqueeze(1));
        result = new Tensor(result._storage, new[] { a._shape[0] }, new long[] { 1 }, 0);
        if (History.ShouldRecord(a, v))
        {
            var node = new MvBackward0(a, v);
            node.SetNextEdges(a, v);
            History.Set(result, node);
        }
        return result;
    }

    /// <summary>torch.matmul: dot, mv, mm, or broadcast batched products, chosen by the operands' ranks.</summary>
    public static Tensor Matmul(Tensor a, Tensor b)
    {
        int ra = a._shape.Length, rb = b._shape.Length;
        if (ra == 0 || rb == 0)
            throw new ArgumentException($"both arguments to matmul need to be at least 1D, but they are {ra}D and {rb}D");
        if (ra == 1 && rb == 1) return Dot(a, b);
        if (ra == 2 && rb == 1) return Mv(a, b);
        if (ra == 1 && rb == 2)
        {
            if (a._shape[0] != b._shape[0])
                throw new ArgumentException($"size mismatch, got input ({b._shape[1]}), mat ({b._shape[1]}x{b._shape[0]}), vec ({a._shape[0]})");
            return Views.Squeeze(Mm(a.unsqueeze(0), b), 0, "SqueezeBackward3"); // PyTorch squeezes in place here
        }
        if (ra == 2 && rb == 2) return Mm(a, b);
        // Batched: fold leading dims of a into rows when b is a matrix; else broadcast batch dims and use bmm.
        if (rb <= 2 && ra >= 3)
        {
            var bm = rb == 1 ? b.unsqueeze(1) : b;
            var lead = a._shape[..^1];
            var rows = a.reshape(-1, a._shape[^1]);
            if (rows._shape[1] != bm._shape[0])
                throw new ArgumentException(
                    $"mat1 and mat2 shapes cannot be multiplied ({rows._shape[0]}x{rows._shape[1]} and {bm._shape[0]}x{bm._shape[1]})");
            var prod = Mm(rows, bm);
            var outShape = rb == 1 ? lead : lead.Append(bm._shape[1]).ToArray();
            return Views.Reshape(prod, outShape, "UnsafeViewBackward0");
        }
        // A matrix times a batch: PyTorch folds the other way, (b^T a^T)^T, and makes the result contiguous.
        if (ra == 2 && rb >= 3) return Matmul(b.transpose(-1, -2), a.t()).transpose(-1, -2).contiguous();
        var a3 = ra == 1 ? a.unsqueeze(0) : a;
        var b3 = rb == 1 ? b.unsqueeze(1) : b;
        var batchA = a3._shape[..^2];
        var batchB = b3._shape[..^2];
        var batch = ShapeUtil.Broadcast(batchA, batchB);
        long bsz = 1;
        foreach (var s in batch) bsz *= s;
        long m = a3._shape[^2], k = a3._shape[^1], k2 = b3._shape[^2], n = b3._shape[^1];
        if (k != k2)
            throw new ArgumentException($"Expected size for first two dimensions of batch2 tensor to be: [{bsz}, {k}] but got: [{bsz}, {k2}].");
        var ea = a3.expand(batch.Append(m).Append(k).ToArray()).reshape(bsz, m, k);
        var eb = b3.expand(batch.Append(k).Append(n).ToArray()).reshape(bsz, k, n);
        var r = Bmm(ea, eb);
        var shape = batch.ToList();
        if (ra > 1) shape.Add(m);
        if (rb > 1) shape.Add(n);
        return Views.Reshape(r, shape.ToArray(), "UnsafeViewBackward0");
    }
}

// Note [Matmul gradient layout]
// As PyTorch's mm_mat1_backward / mm_mat2_backward: when an operand was column-major (a transposed contiguous matrix,
// as the weight of a Linear layer, W.t()), its gradient is computed as the transpose of a row-major product, so that
// after TBackward0 the leaf receives a contiguous gradient it can adopt without a copy (Note [Stealing gradients]).
internal static class MatmulGrad
{
    public static bool IsColumnMajor(Tensor t) =>
        t._shape.Length == 2 && t._strides[0] == 1 && t._strides[1] == t._shape[0];

    /// <summary>d(mat1) = grad @ mat2^T, in mat1's layout.</summary>
    public static Tensor Mat1(Tensor grad, Tensor mat2, bool mat1ColumnMajor) =>
        mat1ColumnMajor ? mat2.mm(grad.t()).t() : grad.mm(mat2.t());

    /// <summary>d(mat2) = mat1^T @ grad, in mat2's layout.</summary>
    public static Tensor Mat2(Tensor grad, Tensor mat1, bool mat2ColumnMajor) =>
        mat2ColumnMajor ? grad.t().mm(mat1).t() : mat1.t().mm(grad);
}

/// <summary>Backward of mm: grad @ b.T and a.T @ grad.</summary>
internal sealed class MmBackward0 : Node
{
    SavedTensor _self, _mat2;
    readonly bool _selfColumnMajor, _mat2ColumnMajor;
    public MmBackward0(Tensor self, Tensor mat2)
    {
        if (History.ShouldRecord(mat2)) _self = new SavedTensor(self);
        if (History.ShouldRecord(self)) _mat2 = new SavedTensor(mat2);
        _selfColumnMajor = MatmulGrad.IsColumnMajor(self);
        _mat2ColumnMajor = MatmulGrad.IsColumnMajor(mat2);
    }
    public override string name() => "MmBackward0";
    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var grad = g[0]!;
        return new[]
        {
            NeedsInputGrad(0) ? MatmulGrad.Mat1(grad, _mat2.Unpack(this), _selfColumnMajor) : null,
            NeedsInputGrad(1) ? MatmulGrad.Mat2(grad, _self.Unpack(this), _mat2ColumnMajor) : null,
        };
    }
    protected internal override void ReleaseVariables() { _self.Release(); _mat2.Release(); }
}

/// <summary>Backward of addmm.</summary>
internal sealed class AddmmBackward0 : Node
{
    SavedTensor _mat1, _mat2;
    readonly long[] _selfShape;
    readonly ScalarType _selfType;
    readonly Scalar _beta, _alpha;
    readonly bool _mat1ColumnMajor, _mat2ColumnMajor;
    public AddmmBackward0(Tensor self, Tensor mat1, Tensor mat2, Scalar beta, Scalar alpha)
    {
        if (History.ShouldRecord(mat2)) _mat1 = new SavedTensor(mat1);
        if (History.ShouldRecord(mat1)) _mat2 = new SavedTensor(mat2);
        _selfShape = self._shape; _selfType = self._dtype; _beta = beta; _alpha = alpha;
        _mat1ColumnMajor = MatmulGrad.IsColumnMajor(mat1);
        _mat2ColumnMajor = MatmulGrad.IsColumnMajor(mat2);
    }
    public override string name() => "AddmmBackward0";
    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var grad = g[0]!;
        Tensor? gs = null, g1 = null, g2 = null;
        if (NeedsInputGrad(0)) gs = Reduce.HandleBroadcast(_beta.Value == 1 ? grad : grad.mul(_beta), _selfShape, _selfType);
        if (NeedsInputGrad(1)) { g1 = MatmulGrad.Mat1(grad, _mat2.Unpack(this), _mat1ColumnMajor); if (_alpha.Value != 1) g1 = g1.mul(_alpha); }
        if (NeedsInputGrad(2)) { g2 = MatmulGrad.Mat2(grad, _mat1.Unpack(this), _mat2ColumnMajor); if (_alpha.Value != 1) g2 = g2.mul(_alpha); }
        return new[] { gs, g1, g2 };
    }
    protected internal override void ReleaseVariables() { _mat1.Release(); _mat2.Release(); }
}

/// <summary>Backward of bmm.</summary>
internal sealed class BmmBackward0 : Node
{
    SavedTensor _self, _mat2;
    public BmmBackward0(Tensor self, Tensor mat2)
    {
        if (History.ShouldRecord(mat2)) _self = new SavedTensor(self);
        if (History.ShouldRecord(self)) _mat2 = new SavedTensor(mat2);
    }
    public override string name() => "BmmBackward0";
    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var grad = g[0]!;
        return new[]
        {
            NeedsInputGrad(0) ? grad.bmm(_mat2.Unpack(this).transpose(1, 2)) : null,
            NeedsInputGrad(1) ? _self.Unpack(this).transpose(1, 2).bmm(grad) : null,
        };
    }
    protected internal override void ReleaseVariables() { _self.Release(); _mat2.Release(); }
}

/// <summary>Backward of dot.</summary>
internal sealed class DotBackward0 : Node
{
    SavedTensor _self, _other;
    public DotBackward0(Tensor self, Tensor other) { _self = new SavedTensor(self); _other = new SavedTensor(other); }
    public override string name() => "DotBackward0";
    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var grad = g[0]!;
        return new[]
        {
            NeedsInputGrad(0) ? grad * _other.Unpack(this) : null,
            NeedsInputGrad(1) ? grad * _self.Unpack(this) : null,
        };
    }
    protected internal override void ReleaseVariables() { _self.Release(); _other.Release(); }
}

/// <summary>Backward of mv.</summary>
internal sealed class MvBackward0 : Node
{
    SavedTensor _self, _vec;
    public MvBackward0(Tensor self, Tensor vec) { _self = new SavedTensor(self); _vec = new SavedTensor(vec); }
    public override string name() => "MvBackward0";
    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var grad = g[0]!;
        return new[]
        {
            NeedsInputGrad(0) ? grad.unsqueeze(1).mm(_vec.Unpack(this).unsqueeze(0)) : null,
            NeedsInputGrad(1) ? _self.Unpack(this).t().mv(grad) : null,
        };
    }
    protected internal override void ReleaseVariables() { _self.Release(); _vec.Release(); }
}
