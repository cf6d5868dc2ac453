using static Nabla.Examples.Notebook;
using static Nabla.torch;

namespace Nabla.Examples;

/// <summary>
/// Seed tutorial 001 (<c>../shared/seeds/001_a56dcf249eeb04e8.txt</c>): "Automatic Differentiation with
/// <c>torch.autograd</c>", ported cell by cell; tensors print as Python's repr (<c>ToString()</c>).
/// </summary>
/// <remarks>
/// The loss cells (<c>binary_cross_entropy_with_logits</c>, cells 6-8) need <c>torch.nn.functional</c>: they are in
/// <c>Seed001.Loss.cs</c>.
/// </remarks>
public static partial class Seed001
{
    /// <summary>Runs every cell, writing what the notebook printed (one <c>In [n]:</c> header per printing cell).</summary>
    public static void Run(TextWriter output)
    {
        // In [1]: print("Automatic Differentiation with torch.autograd()")
        Cell(output, "1");
        Line(output, "Automatic Differentiation with torch.autograd()");
        EndCell(output);

        // In [2]: import torch  -- `using Nabla; using static Nabla.torch;`

        // In [6]: x = torch.ones(5)
        //         y = torch.zeros(3)
        //         w = torch.randn(5,3, requires_grad=True)
        //         b = torch.randn(3, requires_grad=True)
        //         The tutorial's draws were unseeded: we seed the generator, so w and b (and everything computed
        //         from them: z, loss, the gradients) differ from the tutorial's numbers but repeat from run to run.
        Tensor x = torch.ones(5);
        Tensor y = torch.zeros(3);

        torch.manual_seed(0);
        Tensor w = torch.randn(5, 3, requires_grad: true);
        Tensor b = torch.randn(3, requires_grad: true);

        //         z = torch.matmul(x,w) + b
        //         loss = torch.nn.functional.binary_cross_entropy_with_logits(z,y)   (Seed001.Loss.cs)
        //         print(x, "\n", y, "\n", w, "\n", b)
        //         print(z)
        //         print(loss)
        Tensor z = torch.matmul(x, w) + b;
        Cell(output, "6");
        // print() joins its arguments with spaces: "\n" between two of them gives "... \n ...".
        Line(output, x + " " + "\n" + " " + y + " " + "\n" + " " + w + " " + "\n" + " " + b);
        Line(output, z.ToString());
        LossCells(output, x, y, w, b, z);
        EndCell(output);

        // In [9]: z = torch.matmul(x,w) + b
        //         print(z)
        //         with torch.no_grad():
        //             z = torch.matmul(x,w) + b
        //         print(z)
        z = torch.matmul(x, w) + b;
        Cell(output, "9");
        Line(output, z.ToString());
        using (torch.no_grad())
        {
            z = torch.matmul(x, w) + b;
        }
        Line(output, z.ToString());
        EndCell(output);

        // In [10]: z = torch.matmul(x,w) + b
        //          z_det = z.detach()
        //          print(z_det)
        //          print(z_det.requires_grad)
        z = torch.matmul(x, w) + b;
        Tensor z_det = z.detach();
        Cell(output, "10");
        Line(output, z_det.ToString());
        Line(output, PyBool(z_det.requires_grad));
        EndCell(output);

        // In [12]: inp = torch.eye(4,5, requires_grad=True)
        //          out = (inp+1).pow(2).t()
        //          print(inp, "\n", out)
        Tensor inp = torch.eye(4, 5, requires_grad: true);
        Tensor @out = (inp + 1).pow(2).t();
        Cell(output, "12");
        Line(output, inp + " " + "\n" + " " + @out);

        //          out.backward(torch.ones_like(out), retain_graph=True)
        //          print(f"First call\n{inp.grad}")
        @out.backward(torch.ones_like(@out), retain_graph: true);
        Line(output, $"First call\n{inp.grad}");

        //          out.backward(torch.ones_like(out), retain_graph=True)
        //          print(f"Second call\n{inp.grad}")
        @out.backward(torch.ones_like(@out), retain_graph: true);
        Line(output, $"Second call\n{inp.grad}");

        //          inp.grad.zero_()
        //          out.backward(torch.ones_like(out), retain_graph=True)
        //          print(f"\nCall after zeroing gradients\n{inp.grad}")
        inp.grad!.zero_();
        @out.backward(torch.ones_like(@out), retain_graph: true);
        Line(output, $"\nCall after zeroing gradients\n{inp.grad}");
        EndCell(output);
    }

    /// <summary>
    /// The rest of cell 6 (the loss and its print) and cells 7 and 8, all of which need
    /// <c>binary_cross_entropy_with_logits</c>; implemented in <c>Seed001.Loss.cs</c>.
    /// </summary>
    static partial void LossCells(TextWriter output, Tensor x, Tensor y, Tensor w, Tensor b, Tensor z);
}
