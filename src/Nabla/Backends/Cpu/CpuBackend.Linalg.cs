using Nabla.Kernels.Cpu;

namespace Nabla.Backends.Cpu;

// Matrix products. Operands are passed to the GEMM with their own strides, so transposed views (as in every
// backward rule: grad @ b.T, a.T @ grad) are never copied.
internal sealed partial class CpuBackend
{
    public override void Matmul(in Operand dst, in Operand a, in Operand b, bool accumulate)
    {
        if (dst.Rank == 2) MmInto(a, b, dst, accumulate);
        else BmmInto(a, b, dst, accumulate);
    }

    static void MmInto(in Operand a, in Operand b, in Operand c, bool accumulate)
    {
        int m = (int)a.Shape[0], k = (int)a.Shape[1], n = (int)b.Shape[1];
        float beta = accumulate ? 1f : 0f;
        if (a.DType == ScalarType.Int64) IntegerMm<long>(a, b, c, accumulate);
        else if (a.DType == ScalarType.Int32) IntegerMm<int>(a, b, c, accumulate);
        else if (a.DType == ScalarType.Float32)
        {
            var sa = (CpuStorage<float>)a.Storage; var sb = (CpuStorage<float>)b.Storage;
            Gemm.Matmul(m, n, k, GemmReach(sa.Array, sa.Start + a.Offset, a), (int)a.Strides[0], (int)a.Strides[1],
                GemmReach(sb.Array, sb.Start + b.Offset, b), (int)b.Strides[0], (int)b.Strides[1],
                Dense<float>(c), n, 1f, beta);
        }
        else
        {
            var sa = (CpuStorage<double>)a.Storage; var sb = (CpuStorage<double>)b.Storage;
            Gemm.Matmul(m, n, k, GemmReach(sa.Array, sa.Start + a.Offset, a), (int)a.Strides[0], (int)a.Strides[1],
                GemmReach(sb.Array, sb.Start + b.Offset, b), (int)b.Strides[0], (int)b.Strides[1],
                Dense<double>(c), n, 1.0, beta);
        }
    }

    /// <summary>Integer products (exact, no SIMD: PyTorch supports them but they are rare).</summary>
    static void IntegerMm<T>(in Operand a, in Operand b, in Operand c, bool accumulate) where T : unmanaged, System.Numerics.INumber<T>
    {
        int m = (int)a.Shape[0], k = (int)a.Shape[1], n = (int)b.Shape[1];
        var sa = ((CpuStorage<T>)a.Storage).Span; var sb = ((CpuStorage<T>)b.Storage).Span; var sc = ((CpuStorage<T>)c.Storage).Span;
        long ar = a.Strides[0], ac = a.Strides[1], br = b.Strides[0], bc = b.Strides[1], cr = c.Strides[0], cc = c.Strides[1];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                T sum = T.Zero;
                for (int p = 0; p < k; p++) sum += sa[(int)(a.Offset + i * ar + p * ac)] * sb[(int)(b.Offset + p * br + j * bc)];
                int at = (int)(c.Offset + i * cr + j * cc);
                sc[at] = accumulate ? sc[at] + sum : sum;
            }
    }

    /// <summary>The elements a strided operand reaches, from its first one.</summary>
    static ReadOnlySpan<T> GemmReach<T>(T[] array, int start, in Operand t)
    {
        if (t.Numel == 0) return ReadOnlySpan<T>.Empty;
        long reach = 1;
        for (int i = 0; i < t.Shape.Length; i++) reach += (t.Shape[i] - 1) * t.Strides[i];
        return new ReadOnlySpan<T>(array, start, (int)reach);
    }

    /// <summary>Batch <paramref name="i"/> of a batched operand (its leading dim dropped).</summary>
    static Operand BatchItem(in Operand t, int i) => t.With(t.Shape[1..], t.Strides[1..], (int)(t.Offset + i * t.Strides[0]));

    static void BmmInto(in Operand a, in Operand b, in Operand c, bool accumulate)
    {
        int batch = (int)a.Shape[0], m = (int)a.Shape[1], k = (int)a.Shape[2], n = (int)b.Shape[2];
        if (c.Numel == 0) return;
        if (a.DType.IsIntegral())
        {
            for (int i = 0; i < batch; i++) MmInto(BatchItem(a, i), BatchItem(b, i), BatchItem(c, i), accumulate);
            return;
        }
        if (a.DType == ScalarType.Float32)
        {
            var sa = (CpuStorage<float>)a.Storage; var sb = (CpuStorage<float>)b.Storage;
            Gemm.BatchedMatmul(batch, m, n, k, GemmReach(sa.Array, sa.Start + a.Offset, a), a.Strides[0], (int)a.Strides[1], (int)a.Strides[2],
                GemmReach(sb.Array, sb.Start + b.Offset, b), b.Strides[0], (int)b.Strides[1], (int)b.Strides[2],
                Dense<float>(c), (long)m * n, n, 1f, accumulate ? 1f : 0f);
        }
        else
        {
            var sa = (CpuStorage<double>)a.Storage; var sb = (CpuStorage<double>)b.Storage;
            Gemm.BatchedMatmul(batch, m, n, k, GemmReach(sa.Array, sa.Start + a.Offset, a), a.Strides[0], (int)a.Strides[1], (int)a.Strides[2],
                GemmReach(sb.Array, sb.Start + b.Offset, b), b.Strides[0], (int)b.Strides[1], (int)b.Strides[2],
                Dense<double>(c), (long)m * n, n, 1.0, accumulate ? 1.0 : 0.0);
        }
    }
}
