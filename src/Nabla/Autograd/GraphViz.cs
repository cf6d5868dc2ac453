using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Text;
using Nabla.Autograd;

namespace Nabla;

/// <summary>
/// A Graphviz graph in the DOT language (what <see cref="torch.autograd.to_dot"/> returns, as torchviz's
/// <c>make_dot</c> returns a <c>graphviz.Digraph</c>): <see cref="source"/> is the DOT text.
/// </summary>
public sealed class Digraph
{
    /// <summary>The DOT source.</summary>
    public string source { get; }

    internal Digraph(string source) => this.source = source;

    /// <inheritdoc/>
    public override string ToString() => source;

    /// <summary>Writes the DOT source to <paramref name="path"/>.</summary>
    public void save(string path) => File.WriteAllText(path, source);

    /// <summary>
    /// The graph rendered as SVG by Graphviz's <c>dot</c> program (<c>dot -Tsvg</c>).
    /// </summary>
    /// <param name="dot">The program to run (default: <c>dot</c> on the PATH).</param>
    /// <exception cref="InvalidOperationException">Graphviz's <c>dot</c> is not installed, or it failed.</exception>
    public string to_svg(string dot = "dot")
    {
        var info = new ProcessStartInfo(dot, "-Tsvg")
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        Process process;
        try { process = Process.Start(info) ?? throw new InvalidOperationException($"could not start '{dot}'"); }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException(
                $"to_svg needs Graphviz's '{dot}' program, which was not found ({e.Message}). Install Graphviz (e.g. apt-get install graphviz, " +
                "brew install graphviz, or winget install graphviz) or render the DOT text from .source elsewhere.", e);
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            process.StandardInput.Write(source);
            process.StandardInput.Close();
            process.WaitForExit();
            if (process.ExitCode != 0) throw new InvalidOperationException($"'{dot} -Tsvg' failed (exit code {process.ExitCode}): {stderr.Result}");
            return stdout.Result;
        }
    }
}

public static partial class torch
{
    public static partial class autograd
    {
        /// <summary>
        /// The backward graph of <paramref name="output"/> in Graphviz's DOT language, drawn as torchviz's
        /// <c>make_dot(output, params=dict(model.named_parameters()), show_saved=True)</c>: the output in green with
        /// its size, each backward node by name (<c>MulBackward0</c>, <c>AccumulateGrad</c>, ...), leaves in blue
        /// with their names from <paramref name="params"/> and sizes, tensors saved for backward in orange with the
        /// name they are saved under and their sizes, views linked to their base by a dotted edge.
        /// </summary>
        /// <param name="output">The tensor whose history to draw.</param>
        /// <param name="params">Names for leaf tensors, e.g. <c>model.named_parameters()</c>.</param>
        /// <param name="show_saved">Draw the tensors saved for backward (still held, i.e. before backward frees them).</param>
        public static Digraph to_dot(Tensor output, IEnumerable<(string name, Tensor parameter)>? @params = null, bool show_saved = true)
        {
            ArgumentNullException.ThrowIfNull(output);
            var names = new Dictionary<Tensor, string>(ReferenceEqualityComparer.Instance);
            if (@params is not null) foreach (var (n, p) in @params) names.TryAdd(p, n);
            var ids = new Dictionary<object, string>(ReferenceEqualityComparer.Instance);
            string Id(object o) { if (!ids.TryGetValue(o, out var id)) ids[o] = id = "n" + ids.Count.ToString(System.Globalization.CultureInfo.InvariantCulture); return id; }
            var seen = new HashSet<object>(ReferenceEqualityComparer.Instance);
            var sb = new StringBuilder();
            sb.Append("digraph {\n\tgraph [size=\"12,12\"]\n\tnode [align=left fontname=monospace fontsize=10 height=0.2 ranksep=0.1 shape=box style=filled]\n");
            void Node(object o, string label, string? fill) =>
                sb.Append('\t').Append(Id(o)).Append(" [label=").Append(Quote(label)).Append(fill is null ? "" : " fillcolor=" + fill).Append("]\n");
            void Edge(object from, object to, string? attrs = null) =>
                sb.Append('\t').Append(Id(from)).Append(" -> ").Append(Id(to)).Append(attrs is null ? "" : " [" + attrs + "]").Append('\n');
            string VarName(Tensor t, string? name = null) => (name ?? names.GetValueOrDefault(t, "")) + "\n " + SizeString(t);

            var pending = new Stack<Node>();
            void AddBase(Tensor t, string color)
            {
                while (seen.Add(t))
                {
                    Node(t, VarName(t), color);
                    if (t._gradFn is { } fn) { pending.Push(fn); Edge(fn, t); }
                    if (t._base is not { } b) break;
                    Edge(b, t, "style=dotted");
                    t = b;
                    color = "darkolivegreen3";
                }
            }
            AddBase(output, "darkolivegreen1");
            while (pending.Count > 0)
            {
                var fn = pending.Pop();
                if (!seen.Add(fn)) continue;
                if (show_saved)
                    foreach (var (attr, saved) in SavedTensors(fn))
                    {
                        if (!seen.Add(saved)) continue;
                        Edge(fn, saved, "dir=none");
                        Node(saved, VarName(saved, attr), "orange");
                    }
                if (fn is AccumulateGrad acc)
                {
                    seen.Add(acc.variable);
                    Node(acc.variable, VarName(acc.variable), "lightblue");
                    Edge(acc.variable, fn);
                }
                Node(fn, fn.ShortName, null);
                foreach (var (next, _) in fn.next_functions)
                {
                    if (next is null) continue;
                    Edge(next, fn);
                    if (!seen.Contains(next)) pending.Push(next);
                }
            }
            sb.Append("}\n");
            return new Digraph(sb.ToString());
        }

        static string SizeString(Tensor t) => "(" + string.Join(", ", t._shape) + ")";

        static string Quote(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

        /// <summary>The tensors a node saved for backward, by field name (torchviz's <c>_saved_*</c> attributes); released ones are skipped.</summary>
        [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "Diagnostic drawing only: a node type whose fields were trimmed draws no saved tensors.")]
        static List<(string Name, Tensor Tensor)> SavedTensors(Node fn)
        {
            var result = new List<(string, Tensor)>();
            for (var type = fn.GetType(); type is not null && type != typeof(Node); type = type.BaseType)
                foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.DeclaredOnly))
                {
                    if (field.FieldType != typeof(SavedTensor)) continue;
                    var saved = (SavedTensor)field.GetValue(fn)!;
                    Tensor t;
                    try { t = saved.Unpack(fn); }
                    catch (InvalidOperationException) { continue; }     // released by backward, or never saved
                    result.Add((field.Name.TrimStart('_').Replace("<", "").Split('>')[0], t));
                }
            return result;
        }
    }
}
