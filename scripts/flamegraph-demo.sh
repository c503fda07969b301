#!/usr/bin/env bash
# Draw the README's flame graph: record testdata/hot.c (CPU, with frame
# pointers) with gperf, export an interactive SVG, and, when Chromium is
# installed, a PNG screenshot of it.
#   bash scripts/flamegraph-demo.sh [GPERF] [OUT.svg]
set -euo pipefail
GPERF=${1:-./gperf}
OUT=${2:-docs/flamegraph.svg}
work=$(mktemp -d /tmp/gperf-fgdemo.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp testdata/hot.c "$work/"
(cd "$work" && gcc -O0 -g -fno-omit-frame-pointer -o hot hot.c)
"$GPERF" record -q -g -e cpu-clock -o "$work/perf.data" -- "$work/hot" cpu 300 >/dev/null
"$GPERF" script -i "$work/perf.data" --flamegraph "$OUT" --inline --title "gperf: testdata/hot.c, cpu-clock -g, --inline" --width 1000
echo "wrote $OUT"
if [ -x /usr/bin/chromium ]; then
	png=${OUT%.svg}.png
	h=$(grep -o -m1 'height="[0-9]*"' "$OUT" | head -1 | tr -dc 0-9)
	/usr/bin/chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--hide-scrollbars --user-data-dir="$work/chromium" --window-size=1000,"${h:-600}" \
		--screenshot="$png" "file://$(realpath "$OUT")" >/dev/null 2>&1 && echo "wrote $png"
fi
