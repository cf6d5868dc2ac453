// Seed 002 (PyTorch, Python): a introduction of torch.autograd. The cells live in Seed002.Run.
Nabla.Examples.Seed002.Run(Console.Out);
