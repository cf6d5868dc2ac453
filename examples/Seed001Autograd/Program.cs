// Seed 001 (PyTorch, Python): automatic differentiation with torch.autograd. The cells live in Seed001.Run.
Nabla.Examples.Seed001.Run(Console.Out);
