using static Nabla.Examples.Notebook;
using static Nabla.torch;

namespace Nabla.Examples;

/// <summary>
/// Seed tutorial 003 (<c>../shared/seeds/003_265d10e7741456e0.txt</c>): R torch's "Automatic differentiation with
/// autograd", ported block by block. Tensors print as R torch prints them (<see cref="TensorStringStyle.R"/>), graph
/// nodes by name, and lists of nodes as R lists (<c>[[1]]</c> then the entry).
/// </summary>
/// <remarks>
/// The R post has no cell numbers: the output headers number its code blocks that print something, in order
/// (<c>In [1]:</c> = <c>y$grad_fn</c>, ...). R calls libtorch's Scalar overloads, as C# operators do, so
/// <c>x2 + 2</c> is <c>AddBackward1</c> and <c>y$pow(2) * 3</c> is <c>MulBackward1</c> with no extra work.
/// </remarks>
public static class Seed003
{
    /// <summary>Runs every block, writing what the post printed (one <c>In [n]:</c> header per printing block).</summary>
    public static void Run(TextWriter output)
    {
        // ## Autograd basics
        // library(torch)
        // x <- torch_ones(2, 2, requires_grad = TRUE)
        Tensor x = torch.ones(2, 2, requires_grad: true);

        // y <- x$mean()
        Tensor y = x.mean();

        // y$grad_fn
        Cell(output, "1");
        Line(output, y.grad_fn!.name());
        EndCell(output);

        // y$backward()
        y.backward();

        // x$grad
        Cell(output, "2");
        Line(output, x.grad!.ToString(TensorStringStyle.R));
        EndCell(output);

        // ## Digging deeper
        // x1 <- torch_ones(2, 2, requires_grad = TRUE)
        // x2 <- torch_tensor(1.1, requires_grad = TRUE)     (an R number is a length-1 vector: shape {1})
        // y <- x1 * (x2 + 2)
        // z <- y$pow(2) * 3
        // out <- z$mean()
        Tensor x1 = torch.ones(2, 2, requires_grad: true);
        Tensor x2 = torch.tensor(new[] { 1.1f }, requires_grad: true);
        y = x1 * (x2 + 2);
        Tensor z = y.pow(2) * 3;
        Tensor @out = z.mean();

        // y$retain_grad()
        // z$retain_grad()
        y.retain_grad();
        z.retain_grad();

        Cell(output, "3");
        // # how to compute the gradient for mean, the last operation executed
        // out$grad_fn
        Line(output, @out.grad_fn!.name());
        // # how to compute the gradient for the multiplication by 3 in z = y.pow(2) * 3
        // out$grad_fn$next_functions
        Line(output, RNextFunctions(@out.grad_fn!));
        // # how to compute the gradient for pow in z = y.pow(2) * 3
        // out$grad_fn$next_functions[[1]]$next_functions
        var mul3 = @out.grad_fn!.next_functions[0].node!;
        Line(output, RNextFunctions(mul3));
        // # how to compute the gradient for the multiplication in y = x * (x + 2)
        // out$grad_fn$next_functions[[1]]$next_functions[[1]]$next_functions
        var pow = mul3.next_functions[0].node!;
        Line(output, RNextFunctions(pow));
        // # how to compute the gradient for the two branches of y = x * (x + 2),
        // # where the left branch is a leaf node (AccumulateGrad for x1)
        // out$grad_fn$next_functions[[1]]$next_functions[[1]]$next_functions[[1]]$next_functions
        var mul = pow.next_functions[0].node!;
        Line(output, RNextFunctions(mul));
        // # here we arrive at the other leaf node (AccumulateGrad for x2)
        // out$grad_fn$next_functions[[1]]$next_functions[[1]]$next_functions[[1]]$next_functions[[2]]$next_functions
        var add = mul.next_functions[1].node!;
        Line(output, RNextFunctions(add));
        EndCell(output);

        // out$backward()
        // z$grad
        // y$grad
        // x2$grad
        // x1$grad
        @out.backward();
        Cell(output, "4");
        Line(output, z.grad!.ToString(TensorStringStyle.R));
        Line(output, y.grad!.ToString(TensorStringStyle.R));
        Line(output, x2.grad!.ToString(TensorStringStyle.R));
        Line(output, x1.grad!.ToString(TensorStringStyle.R));
        EndCell(output);

        // ## The simple network, now using autograd
        // (The three-line excerpt -- y_pred, loss, loss$backward() -- is the training loop's body below.)
        Cell(output, "5");
        TrainMlp(output);
        EndCell(output);
    }

