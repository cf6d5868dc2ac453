using System.Numerics;
using System.Runtime.InteropServices;

namespace Nabla.Kernels.Cpu;

/// <summary>Geometry of a 2-D convolution or pooling window: kernel, stride, padding, dilation, input and output sizes.</summary>
internal readonly record struct Window2d(int KH, int KW, int SH, int SW, int PH, int PW, int DH, int DW, int H, int W, int OH, int OW)
{
    public int OutPlane => OH * OW;
    public int InPlane => H * W;
    public int KernelArea => KH * KW;

    /// <summary>True when a (1x1, stride 1, no padding) convolution reads its input unchanged as the column matrix.</summary>
    public bool IsPointwise => KH == 1 && KW == 1 && SH == 1 && SW == 1 && PH == 0 && PW == 0;

    /// <summary>
    /// The output columns [begin, end) whose input column <c>ow*SW - PW + kj*DW</c> lies inside [0, W) for kernel column kj.
    /// </summary>
    public (int Begin, int End) ValidColumns(int kj)
    {
        int shift = kj * DW - PW;                       // iw = ow*SW + shift
        int begin = shift >= 0 ? 0 : (-shift + SW - 1) / SW;
        int end = W - shift <= 0 ? 0 : (W - shift + SW - 1) / SW;
        begin = Math.Min(begin, OW);
        end = Math.Clamp(end, begin, OW);
        return (begin, end);
    }
}

/// <summary>
/// im2col / col2im: unfold one image's channels into the (C*KH*KW, OH*OW) column matrix a convolution multiplies by
/// its weights, and fold column gradients back onto the image (accumulating where windows overlap).
/// </summary>
internal static class Im2Col
{
    /// <summary>col[(c*KH+ki)*KW+kj, oh*OW+ow] = x[c, oh*SH-PH+ki*DH, ow*SW-PW+kj*DW] (0 outside the image).</summary>
    public static void Unfold<T>(ReadOnlySpan<T> image, int channels, in Window2d g, Span<T> col) where T : unmanaged, INumber<T>
    {
        int plane = g.OutPlane;
        for (int c = 0; c < channels; c++)
        {
            var src = image.Slice(c * g.InPlane, g.InPlane);
            for (int ki = 0; ki < g.KH; ki++)
                for (int kj = 0; kj < g.KW; kj++)
                {
                    var dst = col.Slice(((c * g.KH + ki) * g.KW + kj) * plane, plane);
                    var (begin, end) = g.ValidColumns(kj);
                    int shift = kj * g.DW - g.PW;
                    for (int oh = 0; oh < g.OH; oh++)
                    {
                        var row = dst.Slice(oh * g.OW, g.OW);
                        int ih = oh * g.SH - g.PH + ki * g.DH;
                        if ((uint)ih >= (uint)g.H) { row.Clear(); continue; }
                        row[..begin].Clear();
                        row[end..].Clear();
                        var line = src.Slice(ih * g.W, g.W);
                        if (g.SW == 1)
                            line.Slice(begin + shift, end - begin).CopyTo(row[begin..end]);
                        else
                            for (int ow = begin; ow < end; ow++) row[ow] = line[ow * g.SW + shift];
                    }
                }
        }
    }

    /// <summary>image[c, ih, iw] += col[...] for every window position reading (ih, iw): the adjoint of <see cref="Unfold"/>.</summary>
    public static void Fold<T>(ReadOnlySpan<T> col, int channels, in Window2d g, Span<T> image) where T : unmanaged, INumber<T>
    {
        int plane = g.OutPlane;
        for (int c = 0; c < channels; c++)
        {
            var dstImage = image.Slice(c * g.InPlane, g.InPlane);
            for (int ki = 0; ki < g.KH; ki++)
                for (int kj = 0; kj < g.KW; kj++)
                {
                    var src = col.Slice(((c * g.KH + ki) * g.KW + kj) * plane, plane);
                    var (begin, end) = g.ValidColumns(kj);
                    int shift = kj * g.DW - g.PW;
                    for (int oh = 0; oh < g.OH; oh++)
                    {
                        int ih = oh * g.SH - g.PH + ki * g.DH;
                        if ((uint)ih >= (uint)g.H) continue;
                        var row = src.Slice(oh * g.OW, g.OW);
                        var line = dstImage.Slice(ih * g.W, g.W);
                        if (g.SW == 1)
                            Add(line.Slice(begin + shift, end - begin), row[begin..end]);
                        else
                            for (int ow = begin; ow < end; ow++) line[ow * g.SW + shift] += row[ow];
                    }
                }
        }
    }

    static void Add<T>(Span<T> dst, ReadOnlySpan<T> src) where T : unmanaged, INumber<T>
    {
        if (typeof(T) == typeof(float))
            System.Numerics.Tensors.TensorPrimitives.Add(MemoryMarshal.Cast<T, float>(dst), MemoryMarshal.Cast<T, float>(src), MemoryMarshal.Cast<T, float>(dst));
        else if (typeof(T) == typeof(double))
            System.Numerics.Tensors.TensorPrimitives.Add(MemoryMarshal.Cast<T, double>(dst), MemoryMarshal.Cast<T, double>(src), MemoryMarshal.Cast<T, double>(dst));
        else
            for (int i = 0; i < dst.Length; i++) dst[i] += src[i];
    }
}
