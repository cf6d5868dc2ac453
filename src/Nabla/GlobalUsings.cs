global using Nabla.Backends;
