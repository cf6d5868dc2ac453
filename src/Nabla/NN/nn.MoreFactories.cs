using Nabla.Modules;

namespace Nabla;

public static partial class torch
{
    public static partial class nn
    {
        /// <summary>x · σ(x) as a module.</summary>
        public static SiLU SiLU() => new();
        /// <summary>x · tanh(softplus(x)) as a module.</summary>
        public static Mish Mish() => new();
        /// <summary>Softplus as a module.</summary>
        public static Softplus Softplus(double beta = 1, double threshold = 20) => new(beta, threshold);
        /// <summary>Hardswish as a module.</summary>
        public static Hardswish Hardswish() => new();
        /// <summary>Leaky ReLU as a module.</summary>
        public static LeakyReLU LeakyReLU(double negative_slope = 0.01) => new(negative_slope);
        /// <summary>ELU as a module.</summary>
        public static ELU ELU(double alpha = 1.0) => new(alpha);
        /// <summary>The identity as a module.</summary>
        public static Identity Identity() => new();
        /// <summary>Softmax along <paramref name="dim"/> as a module.</summary>
        public static Softmax Softmax(long dim) => new(dim);
        /// <summary>Log-softmax along <paramref name="dim"/> as a module.</summary>
        public static LogSoftmax LogSoftmax(long dim) => new(dim);
        /// <summary>Splits a dimension into several.</summary>
        public static Unflatten Unflatten(long dim, long[] unflattened_size) => new(dim, unflattened_size);
        /// <summary>Layer normalisation over the trailing <paramref name="normalized_shape"/>.</summary>
        public static LayerNorm LayerNorm(long[] normalized_shape, double eps = 1e-5, bool elementwise_affine = true, ScalarType? dtype = null) => new(normalized_shape, eps, elementwise_affine, dtype);
        /// <summary>Layer normalisation over the last dimension of size <paramref name="normalized_shape"/>.</summary>
        public static LayerNorm LayerNorm(long normalized_shape, double eps = 1e-5, bool elementwise_affine = true, ScalarType? dtype = null) => new(new[] { normalized_shape }, eps, elementwise_affine, dtype);
        /// <summary>A lookup table of vectors.</summary>
        public static Embedding Embedding(long num_embeddings, long embedding_dim, long? padding_idx = null, ScalarType? dtype = null) => new(num_embeddings, embedding_dim, padding_idx, dtype);
        /// <summary>A list of modules.</summary>
        public static ModuleList ModuleList(params Module[] modules) => new(modules);
        /// <summary>Modules by name.</summary>
        public static ModuleDict ModuleDict(params (string name, Module module)[] modules) => new(modules);
        /// <summary>A list of parameters.</summary>
        public static ParameterList ParameterList(params Tensor[] parameters) => new(parameters);
    }
}
