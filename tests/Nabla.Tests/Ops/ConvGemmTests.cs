using Nabla.Kernels.Cpu;
using Xunit;

namespace Nabla.Tests;

/// <summary>The implicit-GEMM and Winograd float convolutions (ConvGemm, Winograd) against the im2col path they replace, over the layer grid.</summary>
public class ConvGemmTests
{
    static (Tensor y, Tensor gx, Tensor gw, Tensor? gb) Run(Tensor x, Tensor w, Tensor? b, long stride, long padding, long dilation, long groups)
    {
        var xi = x.detach().requires_grad_();
        var wi = w.detach().requires_grad_();
        var bi = b?.detach().requires_grad_();
        var y = torch.nn.functional.conv2d(xi, wi, bi, new[] { stride, stride }, new[] { padding, padding }, new[] { dilation, dilation }, groups);
        torch.manual_seed(99);
        var gy = torch.randn(y.shape);
        var inputs = bi is null ? new[] { xi, wi } : new[] { xi, wi, bi };
        var g = torch.autograd.grad(new[] { y }, inputs, new Tensor?[] { gy });
        return (y.detach(), g[0]!, g[1]!, bi is null ? null : g[2]);
    }

    static void Close(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(torch.allclose(actual, expected, 1e-4, 1e-4), $"{what}: max |diff| {(actual - expected).abs().max().item<float>()}");
    }

    [Fact]
    public void Matches_the_im2col_path_over_strides_paddings_dilations_groups_and_ragged_sizes()
    {
        if (!ConvGemm.Enabled) return;   // the path exists only on AVX-512 machines; elsewhere the im2col path is the one tested
        try
        {
            torch.manual_seed(11);
            int k = 0;
            foreach (var (n, c, o, h, wd, kh, stride, pad, dil, groups, bias) in new[]
            {
                (1, 3, 5, 7, 9, 3, 1L, 1L, 1L, 1L, true),
                (2, 4, 6, 33, 35, 3, 1L, 1L, 1L, 2L, false),
                (3, 5, 7, 11, 13, 3, 2L, 1L, 1L, 1L, true),
                (2, 6, 4, 17, 19, 3, 1L, 2L, 2L, 1L, true),
                (1, 8, 8, 9, 9, 1, 1L, 0L, 1L, 4L, false),
                (2, 3, 4, 12, 10, 5, 2L, 3L, 1L, 1L, true),
                (1, 2, 3, 6, 6, 3, 1L, 4L, 1L, 1L, true),     // padding beyond the kernel extent
                (2, 16, 16, 32, 32, 3, 1L, 1L, 1L, 1L, true), // W8-like, full 32-wide panels
                (1, 4, 4, 40, 3, 3, 1L, 1L, 1L, 1L, false),   // output narrower than a panel (im2col path: small plane)
                // Stride 1 with planes of >= 256 outputs and >= 1024 over the batch takes ConvGemm: ragged widths, big padding,
                // groups, dilation.
                (3, 4, 6, 40, 9, 3, 1L, 1L, 1L, 1L, true),
                (3, 3, 5, 16, 16, 3, 1L, 4L, 1L, 1L, true),    // padding beyond the kernel extent
                (3, 6, 4, 21, 23, 3, 1L, 1L, 1L, 2L, false),
                (3, 5, 3, 19, 25, 5, 1L, 2L, 1L, 1L, true),
                (2, 2, 2, 30, 30, 3, 1L, 0L, 3L, 1L, true),
                (2, 7, 9, 17, 33, 3, 1L, 1L, 1L, 1L, false),
                (3, 3, 37, 20, 20, 3, 1L, 1L, 1L, 1L, true),   // 37 output channels: ragged 8-row and 32-column blocks
                (4, 40, 10, 16, 16, 3, 1L, 1L, 1L, 1L, false), // Ckk = 360: two reduction slices
                (2, 3, 5, 9, 63, 3, 1L, 1L, 1L, 1L, true),     // row panels with a ragged last piece (31 of 32)
                (1, 2, 3, 12, 96, 3, 1L, 1L, 1L, 1L, false),   // row panels, several whole pieces per row
                (4, 4, 4, 20, 20, 3, 1L, 1L, 3L, 1L, true),    // padding 1 with dilation 3: grad input crops
                (4, 32, 32, 32, 32, 3, 1L, 1L, 1L, 1L, false), // enough work for one grad-weight partial per thread
                (4, 32, 32, 24, 24, 3, 1L, 1L, 1L, 2L, true),  // the same with two groups and 3 slices per image
                // Windows Winograd F(2x2, 3x3) takes (3x3, stride 1, rows of ~16 or ~32 tiles), forward and grad input.
                (2, 330, 4, 16, 32, 3, 1L, 1L, 1L, 1L, true),  // 330 input channels: two reduction slices
                (2, 8, 6, 16, 32, 3, 1L, 1L, 1L, 2L, true),    // groups
                (2, 3, 4, 18, 34, 3, 1L, 0L, 1L, 1L, false),   // no padding
                (2, 3, 4, 14, 30, 3, 1L, 2L, 1L, 1L, true),    // padding 2: grad input unpadded
                (2, 3, 4, 15, 28, 3, 1L, 3L, 1L, 1L, true),    // padding 3: grad input crops; odd output height
                (4, 3, 5, 16, 16, 3, 1L, 1L, 1L, 1L, true),    // 8-tile rows: a 16-lane run spans two tile rows
                (4, 3, 4, 20, 14, 3, 1L, 1L, 1L, 1L, false),   // 7 tiles per row padded to 8
                (4, 5, 7, 21, 13, 3, 1L, 1L, 1L, 1L, true),    // odd width: the last tile column half outside
                (2, 3, 4, 11, 48, 3, 1L, 1L, 1L, 1L, true),    // 24-tile rows: runs straddle rows; odd tile-row count
            })
            {
                var x = torch.randn(n, c, h, wd);
                var w = torch.randn(o, c / groups, kh, kh);
                var b = bias ? torch.randn(o) : null;
                ConvGemm.Enabled = false;
                var reference = Run(x, w, b, stride, pad, dil, groups);
                ConvGemm.Enabled = true;
                foreach (bool winograd in new[] { true, false })
                {
                    Winograd.Enabled = winograd;
                    var got = Run(x, w, b, stride, pad, dil, groups);
                    string what = $"case {k} (Winograd {(winograd ? "on" : "off")})";
                    Close(reference.y, got.y, what + " output");
                    Close(reference.gx, got.gx, what + " grad input");
                    Close(reference.gw, got.gw, what + " grad weight");
                    if (bias) Close(reference.gb!, got.gb!, what + " grad bias");
                }
                k++;
            }
        }
        finally
        {
            ConvGemm.Enabled = Vector512IsOn();
            Winograd.Enabled = Vector512IsOn();
        }
    }

