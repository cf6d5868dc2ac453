namespace Nabla.Autograd;

// Note [Derivative rules]
// PyTorch keeps one entry per op in derivatives.yaml: the node's name, and for each differentiable input a formula
// in terms of grad, the saved inputs and the result. A Rule is that entry in C#, declared next to the op's forward
// (forward and derivative side by side):
//
//     static readonly Rule ExpRule = Rule.Unary("ExpBackward0", Needs.Result, static (g, s) => g * s.Result);
//     public static Tensor Exp(Tensor a) => ExpRule.Record(Apply(MathOp.Exp, a), a);
//
// Record() decides whether to record (grad mode on and an input needs a gradient), saves only what the formulas of
// the inputs that need a gradient read (`Needs`: PyTorch's codegen saves `other` for mul only when `self` needs a
// gradient, so an in-place change to a constant operand is no error), and wires one generic RuleNode. The formulas
// are ordinary differentiable tensor code, so create_graph gives higher derivatives. They return the gradient at the
// broadcast shape and in the computation's dtype: the engine's ValidateGradient sums a broadcast gradient back to the
// input's shape and casts it to the input's dtype (PyTorch's validate_outputs), the one place broadcasting is undone.
//
// This is also where the function transforms attach: a forward-mode (JVP) formula and a batching rule for vmap are
// further members of the same Rule, next to the backward formulas, so that every op states all of its derivative
// behaviour in one declaration. Ops whose backward needs more than a few scalars and saved tensors (convolution,
// indexing with index lists, multi-output ops) keep a hand-written Node.

/// <summary>What a gradient formula reads from the forward pass (saved only when a formula that reads it can run).</summary>
[Flags]
internal enum Needs : byte
{
    /// <summary>Nothing but the incoming gradient (and the scalars and arguments).</summary>
    None = 0,
    /// <summary>The first tensor input.</summary>
    Self = 1,
    /// <summary>The second tensor input.</summary>
    Other = 2,
    /// <summary>The third tensor input.</summary>
    Third = 4,
    /// <summary>The op's result.</summary>
    Result = 8,
}

/// <summary>One input's gradient formula: the incoming gradient and the node's saved values give that input's gradient.</summary>
internal delegate Tensor GradFormula(Tensor grad, RuleNode saved);

/// <summary>An op's derivative rule (a derivatives.yaml entry): the node name and one formula per tensor input.</summary>
internal sealed class Rule
{
    /// <summary>The grad_fn name PyTorch gives the node (<c>MulBackward0</c>).</summary>
    public readonly string Name;
    readonly GradFormula?[] _formulas;
    readonly Needs[] _needs;

    Rule(string name, GradFormula?[] formulas, Needs[] needs)
    {
        Name = name;
        _formulas = formulas;
        _needs = needs;
    }

    /// <summary>The number of tensor inputs the rule has a slot for.</summary>
    public int Arity => _formulas.Length;

    /// <summary>A rule for a one-input op.</summary>
    public static Rule Unary(string name, Needs needs, GradFormula self) => new(name, new[] { self }, new[] { needs });

    /// <summary>A rule for a two-input op; a null formula marks an input with no gradient (an index, a mask).</summary>
    public static Rule Binary(string name, Needs selfNeeds, GradFormula? self, Needs otherNeeds, GradFormula? other) =>
        new(name, new[] { self, other }, new[] { selfNeeds, otherNeeds });

    /// <summary>A rule for a three-input op.</summary>
    public static Rule Ternary(string name, Needs selfNeeds, GradFormula? self, Needs otherNeeds, GradFormula? other,
        Needs thirdNeeds, GradFormula? third) =>
        new(name, new[] { self, other, third }, new[] { selfNeeds, otherNeeds, thirdNeeds });

    /// <summary>Records <paramref name="result"/> = op(<paramref name="a"/>) when autograd should; returns the result.</summary>
    public Tensor Record(Tensor result, Tensor a, Scalar s0 = default, Scalar s1 = default, object? args = null)
    {
        if (!History.ShouldRecord(a)) return result;
        var node = new RuleNode(this, s0, s1, args);
        node.SetNextEdges(a);
        node.Save(result, a, null, null);
        return History.Set(result, node);
    }

