using static Nabla.Examples.Notebook;
using static Nabla.torch;

namespace Nabla.Examples;

public static partial class Seed001
{
    static partial void LossCells(TextWriter output, Tensor x, Tensor y, Tensor w, Tensor b, Tensor z)
    {
        // In [6] (continued): loss = torch.nn.functional.binary_cross_entropy_with_logits(z,y)
        //                     print(loss)
        Tensor loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y);
        Line(output, loss.ToString());
        EndCell(output);

        // In [7]: print(f"Gradient function for z = {z.grad_fn}")
        //         print(f"Gradient function for loss = {loss.grad_fn}")
        //         (The addresses in "<AddBackward0 object at 0x11af53c70>" change from run to run.)
        Cell(output, "7");
        Line(output, $"Gradient function for z = {z.grad_fn}");
        Line(output, $"Gradient function for loss = {loss.grad_fn}");
        EndCell(output);

        // In [8]: loss.backward()
        //         print(w.grad)
        //         print(b.grad)
        //         print(loss)
        loss.backward();
        Cell(output, "8");
        Line(output, w.grad!.ToString());
        Line(output, b.grad!.ToString());
        Line(output, loss.ToString());
        // Run() ends the cell.
    }
}