    [Fact]
    public void Infinities_and_NaNs_reach_exactly_the_outputs_the_direct_convolution_gives_them()
    {
        // Winograd's transforms would turn Inf into NaN and spread a NaN over whole 2x2 tiles, so non-finite operands
        // must take another path: every output is compared with the im2col path, NaN for NaN and Inf for Inf.
        if (!ConvGemm.Enabled) return;
        try
        {
            torch.manual_seed(5);
            var x = torch.randn(4, 8, 16, 32);
            var w = torch.randn(8, 8, 3, 3);
            x[1, 2, 5, 7] = torch.tensor(float.PositiveInfinity);
            x[2, 3, 9, 20] = torch.tensor(float.NaN);
            x[3, 0, 0, 0] = torch.tensor(float.NegativeInfinity);
            ConvGemm.Enabled = false;
            var reference = Run(x, w, null, 1, 1, 1, 1);
            ConvGemm.Enabled = true;
            var got = Run(x, w, null, 1, 1, 1, 1);
            SameNonFinite(reference.y, got.y, "output");
            SameNonFinite(reference.gw, got.gw, "grad weight");
            // grad input (the flipped-weight convolution of grad_output) with non-finite grad_output values
            var gy = torch.randn(4, 8, 16, 32);
            gy[0, 1, 3, 4] = torch.tensor(float.PositiveInfinity);
            gy[2, 5, 15, 31] = torch.tensor(float.NaN);
            Tensor GradInput()
            {
                var xi = torch.randn(4, 8, 16, 32).requires_grad_();
                var y = torch.nn.functional.conv2d(xi, w, null, new[] { 1L, 1L }, new[] { 1L, 1L }, new[] { 1L, 1L }, 1);
                return torch.autograd.grad(new[] { y }, new[] { xi }, new Tensor?[] { gy })[0]!;
            }
            ConvGemm.Enabled = false;
            var gxReference = GradInput();
            ConvGemm.Enabled = true;
            SameNonFinite(gxReference, GradInput(), "grad input");
        }
        finally
        {
            ConvGemm.Enabled = Vector512IsOn();
        }
    }

    static void SameNonFinite(Tensor expected, Tensor actual, string what)
    {
        var e = expected.contiguous().ToArray<float>();
        var a = actual.contiguous().ToArray<float>();
        Assert.Equal(e.Length, a.Length);
        int nonFinite = 0;
        for (int i = 0; i < e.Length; i++)
        {
            if (float.IsFinite(e[i])) { Assert.True(Math.Abs(a[i] - e[i]) <= 1e-3 * (1 + Math.Abs(e[i])), $"{what}[{i}]: {a[i]} vs {e[i]}"); continue; }
            nonFinite++;
            Assert.True(float.IsNaN(e[i]) ? float.IsNaN(a[i]) : a[i] == e[i], $"{what}[{i}]: {a[i]} vs {e[i]}");
        }
        Assert.True(nonFinite > 0, $"{what}: the case should reach some outputs with Inf or NaN");
    }

    static bool Vector512IsOn() =>
        System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated && System.Runtime.Intrinsics.X86.Avx512F.IsSupported;
}
