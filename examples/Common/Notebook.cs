using System.Globalization;
using Nabla.Autograd;

namespace Nabla.Examples;

/// <summary>
/// What the seed examples share: a header line before each notebook cell's output, and the few ways Python, C++ and
/// R print values that are not tensors (floats, bools, tuples, graph nodes).
/// </summary>
/// <remarks>
/// Every example writes <c>In [n]:</c> on its own line before the output of cell <c>n</c> and an empty line after
/// it, so that a reader of the Tour sees which cell printed what, and the tests can cut the output back into cells.
/// Cells that print nothing write nothing.
/// </remarks>
internal static class Notebook
{
    /// <summary>Writes the header line of a cell's output.</summary>
    public static void Cell(TextWriter output, string id) => output.Write("In [" + id + "]:\n");

    /// <summary>Ends a cell's output with the separating empty line.</summary>
    public static void EndCell(TextWriter output) => output.Write("\n");

    /// <summary>Writes one line (always <c>\n</c>, as the tutorials' outputs were captured on Linux/macOS).</summary>
    public static void Line(TextWriter output, string text) => output.Write(text + "\n");

    /// <summary>
    /// Python's <c>repr(float)</c>: the shortest text that reads back to the same double, with <c>.0</c> on whole
    /// numbers and exponent form below 1e-4 or from 1e16 on (<c>1.0</c>, <c>0.9700000286102295</c>, <c>1e-05</c>).
    /// </summary>
    public static string PyFloat(double value)
    {
        if (double.IsNaN(value)) return "nan";
        if (double.IsPositiveInfinity(value)) return "inf";
        if (double.IsNegativeInfinity(value)) return "-inf";
        if (value == 0) return double.IsNegative(value) ? "-0.0" : "0.0";
        // "R" gives the shortest round-trip digits, in either notation: take its digits and decimal exponent
        // apart and lay them out again by Python's rule (float_repr_style 'short', mode 'r').
        string shortest = Math.Abs(value).ToString("R", CultureInfo.InvariantCulture);
        string mantissa = shortest;
        int exp10 = 0;
        int e = shortest.IndexOfAny(new[] { 'E', 'e' });
        if (e >= 0)
        {
            mantissa = shortest[..e];
            exp10 = int.Parse(shortest[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        }
        int dot = mantissa.IndexOf('.');
        string intPart = dot < 0 ? mantissa : mantissa[..dot];
        string fracPart = dot < 0 ? "" : mantissa[(dot + 1)..];
        string digits = (intPart + fracPart).TrimStart('0');
        // Position of the decimal point relative to the first significant digit.
        int leadingZeros = (intPart + fracPart).Length - (intPart + fracPart).TrimStart('0').Length;
        int pointPos = intPart.Length - leadingZeros + exp10; // value = 0.digits * 10^pointPos
        digits = digits.TrimEnd('0');
        if (digits.Length == 0) digits = "0";
        int decimalExponent = pointPos - 1; // value = d.ddd * 10^decimalExponent
        string sign = value < 0 ? "-" : "";
        if (decimalExponent < -4 || decimalExponent >= 16)
        {
            string m = digits.Length == 1 ? digits : digits[0] + "." + digits[1..];
            string es = decimalExponent < 0 ? "-" : "+";
            return sign + m + "e" + es + Math.Abs(decimalExponent).ToString("00", CultureInfo.InvariantCulture);
        }
        if (pointPos <= 0) return sign + "0." + new string('0', -pointPos) + digits;
        if (pointPos >= digits.Length) return sign + digits + new string('0', pointPos - digits.Length) + ".0";
        return sign + digits[..pointPos] + "." + digits[pointPos..];
    }

    /// <summary>Python's <c>repr(bool)</c>: <c>True</c> or <c>False</c>.</summary>
    public static string PyBool(bool value) => value ? "True" : "False";

    /// <summary>Python's repr of a tuple of already-printed items: <c>(a, b)</c>.</summary>
    public static string PyTuple(params string[] items) => "(" + string.Join(", ", items) + ")";

    /// <summary>C++'s <c>std::cout &lt;&lt; bool</c>: <c>1</c> or <c>0</c>.</summary>
    public static string CppBool(bool value) => value ? "1" : "0";

    /// <summary>libtorch's <c>std::cout &lt;&lt; t</c>, including an undefined tensor (<c>[ Tensor (undefined) ]</c>).</summary>
    public static string LibTorch(Tensor? t) => t is null ? "[ Tensor (undefined) ]" : t.ToString(TensorStringStyle.LibTorch);

    /// <summary>
    /// R torch's print of a list of graph nodes (<c>grad_fn$next_functions</c>), as the R tutorial shows it:
    /// <c>[[1]]</c> then the node's name, for each entry.
    /// </summary>
    public static string RNextFunctions(Node node)
    {
        var lines = new List<string>();
        var next = node.next_functions;
        for (int i = 0; i < next.Count; i++)
        {
            lines.Add("[[" + (i + 1).ToString(CultureInfo.InvariantCulture) + "]]");
            lines.Add(next[i].node?.name() ?? "NULL");
        }
        return string.Join("\n", lines);
    }

    /// <summary>
    /// R's <c>cat</c> of a double: up to 7 significant digits, trailing zeros dropped (R's default
    /// <c>options(digits = 7)</c>).
    /// </summary>
    public static string RNumber(double value)
    {
        string s = value.ToString("G7", CultureInfo.InvariantCulture);
        int e = s.IndexOf('E');
        if (e < 0) return s;
        // R writes 1.234568e+07, with at least two exponent digits.
        string mantissa = s[..e];
        int exp = int.Parse(s[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        return mantissa + "e" + (exp < 0 ? "-" : "+") + Math.Abs(exp).ToString("00", CultureInfo.InvariantCulture);
    }
}
