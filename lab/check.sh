#!/usr/bin/env bash
# Print the kernel lab's per-step table for an output directory of
# lab/run.sh (default lab/cache/out): builds and runs lab/check.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(cd "${1:-$root/lab/cache/out}" && pwd)
bin=${LAB_CACHE:-$root/lab/cache}/check
mkdir -p "$(dirname "$bin")"
(cd "$root" && go build -o "$bin" ./lab/check)
exec "$bin" "$out"
