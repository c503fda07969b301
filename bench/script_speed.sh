#!/usr/bin/env bash
# script_speed.sh GPERF: `perf script` vs `gperf script` on the same files.
#
#   N=1000000 RUNS=3 bench/script_speed.sh ./gperf
#
# Inputs, recorded once with real perf (so both read the very same bytes):
#   tp.data     raw_syscalls:sys_enter, one process making N getppid calls
#   uprobe.data a uprobe with two arguments, N/2 calls
#   cpu-g.data  cpu-clock -g at 20 kHz on a CPU-bound process
# For each file and option set (default, -F comm,tid,time,event,trace) the
# median wall and cpu (user+sys) seconds and peak RSS of both tools, output
# to /dev/null, and the ratios perf/gperf (above 1: gperf is faster). The
# outputs are compared too (identical=yes|no).
#
# Environment: PERF (default /usr/bin/perf), N, RUNS, WORK (scratch dir,
# removed at the end unless KEEP=1). Needs root (tracefs, uprobes) and gcc.
set -euo pipefail
GPERF=${1:?usage: script_speed.sh /path/to/gperf}
PERF=${PERF:-/usr/bin/perf}
N=${N:-1000000}
RUNS=${RUNS:-3}
WORK=${WORK:-${TMPDIR:-/tmp}/gperf-bench-script}
[ -x /usr/bin/time ] || { echo "script_speed: /usr/bin/time (GNU time) is required" >&2; exit 2; }
[ -e /sys/kernel/tracing/events ] || mount -t tracefs nodev /sys/kernel/tracing
mkdir -p "$WORK"
G=gperfbench_scr_$$
cleanup() {
	"$PERF" probe -q -d "$G:*" >/dev/null 2>&1 || true
	[ "${KEEP:-0}" = 1 ] || rm -f "$WORK"/*.data "$WORK"/*.data.old "$WORK"/*.out
}
trap cleanup EXIT

cat >"$WORK/work.c" <<'C'
#include <stdlib.h>
#include <unistd.h>
__attribute__((noinline)) long target(long a, int b) { return a + b; }
__attribute__((noinline)) long spin(long n) { volatile long s = 0; for (long i = 0; i < n; i++) s += i; return s; }
int main(int argc, char **argv)
{
	long n = argc > 2 ? atol(argv[2]) : 1000;
	long s = 0;
	switch (argv[1][0]) {
	case 's': for (long i = 0; i < n; i++) s += getppid(); break;
	case 'u': for (long i = 0; i < n; i++) s += target(i, (int)i); break;
	case 'c': s = spin(n); break;
	}
	return (int)(s & 1);
}
C
gcc -O1 -g -fno-omit-frame-pointer -o "$WORK/work" "$WORK/work.c"

rec() { # file args...
	local f=$WORK/$1
	shift
	[ -s "$f" ] || "$PERF" record -m 2048 -o "$f" "$@" >/dev/null 2>&1
}
rec tp.data -e raw_syscalls:sys_enter -- "$WORK/work" s "$N"
"$PERF" probe -q -x "$WORK/work" -a "$G:target=target a b" >/dev/null
rec uprobe.data -e "$G:target" -- "$WORK/work" u "$((N / 2))"
rec cpu-g.data -g -e cpu-clock -F 20000 -- "$WORK/work" c "$((N * 300))"

# measure LABEL CMD...: median wall/cpu/peak over RUNS runs, output discarded.
measure() {
	local label=$1
	shift
	local t=$WORK/.time
	: >"$t.all"
	local i
	for i in $(seq "$RUNS"); do
		/usr/bin/time -f "%e %U %S %M" -o "$t" "$@" >/dev/null 2>/dev/null || true
		tail -1 "$t" >>"$t.all"
	done
	local w c m
	w=$(awk '{print $1}' "$t.all" | median)
	c=$(awk '{print $2 + $3}' "$t.all" | median)
	m=$(awk '{print $4}' "$t.all" | median)
	echo "$label $w $c $m"
}

# median: of the numbers on stdin, one per line.
median() {
	sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print 0; exit }
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

for f in tp.data uprobe.data cpu-g.data; do
	for opts in "" "-F comm,tid,time,event,trace"; do
		[ "$f" = cpu-g.data ] && [ -n "$opts" ] && opts="-F comm,tid,time,ip,sym"
		# shellcheck disable=SC2086
		"$PERF" script -i "$WORK/$f" $opts >"$WORK/perf.out" 2>/dev/null || true
		# shellcheck disable=SC2086
		"$GPERF" script -i "$WORK/$f" $opts >"$WORK/gperf.out" 2>/dev/null || true
		same=no
		cmp -s "$WORK/perf.out" "$WORK/gperf.out" && same=yes
		lines=$(wc -l <"$WORK/perf.out")
		# shellcheck disable=SC2086
		p=$(measure perf "$PERF" script -i "$WORK/$f" $opts)
		# shellcheck disable=SC2086
		g=$(measure gperf "$GPERF" script -i "$WORK/$f" $opts)
		echo "$p $g" | awk -v f="$f" -v o="${opts:-default}" -v same="$same" -v lines="$lines" '{
			printf "script_speed file=%s opts=\"%s\" lines=%d identical=%s perf_wall=%s gperf_wall=%s wall_ratio=%.2f perf_cpu=%.2f gperf_cpu=%.2f cpu_ratio=%.2f perf_peak_kb=%d gperf_peak_kb=%d\n",
				f, o, lines, same, $2, $6, ($6 > 0 ? $2 / $6 : 0), $3, $7, ($7 > 0 ? $3 / $7 : 0), $4, $8 }'
	done
done
