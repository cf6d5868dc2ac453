using Nabla.Modules;

namespace Nabla;

public static partial class torch
{
    public static partial class nn
    {
        /// <summary>A fully connected layer y = x Wᵀ + b (see <see cref="Modules.Linear"/>).</summary>
        public static Linear Linear(long in_features, long out_features, bool bias = true, ScalarType? dtype = null) => new(in_features, out_features, bias, dtype);
        /// <summary>max(x, 0) as a module.</summary>
        public static ReLU ReLU(bool inplace = false) => new(inplace);
        /// <summary>The logistic sigmoid as a module.</summary>
        public static Sigmoid Sigmoid() => new();
        /// <summary>tanh as a module.</summary>
        public static Tanh Tanh() => new();
        /// <summary>Dropout with probability <paramref name="p"/> as a module.</summary>
        public static Dropout Dropout(double p = 0.5, bool inplace = false) => new(p, inplace);
        /// <summary>Flattens dims start_dim..end_dim.</summary>
        public static Flatten Flatten(long start_dim = 1, long end_dim = -1) => new(start_dim, end_dim);
        /// <summary>Runs modules in order; they are named "0", "1", ...</summary>
        public static Sequential Sequential(params Module<Tensor, Tensor>[] modules) => new(modules);
        /// <summary>Runs named modules in order.</summary>
        public static Sequential Sequential(params (string name, Module<Tensor, Tensor> module)[] modules) => new(modules);
        /// <summary>A 2-D convolution with square kernel/stride/padding/dilation.</summary>
        public static Conv2d Conv2d(long in_channels, long out_channels, long kernel_size, long stride = 1, long padding = 0, long dilation = 1, long groups = 1, bool bias = true, ScalarType? dtype = null) =>
            new(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, dtype);
        /// <summary>A 2-D convolution with (height, width) pairs.</summary>
        public static Conv2d Conv2d(long in_channels, long out_channels, (long, long) kernel_size, (long, long)? stride = null, (long, long)? padding = null, (long, long)? dilation = null, long groups = 1, bool bias = true, ScalarType? dtype = null) =>
            new(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, dtype);
        /// <summary>Batch normalisation over the channels of (N, C, H, W).</summary>
        public static BatchNorm2d BatchNorm2d(long num_features, double eps = 1e-5, double? momentum = 0.1, bool affine = true, bool track_running_stats = true, ScalarType? dtype = null) =>
            new(num_features, eps, momentum, affine, track_running_stats, dtype);
        /// <summary>2-D max pooling.</summary>
        public static MaxPool2d MaxPool2d(long kernel_size, long? stride = null, long padding = 0, long dilation = 1, bool ceil_mode = false) => new(kernel_size, stride, padding, dilation, ceil_mode);
        /// <summary>2-D average pooling.</summary>
        public static AvgPool2d AvgPool2d(long kernel_size, long? stride = null, long padding = 0, bool ceil_mode = false, bool count_include_pad = true) => new(kernel_size, stride, padding, ceil_mode, count_include_pad);
        /// <summary>Average pooling to a square output size.</summary>
        public static AdaptiveAvgPool2d AdaptiveAvgPool2d(long output_size) => new(output_size);
        /// <summary>Average pooling to an (H_out, W_out) output size.</summary>
        public static AdaptiveAvgPool2d AdaptiveAvgPool2d((long, long) output_size) => new(output_size);
        /// <summary>Mean squared error loss.</summary>
        public static MSELoss MSELoss(string reduction = "mean") => new(reduction);
        /// <summary>Mean absolute error loss.</summary>
        public static L1Loss L1Loss(string reduction = "mean") => new(reduction);
        /// <summary>Cross entropy loss on logits.</summary>
        public static CrossEntropyLoss CrossEntropyLoss(Tensor? weight = null, long ignore_index = -100, string reduction = "mean", double label_smoothing = 0.0) =>
            new(weight, ignore_index, reduction, label_smoothing);
        /// <summary>Negative log likelihood loss.</summary>
        public static NLLLoss NLLLoss(Tensor? weight = null, long ignore_index = -100, string reduction = "mean") => new(weight, ignore_index, reduction);
        /// <summary>Binary cross entropy loss on probabilities.</summary>
        public static BCELoss BCELoss(Tensor? weight = null, string reduction = "mean") => new(weight, reduction);
        /// <summary>Binary cross entropy loss on logits.</summary>
        public static BCEWithLogitsLoss BCEWithLogitsLoss(Tensor? weight = null, string reduction = "mean", Tensor? pos_weight = null) => new(weight, reduction, pos_weight);
    }
}
