// Several suites seed and draw from the process-wide default generator (torch.manual_seed), as PyTorch code does;
// running test classes in parallel would interleave their draws. The suite is fast enough to run serially.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
