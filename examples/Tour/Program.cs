// The Tour: every seed tutorial, ported to C# with Nabla, run in order. `dotnet run --project examples/Tour`.
// Each seed's output is what its notebook printed, cell by cell (an "In [n]:" line heads each cell's output).
using Nabla.Examples;

var seeds = new (string Title, Action<TextWriter> Run)[]
{
    ("Seed 000 - libtorch (C++): differentiation in autograd", Seed000.Run),
    ("Seed 001 - PyTorch: automatic differentiation with torch.autograd", Seed001.Run),
    ("Seed 002 - PyTorch: a introduction of torch.autograd", Seed002.Run),
    ("Seed 003 - R torch: automatic differentiation with autograd", Seed003.Run),
    ("Seed 004 - PyTorch: gradient calculation with autograd", Seed004.Run),
};

foreach (var (title, run) in seeds)
{
    Console.Out.Write("==== " + title + " ====\n\n");
    run(Console.Out);
}
