#!/usr/bin/env bash
# probe_dwarf.sh GPERF: time `perf probe` and `gperf probe` on the DWARF
# queries (-L, -V, --funcs, an unknown function = full scan) over a large
# generated -O2 -g program (gen_big.sh: 64 CUs x 160 functions sharing a
# 400-struct type graph, ~15 MB), and print for each query the median wall
# time and peak RSS of both, the speed ratio perf/gperf, and whether the
# outputs are identical.
#
#   RUNS=5 bench/probe_dwarf.sh ./gperf
#
# Environment: PERF (default /usr/bin/perf), RUNS (default 5), WORK (build
# and scratch directory), GEN_BIG (the generator, default
# /work/shared/bench/gen_big.sh), VMLINUX (optional: a vmlinux with DWARF
# for the kernel queries).
set -euo pipefail
GPERF=${1:?usage: probe_dwarf.sh /path/to/gperf}
PERF=${PERF:-/usr/bin/perf}
RUNS=${RUNS:-5}
WORK=${WORK:-${TMPDIR:-/tmp}/gperf-bench-probe}
GEN_BIG=${GEN_BIG:-/work/shared/bench/gen_big.sh}
[ -x /usr/bin/time ] || { echo "probe_dwarf: /usr/bin/time (GNU time) is required" >&2; exit 2; }
mkdir -p "$WORK"
BIG=$WORK/big/big
if [ ! -x "$BIG" ]; then
	sh "$GEN_BIG" "$WORK/big" >/dev/null
	make -s -C "$WORK/big" -j"$(nproc)" big >&2
fi

# measure LABEL CMD...: median wall seconds and peak KiB over RUNS runs
# (after one warm-up); sets W and M.
measure() {
	local t=$WORK/.time i s e
	: >"$t.all"
	for i in $(seq 0 "$RUNS"); do
		# Wall time from bash's microsecond clock (GNU time's %e has
		# 10 ms steps, coarser than most of these queries); the
		# peak RSS from GNU time.
		s=$EPOCHREALTIME
		/usr/bin/time -f '%M' -o "$t" "$@" >/dev/null 2>&1 </dev/null || true
		e=$EPOCHREALTIME
		[ "$i" -gt 0 ] && echo "$s $e $(tail -n 1 "$t")" | awk '{printf "%.6f %s\n", $2 - $1, $3}' >>"$t.all"
	done
	W=$(awk '{print $1}' "$t.all" | sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}')
	M=$(awk '{print $2}' "$t.all" | sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}')
}

q() { # label target-args query-args...
	local label=$1
	shift
	local pout gout same
	pout=$("$PERF" probe "$@" 2>/dev/null) || true
	gout=$("$GPERF" probe "$@" 2>/dev/null) || true
	same=no
	[ "$pout" = "$gout" ] && same=yes
	measure "$PERF" probe "$@"
	local pw=$W pm=$M
	measure "$GPERF" probe "$@"
	local gw=$W gm=$M
	awk -v l="$label" -v pw="$pw" -v gw="$gw" -v pm="$pm" -v gm="$gm" -v s="$same" -v n="$(printf '%s\n' "$pout" | wc -l)" 'BEGIN {
		r = (gw > 0) ? pw / gw : 0
		printf "probe_dwarf %-14s perf=%.4fs gperf=%.4fs speedup=%.1fx perf_rss=%.1fMiB gperf_rss=%.1fMiB rss_ratio=%.2f identical=%s lines=%d\n",
			l, pw, gw, r, pm / 1024, gm / 1024, (pm > 0) ? gm / pm : 0, s, n
	}'
}

echo "probe_dwarf input=$BIG bytes=$(stat -c %s "$BIG") debug_info=$(size -A "$BIG" | awk '$1 == ".debug_info" {print $2}') runs=$RUNS"
q L_first -x "$BIG" -L fn_0_0
q L_last -x "$BIG" -L fn_63_80
q V_line -x "$BIG" -V fn_63_80:10
q V_func -x "$BIG" -V fn_63_80
q V_missing -x "$BIG" -V no_such_function_xyz
q funcs -x "$BIG" --funcs
q add_dry -x "$BIG" -n 'fn_63_80:10 p->a p->other->label n'

HERE=$(cd "$(dirname "$0")" && pwd)
VMLINUX=${VMLINUX:-$(ls /usr/lib/debug/boot/vmlinux-* "$HERE"/../lab/cache/kernel/*/vmlinux-* 2>/dev/null | head -n 1 || true)}
if [ -n "$VMLINUX" ] && [ -r "$VMLINUX" ]; then
	echo "probe_dwarf input=$VMLINUX bytes=$(stat -c %s "$VMLINUX")"
	q k_V_vfs_read -k "$VMLINUX" -V vfs_read:6
	q k_V_missing -k "$VMLINUX" -V no_such_function_xyz
	q k_funcs -k "$VMLINUX" --funcs
fi
