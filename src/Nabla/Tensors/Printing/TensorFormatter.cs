using System.Globalization;
using System.Text;

namespace Nabla;

/// <summary>
/// Turns a tensor's shape and elements into text exactly as PyTorch does: Python's <c>repr(t)</c>
/// (<see cref="Python"/>, after <c>torch/_tensor_str.py</c>), libtorch's <c>std::cout &lt;&lt; t</c>
/// (<see cref="LibTorch"/>, after <c>aten/src/ATen/core/Formatting.cpp</c>) and R torch's <c>print</c>
/// (<see cref="R"/>). Works on spans so it does not depend on the tensor type; elements are in row-major
/// order as doubles (bool as 0/1).
/// </summary>
internal static partial class TensorFormatter
{
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Python's <c>str(t.shape)</c>: <c>torch.Size([2, 3])</c>, <c>torch.Size([])</c> for 0-d.</summary>
    internal static string Size(ReadOnlySpan<long> shape) => "torch.Size([" + Join(shape, ", ") + "])";

    static string Join(ReadOnlySpan<long> shape, string sep)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < shape.Length; i++)
        {
            if (i > 0) sb.Append(sep);
            sb.Append(shape[i].ToString(Inv));
        }
        return sb.ToString();
    }

    /// <summary>Python's <c>str(tuple(shape))</c>: <c>(0, 3)</c>, <c>(0,)</c>, <c>()</c>.</summary>
    static string PyTuple(ReadOnlySpan<long> shape) =>
        shape.Length == 1 ? "(" + shape[0].ToString(Inv) + ",)" : "(" + Join(shape, ", ") + ")";

    static long Numel(ReadOnlySpan<long> shape)
    {
        long n = 1;
        foreach (long s in shape) n *= s;
        return n;
    }

    /// <summary>
    /// Python's <c>repr(tensor)</c> for a CPU strided tensor, e.g. <c>tensor([1.5000, 2.0000], grad_fn=&lt;MulBackward0&gt;)</c>.
    /// </summary>
    /// <param name="shape">The sizes; empty for a 0-d tensor.</param>
    /// <param name="values">All elements in row-major order (bool as 0/1, integers exactly).</param>
    /// <param name="dtype">The element type, which picks the number format and the <c>dtype=</c> suffix.</param>
    /// <param name="gradFnName">The <c>grad_fn</c> node name (<c>MulBackward0</c>), or null for none.</param>
    /// <param name="requiresGrad">Adds <c>requires_grad=True</c> when there is no grad_fn.</param>
    /// <param name="options">Print options (precision, threshold, edgeitems, linewidth, sci_mode).</param>
    internal static string Python(ReadOnlySpan<long> shape, ReadOnlySpan<double> values, ScalarType dtype,
        string? gradFnName, bool requiresGrad, PrintOptions options)
    {
        const string prefix = "tensor(";
        const int indent = 7;
        long numel = Numel(shape);
        if (numel != values.Length)
            throw new ArgumentException($"{values.Length} values for shape {PyTuple(shape)}.", nameof(values));
        var suffixes = new List<string>();
        string body;
        if (numel == 0)
        {
            if (shape.Length != 1) suffixes.Add("size=" + PyTuple(shape));
            if (dtype != ScalarType.Float32) suffixes.Add("dtype=" + dtype.PythonName());
            body = "[]";
        }
        else
        {
            if (dtype is not (ScalarType.Float32 or ScalarType.Int64 or ScalarType.Bool))
                suffixes.Add("dtype=" + dtype.PythonName());
            body = new PyPrinter(shape, values, dtype, options).TensorStr(indent);
        }
        if (gradFnName is not null) suffixes.Add("grad_fn=<" + gradFnName + ">");
        else if (requiresGrad) suffixes.Add("requires_grad=True");
        return AddSuffixes(prefix + body, suffixes, indent, options.linewidth);
    }

    /// <summary>torch._tensor_str._add_suffixes: ", suffix" unless the line would pass linewidth.</summary>
    static string AddSuffixes(string tensorStr, List<string> suffixes, int indent, int linewidth)
    {
        var sb = new StringBuilder(tensorStr);
        // Python: len(s) - s.rfind("\n") + 1, where rfind gives -1 when there is no newline.
        int lastLineLen = tensorStr.Length - tensorStr.LastIndexOf('\n') + 1;
        foreach (string suffix in suffixes)
        {
            if (lastLineLen + suffix.Length + 2 > linewidth)
            {
                sb.Append(",\n").Append(' ', indent).Append(suffix);
                lastLineLen = indent + suffix.Length;
            }
            else
            {
                sb.Append(", ").Append(suffix);
                lastLineLen += suffix.Length + 2;
            }
        }
        return sb.Append(')').ToString();
    }

    /// <summary>The body of Python's repr: the bracketed, possibly summarised element grid.</summary>
    sealed class PyPrinter
    {
        readonly long[] _shape;
        readonly long[] _strides;
        readonly double[] _values;
        readonly bool _floating;
        readonly bool _isBool;
        readonly int _precision;
        readonly int _edge;
        readonly int _linewidth;
        readonly bool _summarize;
        // _Formatter state
        bool _intMode = true;
        bool _sciMode;
        int _maxWidth = 1;

        public PyPrinter(ReadOnlySpan<long> shape, ReadOnlySpan<double> values, ScalarType dtype, PrintOptions o)
        {
            _shape = shape.ToArray();
            _strides = new long[_shape.Length];
            long s = 1;
            for (int i = _shape.Length - 1; i >= 0; i--) { _strides[i] = s; s *= _shape[i]; }
            _values = values.ToArray();
            _floating = dtype.IsFloatingPoint();
            _isBool = dtype == ScalarType.Bool;
            _precision = o.precision;
            _edge = o.edgeitems;
            _linewidth = o.linewidth;
            _summarize = values.Length > o.threshold;
            var data = new List<double>();
            if (_summarize) CollectSummarized(0, 0, data);
            else data.AddRange(_values);
            InitFormatter(data, o.sci_mode);
        }

        /// <summary>get_summarized_data: the elements the formatter sees when summarising.</summary>
        void CollectSummarized(int dim, long offset, List<double> dst)
        {
            if (dim == _shape.Length) { dst.Add(_values[offset]); return; }
            long size = _shape[dim], stride = _strides[dim];
            if (size > 2L * _edge)
            {
                for (long i = 0; i < _edge; i++) CollectSummarized(dim + 1, offset + i * stride, dst);
                // 1-D uses the slice self[-edgeitems:] (the whole row when edgeitems is 0); higher dims use a range.
                long tailStart = dim == _shape.Length - 1 && _edge == 0 ? 0 : size - _edge;
                for (long i = tailStart; i < size; i++) CollectSummarized(dim + 1, offset + i * stride, dst);
            }
            else
            {
                for (long i = 0; i < size; i++) CollectSummarized(dim + 1, offset + i * stride, dst);
            }
        }

        /// <summary>torch._tensor_str._Formatter.__init__.</summary>
        void InitFormatter(List<double> data, bool? sciOption)
        {
            if (!_floating)
            {
                foreach (double v in data) _maxWidth = Math.Max(_maxWidth, IntString(v).Length);
                if (sciOption is { } s0) _sciMode = s0;
                return;
            }
            var nz = new List<double>();
            foreach (double v in data)
                if (double.IsFinite(v) && v != 0) nz.Add(v);
            if (nz.Count == 0) return; // int mode, width 1; sci_mode option is not applied (PyTorch returns early)
            double min = double.PositiveInfinity, max = 0;
            foreach (double v in nz)
            {
                double a = Math.Abs(v);
                if (a < min) min = a;
                if (a > max) max = a;
            }
            foreach (double v in nz)
                if (v != Math.Ceiling(v)) { _intMode = false; break; }
            if (_intMode)
            {
                if (max / min > 1000.0 || max > 1.0e8)
                {
                    _sciMode = true;
                    foreach (double v in nz) _maxWidth = Math.Max(_maxWidth, FloatFormat.Sci(v, _precision).Length);
                }
                else
                {
                    foreach (double v in nz) _maxWidth = Math.Max(_maxWidth, FloatFormat.Fixed(v, 0).Length + 1);
                }
            }
            else if (max / min > 1000.0 || max > 1.0e8 || min < 1.0e-4)
            {
                _sciMode = true;
                foreach (double v in nz) _maxWidth = Math.Max(_maxWidth, FloatFormat.Sci(v, _precision).Length);
            }
            else
            {
                foreach (double v in nz) _maxWidth = Math.Max(_maxWidth, FloatFormat.Fixed(v, _precision).Length);
            }
            if (sciOption is { } s) _sciMode = s;
        }

        string IntString(double v) => _isBool ? (v != 0 ? "True" : "False") : ((long)v).ToString(Inv);

        /// <summary>torch._tensor_str._Formatter.format: one element, right-aligned to the common width.</summary>
        string Format(double v)
        {
            string ret;
            if (_floating)
            {
                if (_sciMode) ret = FloatFormat.Sci(v, _precision);
                else if (_intMode)
                {
                    ret = FloatFormat.Fixed(v, 0);
                    if (double.IsFinite(v)) ret += ".";
                }
                else ret = FloatFormat.Fixed(v, _precision);
            }
            else ret = IntString(v);
            return ret.Length < _maxWidth ? new string(' ', _maxWidth - ret.Length) + ret : ret;
        }

        public string TensorStr(int indent) => Rec(0, 0, indent);

        bool Summarized(int dim) => _summarize && _shape[dim] > 2L * _edge;

        string Rec(int dim, long offset, int indent)
        {
            int rank = _shape.Length;
            if (rank == 0) return Format(_values[0]);
            if (dim == rank - 1) return Vector(offset, indent);
            long size = _shape[dim], stride = _strides[dim];
            var slices = new List<string>();
            if (Summarized(dim))
            {
                for (long i = 0; i < _edge; i++) slices.Add(Rec(dim + 1, offset + i * stride, indent + 1));
                slices.Add("...");
                for (long i = size - _edge; i < size; i++) slices.Add(Rec(dim + 1, offset + i * stride, indent + 1));
            }
            else
            {
                for (long i = 0; i < size; i++) slices.Add(Rec(dim + 1, offset + i * stride, indent + 1));
            }
            int subDims = rank - dim; // self.dim() of this sub-tensor
            string sep = "," + new string('\n', subDims - 1) + new string(' ', indent + 1);
            return "[" + string.Join(sep, slices) + "]";
        }

        /// <summary>torch._tensor_str._vector_str.</summary>
        string Vector(long offset, int indent)
        {
            int elementLength = _maxWidth + 2;
            int perLine = Math.Max(1, (int)Math.Floor((double)(_linewidth - indent) / elementLength));
            long size = _shape[^1];
            var data = new List<string>();
            if (Summarized(_shape.Length - 1))
            {
                for (long i = 0; i < _edge; i++) data.Add(Format(_values[offset + i]));
                data.Add(" ...");
                for (long i = _edge == 0 ? 0 : size - _edge; i < size; i++) data.Add(Format(_values[offset + i]));
            }
            else
            {
                for (long i = 0; i < size; i++) data.Add(Format(_values[offset + i]));
            }
            var sb = new StringBuilder("[");
            string lineSep = ",\n" + new string(' ', indent + 1);
            for (int i = 0; i < data.Count; i += perLine)
            {
                if (i > 0) sb.Append(lineSep);
                int end = Math.Min(data.Count, i + perLine);
                for (int j = i; j < end; j++)
                {
                    if (j > i) sb.Append(", ");
                    sb.Append(data[j]);
                }
            }
            return sb.Append(']').ToString();
        }
    }
}
