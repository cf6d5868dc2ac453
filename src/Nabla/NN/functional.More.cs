namespace Nabla;

public static partial class torch
{
    public static partial class nn
    {
        public static partial class functional
        {
            /// <summary>2-D max pooling with a square window (stride defaults to the window), as <c>F.max_pool2d(x, 2)</c>.</summary>
            public static Tensor max_pool2d(Tensor input, long kernel_size, long? stride = null, long padding = 0, long dilation = 1, bool ceil_mode = false) =>
                max_pool2d(input, new[] { kernel_size, kernel_size }, new[] { stride ?? kernel_size, stride ?? kernel_size }, new[] { padding, padding }, new[] { dilation, dilation }, ceil_mode);
        }
    }
}
