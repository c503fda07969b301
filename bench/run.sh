#!/usr/bin/env bash
# Run every gperf-vs-perf benchmark in this folder against one gperf binary
# and print their key=value results (each script prints ratios to perf).
# Usage: bench/run.sh /path/to/gperf
set -uo pipefail
GPERF=${1:?usage: bench/run.sh /path/to/gperf}
here=$(cd "$(dirname "$0")" && pwd)
rc=0
for s in "$here"/*.sh; do
	[ "$(basename "$s")" = run.sh ] && continue
	echo "== $(basename "$s")"
	bash "$s" "$GPERF" || { echo "!! $(basename "$s") failed"; rc=1; }
done
exit $rc
