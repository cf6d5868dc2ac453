using System.Diagnostics;
using Xunit;

namespace Nabla.Tests;

// `dotnet add package Nabla` as a user does it: pack the library (the build the tests already made, no rebuild), put it
// in a local feed, create a fresh console project outside the repository (so no Directory.Build.props applies), add the
// package from that feed, and run a training step. The consumer restores into its own packages folder, so a Nabla of
// the same version cached by an earlier run is never picked up instead of the one just packed.
public class PackageTests
{
    static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Nabla.sln"))) dir = dir.Parent;
        Assert.NotNull(dir);
        return dir!.FullName;
    }

    static (int Code, string Output) Dotnet(string workDir, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = workDir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            p.Kill(entireProcessTree: true);
            return (-1, $"dotnet {string.Join(' ', args)} timed out\n{stdout.Result}{stderr.Result}");
        }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    [Fact]
    public void Package_installs_from_a_local_feed_and_trains()
    {
        string root = RepoRoot();
        // The configuration the tests were built in (bin/<Configuration>/net10.0): pack that build as it is.
        string config = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;
        string work = Path.Combine(Path.GetTempPath(), "nabla-package-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        try
        {
            string feed = Path.Combine(work, "feed");
            var pack = Dotnet(root, "pack", Path.Combine("src", "Nabla", "Nabla.csproj"), "-c", config, "--no-build", "-o", feed);
            Assert.True(pack.Code == 0, pack.Output);
            var nupkg = Directory.GetFiles(feed, "Nabla.*.nupkg").Single(f => !f.EndsWith(".snupkg"));
            using (var zip = System.IO.Compression.ZipFile.OpenRead(nupkg))
            {
                var names = zip.Entries.Select(e => e.FullName).ToHashSet();
                Assert.Contains("lib/net10.0/Nabla.dll", names);
                Assert.Contains("lib/net10.0/Nabla.xml", names);   // XML docs ship inside
                Assert.Contains("PACKAGE.md", names);
                Assert.Contains("buildTransitive/Nabla.targets", names);
            }
            string version = Path.GetFileNameWithoutExtension(nupkg)["Nabla.".Length..];

            string app = Path.Combine(work, "app");
            Directory.CreateDirectory(app);
            File.WriteAllText(Path.Combine(app, "app.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <Nullable>enable</Nullable>
                    <RestorePackagesPath>{Path.Combine(work, "packages")}</RestorePackagesPath>
                  </PropertyGroup>
                </Project>
                """);
            File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <add key="local" value="{feed}" />
                    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
                  </packageSources>
                </configuration>
                """);
            File.WriteAllText(Path.Combine(app, "Program.cs"), """
                using Nabla;
                using static Nabla.torch;

                manual_seed(0);
                var model = nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.Linear(16, 1));
                var opt = optim.Adam(model.parameters(), lr: 0.05);
                var x = randn(64, 3);
                var y = x.sum(1, keepdim: true);
                double first = 0, last = 0;
                for (int step = 0; step < 200; step++)
                {
                    var loss = nn.functional.mse_loss(model.call(x), y);
                    opt.zero_grad();
                    loss.backward();
                    opt.step();
                    if (step == 0) first = loss.item<float>();
                    last = loss.item<float>();
                }
                Console.WriteLine($"loss {first:F4} -> {last:F4}");
                return last < first / 10 ? 0 : 1;
                """);
            var add = Dotnet(app, "add", "package", "Nabla", "--version", version);
            Assert.True(add.Code == 0, add.Output);
            var run = Dotnet(app, "run", "-c", "Release");
            Assert.True(run.Code == 0, run.Output);
            Assert.Contains("loss ", run.Output);
        }
        finally
        {
            try { Directory.Delete(work, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
