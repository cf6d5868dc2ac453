using static Nabla.Examples.Notebook;
using static Nabla.torch;

namespace Nabla.Examples;

/// <summary>
/// Seed tutorial 000 (<c>../shared/seeds/000_96f60b5a208aa418.txt</c>): libtorch's "Differentiation in Autograd",
/// ported cell by cell. Every tensor prints as libtorch's <c>std::cout &lt;&lt; t</c> does
/// (<see cref="TensorStringStyle.LibTorch"/>), bools as C++ prints them (<c>1</c>/<c>0</c>).
/// </summary>
public static class Seed000
{
    /// <summary>Runs every cell, writing what the notebook printed (one <c>In [n]:</c> header per printing cell).</summary>
    public static void Run(TextWriter output)
    {
        // In [1]: #pragma cling add_include_path(...) / load("libtorch") -- nothing to do: Nabla is a package reference.
        // In [2]: #include <torch/torch.h>; namespace nn = torch::nn; -- `using Nabla; using static Nabla.torch;`

        // # 1.1 basic usage
        // In [3]: torch::Tensor a = torch::tensor({2.0, 3.0}, torch::requires_grad());
        //         (C++'s {2.0, 3.0} makes a float32 tensor: libtorch's default dtype.)
        Tensor a = torch.tensor(new[] { 2.0f, 3.0f }, requires_grad: true);

        // In [4]: std::cout << a << std::endl;
        Cell(output, "4");
        Line(output, LibTorch(a));
        EndCell(output);

        // In [5]: torch::Tensor b = torch::tensor({6.0, 4.0}, torch::requires_grad());
        Tensor b = torch.tensor(new[] { 6.0f, 4.0f }, requires_grad: true);

        // In [6]: std::cout << b << std::endl;
        Cell(output, "6");
        Line(output, LibTorch(b));
        EndCell(output);

        // In [7]: torch::Tensor Q = 3*a.pow(3) - b.pow(2);
        Tensor Q = 3 * a.pow(3) - b.pow(2);

        // In [8]: std::cout << Q << std::endl;
        Cell(output, "8");
        Line(output, LibTorch(Q));
        EndCell(output);

        // In [9]: torch::Tensor external_grad = torch::tensor({1., 1.});
        //         Q.backward(/*gradient=*/external_grad);
        Tensor external_grad = torch.tensor(new[] { 1f, 1f });
        Q.backward(gradient: external_grad);

        // In [10]: std::cout << a.grad() << std::endl;
        Cell(output, "10");
        Line(output, LibTorch(a.grad));
        EndCell(output);

        // In [11]: std::cout << b.grad() << std::endl;
        Cell(output, "11");
        Line(output, LibTorch(b.grad));
        EndCell(output);

        // # 1.2 Computational Graph
        // In [12]: at::IntArrayRef shape = {3,1};
        //          torch::Tensor x = torch::randn(shape, torch::requires_grad());
        //          The tutorial's draw was unseeded: we seed the generator so the Tour prints the same numbers every
        //          run; they differ from the tutorial's (0.5560, -1.0466, -0.8018).
        torch.manual_seed(0);
        long[] shape = { 3, 1 };
        Tensor x = torch.randn(shape, requires_grad: true);

        // In [13]: std::cout << x << std::endl;
        Cell(output, "13");
        Line(output, LibTorch(x));
        EndCell(output);

        // In [14]: torch::Tensor y = x+1;
        //          std::cout << y << std::endl;
        //          std::cout << y.requires_grad() << std::endl;
        //          std::cout << y.grad_fn() << std::endl;
        //          std::cout << y.grad_fn()->name() << std::endl;
        Tensor y = x + 1;
        Cell(output, "14");
        Line(output, LibTorch(y));
        Line(output, CppBool(y.requires_grad));
        // C++ prints the node's address (0x55d18ace60d0), which cannot be reproduced: we print the node itself
        // (Python's repr, <AddBackward1 object at 0x...>), whose address changes from run to run too.
        Line(output, y.grad_fn!.ToString());
        Line(output, y.grad_fn!.name());
        EndCell(output);

        // In [15]: torch::Tensor z = y.pow(2) + 3;
        //          std::cout << z << std::endl;  ... requires_grad(), grad_fn(), grad_fn()->name()
        Tensor z = y.pow(2) + 3;
        Cell(output, "15");
        Line(output, LibTorch(z));
        Line(output, CppBool(z.requires_grad));
        Line(output, z.grad_fn!.ToString()); // the C++ pointer (0x55d18ad30240), as in cell 14
        Line(output, z.grad_fn!.name());
        EndCell(output);

        // ## Disabling Gradient Tracking
        {
            // In [16]: at::IntArrayRef shape = {5,5};
            //          torch::Tensor x = torch::rand(shape);
            //          torch::Tensor y = torch::rand(shape);
            //          torch::Tensor z = torch::rand(shape, torch::requires_grad());
            //          (C++ redeclares x, y, z, a, b in a new cling cell; C# takes new names in a block.)
            long[] shape2 = { 5, 5 };
            Tensor x2 = torch.rand(shape2);
            Tensor y2 = torch.rand(shape2);
            Tensor z2 = torch.rand(shape2, requires_grad: true);

            // In [17]: torch::Tensor a = x + y;
            //          std::cout << "Does `a` require gradients? : " << a.requires_grad() << std::endl;
            Tensor a2 = x2 + y2;
            Cell(output, "17");
            Line(output, "Does `a` require gradients? : " + CppBool(a2.requires_grad));
            EndCell(output);

            // In [18]: torch::Tensor b = x + z;
            //          std::cout << "Does `b` require gradients? : " << b.requires_grad() << std::endl;
            Tensor b2 = x2 + z2;
            Cell(output, "18");
            Line(output, "Does `b` require gradients? : " + CppBool(b2.requires_grad));
            EndCell(output);

            // In [19]: { torch::NoGradGuard no_grad;
            //            torch::Tensor c = x + z;
            //            std::cout << "Does `c` require gradients? : " << c.requires_grad() << std::endl; }
            Cell(output, "19");
            using (torch.no_grad())
            {
                Tensor c = x2 + z2;
                Line(output, "Does `c` require gradients? : " + CppBool(c.requires_grad));
            }
            EndCell(output);

            // In [21]: torch::Tensor d = x + z;
            //          torch::Tensor d_detached = d.detach();
            //          std::cout << "Does `d_detached` require gradients? : " << d_detached.requires_grad() << std::endl;
            Tensor d = x2 + z2;
            Tensor d_detached = d.detach();
            Cell(output, "21");
            Line(output, "Does `d_detached` require gradients? : " + CppBool(d_detached.requires_grad));
            EndCell(output);
        }

        // # 1.3 autograd in Neutral Network
        {
            // In [22]: int sample_size = 2;
            //          int number_features = 3;
            //          torch::Tensor x = torch::arange(sample_size*number_features).reshape({sample_size,number_features}) * 1.0;
            int sample_size = 2;
            int number_features = 3;
            // (x3: this cell's x; C# cannot redeclare x in the same method, as cling redeclares it per cell.)
            Tensor x3 = torch.arange(sample_size * number_features).reshape(sample_size, number_features) * 1.0;

            // In [24]: std::cout << x << std::endl;
            Cell(output, "24");
            Line(output, LibTorch(x3));
            EndCell(output);

            // In [26]: torch::Tensor target = torch::arange(2, sample_size+2).reshape({sample_size, 1}) * 1.0;
            Tensor target = torch.arange(2, sample_size + 2).reshape(sample_size, 1) * 1.0;

            // In [27]: std::cout << target << std::endl;
            Cell(output, "27");
            Line(output, LibTorch(target));
            EndCell(output);

            // In [28]: torch::Tensor w = torch::ones({3,1}, torch::requires_grad());
            Tensor w = torch.ones(new long[] { 3, 1 }, requires_grad: true);

            // In [29]: std::cout << w << std::endl;
            //          std::cout << w.grad() << std::endl;
            Cell(output, "29");
            Line(output, LibTorch(w));
            Line(output, LibTorch(w.grad)); // undefined: [ Tensor (undefined) ]
            EndCell(output);

            // In [30]: torch::Tensor output = x.matmul(w);
            //          std::cout << output << std::endl;
            Tensor output_ = x3.matmul(w); // `output` is Run's TextWriter here
            Cell(output, "30");
            Line(output, LibTorch(output_));
            EndCell(output);

            // In [31]: torch::Tensor loss = (output - target).square().mean();
            Tensor loss = (output_ - target).square().mean();

            // In [32]: loss.backward();
            loss.backward();

            // In [33]: std::cout << w.grad() << std::endl;
            Cell(output, "33");
            Line(output, LibTorch(w.grad));
            EndCell(output);

            // In [34]: void update_param(torch::Tensor param, float learning_rate) { ... }  (the local function below)
            // In [35]: update_param(w, 0.01);
            update_param(w, 0.01f);

            // In [36]: std::cout << w << std::endl;
            Cell(output, "36");
            Line(output, LibTorch(w));
            EndCell(output);
        }
    }

    // In [34]: void update_param(torch::Tensor param, float learning_rate){
    //              torch::NoGradGuard no_grad;
    //              param.data().add_(param.grad(), -1 * learning_rate);
    //          }
    static void update_param(Tensor param, float learning_rate)
    {
        using var no_grad = torch.no_grad();
        param.data.add_(param.grad!, -1 * learning_rate);
    }
}