    /// <summary>Records <paramref name="result"/> = op(<paramref name="a"/>, <paramref name="b"/>) when autograd should.</summary>
    public Tensor Record(Tensor result, Tensor a, Tensor b, Scalar s0 = default, Scalar s1 = default, object? args = null)
    {
        if (!History.ShouldRecord(a, b)) return result;
        var node = new RuleNode(this, s0, s1, args);
        node.SetNextEdges(a, b);
        node.Save(result, a, b, null);
        return History.Set(result, node);
    }

    /// <summary>Records a three-input op when autograd should.</summary>
    public Tensor Record(Tensor result, Tensor a, Tensor b, Tensor c, Scalar s0 = default, Scalar s1 = default, object? args = null)
    {
        if (!History.ShouldRecord(a, b) && !History.ShouldRecord(c)) return result;
        var node = new RuleNode(this, s0, s1, args);
        node.SetNextEdges(new Tensor?[] { a, b, c });
        node.Save(result, a, b, c);
        return History.Set(result, node);
    }

    /// <summary>What the formulas of the inputs that need a gradient read, given which inputs need one.</summary>
    internal Needs NeedsFor(RuleNode node)
    {
        var needs = Needs.None;
        for (int i = 0; i < _formulas.Length; i++)
            if (_formulas[i] is not null && node.InputNeedsGrad(i)) needs |= _needs[i];
        return needs;
    }

    internal GradFormula? Formula(int input) => _formulas[input];
}

/// <summary>
/// The node every <see cref="Rule"/> records: the rule, the saved tensors its formulas read, the inputs' shapes and
/// the op's scalar arguments. Formulas read them through the properties (each unpack checks the version counter).
/// </summary>
internal sealed class RuleNode : Node
{
    readonly Rule _rule;
    SavedTensor _self, _other, _third, _result;
    long[]? _selfShape, _otherShape;

    /// <summary>The op's first scalar argument (alpha, an exponent, a lower bound...).</summary>
    public readonly Scalar Scalar;

    /// <summary>The op's second scalar argument.</summary>
    public readonly Scalar Scalar2;

    /// <summary>Any other forward argument a formula needs (dims, a size), as the op passed it.</summary>
    public readonly object? Args;

    internal RuleNode(Rule rule, Scalar s0, Scalar s1, object? args)
    {
        _rule = rule;
        Scalar = s0;
        Scalar2 = s1;
        Args = args;
    }

    internal bool InputNeedsGrad(int i) => NeedsInputGrad(i);

    internal void Save(Tensor result, Tensor a, Tensor? b, Tensor? c)
    {
        _selfShape = a._shape;
        _otherShape = b?._shape;
        var needs = _rule.NeedsFor(this);
        if ((needs & Needs.Self) != 0) _self = new SavedTensor(a);
        if ((needs & Needs.Other) != 0) _other = new SavedTensor(b!);
        if ((needs & Needs.Third) != 0) _third = new SavedTensor(c!);
        if ((needs & Needs.Result) != 0) _result = new SavedTensor(result, isOutput: true);
    }

    /// <summary>The first input, as saved.</summary>
    public Tensor Self => _self.Unpack(this);

    /// <summary>The second input, as saved.</summary>
    public Tensor Other => _other.Unpack(this);

    /// <summary>The third input, as saved.</summary>
    public Tensor Third => _third.Unpack(this);

    /// <summary>The op's result, as saved.</summary>
    public Tensor Result => _result.Unpack(this);

    /// <summary>The first input's shape (always kept; no tensor is saved for it).</summary>
    public long[] SelfShape => _selfShape!;

    /// <summary>The second input's shape.</summary>
    public long[] OtherShape => _otherShape!;

    /// <summary>Whether the formula of input <paramref name="i"/> runs (PyTorch's <c>should_compute_output</c>).</summary>
    public bool ShouldCompute(int i) => NeedsInputGrad(i);

    /// <inheritdoc/>
    public override string name() => _rule.Name;

    /// <inheritdoc/>
    protected internal override Tensor?[] Apply(Tensor?[] gradOutputs)
    {
        var grad = gradOutputs[0]!;
        var grads = new Tensor?[NextEdges.Length];
        for (int i = 0; i < grads.Length; i++)
            if (NeedsInputGrad(i) && _rule.Formula(i) is { } formula) grads[i] = formula(grad, this);
        return grads;
    }

    /// <inheritdoc/>
    protected internal override void ReleaseVariables()
    {
        _self.Release();
        _other.Release();
        _third.Release();
        _result.Release();
    }
}
