namespace Nabla.Backends.Cpu;

// Sorting and running max/min of the CPU backend: the source made dense (row-major), then each slice along the dim
// (outer x inner lanes of stride `inner`) gathered, processed and written to the dense outputs.
internal sealed partial class CpuBackend
{
    public override void Sort(in Operand values, in Operand indices, in Operand src, int dim, bool descending)
    {
        switch (src.DType)
        {
            case ScalarType.Float32: SortT<float>(values, indices, src, dim, descending); break;
            case ScalarType.Float64: SortT<double>(values, indices, src, dim, descending); break;
            case ScalarType.Int64: SortT<long>(values, indices, src, dim, descending); break;
            case ScalarType.Int32: SortT<int>(values, indices, src, dim, descending); break;
            case ScalarType.Bool: SortT<bool>(values, indices, src, dim, descending); break;
            default: throw new NotSupportedException($"sort: dtype {src.DType} is not supported");
        }
    }

    public override void CumMaxMin(in Operand values, in Operand indices, in Operand src, int dim, bool max)
    {
        switch (src.DType)
        {
            case ScalarType.Float32: CumMaxMinT<float>(values, indices, src, dim, max); break;
            case ScalarType.Float64: CumMaxMinT<double>(values, indices, src, dim, max); break;
            case ScalarType.Int64: CumMaxMinT<long>(values, indices, src, dim, max); break;
            case ScalarType.Int32: CumMaxMinT<int>(values, indices, src, dim, max); break;
            case ScalarType.Bool: CumMaxMinT<bool>(values, indices, src, dim, max); break;
            default: throw new NotSupportedException($"cummax/cummin: dtype {src.DType} is not supported");
        }
    }

    static (int outer, int n, int inner) SliceGeometry(in Operand src, int dim)
    {
        if (src.Rank == 0) return (1, 1, 1);
        int n = (int)src.Shape[dim], inner = 1;
        for (int i = dim + 1; i < src.Rank; i++) inner *= (int)src.Shape[i];
        int outer = n * inner == 0 ? 0 : src.Numel / (n * inner);
        return (outer, n, inner);
    }

    /// <summary>PyTorch's order: NaN compares greater than every number (and equal to NaN).</summary>
    static int CompareNanLast<T>(T a, T b) where T : IComparable<T>
    {
        if (typeof(T) == typeof(float))
        {
            bool na = float.IsNaN((float)(object)a), nb = float.IsNaN((float)(object)b);
            if (na || nb) return na == nb ? 0 : na ? 1 : -1;
        }
        else if (typeof(T) == typeof(double))
        {
            bool na = double.IsNaN((double)(object)a), nb = double.IsNaN((double)(object)b);
            if (na || nb) return na == nb ? 0 : na ? 1 : -1;
        }
        return a.CompareTo(b);
    }

    static bool IsNan<T>(T a) =>
        typeof(T) == typeof(float) ? float.IsNaN((float)(object)a!) : typeof(T) == typeof(double) && double.IsNaN((double)(object)a!);

    static void SortT<T>(in Operand values, in Operand indices, in Operand src, int dim, bool descending) where T : unmanaged, IComparable<T>
    {
        var (outer, n, inner) = SliceGeometry(src, dim);
        if (outer == 0 || n == 0) return;
        var s = Read<T>(src);
        var v = Dense<T>(values);
        var ix = Dense<long>(indices);
        var keys = new T[n];
        var order = new int[n];
        int sign = descending ? -1 : 1;
        Comparison<int> cmp = (i, j) =>
        {
            int c = sign * CompareNanLast(keys[i], keys[j]);
            return c != 0 ? c : i.CompareTo(j);    // stable: ties keep their original order
        };
        for (int o = 0; o < outer; o++)
            for (int l = 0; l < inner; l++)
            {
                int start = o * n * inner + l;
                for (int k = 0; k < n; k++) { keys[k] = s[start + k * inner]; order[k] = k; }
                order.AsSpan().Sort(cmp);
                for (int k = 0; k < n; k++)
                {
                    v[start + k * inner] = keys[order[k]];
                    ix[start + k * inner] = order[k];
                }
            }
    }

    static void CumMaxMinT<T>(in Operand values, in Operand indices, in Operand src, int dim, bool max) where T : unmanaged, IComparable<T>
    {
        var (outer, n, inner) = SliceGeometry(src, dim);
        if (outer == 0 || n == 0) return;
        var s = Read<T>(src);
        var v = Dense<T>(values);
        var ix = Dense<long>(indices);
        for (int o = 0; o < outer; o++)
            for (int l = 0; l < inner; l++)
            {
                int start = o * n * inner + l;
                T best = s[start];
                long bestAt = 0;
                for (int k = 0; k < n; k++)
                {
                    T x = s[start + k * inner];
                    // PyTorch's cummax_helper: a NaN takes over (a later NaN moves the index); ties move the index
                    // to the later position (>= / <=).
                    if (k > 0 && (IsNan(x) || (!IsNan(best) && (max ? x.CompareTo(best) >= 0 : x.CompareTo(best) <= 0))))
                    {
                        best = x;
                        bestAt = k;
                    }
                    v[start + k * inner] = best;
                    ix[start + k * inner] = bestAt;
                }
            }
    }
}
