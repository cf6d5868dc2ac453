using Nabla.Ops;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>Matrix product of two 2-D tensors (MmBackward0).</summary>
    public Tensor mm(Tensor mat2) => Linalg.Mm(this, mat2);
    /// <summary>Batched matrix product of two 3-D tensors (BmmBackward0).</summary>
    public Tensor bmm(Tensor mat2) => Linalg.Bmm(this, mat2);
    /// <summary>Matrix-vector product (MvBackward0).</summary>
    public Tensor mv(Tensor vec) => Linalg.Mv(this, vec);
    /// <summary>Dot product of two 1-D tensors (DotBackward0).</summary>
    public Tensor dot(Tensor other) => Linalg.Dot(this, other);
    /// <summary>Matrix product with NumPy/PyTorch rank rules and batch broadcasting.</summary>
    public Tensor matmul(Tensor other) => Linalg.Matmul(this, other);
    /// <summary>Outer product of two 1-D tensors.</summary>
    public Tensor outer(Tensor vec2) => unsqueeze(1).mul(vec2.unsqueeze(0));
    /// <summary>beta * this + alpha * (mat1 @ mat2) (AddmmBackward0).</summary>
    public Tensor addmm(Tensor mat1, Tensor mat2, Scalar? beta = null, Scalar? alpha = null) => Linalg.Addmm(this, mat1, mat2, beta ?? 1, alpha ?? 1);
}