    // The complete code of the post's last block. The post shows no output for it; the data and the weights come from
    // unseeded torch_randn draws, which we seed, so the losses printed repeat from run to run.
    static void TrainMlp(TextWriter output)
    {
        // ### generate training data -----
        // # input dimensionality (number of input features)
        // d_in <- 3
        // # output dimensionality (number of predicted features)
        // d_out <- 1
        // # number of observations in training set
        // n <- 100
        long d_in = 3;
        long d_out = 1;
        long n = 100;

        // # create random data
        // x <- torch_randn(n, d_in)
        // y <- x[, 1, NULL] * 0.2 - x[, 2, NULL] * 1.3 - x[, 3, NULL] * 0.5 + torch_randn(n, 1)
        // (R indexes from 1: x[, 1, NULL] is column 0 kept 2-D by a new axis.)
        torch.manual_seed(0);
        Tensor x = torch.randn(n, d_in);
        var all = TensorIndex.Colon;   // R leaves the index empty
        var NULL = TensorIndex.None;
        Tensor y = x[all, 0, NULL] * 0.2 - x[all, 1, NULL] * 1.3 - x[all, 2, NULL] * 0.5 + torch.randn(n, 1);

        // ### initialize weights -----
        // # dimensionality of hidden layer
        // d_hidden <- 32
        // # weights connecting input to hidden layer
        // w1 <- torch_randn(d_in, d_hidden, requires_grad = TRUE)
        // # weights connecting hidden to output layer
        // w2 <- torch_randn(d_hidden, d_out, requires_grad = TRUE)
        // # hidden layer bias
        // b1 <- torch_zeros(1, d_hidden, requires_grad = TRUE)
        // # output layer bias
        // b2 <- torch_zeros(1, d_out, requires_grad = TRUE)
        long d_hidden = 32;
        Tensor w1 = torch.randn(d_in, d_hidden, requires_grad: true);
        Tensor w2 = torch.randn(d_hidden, d_out, requires_grad: true);
        Tensor b1 = torch.zeros(1, d_hidden, requires_grad: true);
        Tensor b2 = torch.zeros(1, d_out, requires_grad: true);

        // ### network parameters -----
        // learning_rate <- 1e-4
        double learning_rate = 1e-4;

        // ### training loop -----
        // for (t in 1:200) {
        for (int t = 1; t <= 200; t++)
        {
            //   ### ----- Forward pass -----
            //   y_pred <- x$mm(w1)$add(b1)$clamp(min = 0)$mm(w2)$add(b2)
            Tensor y_pred = x.mm(w1).add(b1).clamp(min: 0).mm(w2).add(b2);

            //   ### ----- compute loss -----
            //   loss <- (y_pred - y)$pow(2)$sum()
            //   if (t %% 10 == 0)
            //     cat("Epoch: ", t, "    Loss: ", loss$item(), "\n")
            Tensor loss = (y_pred - y).pow(2).sum();
            if (t % 10 == 0)
                output.Write("Epoch:  " + t + "     Loss:  " + RNumber(loss.item<float>()) + " \n"); // cat() joins with " "

            //   ### ----- Backpropagation -----
            //   # compute gradient of loss w.r.t. all tensors with requires_grad = TRUE
            //   loss$backward()
            loss.backward();

            //   ### ----- Update weights -----
            //   # Wrap in with_no_grad() because this is a part we DON'T
            //   # want to record for automatic gradient computation
            //   with_no_grad({
            using (torch.no_grad())
            {
                //     w1 <- w1$sub_(learning_rate * w1$grad)
                //     w2 <- w2$sub_(learning_rate * w2$grad)
                //     b1 <- b1$sub_(learning_rate * b1$grad)
                //     b2 <- b2$sub_(learning_rate * b2$grad)
                w1 = w1.sub_(learning_rate * w1.grad!);
                w2 = w2.sub_(learning_rate * w2.grad!);
                b1 = b1.sub_(learning_rate * b1.grad!);
                b2 = b2.sub_(learning_rate * b2.grad!);

                //     # Zero gradients after every pass, as they'd accumulate otherwise
                //     w1$grad$zero_()
                //     w2$grad$zero_()
                //     b1$grad$zero_()
                //     b2$grad$zero_()
                w1.grad!.zero_();
                w2.grad!.zero_();
                b1.grad!.zero_();
                b2.grad!.zero_();
            }
            //   })
        }
        // }
    }
}
