using Nabla.Autograd;
using Nabla.Backends;

namespace Nabla.Ops;

/// <summary>where, maximum, minimum: selections whose gradients are masks.</summary>
internal static class Elementary
{
    // where: the gradient masked into each branch (the condition rides along as the rule's args).
    static readonly Rule WhereRule = Rule.Binary("WhereBackward0",
        Needs.None, static (g, s) => torch.where((Tensor)s.Args!, g, torch.zeros_like(g)),
        Needs.None, static (g, s) => torch.where((Tensor)s.Args!, torch.zeros_like(g), g));

    // maximum/minimum: the winner gets the gradient; a tie gives half to each.
    static readonly Rule MaximumRule = Rule.Binary("MaximumBackward0",
        Needs.Self | Needs.Other, static (g, s) => g * Share(g, s, max: true),
        Needs.Self | Needs.Other, static (g, s) => g * (1 - Share(g, s, max: true)));
    static readonly Rule MinimumRule = Rule.Binary("MinimumBackward0",
        Needs.Self | Needs.Other, static (g, s) => g * Share(g, s, max: false),
        Needs.Self | Needs.Other, static (g, s) => g * (1 - Share(g, s, max: false)));

    /// <summary>The first input's share of the gradient: 1 where it wins, 0.5 at a tie, 0 where it loses.</summary>
    static Tensor Share(Tensor g, RuleNode s, bool max)
    {
        var a = s.Self; var b = s.Other;
        return (max ? a > b : a < b).to(g.dtype) + (a == b).to(g.dtype) * 0.5;
    }

    public static Tensor Where(Tensor condition, Tensor x, Tensor y)
    {
        if (condition._dtype != ScalarType.Bool)
            throw new ArgumentException($"where expected condition to be a boolean tensor, but got a tensor with dtype {condition._dtype.CppScalarName()}");
        var dtype = Raw.ResultType(x, y);
        var shape = ShapeUtil.Broadcast(ShapeUtil.Broadcast(condition._shape, x._shape), y._shape);
        Raw.CheckSameDevice(condition, x, y);
        var result = Tensor.EmptyLike(x, dtype, shape);
        if (result._numel > 0) x.Backend.Where(result.Raw, condition.Raw, Raw.Cast(x, dtype).Raw, Raw.Cast(y, dtype).Raw);
        return WhereRule.Record(result, x, y, args: condition);
    }

    public static Tensor Maximum(Tensor a, Tensor b) => MaxMin(a, b, true);

    public static Tensor Minimum(Tensor a, Tensor b) => MaxMin(a, b, false);

    static Tensor MaxMin(Tensor a, Tensor b, bool max)
    {
        var dtype = Raw.ResultType(a, b);
        var result = Raw.Binary(max ? BinaryOp.Max : BinaryOp.Min, a, b, dtype);
        return (max ? MaximumRule : MinimumRule).Record(result, a, b);
    }
}
