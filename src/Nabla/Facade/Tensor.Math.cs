using Nabla.Ops;


namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>this + alpha * other, with broadcasting (AddBackward0).</summary>
    public Tensor add(Tensor other, Scalar? alpha = null) => Arithmetic.Add(this, other, alpha ?? 1);
    /// <summary>this + alpha * scalar (AddBackward1).</summary>
    public Tensor add(Scalar other, Scalar? alpha = null) => Arithmetic.AddScalar(this, other, alpha ?? 1);
    /// <summary>this - alpha * other, with broadcasting (SubBackward0).</summary>
    public Tensor sub(Tensor other, Scalar? alpha = null) => Arithmetic.Sub(this, other, alpha ?? 1);
    /// <summary>this - alpha * scalar (SubBackward1).</summary>
    public Tensor sub(Scalar other, Scalar? alpha = null) => Arithmetic.SubScalar(this, other, alpha ?? 1);
    /// <summary>Elementwise product with broadcasting (MulBackward0).</summary>
    public Tensor mul(Tensor other) => Arithmetic.Mul(this, other);
    /// <summary>Product with a scalar (MulBackward1).</summary>
    public Tensor mul(Scalar other) => Arithmetic.MulScalar(this, other);
    /// <summary>Elementwise true division with broadcasting (DivBackward0).</summary>
    public Tensor div(Tensor other) => Arithmetic.Div(this, other);
    /// <summary>Division by a scalar (DivBackward1).</summary>
    public Tensor div(Scalar other) => Arithmetic.DivScalar(this, other);
    /// <summary>Negation (NegBackward0).</summary>
    public Tensor neg() => Arithmetic.Neg(this);
    /// <summary>this ** exponent (PowBackward0).</summary>
    public Tensor pow(Scalar exponent) => UnaryMath.Pow(this, exponent);
    /// <summary>this ** exponent elementwise (PowBackward1).</summary>
    public Tensor pow(Tensor exponent) => UnaryMath.Pow(this, exponent);
    /// <summary>this * this (recorded as PowBackward0 with exponent 2, as PyTorch).</summary>
    public Tensor square() => UnaryMath.Pow(this, 2);
    /// <summary>Square root.</summary>
    public Tensor sqrt() => UnaryMath.Sqrt(this);
    /// <summary>1 / sqrt(x).</summary>
    public Tensor rsqrt() => UnaryMath.Rsqrt(this);
    /// <summary>1 / x.</summary>
    public Tensor reciprocal() => UnaryMath.Reciprocal(this);
    /// <summary>e ** x.</summary>
    public Tensor exp() => UnaryMath.Exp(this);
    /// <summary>Natural logarithm.</summary>
    public Tensor log() => UnaryMath.Log(this);
    /// <summary>log(1 + x).</summary>
    public Tensor log1p() => UnaryMath.Log1p(this);
    /// <summary>exp(x) - 1.</summary>
    public Tensor expm1() => UnaryMath.Expm1(this);
    /// <summary>Sine.</summary>
    public Tensor sin() => UnaryMath.Sin(this);
    /// <summary>Cosine.</summary>
    public Tensor cos() => UnaryMath.Cos(this);
    /// <summary>Hyperbolic tangent.</summary>
    public Tensor tanh() => UnaryMath.Tanh(this);
    /// <summary>Logistic sigmoid 1 / (1 + e^-x).</summary>
    public Tensor sigmoid() => UnaryMath.Sigmoid(this);
    /// <summary>max(x, 0).</summary>
    public Tensor relu() => UnaryMath.Relu(this);
    /// <summary>|x|.</summary>
    public Tensor abs() => UnaryMath.Abs(this);
    /// <summary>-1, 0 or 1 by sign (no gradient: SignBackward0 gives zeros).</summary>
    public Tensor sign() => UnaryMath.Sign(this);

    /// <summary>Clamps into [min, max]; either bound may be omitted (ClampBackward1).</summary>
    public Tensor clamp(Scalar? min = null, Scalar? max = null) => UnaryMath.Clamp(this, min, max);
    /// <summary>Alias of <see cref="clamp"/>.</summary>
    public Tensor clip(Scalar? min = null, Scalar? max = null) => UnaryMath.Clamp(this, min, max);
    /// <summary>max(x, min) (ClampMinBackward0).</summary>
    public Tensor clamp_min(Scalar min) => UnaryMath.Clamp(this, min, null, "ClampMinBackward0");
    /// <summary>min(x, max) (ClampMaxBackward0).</summary>
    public Tensor clamp_max(Scalar max) => UnaryMath.Clamp(this, null, max, "ClampMaxBackward0");

    // ---- reductions ------------------------------------------------------------------------------------------

    /// <summary>Sum of all elements (SumBackward0); integers sum to int64.</summary>
    public Tensor sum(ScalarType? dtype = null) => Reductions.Sum(this, null, false, dtype);
    /// <summary>Sum over <paramref name="dim"/> (SumBackward1).</summary>
    public Tensor sum(long dim, bool keepdim = false, ScalarType? dtype = null) => Reductions.Sum(this, new[] { dim }, keepdim, dtype);
    /// <summary>The same as the <c>long dim</c> overload; it exists because C# converts a literal <c>0</c> to an enum, so
    /// without it <c>x.sum(0)</c> would bind to the <c>dtype</c> overload instead of reducing dimension 0.</summary>
    public Tensor sum(int dim, bool keepdim = false, ScalarType? dtype = null) => sum((long)dim, keepdim, dtype);
    /// <summary>Sum over several dims (SumBackward1).</summary>
    public Tensor sum(long[] dim, bool keepdim = false, ScalarType? dtype = null) => Reductions.Sum(this, dim, keepdim, dtype);
    /// <summary>Mean of all elements (MeanBackward0).</summary>
    public Tensor mean(ScalarType? dtype = null) => Reductions.Mean(this, null, false, dtype);
    /// <summary>Mean over <paramref name="dim"/> (MeanBackward1).</summary>
    public Tensor mean(long dim, bool keepdim = false, ScalarType? dtype = null) => Reductions.Mean(this, new[] { dim }, keepdim, dtype);
    /// <summary>The same as the <c>long dim</c> overload; it exists because C# converts a literal <c>0</c> to an enum, so
    /// without it <c>x.mean(0)</c> would bind to the <c>dtype</c> overload instead of reducing dimension 0.</summary>
    public Tensor mean(int dim, bool keepdim = false, ScalarType? dtype = null) => mean((long)dim, keepdim, dtype);
    /// <summary>Mean over several dims (MeanBackward1).</summary>
    public Tensor mean(long[] dim, bool keepdim = false, ScalarType? dtype = null) => Reductions.Mean(this, dim, keepdim, dtype);

    // ---- views -----------------------------------------------------------------------------------------------

    /// <summary>A view with a new shape (one dim may be -1); fails when the strides do not allow it.</summary>
    public Tensor view(params long[] shape) => Views.View(this, shape);
    /// <summary>A view of this tensor with <paramref name="other"/>'s shape.</summary>
    public Tensor view_as(Tensor other) => Views.View(this, other._shape);
    /// <summary>A view with a new shape when possible, else a copy.</summary>
    public Tensor reshape(params long[] shape) => Views.Reshape(this, shape);
    /// <summary>Reshapes to <paramref name="other"/>'s shape.</summary>
    public Tensor reshape_as(Tensor other) => Views.Reshape(this, other._shape);
    /// <summary>Transpose of a tensor with at most 2 dims (TBackward0).</summary>
    public Tensor t() => Views.T(this);
    /// <summary>Transpose of a tensor with at most 2 dims.</summary>
    public Tensor T => Views.T(this);
    /// <summary>Swaps two dims (TransposeBackward0).</summary>
    public Tensor transpose(long dim0, long dim1) => Views.Transpose(this, dim0, dim1);
    /// <summary>Reorders dims (PermuteBackward0).</summary>
    public Tensor permute(params long[] dims) => Views.Permute(this, dims);
    /// <summary>Broadcasts size-1 dims to larger sizes without copying (-1 keeps a size).</summary>
    public Tensor expand(params long[] size) => Views.Expand(this, size);
    /// <summary>Expands to <paramref name="other"/>'s shape.</summary>
    public Tensor expand_as(Tensor other) => Views.Expand(this, other._shape);
    /// <summary>Removes all dims of size 1 (SqueezeBackward0).</summary>
    public Tensor squeeze() => Views.Squeeze(this, null);
    /// <summary>Removes dim <paramref name="dim"/> if its size is 1 (SqueezeBackward1).</summary>
    public Tensor squeeze(long dim) => Views.Squeeze(this, dim);
    /// <summary>Inserts a dim of size 1 at <paramref name="dim"/>.</summary>
    public Tensor unsqueeze(long dim) => Views.Unsqueeze(this, dim);
    /// <summary>The slice at <paramref name="index"/> along <paramref name="dim"/>, which is removed (SelectBackward0).</summary>
    public Tensor select(long dim, long index) => Views.Select(this, dim, index);
    /// <summary>Elements [start, start+length) along <paramref name="dim"/> (SliceBackward0).</summary>
    public Tensor narrow(long dim, long start, long length) => Views.Narrow(this, dim, start, length);
    /// <summary>Elements start..end by step along dim, as Python slicing.</summary>
    public Tensor slice(long dim, long? start, long? end, long step = 1) => Views.Slice(this, dim, start, end, step);

    /// <summary>Merges dims start_dim..end_dim into one.</summary>
    public Tensor flatten(long start_dim = 0, long end_dim = -1)
    {
        int rank = _shape.Length;
        if (rank == 0) return reshape(1);
        int s = ShapeUtil.WrapDim(start_dim, rank), e = ShapeUtil.WrapDim(end_dim, rank);
        if (s > e) throw new ArgumentException("flatten() has invalid args: start_dim cannot come after end_dim");
        if (s == e) return this;
        var shape = new List<long>();
        for (int i = 0; i < s; i++) shape.Add(_shape[i]);
        long merged = 1;
        for (int i = s; i <= e; i++) merged *= _shape[i];
        shape.Add(merged);
        for (int i = e + 1; i < rank; i++) shape.Add(_shape[i]);
        return reshape(shape.ToArray());
    }

    // ---- comparisons -----------------------------------------------------------------------------------------

    /// <summary>Elementwise ==, as a bool tensor.</summary>
    public Tensor eq(Tensor other) => Ops.Raw.Compare(CompareOp.Eq, this, other);
    /// <summary>Elementwise !=, as a bool tensor.</summary>
    public Tensor ne(Tensor other) => Ops.Raw.Compare(CompareOp.Ne, this, other);
    /// <summary>Elementwise &lt;, as a bool tensor.</summary>
    public Tensor lt(Tensor other) => Ops.Raw.Compare(CompareOp.Lt, this, other);
    /// <summary>Elementwise &lt;=, as a bool tensor.</summary>
    public Tensor le(Tensor other) => Ops.Raw.Compare(CompareOp.Le, this, other);
    /// <summary>Elementwise &gt;, as a bool tensor.</summary>
    public Tensor gt(Tensor other) => Ops.Raw.Compare(CompareOp.Gt, this, other);
    /// <summary>Elementwise &gt;=, as a bool tensor.</summary>
    public Tensor ge(Tensor other) => Ops.Raw.Compare(CompareOp.Ge, this, other);
    /// <summary>Elementwise == scalar.</summary>
    public Tensor eq(Scalar other) => eq(ScalarTensor(other));
    /// <summary>Elementwise != scalar.</summary>
    public Tensor ne(Scalar other) => ne(ScalarTensor(other));
    /// <summary>Elementwise &lt; scalar.</summary>
    public Tensor lt(Scalar other) => lt(ScalarTensor(other));
    /// <summary>Elementwise &lt;= scalar.</summary>
    public Tensor le(Scalar other) => le(ScalarTensor(other));
    /// <summary>Elementwise &gt; scalar.</summary>
    public Tensor gt(Scalar other) => gt(ScalarTensor(other));
    /// <summary>Elementwise &gt;= scalar.</summary>
    public Tensor ge(Scalar other) => ge(ScalarTensor(other));

    /// <summary>A 0-d tensor for a scalar operand (wrapped-number semantics: it never decides the dtype category alone).</summary>
    internal static Tensor ScalarTensor(Scalar s) => s.Kind switch
    {
        ScalarType.Bool => torch.tensor(s.Value != 0),
        ScalarType.Int64 => torch.tensor(s.IntegerValue),
        _ => torch.tensor(s.Value, ScalarType.Float64),
    };

    /// <summary>True when shapes match and every element is equal.</summary>
    public bool equal(Tensor other) => ShapesEqual(this, other) && (_numel == 0 || eq(other).all().item<bool>());

    /// <summary>True when |this - other| &lt;= atol + rtol * |other| everywhere (NaN equal only if <paramref name="equal_nan"/>).</summary>
    public bool allclose(Tensor other, double rtol = 1e-05, double atol = 1e-08, bool equal_nan = false)
    {
        // Both operands broadcast to a common shape and converted to float64 in one raw copy each (no graph).
        var shape = ShapeUtil.Broadcast(_shape, other._shape);
        var av = new double[ShapeUtil.Numel(shape)];
        var bv = new double[av.Length];
        Ops.Raw.CheckSameDevice(this, other);
        Backend.CopyToHost<double>(Raw.With(shape, Ops.Raw.BroadcastStrides(this, shape), _offset), av);
        other.Backend.CopyToHost<double>(other.Raw.With(shape, Ops.Raw.BroadcastStrides(other, shape), other._offset), bv);
        for (int i = 0; i < bv.Length; i++)
        {
            double x = av[i], y = bv[i];
            if (double.IsNaN(x) || double.IsNaN(y)) { if (!(equal_nan && double.IsNaN(x) && double.IsNaN(y))) return false; continue; }
            if (x == y) continue;
            if (Math.Abs(x - y) > atol + rtol * Math.Abs(y)) return false;
        }
        return true;
    }

    /// <summary>True if every element is nonzero, as a 0-d bool tensor.</summary>
    public Tensor all()
    {
        var v = ToDoubleArray();
        foreach (var x in v) if (x == 0) return torch.tensor(false);
        return torch.tensor(true);
    }

    /// <summary>True if any element is nonzero, as a 0-d bool tensor.</summary>
    public Tensor any()
    {
        var v = ToDoubleArray();
        foreach (var x in v) if (x != 0) return torch.tensor(true);
        return torch.tensor(false);
    }

    /// <summary>Elementwise logical and of two tensors (bool result).</summary>
    public Tensor logical_and(Tensor other) => Ops.Raw.Compare(CompareOp.Eq, ne(0).to(ScalarType.Int32) + other.ne(0).to(ScalarType.Int32), torch.tensor(2));
    /// <summary>Elementwise logical or of two tensors (bool result).</summary>
    public Tensor logical_or(Tensor other) => Ops.Raw.Compare(CompareOp.Gt, ne(0).to(ScalarType.Int32) + other.ne(0).to(ScalarType.Int32), torch.tensor(0));
    /// <summary>Elementwise logical not (bool result).</summary>
    public Tensor logical_not() => eq(0);
}
