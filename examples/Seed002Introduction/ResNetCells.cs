using static Nabla.torch;

namespace Nabla.Examples;

public static partial class Seed002
{
    static partial void ResNetCells(TextWriter output)
    {
        _ = output; // these cells print nothing in the notebook

        // In [None]: import torch, torchvision
        //            model = torchvision.models.resnet18(pretrained=True)
        //            data = torch.rand(1, 3, 64, 64)
        //            labels = torch.rand(1, 1000)
        //            (Nabla downloads nothing: the model keeps its random initialisation instead of the pretrained
        //            weights. The draws are unseeded in the notebook; we seed them.)
        torch.manual_seed(0);
        var model = torchvision.models.resnet18();
        Tensor data = torch.rand(1, 3, 64, 64);
        Tensor labels = torch.rand(1, 1000);

        // In [None]: prediction = model(data) # forward pass
        Tensor prediction = model.call(data);

        // In [None]: loss = (prediction - labels).sum()
        //            loss.backward() # backward pass
        Tensor loss = (prediction - labels).sum();
        loss.backward();

        // In [None]: optim = torch.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
        var optim = torch.optim.SGD(model.parameters(), 1e-2, momentum: 0.9);

        // In [None]: optim.step() # gradient descent
        optim.step();
    }
}
