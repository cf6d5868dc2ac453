using System.Numerics;

namespace Nabla.Kernels.Cpu;

/// <summary>
/// 2-D pooling kernels over contiguous planes (N*C planes of H x W), one plane range per worker. Window rules follow
/// PyTorch's CPU kernels exactly (max: first maximum wins, NaN propagates; average: divisor from the padded or
/// unpadded window; adaptive: rows [floor(i*H/OH), ceil((i+1)*H/OH))).
/// </summary>
internal static class PoolingKernels
{
    const int WorkPerTask = 1 << 15;

    static int Grain(long workPerPlane) => (int)Math.Max(1, WorkPerTask / Math.Max(1, workPerPlane));

    // ---- max -------------------------------------------------------------------------------------------------

    /// <summary>y[p, oh, ow] = max over the dilated window; idx = flat h*W+w index of the maximum.</summary>
    public static void MaxForward<T>(int planes, Window2d g, T[] x, int xOff, T[] y, int yOff, long[] idx, int idxOff) where T : unmanaged, INumber<T>
    {
        ParallelFor.For(planes, Grain((long)g.OutPlane * g.KernelArea), new MaxBody<T>(g, x, xOff, y, yOff, idx, idxOff));
    }

    readonly struct MaxBody<T>(Window2d g, T[] x, int xOff, T[] y, int yOff, long[] idx, int idxOff) : IRangeBody where T : unmanaged, INumber<T>
    {
        public void Invoke(int begin, int end)
        {
            for (int p = begin; p < end; p++)
            {
                var src = new ReadOnlySpan<T>(x, xOff + p * g.InPlane, g.InPlane);
                int o = p * g.OutPlane;
                for (int oh = 0; oh < g.OH; oh++)
                {
                    int h0 = oh * g.SH - g.PH, h1 = Math.Min(h0 + (g.KH - 1) * g.DH + 1, g.H);
                    while (h0 < 0) h0 += g.DH;
                    for (int ow = 0; ow < g.OW; ow++, o++)
                    {
                        int w0 = ow * g.SW - g.PW, w1 = Math.Min(w0 + (g.KW - 1) * g.DW + 1, g.W);
                        while (w0 < 0) w0 += g.DW;
                        int best = h0 * g.W + w0;
                        T max = T.CreateTruncating(double.NegativeInfinity);
                        for (int ih = h0; ih < h1; ih += g.DH)
                            for (int iw = w0; iw < w1; iw += g.DW)
                            {
                                T v = src[ih * g.W + iw];
                                if (v > max || T.IsNaN(v)) { max = v; best = ih * g.W + iw; }
                            }
                        y[yOff + o] = max;
                        idx[idxOff + o] = best;
                    }
                }
            }
        }
    }

    /// <summary>gx[p, idx[p, o]] += gy[p, o] (gx must be zeroed): the backward of max pooling.</summary>
    public static void MaxBackward<T>(int planes, int inPlane, int outPlane, T[] gy, int gyOff, long[] idx, int idxOff, T[] gx, int gxOff)
        where T : unmanaged, INumber<T>
    {
        ParallelFor.For(planes, Grain(outPlane), new ScatterBody<T>(inPlane, outPlane, gy, gyOff, idx, idxOff, gx, gxOff));
    }

    readonly struct ScatterBody<T>(int inPlane, int outPlane, T[] gy, int gyOff, long[] idx, int idxOff, T[] gx, int gxOff) : IRangeBody where T : unmanaged, INumber<T>
    {
        public void Invoke(int begin, int end)
        {
            for (int p = begin; p < end; p++)
                for (int o = p * outPlane, e = o + outPlane; o < e; o++)
                    gx[gxOff + p * inPlane + (int)idx[idxOff + o]] += gy[gyOff + o];
        }
    }

    // ---- average ---------------------------------------------------------------------------------------------

    /// <summary>The clipped window of output (oh, ow) and its divisor, as PyTorch's cpu_avg_pool computes them.</summary>
    static int AvgWindow(in Window2d g, int oh, int ow, bool countIncludePad, out int h0, out int h1, out int w0, out int w1)
    {
        h0 = oh * g.SH - g.PH; w0 = ow * g.SW - g.PW;
        h1 = Math.Min(h0 + g.KH, g.H + g.PH); w1 = Math.Min(w0 + g.KW, g.W + g.PW);
        int poolSize = (h1 - h0) * (w1 - w0);
        h0 = Math.Max(h0, 0); w0 = Math.Max(w0, 0); h1 = Math.Min(h1, g.H); w1 = Math.Min(w1, g.W);
        return countIncludePad ? poolSize : (h1 - h0) * (w1 - w0);
    }

