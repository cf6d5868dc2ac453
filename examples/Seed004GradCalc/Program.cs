// Seed 004 (PyTorch, Python): gradient calculation with autograd. The cells live in Seed004.Run.
Nabla.Examples.Seed004.Run(Console.Out);
