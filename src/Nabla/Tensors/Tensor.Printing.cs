namespace Nabla;

/// <summary>How a tensor prints: PyTorch's Python repr, libtorch's <c>operator&lt;&lt;</c>, or R torch's print.</summary>
public enum TensorStringStyle
{
    /// <summary><c>tensor([2., 3.], requires_grad=True)</c></summary>
    Python,
    /// <summary><c> 2\n 3\n[ CPUFloatType{2} ]</c></summary>
    LibTorch,
    /// <summary><c>torch_tensor\n 2\n 3\n[ CPUFloatType{2} ]</c></summary>
    R,
}

public sealed partial class Tensor
{
    /// <summary>PyTorch's Python repr, character for character (see <c>torch.set_printoptions</c>).</summary>
    public override string ToString() => ToString(TensorStringStyle.Python);

    /// <summary>The tensor printed in the given style.</summary>
    public string ToString(TensorStringStyle style)
    {
        if (is_meta) return MetaString();
        var values = ToDoubleArray();
        return style switch
        {
            TensorStringStyle.LibTorch => TensorFormatter.LibTorch(_shape, values, _dtype),
            TensorStringStyle.R => TensorFormatter.R(_shape, values, _dtype),
            _ => TensorFormatter.Python(_shape, values, _dtype, _gradFn?.ShortName, requires_grad, PrintOptions.Current.Clone()),
        };
    }

    /// <summary>PyTorch's repr of a meta tensor: <c>tensor(..., device='meta', size=(2, 3), dtype=torch.float64, grad_fn=&lt;MulBackward0&gt;)</c>.</summary>
    string MetaString()
    {
        var sb = new System.Text.StringBuilder("tensor(..., device='meta', size=(");
        sb.Append(string.Join(", ", _shape));
        if (_shape.Length == 1) sb.Append(',');
        sb.Append(')');
        // As _tensor_str: float32 (the default), int64 and bool are the "default" dtypes that go unprinted.
        if (_dtype != torch.get_default_dtype() && _dtype != ScalarType.Int64 && _dtype != ScalarType.Bool)
            sb.Append(", dtype=").Append(_dtype.PythonName());
        if (_gradFn is not null) sb.Append(", grad_fn=<").Append(_gradFn.ShortName).Append('>');
        else if (requires_grad) sb.Append(", requires_grad=True");
        return sb.Append(')').ToString();
    }

    /// <summary>The tensor in Python's repr (same as <see cref="ToString()"/>).</summary>
    public string str() => ToString();

    /// <summary>Prints the tensor to standard output in Python style and returns it.</summary>
    public Tensor print()
    {
        Console.WriteLine(ToString());
        return this;
    }
}

public static partial class torch
{
    /// <summary>Python's repr of a shape, <c>torch.Size([2, 3])</c>.</summary>
    public static string Size(long[] shape) => ShapeUtil.SizeString(shape);
}