    /// <summary>y = window sum / divisor.</summary>
    public static void AvgForward<T>(int planes, Window2d g, bool countIncludePad, T[] x, int xOff, T[] y, int yOff) where T : unmanaged, INumber<T>
    {
        ParallelFor.For(planes, Grain((long)g.OutPlane * g.KernelArea), new AvgBody<T>(g, countIncludePad, x, xOff, y, yOff, false));
    }

    /// <summary>gx[window] += gy / divisor (gx must be zeroed).</summary>
    public static void AvgBackward<T>(int planes, Window2d g, bool countIncludePad, T[] gy, int gyOff, T[] gx, int gxOff) where T : unmanaged, INumber<T>
    {
        ParallelFor.For(planes, Grain((long)g.OutPlane * g.KernelArea), new AvgBody<T>(g, countIncludePad, gy, gyOff, gx, gxOff, true));
    }

    readonly struct AvgBody<T>(Window2d g, bool countIncludePad, T[] src, int srcOff, T[] dst, int dstOff, bool backward) : IRangeBody
        where T : unmanaged, INumber<T>
    {
        public void Invoke(int begin, int end)
        {
            for (int p = begin; p < end; p++)
            {
                int o = p * g.OutPlane, plane = p * g.InPlane;
                for (int oh = 0; oh < g.OH; oh++)
                    for (int ow = 0; ow < g.OW; ow++, o++)
                    {
                        int div = AvgWindow(g, oh, ow, countIncludePad, out int h0, out int h1, out int w0, out int w1);
                        if (backward)
                        {
                            if (h0 >= h1 || w0 >= w1) continue;
                            T share = src[srcOff + o] / T.CreateTruncating(div);
                            for (int ih = h0; ih < h1; ih++)
                                for (int iw = w0; iw < w1; iw++) dst[dstOff + plane + ih * g.W + iw] += share;
                            continue;
                        }
                        if (h0 >= h1 || w0 >= w1) { dst[dstOff + o] = T.Zero; continue; }
                        T sum = T.Zero;
                        for (int ih = h0; ih < h1; ih++)
                            for (int iw = w0; iw < w1; iw++) sum += src[srcOff + plane + ih * g.W + iw];
                        dst[dstOff + o] = sum / T.CreateTruncating(div);
                    }
            }
        }
    }

    // ---- adaptive average ------------------------------------------------------------------------------------

    /// <summary>y[oh, ow] = mean of x over rows [floor(oh*H/OH), ceil((oh+1)*H/OH)) and the same for columns.</summary>
    public static void AdaptiveAvgForward<T>(int planes, int h, int w, int oh, int ow, T[] x, int xOff, T[] y, int yOff) where T : unmanaged, INumber<T>
    {
        ParallelFor.For(planes, Grain((long)h * w), new AdaptiveBody<T>(h, w, oh, ow, x, xOff, y, yOff, false));
    }

    /// <summary>gx[window] += gy / window area (gx must be zeroed).</summary>
    public static void AdaptiveAvgBackward<T>(int planes, int h, int w, int oh, int ow, T[] gy, int gyOff, T[] gx, int gxOff) where T : unmanaged, INumber<T>
    {
        ParallelFor.For(planes, Grain((long)h * w), new AdaptiveBody<T>(h, w, oh, ow, gy, gyOff, gx, gxOff, true));
    }

    static int Start(int i, int outSize, int inSize) => (int)((long)i * inSize / outSize);
    static int End(int i, int outSize, int inSize) => (int)(((long)(i + 1) * inSize + outSize - 1) / outSize);

    readonly struct AdaptiveBody<T>(int h, int w, int oh, int ow, T[] src, int srcOff, T[] dst, int dstOff, bool backward) : IRangeBody
        where T : unmanaged, INumber<T>
    {
        public void Invoke(int begin, int end)
        {
            for (int p = begin; p < end; p++)
            {
                int o = p * oh * ow, plane = p * h * w;
                for (int i = 0; i < oh; i++)
                {
                    int h0 = Start(i, oh, h), h1 = End(i, oh, h);
                    for (int j = 0; j < ow; j++, o++)
                    {
                        int w0 = Start(j, ow, w), w1 = End(j, ow, w);
                        T area = T.CreateTruncating((h1 - h0) * (w1 - w0));
                        if (backward)
                        {
                            T share = src[srcOff + o] / area;
                            for (int ih = h0; ih < h1; ih++)
                                for (int iw = w0; iw < w1; iw++) dst[dstOff + plane + ih * w + iw] += share;
                            continue;
                        }
                        T sum = T.Zero;
                        for (int ih = h0; ih < h1; ih++)
                            for (int iw = w0; iw < w1; iw++) sum += src[srcOff + plane + ih * w + iw];
                        dst[dstOff + o] = sum / area;
                    }
                }
            }
        }
    }
}
