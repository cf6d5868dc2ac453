using System.Numerics;
using System.Numerics.Tensors;
using Nabla.Autograd;
using Nabla.Kernels.Cpu;

using Nabla.Backends.Cpu;

namespace Nabla.Ops;

/// <summary>prod, var, std, logsumexp, norm and cumsum (rows per Note [Row layout for reductions]).</summary>
internal static class Statistics
{
    static long[] MaskedDims(bool[] mask)
    {
        var dims = new List<long>();
        for (int i = 0; i < mask.Length; i++) if (mask[i]) dims.Add(i);
        return dims.ToArray();
    }

    // ---- prod -------------------------------------------------------------------------------------------------

    static void ProdRows<T>(Tensor rows, Tensor result, int outer, int n) where T : unmanaged, INumber<T>
    {
        var src = rows.Contiguous<T>();
        var dst = result.Contiguous<T>();
        for (int r = 0; r < outer; r++)
        {
            // prod = x0 * x1 * ... (1 for an empty row)
            T p = T.One;
            var row = src.Slice(r * n, n);
            for (int i = 0; i < row.Length; i++) p *= row[i];
            dst[r] = p;
        }
    }

    /// <summary>Product over all elements (ProdBackward0) or over one dim (ProdBackward1); integers give int64.</summary>
    public static Tensor Prod(Tensor x, long? dim, bool keepdim, ScalarType? dtype)
    {
        var outType = dtype ?? (x._dtype.IsFloatingPoint() ? x._dtype : ScalarType.Int64);
        var src = Raw.Cast(x, outType);
        int rank = x._shape.Length;
        var mask = dim is { } d ? RowLayout.SingleDim(ShapeUtil.WrapDim(d, rank), rank) : Reductions.DimMask(null, rank);
        var rows = RowLayout.ToRows(src, mask, out int outer, out int n);
        var result = Tensor.Empty(outType, RowLayout.ReducedShape(x._shape, mask, dim is not null && keepdim));
        switch (outType)
        {
            case ScalarType.Float32: ProdRows<float>(rows, result, outer, n); break;
            case ScalarType.Float64: ProdRows<double>(rows, result, outer, n); break;
            case ScalarType.Int64: ProdRows<long>(rows, result, outer, n); break;
            default: throw new NotSupportedException($"prod is not implemented for {outType.CppScalarName()}");
        }
        if (Autograd.Autograd.ShouldRecord(x) && outType.IsFloatingPoint())
        {
            var node = new ProdBackward(dim is null ? "ProdBackward0" : "ProdBackward1", x, result, mask, dim is not null && keepdim);
            node.SetNextEdges(x);
            Autograd.Autograd.SetHistory(result, node);
        }
        return result;
    }

    // ---- var / std ------------------------------------------------------------------------------------------

    /// <summary>Variance or standard deviation over dims (all when null) with the given correction (VarBackward0/StdBackward0).</summary>
    public static Tensor VarStd(Tensor x, long[]? dims, long correction, bool keepdim, bool std)
    {
        if (!x._dtype.IsFloatingPoint()) throw new InvalidOperationException("std and var only support floating point and complex dtypes");
        var mask = Reductions.DimMask(dims, x._shape.Length);
        // Note [Block reductions for var, max and cumsum]
        var block = RowLayout.ToBlock(x, mask, out int outer, out int n, out int inner);
        double divisor = Math.Max(0, n - correction);
        var result = Tensor.Empty(x._dtype, RowLayout.ReducedShape(x._shape, mask, keepdim));
        if (x._dtype == ScalarType.Float32) StatKernels.Var<float>(block.Contiguous<float>(), result.Contiguous<float>(), outer, n, inner, divisor, std);
        else StatKernels.Var<double>(block.Contiguous<double>(), result.Contiguous<double>(), outer, n, inner, divisor, std);
        if (Autograd.Autograd.ShouldRecord(x))
        {
            var node = new VarStdBackward(std, x, result, mask, keepdim, divisor);
            node.SetNextEdges(x);
            Autograd.Autograd.SetHistory(result, node);
        }
        return result;
    }

    // ---- logsumexp --------------------------------------------------------------------------------------------

    static void LogSumExpRows<T>(Tensor rows, Tensor result, int outer, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var src = rows.Contiguous<T>();
        var dst = result.Contiguous<T>();
        for (int r = 0; r < outer; r++)
        {
            // logsumexp = m + log(sum(exp(x - m))), m = max (0 when infinite, so all -inf gives -inf)
            var row = src.Slice(r * n, n);
            T m = n == 0 ? T.Zero : TensorPrimitives.Max<T>(row);
            if (T.IsInfinity(m)) m = T.Zero;
            T s = T.Zero;
            for (int i = 0; i < row.Length; i++) s += T.Exp(row[i] - m);
            dst[r] = T.Log(s) + m;
        }
    }

