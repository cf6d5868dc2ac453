using System.Text;

namespace Nabla;

internal static partial class TensorFormatter
{
    /// <summary>libtorch's text for an undefined tensor.</summary>
    internal const string LibTorchUndefined = "[ Tensor (undefined) ]";

    /// <summary>
    /// libtorch's <c>std::cout &lt;&lt; t</c> (no trailing newline), e.g. <c>" 1.5000  2.0000\n[ CPUFloatType{1,2} ]"</c>.
    /// Follows <c>aten/src/ATen/core/Formatting.cpp</c>: no summarising, one element per line in 1-D,
    /// <c>Columns a to b</c> blocks in 2-D, <c>(i,j,.,.) = </c> blocks for higher ranks, and a
    /// <c>[ CPUFloatType{sizes} ]</c> footer.
    /// </summary>
    /// <param name="shape">The sizes; empty for a 0-d tensor.</param>
    /// <param name="values">All elements in row-major order (bool as 0/1).</param>
    /// <param name="dtype">The element type (footer only: libtorch prints every dtype as double).</param>
    internal static string LibTorch(ReadOnlySpan<long> shape, ReadOnlySpan<double> values, ScalarType dtype)
    {
        if (Numel(shape) != values.Length)
            throw new ArgumentException($"{values.Length} values for shape {PyTuple(shape)}.", nameof(values));
        var s = new CppStream();
        if (shape.Length == 0)
        {
            s.Mode = CppStream.FloatField.Default;
            s.Append(s.Put(values[0])).Append('\n');
        }
        else if (shape.Length == 1)
        {
            if (values.Length > 0)
            {
                var (scale, sz) = PrintFormat(s, values);
                if (scale != 1) PrintScale(s, scale);
                foreach (double v in values) s.Append(s.Put(v / scale, sz)).Append('\n');
            }
        }
        else if (shape.Length == 2)
        {
            if (values.Length > 0) PrintMatrix(s, values, shape[0], shape[1], 80, 0);
        }
        else if (values.Length > 0)
        {
            PrintTensor(s, shape, values, 80);
        }
        s.Append("[ ").Append(dtype.CppTypeName()).Append('{').Append(Join(shape, ",")).Append("} ]");
        return s.ToString();
    }

    /// <summary>An <c>std::ostream</c>'s float formatting state and text.</summary>
    sealed class CppStream
    {
        public enum FloatField { Default, Fixed, Scientific }

        readonly StringBuilder _sb = new();
        public FloatField Mode = FloatField.Default;
        public int Precision = 6; // a fresh stream's precision

        public CppStream Append(string s) { _sb.Append(s); return this; }
        public CppStream Append(char c) { _sb.Append(c); return this; }
        public CppStream Indent(long n) { _sb.Append(' ', (int)n); return this; }
        public override string ToString() => _sb.ToString();

        /// <summary><c>stream &lt;&lt; std::setw(width) &lt;&lt; v</c>.</summary>
        public string Put(double v, long width = 0)
        {
            string t = Mode switch
            {
                FloatField.Fixed => FloatFormat.Fixed(v, Precision),
                FloatField.Scientific => FloatFormat.Sci(v, Precision),
                _ => FloatFormat.General(v, Precision),
            };
            return t.Length < width ? new string(' ', (int)width - t.Length) + t : t;
        }
    }

    /// <summary>__printFormat: picks the stream format, and returns the common scale and the field width.</summary>
    static (double Scale, long Size) PrintFormat(CppStream stream, ReadOnlySpan<double> p)
    {
        int size = p.Length;
        if (size == 0) return (1, 0);
        bool intMode = true;
        foreach (double z in p)
            if (double.IsFinite(z) && z != Math.Ceiling(z)) { intMode = false; break; }
        int offset = 0;
        while (!double.IsFinite(p[offset]))
        {
            offset++;
            if (offset == size) break;
        }
        double expMin, expMax;
        if (offset == size)
        {
            expMin = 1;
            expMax = 1;
        }
        else
        {
            expMin = Math.Abs(p[offset]);
            expMax = Math.Abs(p[offset]);
            for (int i = offset; i < size; i++)
            {
                double z = Math.Abs(p[i]);
                if (double.IsFinite(z))
                {
                    if (z < expMin) expMin = z;
                    // libtorch compares the signed value here, so large negative values do not widen the field.
                    if (p[i] > expMax) expMax = z;
                }
            }
            expMin = expMin != 0 ? Math.Floor(Math.Log10(expMin)) + 1 : 1;
            expMax = expMax != 0 ? Math.Floor(Math.Log10(expMax)) + 1 : 1;
        }
        double scale = 1;
        long sz;
        if (intMode)
        {
            if (expMax > 9)
            {
                sz = 11;
                stream.Mode = CppStream.FloatField.Scientific;
                stream.Precision = 4;
            }
            else
            {
                sz = (long)expMax + 1;
                stream.Mode = CppStream.FloatField.Default; // precision is left as it was
            }
        }
        else if (expMax - expMin > 4)
        {
            sz = 11;
            if (Math.Abs(expMax) > 99 || Math.Abs(expMin) > 99) sz++;
            stream.Mode = CppStream.FloatField.Scientific;
            stream.Precision = 4;
        }
        else
        {
            if (expMax > 5 || expMax < 0)
            {
                sz = 7;
                scale = Math.Pow(10, expMax - 1);
            }
            else
            {
                sz = expMax == 0 ? 7 : (long)expMax + 6;
            }
            stream.Mode = CppStream.FloatField.Fixed;
            stream.Precision = 4;
        }
        return (scale, sz);
    }

    /// <summary>printScale: <c>1e+05 *</c> in default float format at the stream's current precision.</summary>
    static void PrintScale(CppStream s, double scale) =>
        s.Append(FloatFormat.General(scale, s.Precision)).Append(" *\n");

