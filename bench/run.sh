#!/usr/bin/env bash
# Runs the side-by-side benchmark (Nabla vs TorchSharp) and prints one Markdown table.
# Usage: bench/run.sh [Nabla.Bench options: --runs N --threads N --only W1,W4 --peer-only --nabla-only --no-rss]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PEER_TOOLS=${PEER_TOOLS:-$ROOT/tools/torchsharp-peer}
[ -f "$PEER_TOOLS/setup.sh" ] || PEER_TOOLS=$ROOT/../shared/tools/torchsharp-peer
PKGS=${NUGET_PACKAGES:-$HOME/.nuget/packages}
SO=$PKGS/torchsharp/0.107.0/runtimes/linux-x64/native/libLibTorchSharp.so

# Restore the project first, so setup.sh patches the TorchSharp package this project uses.
dotnet restore "$ROOT/bench/Nabla.Bench/Nabla.Bench.csproj" -v q >&2
if [ -f "$PEER_TOOLS/setup.sh" ]; then
  bash "$PEER_TOOLS/setup.sh" >&2
  # setup.sh tests the .so with `readelf ... | grep -q` under `set -o pipefail`: grep -q exits at the first match,
  # readelf dies of SIGPIPE, the pipeline counts as false, and the patch can be skipped while it prints "patched".
  # Check the result here and apply the same two edits where the version need is still there.
  if readelf -V "$SO" | grep 'GLIBCXX_3\.4\.32' >/dev/null; then
    if readelf -W --dyn-syms "$SO" | grep '_ZSt21ios_base_library_initv@' >/dev/null; then
      patchelf --clear-symbol-version _ZSt21ios_base_library_initv "$SO"
    fi
    python3 "$PEER_TOOLS/patchver.py" "$SO" GLIBCXX_3.4.32 GLIBCXX_3.4.30 >&2
  fi
else
  echo "run.sh: no tools/torchsharp-peer/setup.sh found; TorchSharp may not load (the table then has the Nabla column only)" >&2
fi

# --no-incremental: the build must copy the patched libLibTorchSharp.so, not a stale one.
dotnet build -c Release --no-incremental --no-restore "$ROOT/bench/Nabla.Bench/Nabla.Bench.csproj" -v q -nologo >&2
LD_PRELOAD=/tmp/libiosshim.so dotnet "$ROOT/bench/Nabla.Bench/bin/Release/net10.0/Nabla.Bench.dll" "$@"