    /// <summary>log(sum(exp(x))) over dims, computed stably (LogsumexpBackward0); integers compute in float32.</summary>
    public static Tensor LogSumExp(Tensor x, long[] dims, bool keepdim)
    {
        var src = x._dtype.IsFloatingPoint() ? x : Raw.ToDType(x, ScalarType.Float32);
        var mask = Reductions.DimMask(dims, x._shape.Length);
        var rows = RowLayout.ToRows(src, mask, out int outer, out int n);
        var result = Tensor.Empty(src._dtype, RowLayout.ReducedShape(x._shape, mask, keepdim));
        if (src._dtype == ScalarType.Float32) LogSumExpRows<float>(rows, result, outer, n);
        else LogSumExpRows<double>(rows, result, outer, n);
        if (Autograd.Autograd.ShouldRecord(x))
        {
            var node = new LogsumexpBackward0(x, result, mask, keepdim);
            node.SetNextEdges(x);
            Autograd.Autograd.SetHistory(result, node);
        }
        return result;
    }

    // ---- norm -----------------------------------------------------------------------------------------------

    static void NormRows<T>(Tensor rows, Tensor result, int outer, int n, double p) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var src = rows.Contiguous<T>();
        var dst = result.Contiguous<T>();
        for (int r = 0; r < outer; r++)
        {
            var row = src.Slice(r * n, n);
            double acc = 0;
            if (p == 2) acc = Math.Sqrt(double.CreateTruncating(TensorPrimitives.SumOfSquares<T>(row)));
            else if (p == 1) acc = double.CreateTruncating(TensorPrimitives.SumOfMagnitudes<T>(row));
            else if (double.IsPositiveInfinity(p)) acc = n == 0 ? 0 : double.CreateTruncating(T.Abs(TensorPrimitives.MaxMagnitude<T>(row)));
            else if (double.IsNegativeInfinity(p)) acc = n == 0 ? double.PositiveInfinity : double.CreateTruncating(T.Abs(TensorPrimitives.MinMagnitude<T>(row)));
            else if (p == 0) { for (int i = 0; i < row.Length; i++) if (row[i] != T.Zero) acc++; }
            else
            {
                // norm = (sum |x|^p)^(1/p)
                for (int i = 0; i < row.Length; i++) acc += Math.Pow(Math.Abs(double.CreateTruncating(row[i])), p);
                acc = Math.Pow(acc, 1 / p);
            }
            dst[r] = T.CreateTruncating(acc);
        }
    }

    /// <summary>The p-norm over dims (all when null); NormBackward1, gradient 0 where the norm is 0.</summary>
    public static Tensor Norm(Tensor x, double p, long[]? dims, bool keepdim)
    {
        if (!x._dtype.IsFloatingPoint())
            throw new InvalidOperationException($"norm(): input dtype should be either floating point or complex. Got {x._dtype.CppScalarName()} instead.");
        var mask = Reductions.DimMask(dims, x._shape.Length);
        var rows = RowLayout.ToRows(x, mask, out int outer, out int n);
        var result = Tensor.Empty(x._dtype, RowLayout.ReducedShape(x._shape, mask, keepdim));
        if (x._dtype == ScalarType.Float32) NormRows<float>(rows, result, outer, n, p);
        else NormRows<double>(rows, result, outer, n, p);
        if (Autograd.Autograd.ShouldRecord(x))
        {
            var node = new NormBackward1(x, result, p, mask, keepdim);
            node.SetNextEdges(x);
            Autograd.Autograd.SetHistory(result, node);
        }
        return result;
    }

    // ---- cumsum --------------------------------------------------------------------------------------------

    static void CumsumRows<T>(Tensor rows, Tensor result, int outer, int n) where T : unmanaged, INumber<T>
    {
        var src = rows.Contiguous<T>();
        var dst = result.Contiguous<T>();
        for (int r = 0; r < outer; r++)
        {
            // y_i = y_{i-1} + x_i
            T acc = T.Zero;
            int b = r * n;
            for (int i = 0; i < n; i++) { acc += src[b + i]; dst[b + i] = acc; }
        }
    }

    /// <summary>Running sum along <paramref name="dim"/> (CumsumBackward0); integers and bool accumulate in int64.</summary>
    public static Tensor Cumsum(Tensor x, long dim, ScalarType? dtype)
    {
        var outType = dtype ?? (x._dtype.IsFloatingPoint() ? x._dtype : ScalarType.Int64);
        int rank = x._shape.Length;
        int d = ShapeUtil.WrapDim(dim, rank);
        var mask = RowLayout.SingleDim(d, rank);
        var src = Raw.Cast(x, outType);
        Tensor result;
        if (outType is ScalarType.Float32 or ScalarType.Float64)
        {
            // Note [Block reductions for var, max and cumsum]: scanned in place of the (outer, n, inner) layout.
            var block = RowLayout.ToBlock(src, mask, out int o, out int len, out int inner);
            result = Tensor.Empty(outType, x._shape);
            if (outType == ScalarType.Float32) StatKernels.Cumsum<float>(block.Contiguous<float>(), result.Contiguous<float>(), o, len, inner);
            else StatKernels.Cumsum<double>(block.Contiguous<double>(), result.Contiguous<double>(), o, len, inner);
        }
        else
        {
            var rows = RowLayout.ToRows(src, mask, out int outer, out int n);
            var flat = Tensor.Empty(outType, rows._shape);
            switch (outType)
            {
                case ScalarType.Int64: CumsumRows<long>(rows, flat, outer, n); break;
                case ScalarType.Int32: CumsumRows<int>(rows, flat, outer, n); break;
                default: throw new NotSupportedException($"cumsum is not implemented for {outType.CppScalarName()}");
            }
            result = RowLayout.FromRows(flat, x._shape, mask);
        }
        if (Autograd.Autograd.ShouldRecord(x) && outType.IsFloatingPoint())
        {
            var node = new CumsumBackward0(x, d);
            node.SetNextEdges(x);
            Autograd.Autograd.SetHistory(result, node);
        }
        return result;
    }

    internal static long[] Dims(bool[] mask) => MaskedDims(mask);
}