public static partial class torch
{
    /// <summary>input + alpha * other.</summary>
    public static Tensor add(Tensor input, Tensor other, Scalar? alpha = null) => input.add(other, alpha);
    /// <summary>input + alpha * scalar.</summary>
    public static Tensor add(Tensor input, Scalar other, Scalar? alpha = null) => input.add(other, alpha);
    /// <summary>input - alpha * other.</summary>
    public static Tensor sub(Tensor input, Tensor other, Scalar? alpha = null) => input.sub(other, alpha);
    /// <summary>input - alpha * scalar.</summary>
    public static Tensor sub(Tensor input, Scalar other, Scalar? alpha = null) => input.sub(other, alpha);
    /// <summary>Elementwise product.</summary>
    public static Tensor mul(Tensor input, Tensor other) => input.mul(other);
    /// <summary>Product with a scalar.</summary>
    public static Tensor mul(Tensor input, Scalar other) => input.mul(other);
    /// <summary>Elementwise true division.</summary>
    public static Tensor div(Tensor input, Tensor other) => input.div(other);
    /// <summary>Division by a scalar.</summary>
    public static Tensor div(Tensor input, Scalar other) => input.div(other);
    /// <summary>Negation.</summary>
    public static Tensor neg(Tensor input) => input.neg();
    /// <summary>input ** exponent.</summary>
    public static Tensor pow(Tensor input, Scalar exponent) => input.pow(exponent);
    /// <summary>input ** exponent elementwise.</summary>
    public static Tensor pow(Tensor input, Tensor exponent) => input.pow(exponent);
    /// <summary>input * input.</summary>
    public static Tensor square(Tensor input) => input.square();
    /// <summary>Square root.</summary>
    public static Tensor sqrt(Tensor input) => input.sqrt();
    /// <summary>1 / sqrt(input).</summary>
    public static Tensor rsqrt(Tensor input) => input.rsqrt();
    /// <summary>e ** input.</summary>
    public static Tensor exp(Tensor input) => input.exp();
    /// <summary>Natural logarithm.</summary>
    public static Tensor log(Tensor input) => input.log();
    /// <summary>log(1 + input).</summary>
    public static Tensor log1p(Tensor input) => input.log1p();
    /// <summary>exp(input) - 1.</summary>
    public static Tensor expm1(Tensor input) => input.expm1();
    /// <summary>Sine.</summary>
    public static Tensor sin(Tensor input) => input.sin();
    /// <summary>Cosine.</summary>
    public static Tensor cos(Tensor input) => input.cos();
    /// <summary>Hyperbolic tangent.</summary>
    public static Tensor tanh(Tensor input) => input.tanh();
    /// <summary>Logistic sigmoid.</summary>
    public static Tensor sigmoid(Tensor input) => input.sigmoid();
    /// <summary>max(input, 0).</summary>
    public static Tensor relu(Tensor input) => input.relu();
    /// <summary>|input|.</summary>
    public static Tensor abs(Tensor input) => input.abs();
    /// <summary>Sign of each element.</summary>
    public static Tensor sign(Tensor input) => input.sign();
    /// <summary>Clamps into [min, max].</summary>
    public static Tensor clamp(Tensor input, Scalar? min = null, Scalar? max = null) => input.clamp(min, max);
    /// <summary>max(input, min).</summary>
    public static Tensor clamp_min(Tensor input, Scalar min) => input.clamp_min(min);
    /// <summary>min(input, max).</summary>
    public static Tensor clamp_max(Tensor input, Scalar max) => input.clamp_max(max);
    /// <summary>Sum of all elements.</summary>
    public static Tensor sum(Tensor input, ScalarType? dtype = null) => input.sum(dtype);
    /// <summary>Sum over a dim.</summary>
    public static Tensor sum(Tensor input, long dim, bool keepdim = false, ScalarType? dtype = null) => input.sum(dim, keepdim, dtype);
    /// <summary>The same as the <c>long dim</c> overload; it exists because C# converts a literal <c>0</c> to an enum, so
    /// without it <c>torch.sum(x, 0)</c> would bind to the <c>dtype</c> overload instead of reducing dimension 0.</summary>
    public static Tensor sum(Tensor input, int dim, bool keepdim = false, ScalarType? dtype = null) => input.sum((long)dim, keepdim, dtype);
    /// <summary>Mean of all elements.</summary>
    public static Tensor mean(Tensor input, ScalarType? dtype = null) => input.mean(dtype);
    /// <summary>Mean over a dim.</summary>
    public static Tensor mean(Tensor input, long dim, bool keepdim = false, ScalarType? dtype = null) => input.mean(dim, keepdim, dtype);
    /// <summary>The same as the <c>long dim</c> overload; it exists because C# converts a literal <c>0</c> to an enum, so
    /// without it <c>torch.mean(x, 0)</c> would bind to the <c>dtype</c> overload instead of reducing dimension 0.</summary>
    public static Tensor mean(Tensor input, int dim, bool keepdim = false, ScalarType? dtype = null) => input.mean((long)dim, keepdim, dtype);
    /// <summary>Matrix product of 2-D tensors.</summary>
    public static Tensor mm(Tensor input, Tensor mat2) => input.mm(mat2);
    /// <summary>Batched matrix product.</summary>
    public static Tensor bmm(Tensor input, Tensor mat2) => input.bmm(mat2);
    /// <summary>Matrix-vector product.</summary>
    public static Tensor mv(Tensor input, Tensor vec) => input.mv(vec);
    /// <summary>Dot product.</summary>
    public static Tensor dot(Tensor input, Tensor other) => input.dot(other);
    /// <summary>Matrix product with rank rules and broadcasting.</summary>
    public static Tensor matmul(Tensor input, Tensor other) => input.matmul(other);
    /// <summary>Outer product.</summary>
    public static Tensor outer(Tensor input, Tensor vec2) => input.outer(vec2);
    /// <summary>beta * input + alpha * (mat1 @ mat2).</summary>
    public static Tensor addmm(Tensor input, Tensor mat1, Tensor mat2, Scalar? beta = null, Scalar? alpha = null) => input.addmm(mat1, mat2, beta, alpha);
    /// <summary>Transpose of a 2-D tensor.</summary>
    public static Tensor t(Tensor input) => input.t();
    /// <summary>Swaps two dims.</summary>
    public static Tensor transpose(Tensor input, long dim0, long dim1) => input.transpose(dim0, dim1);
    /// <summary>Reorders dims.</summary>
    public static Tensor permute(Tensor input, params long[] dims) => input.permute(dims);
    /// <summary>Reshapes (a view when possible).</summary>
    public static Tensor reshape(Tensor input, params long[] shape) => input.reshape(shape);
    /// <summary>Merges dims.</summary>
    public static Tensor flatten(Tensor input, long start_dim = 0, long end_dim = -1) => input.flatten(start_dim, end_dim);
    /// <summary>Removes dims of size 1.</summary>
    public static Tensor squeeze(Tensor input) => input.squeeze();
    /// <summary>Inserts a dim of size 1.</summary>
    public static Tensor unsqueeze(Tensor input, long dim) => input.unsqueeze(dim);
    /// <summary>Elementwise equality (bool).</summary>
    public static Tensor eq(Tensor input, Tensor other) => input.eq(other);
    /// <summary>Elementwise inequality (bool).</summary>
    public static Tensor ne(Tensor input, Tensor other) => input.ne(other);
    /// <summary>Elementwise &lt; (bool).</summary>
    public static Tensor lt(Tensor input, Tensor other) => input.lt(other);
    /// <summary>Elementwise &lt;= (bool).</summary>
    public static Tensor le(Tensor input, Tensor other) => input.le(other);
    /// <summary>Elementwise &gt; (bool).</summary>
    public static Tensor gt(Tensor input, Tensor other) => input.gt(other);
    /// <summary>Elementwise &gt;= (bool).</summary>
    public static Tensor ge(Tensor input, Tensor other) => input.ge(other);
    /// <summary>Whether two tensors are elementwise close.</summary>
    public static bool allclose(Tensor input, Tensor other, double rtol = 1e-05, double atol = 1e-08, bool equal_nan = false) => input.allclose(other, rtol, atol, equal_nan);
    /// <summary>Whether two tensors have the same shape and elements.</summary>
    public static bool equal(Tensor input, Tensor other) => input.equal(other);
    /// <summary>Elementwise maximum (MaximumBackward0; ties split the gradient).</summary>
    public static Tensor maximum(Tensor input, Tensor other) => Ops.Elementary.Maximum(input, other);
    /// <summary>Elementwise minimum (MinimumBackward0; ties split the gradient).</summary>
    public static Tensor minimum(Tensor input, Tensor other) => Ops.Elementary.Minimum(input, other);
    /// <summary>Picks x where condition is true, else y (WhereBackward0).</summary>
    public static Tensor where(Tensor condition, Tensor x, Tensor y) => Ops.Elementary.Where(condition, x, y);
}
