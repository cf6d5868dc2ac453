using Nabla.Autograd;
using Nabla.Backends;

namespace Nabla.Ops;

// Matrix products: shape and dtype checks, autograd, and the Matmul primitive (Note [The backend wall]), which reads
// the operands with their own strides, so transposed views (as in every backward rule: grad @ b.T, a.T @ grad) are
// never copied.

internal static class Linalg
{
    // The rules (Note [Derivative rules]); mm/addmm take their operands' layouts as args (Note [Matmul gradient layout]).
    static readonly Rule MmRule = Rule.Binary("MmBackward0",
        Needs.Other, static (g, s) => MatmulGrad.Mat1(g, s.Other, ((MatmulGrad.Layouts)s.Args!).Mat1ColumnMajor),
        Needs.Self, static (g, s) => MatmulGrad.Mat2(g, s.Self, ((MatmulGrad.Layouts)s.Args!).Mat2ColumnMajor));
    // addmm(input, mat1, mat2, beta = Scalar, alpha = Scalar2).
    static readonly Rule AddmmRule = Rule.Ternary("AddmmBackward0",
        Needs.None, static (g, s) => s.Scalar.Value == 1 ? g : g.mul(s.Scalar),
        Needs.Third, static (g, s) =>
        {
            var r = MatmulGrad.Mat1(g, s.Third, ((MatmulGrad.Layouts)s.Args!).Mat1ColumnMajor);
            return s.Scalar2.Value == 1 ? r : r.mul(s.Scalar2);
        },
        Needs.Other, static (g, s) =>
        {
            var r = MatmulGrad.Mat2(g, s.Other, ((MatmulGrad.Layouts)s.Args!).Mat2ColumnMajor);
            return s.Scalar2.Value == 1 ? r : r.mul(s.Scalar2);
        });
    static readonly Rule BmmRule = Rule.Binary("BmmBackward0",
        Needs.Other, static (g, s) => g.bmm(s.Other.transpose(1, 2)),
        Needs.Self, static (g, s) => s.Self.transpose(1, 2).bmm(g));
    static readonly Rule DotRule = Rule.Binary("DotBackward0",
        Needs.Other, static (g, s) => g * s.Other,
        Needs.Self, static (g, s) => g * s.Self);
    static readonly Rule MvRule = Rule.Binary("MvBackward0",
        Needs.Other, static (g, s) => g.unsqueeze(1).mm(s.Other.unsqueeze(0)),
        Needs.Self, static (g, s) => s.Self.t().mv(g));

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
        return MmRule.Record(result, a, b, args: MatmulGrad.Layout(a, b));
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
        return AddmmRule.Record(c, input, a, b, beta, alpha, MatmulGrad.Layout(a, b));
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
        return BmmRule.Record(result, a, b);
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
        return DotRule.Record(result, a, b);
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
        return MvRule.Record(result, a, v);
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
    /// <summary>Whether each operand of a matrix product is column-major (the rule's args; four shared instances).</summary>
    internal sealed record Layouts(bool Mat1ColumnMajor, bool Mat2ColumnMajor);

    static readonly Layouts[] s_layouts = { new(false, false), new(false, true), new(true, false), new(true, true) };

    /// <summary>The layouts of <paramref name="mat1"/> and <paramref name="mat2"/> (no allocation).</summary>
    public static Layouts Layout(Tensor mat1, Tensor mat2) => s_layouts[(IsColumnMajor(mat1) ? 2 : 0) + (IsColumnMajor(mat2) ? 1 : 0)];

    public static bool IsColumnMajor(Tensor t) =>
        t._shape.Length == 2 && t._strides[0] == 1 && t._strides[1] == t._shape[0];

    /// <summary>d(mat1) = grad @ mat2^T, in mat1's layout.</summary>
    public static Tensor Mat1(Tensor grad, Tensor mat2, bool mat1ColumnMajor) =>
        mat1ColumnMajor ? mat2.mm(grad.t()).t() : grad.mm(mat2.t());

    /// <summary>d(mat2) = mat1^T @ grad, in mat2's layout.</summary>
    public static Tensor Mat2(Tensor grad, Tensor mat1, bool mat2ColumnMajor) =>
        mat2ColumnMajor ? grad.t().mm(mat1).t() : mat1.t().mm(grad);
}