/// <summary>
/// Backward of prod (PyTorch's prod_backward): grad * result / x when the slice has no zero; with zeros, the
/// product of the other elements (nonzero only at the single zero of a slice). Written with differentiable ops;
/// Note [prod double backward]: for slices that contain a zero the second derivative is not exact (PyTorch goes
/// through cumprod there); zero-free inputs differentiate exactly to any order.
/// </summary>
internal sealed class ProdBackward : Node
{
    readonly string _name;
    SavedTensor _self, _result;
    readonly bool[] _mask;
    readonly bool _keepdim;

    public ProdBackward(string name, Tensor self, Tensor result, bool[] mask, bool keepdim)
    {
        _name = name; _self = new SavedTensor(self); _result = new SavedTensor(result, isOutput: true); _mask = mask; _keepdim = keepdim;
    }

    public override string name() => _name;

    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var x = _self.Unpack(this);
        var grad = Reductions.Unsqueeze(g[0]!, _mask, _keepdim);
        if (x._shape.Length == 0) return new[] { grad };
        var result = Reductions.Unsqueeze(_result.Unpack(this), _mask, _keepdim);
        var isZero = x == 0.0;
        var dims = Statistics.Dims(_mask);
        bool anyZero;
        using (torch.no_grad()) anyZero = isZero.any().item<bool>();
        if (!anyZero) return new[] { grad * (result / x) };
        var safe = x.masked_fill(isZero, 1.0);
        var othersProduct = dims.Length == 1 && _mask.Length > 1 ? safe.prod(dims[0], keepdim: true) : safe.prod();
        var zeroCount = isZero.to(ScalarType.Int64).sum(dims, keepdim: true);
        var noZero = (zeroCount == 0L).expand(x._shape);
        var singleZeroHere = (zeroCount == 1L) & isZero;
        var atZero = torch.where(singleZeroHere, othersProduct.expand(x._shape), torch.zeros_like(x));
        return new[] { grad * torch.where(noZero, result / safe, atZero) };
    }

    protected internal override void ReleaseVariables()
    {
        _self.Release(); _result.Release();
    }
}

/// <summary>Backward of var/std: (2 / (N - correction)) * grad * (x - mean), divided by 2 * std for std.</summary>
internal sealed class VarStdBackward : Node
{
    readonly bool _std;
    SavedTensor _self, _result;
    readonly bool[] _mask;
    readonly bool _keepdim;
    readonly double _divisor;

    public VarStdBackward(bool std, Tensor self, Tensor result, bool[] mask, bool keepdim, double divisor)
    {
        _std = std; _self = new SavedTensor(self); _mask = mask; _keepdim = keepdim; _divisor = divisor;
        if (std) _result = new SavedTensor(result, isOutput: true);
    }

