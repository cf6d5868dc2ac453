namespace Nabla.Kernels.Cpu;

/// <summary>Placeholder reference GEMM (replaced by the packed kernel on the gemm branch).</summary>
internal static class Gemm
{
    public static void Matmul(int m, int n, int k, ReadOnlySpan<float> a, int aRowStride, int aColStride,
        ReadOnlySpan<float> b, int bRowStride, int bColStride, Span<float> c, int ldc, float alpha = 1f, float beta = 0f)
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                float s = 0;
                for (int p = 0; p < k; p++) s += a[i * aRowStride + p * aColStride] * b[p * bRowStride + j * bColStride];
                c[i * ldc + j] = alpha * s + (beta == 0 ? 0 : beta * c[i * ldc + j]);
            }
    }

    public static void Matmul(int m, int n, int k, ReadOnlySpan<double> a, int aRowStride, int aColStride,
        ReadOnlySpan<double> b, int bRowStride, int bColStride, Span<double> c, int ldc, double alpha = 1, double beta = 0)
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++) s += a[i * aRowStride + p * aColStride] * b[p * bRowStride + j * bColStride];
                c[i * ldc + j] = alpha * s + (beta == 0 ? 0 : beta * c[i * ldc + j]);
            }
    }

    public static void BatchedMatmul(int batch, int m, int n, int k, ReadOnlySpan<float> a, long aBatchStride, int aRowStride, int aColStride,
        ReadOnlySpan<float> b, long bBatchStride, int bRowStride, int bColStride, Span<float> c, long cBatchStride, int ldc, float alpha = 1f, float beta = 0f)
    {
        for (int i = 0; i < batch; i++)
            Matmul(m, n, k, a[(int)(i * aBatchStride)..], aRowStride, aColStride, b[(int)(i * bBatchStride)..], bRowStride, bColStride, c[(int)(i * cBatchStride)..], ldc, alpha, beta);
    }

    public static void BatchedMatmul(int batch, int m, int n, int k, ReadOnlySpan<double> a, long aBatchStride, int aRowStride, int aColStride,
        ReadOnlySpan<double> b, long bBatchStride, int bRowStride, int bColStride, Span<double> c, long cBatchStride, int ldc, double alpha = 1, double beta = 0)
    {
        for (int i = 0; i < batch; i++)
            Matmul(m, n, k, a[(int)(i * aBatchStride)..], aRowStride, aColStride, b[(int)(i * bBatchStride)..], bRowStride, bColStride, c[(int)(i * cBatchStride)..], ldc, alpha, beta);
    }
}
