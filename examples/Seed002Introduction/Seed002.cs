using static Nabla.Examples.Notebook;
using static Nabla.torch;

namespace Nabla.Examples;

/// <summary>
/// Seed tutorial 002 (<c>../shared/seeds/002_350151eeef2b41de.txt</c>): "A introduction of torch.autograd",
/// ported cell by cell; tensors print as Python's repr (<c>ToString()</c>), tuples and <c>torch.Size</c> as Python
/// echoes them.
/// </summary>
/// <remarks>
/// The notebook's first five cells (torchvision <c>resnet18</c>, forward, backward, <c>SGD(momentum=0.9).step()</c>)
/// are in <c>ResNetCells.cs</c>; they run last here, after the
/// deterministic cells, because they draw random numbers and print nothing.
/// </remarks>
public static partial class Seed002
{
    /// <summary>Runs every cell, writing what the notebook printed (one <c>In [n]:</c> header per printing cell).</summary>
    public static void Run(TextWriter output)
    {
        // ## Differentiation in autograd
        // In [1]: import torch
        //         a = torch.tensor([2., 3.], requires_grad=True)
        //         b = torch.tensor([6., 4.], requires_grad=True)
        Tensor a = torch.tensor(new[] { 2f, 3f }, requires_grad: true);
        Tensor b = torch.tensor(new[] { 6f, 4f }, requires_grad: true);

        // In [2]: a, b
        Cell(output, "2");
        Line(output, PyTuple(a.ToString(), b.ToString()));
        EndCell(output);

        // In [3]: a.shape, b.shape
        Cell(output, "3");
        Line(output, PyTuple(torch.Size(a.shape), torch.Size(b.shape)));
        EndCell(output);

        // In [4]: Q = 3* a**3 - b**2
        //         Q, Q.shape, type(Q)
        Tensor Q = 3 * a.pow(3) - b.pow(2);
        Cell(output, "4");
        Line(output, PyTuple(Q.ToString(), torch.Size(Q.shape), PyType(Q)));
        EndCell(output);

        // In [5]: external_grad = torch.tensor([1.5, 1.9])
        //         Q.backward(gradient=external_grad)
        Tensor external_grad = torch.tensor(new[] { 1.5f, 1.9f });
        Q.backward(gradient: external_grad);

        // In [6]: # check if the gradients collected are correct
        //         print(9*a**2, a.grad)
        //         print(9*a**2 == a.grad)
        //         print(-2*b, b.grad)
        //         print(-2*b == b.grad)
        Cell(output, "6");
        PrintGradientCheck(output, a, b);
        EndCell(output);

        // In [None]: (never run in the notebook, so it shows no output; it prints cell 6's lines again, since L's
        //            backward fills c.grad and d.grad, not a.grad and b.grad)
        //         c = torch.tensor([2., 3.], requires_grad=True)
        //         d = torch.tensor([6., 4.], requires_grad=True)
        //         L = 3* c**3 - d**2
        //         external_grad2 = torch.tensor([1.5, 0.5])
        //         L.backward(gradient=external_grad2)
        //         print(9*a**2, a.grad) ... print(-2*b == b.grad)
        Tensor c = torch.tensor(new[] { 2f, 3f }, requires_grad: true);
        Tensor d = torch.tensor(new[] { 6f, 4f }, requires_grad: true);
        Tensor L = 3 * c.pow(3) - d.pow(2);
        Tensor external_grad2 = torch.tensor(new[] { 1.5f, 0.5f });
        L.backward(gradient: external_grad2);
        Cell(output, "None");
        PrintGradientCheck(output, a, b);
        EndCell(output);

        // In [None]: type(L)   (never run in the notebook)
        Cell(output, "None");
        Line(output, PyType(L));
        EndCell(output);

        // In [26]: import torch
        //          x = torch.tensor([1., 2.], requires_grad=True)
        //          x
        Tensor x = torch.tensor(new[] { 1f, 2f }, requires_grad: true);
        Cell(output, "26");
        Line(output, x.ToString());
        EndCell(output);

        // In [27]: y1 = 2*x[0]**2 + x[1]
        //          y2 = 3*x[0] + 4*x[1]**3
        //          y = torch.tensor([y1, y2])
        //          y, type(y)
        Tensor y1 = 2 * x[0].pow(2) + x[1];
        Tensor y2 = 3 * x[0] + 4 * x[1].pow(3);
        Tensor y = torch.tensor(new[] { y1, y2 }); // copies the values: y has no history
        Cell(output, "27");
        Line(output, PyTuple(y.ToString(), PyType(y)));
        EndCell(output);

        // In [30]: external_grad3 = torch.tensor([1., 1.])
        //          y.backward(torch.ones(y.shape))
        //          x.grad
        //          The notebook stops with a RuntimeError (InvalidOperationException in .NET); we print its last line.
        Tensor external_grad3 = torch.tensor(new[] { 1f, 1f });
        _ = external_grad3;
        Cell(output, "30");
        try
        {
            y.backward(torch.ones(y.shape));
            Line(output, x.grad?.ToString() ?? "None");
        }
        catch (InvalidOperationException e)
        {
            Line(output, "RuntimeError: " + e.Message);
        }
        EndCell(output);

        // ## Usage in PyTorch (the notebook's first cells, In [None] x5): see ResNetCells.cs.
        ResNetCells(output);
    }

    // print(9*a**2, a.grad); print(9*a**2 == a.grad); print(-2*b, b.grad); print(-2*b == b.grad)
    // Python turns the number in `9*a**2` into a 0-d tensor and calls mul(Tensor, Tensor): MulBackward0. C#'s
    // `9 * t` is libtorch's Scalar overload (MulBackward1, as C++ and R print it), so we write Python's wrapping
    // out: torch.tensor(9) * t.
    static void PrintGradientCheck(TextWriter output, Tensor a, Tensor b)
    {
        Line(output, (torch.tensor(9) * a.pow(2)) + " " + a.grad);
        Line(output, (torch.tensor(9) * a.pow(2) == a.grad!).ToString());
        Line(output, (torch.tensor(-2) * b) + " " + b.grad);
        Line(output, (torch.tensor(-2) * b == b.grad!).ToString());
    }

    // type(t) for a tensor, as the notebook echoes it.
    static string PyType(Tensor t)
    {
        _ = t;
        return "torch.Tensor";
    }

    /// <summary>The resnet18 cells (<c>ResNetCells.cs</c>).</summary>
    static partial void ResNetCells(TextWriter output);
}
