using static Nabla.Examples.Notebook;
using static Nabla.torch;

namespace Nabla.Examples;

/// <summary>
/// Seed tutorial 004 (<c>../shared/seeds/004_e061e2e1350548e3.txt</c>): "Gradient calculation with autograd",
/// ported cell by cell; tensors print as Python's repr (<c>ToString()</c>), numbers in f-strings as Python's
/// <c>repr(float)</c>.
/// </summary>
/// <remarks>
/// Cells 2-11 start from unseeded <c>torch.randn</c> draws: we seed the generator, so their numbers differ from the
/// tutorial's but repeat from run to run. Python wraps the number in <c>x + 2</c> into a 0-d tensor
/// (<c>AddBackward0</c>); C#'s <c>x + 2</c> is libtorch's Scalar overload (<c>AddBackward1</c>), so where the node's
/// name is printed we write the wrapping out: <c>x + torch.tensor(2)</c>.
/// </remarks>
public static partial class Seed004
{
    /// <summary>Runs every cell, writing what the notebook printed (one <c>In [n]:</c> header per printing cell).</summary>
    public static void Run(TextWriter output)
    {
        // In [1]: import torch  -- `using Nabla; using static Nabla.torch;`

        // In [2]: x = torch.randn(3, requires_grad=True)
        //         print(x)
        torch.manual_seed(0);
        Tensor x = torch.randn(3, requires_grad: true);
        Cell(output, "2");
        Line(output, x.ToString());
        EndCell(output);

        // In [3]: y = x + 2
        //         print(y)
        Tensor y = x + torch.tensor(2);
        Cell(output, "3");
        Line(output, y.ToString());
        EndCell(output);

        // In [4]: z = (y**2*2).mean()
        //         print(z)
        Tensor z = (y.pow(2) * torch.tensor(2)).mean();
        Cell(output, "4");
        Line(output, z.ToString());
        EndCell(output);

        // In [5]: z.backward() #dz/dx
        z.backward();

        // In [6]: print(x.grad)
        Cell(output, "6");
        Line(output, x.grad!.ToString());
        EndCell(output);

        // In [7]: z2 = y**2*2
        //         print(z2)
        Tensor z2 = y.pow(2) * torch.tensor(2);
        Cell(output, "7");
        Line(output, z2.ToString());
        EndCell(output);

        // In [8]: z2.backward(torch.Tensor([1.0,1.0,1.0]))
        //         print(x.grad)
        //         (torch.Tensor(list) is the legacy float32 constructor: torch.tensor of floats.)
        z2.backward(torch.tensor(new[] { 1.0f, 1.0f, 1.0f }));
        Cell(output, "8");
        Line(output, x.grad!.ToString());
        EndCell(output);

        // In [9]: x = torch.randn(3, requires_grad=True)
        //         x.requires_grad_(False)
        //         print(x)
        x = torch.randn(3, requires_grad: true);
        x.requires_grad_(false);
        Cell(output, "9");
        Line(output, x.ToString());
        EndCell(output);

        // In [10]: x = torch.randn(3, requires_grad=True)
        //          x_new = x.detach()
        //          print(x_new)
        x = torch.randn(3, requires_grad: true);
        Tensor x_new = x.detach();
        Cell(output, "10");
        Line(output, x_new.ToString());
        EndCell(output);

        // In [11]: x = torch.randn(3, requires_grad=True)
        //          with torch.no_grad():
        //              y = x*2
        //              print(y)
        x = torch.randn(3, requires_grad: true);
        Cell(output, "11");
        using (torch.no_grad())
        {
            y = x * 2;
            Line(output, y.ToString());
        }
        EndCell(output);

        // In [12]: # initialize x
        //          x = torch.ones(4, requires_grad=True)
        x = torch.ones(4, requires_grad: true);
        Cell(output, "12");
        //          # create a loop: at each loop look at the value of x.grad
        //          for epoch in range(3):
        for (int epoch = 0; epoch < 3; epoch++)
        {
            //     # define a variable y that depends on x
            //     y = (x*3).sum()
            y = (x * 3).sum();
            //     # compute the gradients wrt x
            //     y.backward()
            y.backward();
            //     # print the gradient computed wrt x
            //     print(x.grad)
            Line(output, x.grad!.ToString());
        }
        EndCell(output);

        // In [13]: (the same loop, resetting the gradients with x.grad.zero_() after each print)
        x = torch.ones(4, requires_grad: true);
        Cell(output, "13");
        for (int epoch = 0; epoch < 3; epoch++)
        {
            y = (x * 3).sum();
            y.backward();
            Line(output, x.grad!.ToString());
            //     # reset the gradients
            //     x.grad.zero_()
            x.grad!.zero_();
        }
        EndCell(output);

        // In [15]: the optimizer loop: Seed004.Optim.cs.
        Cell(output, "15");
        OptimizerCell(output);
        EndCell(output);
    }
}
