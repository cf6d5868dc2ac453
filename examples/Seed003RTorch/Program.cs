// Seed 003 (R torch): automatic differentiation with autograd. The code blocks live in Seed003.Run.
Nabla.Examples.Seed003.Run(Console.Out);