    /// <summary>__printMatrix over a rows x cols row-major block.</summary>
    static void PrintMatrix(CppStream s, ReadOnlySpan<double> m, long rows, long cols, long linesize, long indent)
    {
        var (scale, sz) = PrintFormat(s, m);
        s.Indent(indent);
        long perLine = (linesize - indent) / (sz + 1);
        long first = 0;
        while (first < cols)
        {
            long last = first + perLine <= cols ? first + perLine - 1 : cols - 1;
            if (perLine < cols)
            {
                if (first != 0) s.Append('\n');
                s.Append("Columns ").Append((first + 1).ToString(Inv)).Append(" to ").Append((last + 1).ToString(Inv));
                s.Indent(indent);
            }
            if (scale != 1)
            {
                PrintScale(s, scale);
                s.Indent(indent);
            }
            for (long l = 0; l < rows; l++)
            {
                for (long c = first; c < last + 1; c++)
                {
                    s.Append(s.Put(m[(int)(l * cols + c)] / scale, sz));
                    if (c == last)
                    {
                        s.Append('\n');
                        if (l != rows - 1)
                        {
                            s.Indent(indent);
                            if (scale != 1) s.Append(' ');
                        }
                    }
                    else
                    {
                        s.Append(' ');
                    }
                }
            }
            first = last + 1;
        }
    }

    /// <summary>__printTensor: one <c>(i,j,.,.) = </c> block per matrix. The odometer advances the
    /// <em>first</em> index fastest, so blocks come out in column-major order of the leading indices.</summary>
    static void PrintTensor(CppStream s, ReadOnlySpan<long> shape, ReadOnlySpan<double> values, long linesize)
    {
        int lead = shape.Length - 2;
        long rows = shape[^2], cols = shape[^1];
        long block = rows * cols;
        var counter = new long[lead];
        counter[0] = -1;
        bool start = true;
        while (true)
        {
            bool finished = false;
            for (int i = 0; ; i++)
            {
                counter[i]++;
                if (counter[i] >= shape[i])
                {
                    if (i == lead - 1) { finished = true; break; }
                    counter[i] = 0;
                }
                else break;
            }
            if (finished) break;
            if (start) start = false;
            else s.Append('\n');
            s.Append('(');
            long index = 0;
            for (int i = 0; i < lead; i++)
            {
                index = index * shape[i] + counter[i];
                s.Append((counter[i] + 1).ToString(Inv)).Append(',');
            }
            s.Append(".,.) = \n");
            if (block > 0) PrintMatrix(s, values.Slice((int)(index * block), (int)block), rows, cols, linesize, 1);
        }
    }

    /// <summary>
    /// R torch's <c>print(t)</c>: <c>torch_tensor</c>, libtorch's text, and a <c>[ grad_fn = &lt;Name&gt; ]</c> or
    /// <c>[ requires_grad = TRUE ]</c> tag right after the footer (R's final newline is left out).
    /// </summary>
    /// <remarks>
    /// R torch's print (R/tensor.R, <c>Tensor$print</c>) writes <c>"torch_tensor\n"</c>, then
    /// <c>cpp_torch_tensor_print</c> passes libtorch's <c>operator&lt;&lt;</c> text through unchanged (it only splits
    /// it into lines to cut it to <paramref name="n"/> lines plus the footer, adding
    /// <c>... [the output was truncated (use n=-1 to disable)]</c>). So R itself adds no space. The seed tutorial
    /// (003, R torch) nevertheless shows every data line with one more leading space than libtorch writes
    /// (<c>"  0.2500  0.2500"</c>, <c>"  18.6000"</c>; libtorch gives <c>" 0.2500  0.2500"</c>, <c>" 18.6000"</c>),
    /// while the header and footer are unchanged: an artefact of how that document was rendered. The seed's text
    /// is the reference, so with <paramref name="seedIndent"/> (the default) each line between header and footer
    /// gets one leading space; pass false for R torch's literal output.
    /// </remarks>
    /// <param name="shape">The sizes; empty for a 0-d tensor.</param>
    /// <param name="values">All elements in row-major order (bool as 0/1).</param>
    /// <param name="dtype">The element type.</param>
    /// <param name="gradFnName">The grad_fn node name, or null.</param>
    /// <param name="requiresGrad">Adds <c>[ requires_grad = TRUE ]</c> when there is no grad_fn.</param>
    /// <param name="n">R's line limit (<c>print(x, n = 30)</c>); -1 for no limit.</param>
    /// <param name="seedIndent">Reproduce the seed document's extra leading space on data lines.</param>
    internal static string R(ReadOnlySpan<long> shape, ReadOnlySpan<double> values, ScalarType dtype,
        string? gradFnName = null, bool requiresGrad = false, int n = 30, bool seedIndent = true)
    {
        string text = LibTorch(shape, values, dtype);
        var lines = new List<string>(text.Split('\n'));
        bool truncated = false;
        if (lines.Count > n && n > 1)
        {
            lines.RemoveRange(n, lines.Count - 1 - n);
            truncated = true;
        }
        var sb = new StringBuilder("torch_tensor\n");
        for (int i = 0; i < lines.Count; i++)
        {
            if (seedIndent && i != lines.Count - 1) sb.Append(' ');
            sb.Append(lines[i]);
            if (i != lines.Count - 1) sb.Append('\n');
            if (i == lines.Count - 2 && truncated) sb.Append("... [the output was truncated (use n=-1 to disable)]\n");
        }
        if (gradFnName is not null) sb.Append("[ grad_fn = <").Append(gradFnName).Append("> ]");
        else if (requiresGrad) sb.Append("[ requires_grad = TRUE ]");
        return sb.ToString();
    }
}