    public override string name() => _std ? "StdBackward0" : "VarBackward0";

    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var x = _self.Unpack(this);
        var grad = Reductions.Unsqueeze(g[0]!, _mask, _keepdim);
        if (_std)
        {
            var result = Reductions.Unsqueeze(_result.Unpack(this), _mask, _keepdim);
            grad = (grad / (result * 2)).masked_fill(result == 0.0, 0.0);
        }
        var dims = Statistics.Dims(_mask);
        var centered = dims.Length == 0 ? x - x : x - x.mean(dims, keepdim: true);
        return new[] { grad * (2.0 / _divisor) * centered };
    }

    protected internal override void ReleaseVariables()
    {
        _self.Release(); _result.Release();
    }
}

/// <summary>Backward of logsumexp: grad * exp(x - result).</summary>
internal sealed class LogsumexpBackward0 : Node
{
    SavedTensor _self, _result;
    readonly bool[] _mask;
    readonly bool _keepdim;
    readonly ScalarType _selfType;

    public LogsumexpBackward0(Tensor self, Tensor result, bool[] mask, bool keepdim)
    {
        _self = new SavedTensor(self); _result = new SavedTensor(result, isOutput: true); _mask = mask; _keepdim = keepdim; _selfType = self._dtype;
    }

    public override string name() => "LogsumexpBackward0";

    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var grad = Reductions.Unsqueeze(g[0]!, _mask, _keepdim);
        var result = Reductions.Unsqueeze(_result.Unpack(this), _mask, _keepdim);
        return new[] { Reduce.CastGrad(grad * (_self.Unpack(this) - result).exp(), _selfType) };
    }

    protected internal override void ReleaseVariables()
    {
        _self.Release(); _result.Release();
    }
}

/// <summary>Backward of the p-norm (PyTorch's norm_backward), 0 wherever the norm is 0.</summary>
internal sealed class NormBackward1 : Node
{
    SavedTensor _self, _result;
    readonly double _p;
    readonly bool[] _mask;
    readonly bool _keepdim;

    public NormBackward1(Tensor self, Tensor result, double p, bool[] mask, bool keepdim)
    {
        _self = new SavedTensor(self); _result = new SavedTensor(result, isOutput: true); _p = p; _mask = mask; _keepdim = keepdim;
    }

    public override string name() => "NormBackward1";

    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var x = _self.Unpack(this);
        var grad = Reductions.Unsqueeze(g[0]!, _mask, _keepdim);
        var norm = Reductions.Unsqueeze(_result.Unpack(this), _mask, _keepdim);
        Tensor scaled;
        if (_p == 0) return new[] { torch.zeros_like(x) };
        if (_p == 1) scaled = x.sign() * grad;
        else if (_p == 2) scaled = (x * (grad / norm)).masked_fill(norm == 0.0, 0.0);
        else if (double.IsInfinity(_p))
        {
            var normNoGrad = norm.detach();
            var hits = (x.abs() == normNoGrad).to(x._dtype);
            var dims = Statistics.Dims(_mask);
            var count = dims.Length == 0 ? hits : hits.sum(dims, keepdim: true);
            scaled = x.sign() * hits * (grad / count);
        }
        else
        {
            // d/dx (sum |x|^p)^(1/p) = sign(x) |x|^(p-1) / norm^(p-1)
            var term = x.sign() * x.abs().pow(_p - 1);
            if (_p < 1) term = term.masked_fill(x == 0.0, 0.0);
            scaled = (term * (grad / norm.pow(_p - 1))).masked_fill(norm == 0.0, 0.0);
        }
        return new[] { scaled };
    }

    protected internal override void ReleaseVariables()
    {
        _self.Release(); _result.Release();
    }
}

/// <summary>Backward of cumsum: the reversed cumulative sum of the gradient.</summary>
internal sealed class CumsumBackward0 : Node
{
    readonly int _dim;
    readonly long[] _selfShape;
    readonly ScalarType _selfType;

    public CumsumBackward0(Tensor self, int dim) { _dim = dim; _selfShape = self._shape; _selfType = self._dtype; }

    public override string name() => "CumsumBackward0";

    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var grad = g[0]!;
        if (_selfShape.Length == 0 || grad._shape[_dim] == 0) return new[] { Reduce.CastGrad(grad, _selfType) };
        return new[] { Reduce.CastGrad(grad.flip(_dim).cumsum(_dim).flip(_dim), _selfType) };
    }
}
