// Seed 000 (libtorch, C++): differentiation in autograd. The cells live in Seed000.Run so the Tour and the tests can run them.
Nabla.Examples.Seed000.Run(Console.Out);
