using static Nabla.Examples.Notebook;
using static Nabla.torch;

namespace Nabla.Examples;

public static partial class Seed004
{
    // In [15]: the loop stepping x with torch.optim.SGD.
    static void OptimizerCell(TextWriter output)
    {
        // # initialize x
        // x = torch.ones(4, requires_grad=True)
        // print(f'x: {x}', '\n')
        Tensor x = torch.ones(4, requires_grad: true);
        Line(output, $"x: {x}" + " " + "\n");

        // # initialize the optimizer, defining the parameters to optimize and setting the learning rate
        // params, lr = [x], 0.01 # the params parameter of SGD accepts only a list of parameters
        // optimizer = torch.optim.SGD(params, lr)
        var @params = new[] { x };
        double lr = 0.01;
        var optimizer = torch.optim.SGD(@params, lr);

        // # create a loop: at each loop look at the value of x.grad
        // for epoch in range(3):
        for (int epoch = 0; epoch < 3; epoch++)
        {
            //     print(f'epoch {epoch+1}')
            Line(output, $"epoch {epoch + 1}");

            //     # define a variable y that depends on x
            //     y = (x*3).sum()
            Tensor y = (x * 3).sum();

            //     # compute the gradients wrt x
            //     y.backward()
            y.backward();

            //     # print the gradient computed wrt x
            //     print(f'x.grad: {x.grad}')
            //     x_old = x.clone()
            Line(output, $"x.grad: {x.grad}");
            Tensor x_old = x.clone();

            //     # launch an optimizer step: it updates the values of x to minimize the gradient
            //     optimizer.step()
            optimizer.step();

            //     print(f'x_new[i] = x_old[i] - (x.grad[i] * lr) = {x_old[0]} - ({x.grad[0]} * {lr}) = {x_old[0] - (x.grad[0] * lr)}')
            //     A 0-d tensor in an f-string formats as its item(), a Python float.
            Tensor x_old0 = x_old[0];
            Tensor grad0 = x.grad![0];
            Line(output, $"x_new[i] = x_old[i] - (x.grad[i] * lr) = {PyFloat(x_old0.item<float>())} - " +
                         $"({PyFloat(grad0.item<float>())} * {PyFloat(lr)}) = {PyFloat((x_old0 - (grad0 * lr)).item<float>())}");

            //     print(f'x: {x}', '\n')
            Line(output, $"x: {x}" + " " + "\n");

            //     # reset the gradients
            //     x.grad.zero_()
            x.grad!.zero_();
        }
    }

}
