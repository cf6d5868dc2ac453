using System.Text;

namespace Nabla;

/// <summary>Shape arithmetic shared by ops: element counts, contiguous strides, broadcasting, dim wrapping.</summary>
internal static class ShapeUtil
{
    public static int Numel(ReadOnlySpan<long> shape)
    {
        long n = 1;
        foreach (long s in shape) n *= s;
        if (n > int.MaxValue) throw new ArgumentException($"tensors of more than {int.MaxValue} elements are not supported (got {n})");
        return (int)n;
    }

    public static long[] ContiguousStrides(ReadOnlySpan<long> shape)
    {
        var strides = new long[shape.Length];
        long s = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            strides[i] = s;
            s *= Math.Max(1, shape[i]);
        }
        return strides;
    }

    public static bool IsContiguous(ReadOnlySpan<long> shape, ReadOnlySpan<long> strides)
    {
        long expected = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            if (shape[i] == 1) continue;
            if (shape[i] == 0) return true;
            if (strides[i] != expected) return false;
            expected *= shape[i];
        }
        return true;
    }

    /// <summary>Wraps a possibly negative dim into [0, rank), with PyTorch's message when out of range.</summary>
    public static int WrapDim(long dim, int rank)
    {
        int r = Math.Max(rank, 1);
        if (dim < -r || dim >= r)
            throw new IndexOutOfRangeException($"Dimension out of range (expected to be in range of [{-r}, {r - 1}], but got {dim})");
        return (int)(dim < 0 ? dim + r : dim);
    }

    public static long[] Broadcast(ReadOnlySpan<long> a, ReadOnlySpan<long> b)
    {
        int n = Math.Max(a.Length, b.Length);
        var result = new long[n];
        for (int i = 0; i < n; i++)
        {
            long sa = i - (n - a.Length) >= 0 ? a[i - (n - a.Length)] : 1;
            long sb = i - (n - b.Length) >= 0 ? b[i - (n - b.Length)] : 1;
            if (sa == sb || sb == 1) result[i] = sa;
            else if (sa == 1) result[i] = sb;
            else
                throw new ArgumentException(
                    $"The size of tensor a ({sa}) must match the size of tensor b ({sb}) at non-singleton dimension {i}");
        }
        return result;
    }

    public static bool SameShape(ReadOnlySpan<long> a, ReadOnlySpan<long> b) => a.SequenceEqual(b);

    /// <summary>Formats a shape as PyTorch's error messages do: <c>[2, 3]</c>.</summary>
    public static string Format(ReadOnlySpan<long> shape)
    {
        var sb = new StringBuilder("[");
        for (int i = 0; i < shape.Length; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(shape[i]);
        }
        return sb.Append(']').ToString();
    }

    /// <summary>Resolves one -1 in a requested shape against an element count (view/reshape).</summary>
    public static long[] InferSize(ReadOnlySpan<long> requested, int numel)
    {
        var shape = requested.ToArray();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] == -1)
            {
                if (infer >= 0) throw new ArgumentException("only one dimension can be inferred");
                infer = i;
            }
            else if (shape[i] < 0) throw new ArgumentException($"invalid shape dimension {shape[i]}");
            else known *= shape[i];
        }
        if (infer >= 0)
        {
            if (known == 0 || numel % known != 0)
                throw new ArgumentException($"shape '{Format(requested)}' is invalid for input of size {numel}");
            shape[infer] = numel / known;
        }
        else if (known != numel)
            throw new ArgumentException($"shape '{Format(requested)}' is invalid for input of size {numel}");
        return shape;
    }

    /// <summary>Python's repr of a shape: <c>torch.Size([2, 3])</c>.</summary>
    public static string SizeString(ReadOnlySpan<long> shape) => "torch.Size(" + Format(shape) + ")";
}
