using Nabla.Ops;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>Elementwise sum (AddBackward0).</summary>
    public static Tensor operator +(Tensor a, Tensor b) => a.add(b);
    /// <summary>Tensor plus scalar (AddBackward1).</summary>
    public static Tensor operator +(Tensor a, Scalar b) => a.add(b);
    /// <summary>Scalar plus tensor (AddBackward1).</summary>
    public static Tensor operator +(Scalar a, Tensor b) => b.add(a);
    /// <summary>Elementwise difference (SubBackward0).</summary>
    public static Tensor operator -(Tensor a, Tensor b) => a.sub(b);
    /// <summary>Tensor minus scalar (SubBackward1).</summary>
    public static Tensor operator -(Tensor a, Scalar b) => a.sub(b);
    /// <summary>Scalar minus tensor (SubBackward0, as libtorch's operator).</summary>
    public static Tensor operator -(Scalar a, Tensor b) => Arithmetic.ScalarMinus(a, b);
    /// <summary>Elementwise product (MulBackward0).</summary>
    public static Tensor operator *(Tensor a, Tensor b) => a.mul(b);
    /// <summary>Tensor times scalar (MulBackward1).</summary>
    public static Tensor operator *(Tensor a, Scalar b) => a.mul(b);
    /// <summary>Scalar times tensor (MulBackward1).</summary>
    public static Tensor operator *(Scalar a, Tensor b) => b.mul(a);
    /// <summary>Elementwise true division (DivBackward0).</summary>
    public static Tensor operator /(Tensor a, Tensor b) => a.div(b);
    /// <summary>Tensor divided by scalar (DivBackward1).</summary>
    public static Tensor operator /(Tensor a, Scalar b) => a.div(b);
    /// <summary>Scalar divided by tensor (DivBackward0, as libtorch's operator).</summary>
    public static Tensor operator /(Scalar a, Tensor b) => Arithmetic.ScalarDivide(a, b);
    /// <summary>Negation (NegBackward0).</summary>
    public static Tensor operator -(Tensor a) => a.neg();

    /// <summary>Elementwise == (a bool tensor, not a bool).</summary>
    public static Tensor operator ==(Tensor a, Tensor b) => a.eq(b);
    /// <summary>Elementwise !=.</summary>
    public static Tensor operator !=(Tensor a, Tensor b) => a.ne(b);
    /// <summary>Elementwise == scalar.</summary>
    public static Tensor operator ==(Tensor a, Scalar b) => a.eq(b);
    /// <summary>Elementwise != scalar.</summary>
    public static Tensor operator !=(Tensor a, Scalar b) => a.ne(b);
    /// <summary>Elementwise &lt;.</summary>
    public static Tensor operator <(Tensor a, Tensor b) => a.lt(b);
    /// <summary>Elementwise &gt;.</summary>
    public static Tensor operator >(Tensor a, Tensor b) => a.gt(b);
    /// <summary>Elementwise &lt;=.</summary>
    public static Tensor operator <=(Tensor a, Tensor b) => a.le(b);
    /// <summary>Elementwise &gt;=.</summary>
    public static Tensor operator >=(Tensor a, Tensor b) => a.ge(b);
    /// <summary>Elementwise &lt; scalar.</summary>
    public static Tensor operator <(Tensor a, Scalar b) => a.lt(b);
    /// <summary>Elementwise &gt; scalar.</summary>
    public static Tensor operator >(Tensor a, Scalar b) => a.gt(b);
    /// <summary>Elementwise &lt;= scalar.</summary>
    public static Tensor operator <=(Tensor a, Scalar b) => a.le(b);
    /// <summary>Elementwise &gt;= scalar.</summary>
    public static Tensor operator >=(Tensor a, Scalar b) => a.ge(b);
    /// <summary>Elementwise logical and.</summary>
    public static Tensor operator &(Tensor a, Tensor b) => a.logical_and(b);
    /// <summary>Elementwise logical or.</summary>
    public static Tensor operator |(Tensor a, Tensor b) => a.logical_or(b);
    /// <summary>Elementwise logical not.</summary>
    public static Tensor operator ~(Tensor a) => a.logical_not();

    /// <summary>Reference equality (the operator == is elementwise, as in TorchSharp).</summary>
    public override bool Equals(object? obj) => ReferenceEquals(this, obj);

    /// <summary>Identity hash.</summary>
    public override int GetHashCode() => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(this);
}
