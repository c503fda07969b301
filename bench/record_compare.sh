#!/usr/bin/env bash
# record_compare.sh GPERF: `perf record` vs `gperf record` on the same loads,
# every file judged by real perf (report --stats, script), ratios printed.
#
#   N=1000000 RUNS=5 bench/record_compare.sh ./gperf
#
#   fixed   : median wall of `X record -e raw_syscalls:sys_enter -- true`
#   cpu     : one process making N getppid calls under raw_syscalls:sys_enter;
#             the recorder's own cpu (its process tree minus what the
#             workload reports for itself) per million samples, fixed cost
#             removed; samples, lost, duplicates
#   procs2  : two such processes (both CPUs busy) at the default ring size:
#             samples out of expected, lost, duplicates
#   uprobe  : N calls of a probed function with two arguments
#
# Environment: PERF (default /usr/bin/perf), N, RUNS, WORK (a scratch
# directory is made in it, default $TMPDIR or /tmp).
# Needs root (tracefs, uprobes) and gcc. Prints key=value lines; ratios are
# perf/gperf for times (above 1: gperf is faster) and gperf/perf for loss.
set -euo pipefail
GPERF=${1:?usage: record_compare.sh /path/to/gperf}
PERF=${PERF:-/usr/bin/perf}
N=${N:-1000000}
RUNS=${RUNS:-5}
WORK=${WORK:-${TMPDIR:-/tmp}}
[ -x /usr/bin/time ] || { echo "record_compare: /usr/bin/time (GNU time) is required" >&2; exit 2; }
[ -e /sys/kernel/tracing/events ] || mount -t tracefs nodev /sys/kernel/tracing
mkdir -p "$WORK"
WORK=$(mktemp -d "$WORK/gperf-bench-record.XXXXXX") # ours alone, removed at exit
G=gperfbench_rec_$$
cleanup() { "$PERF" probe -q -d "$G:*" >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT

# The workload: P processes each making N getppid calls (or N calls of a
# noinline function for the uprobe), then the cpu all of them used,
# measured by the workload itself (getrusage of itself and its children).
cat >"$WORK/load.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>
volatile long sink;
__attribute__((noinline)) long target(long arg, int flag) { sink += arg ^ flag; return sink; }
int main(int argc, char **argv)
{
	long n = atol(argv[1]), i;
	int procs = argc > 2 ? atoi(argv[2]) : 1, uprobe = argc > 3 && !strcmp(argv[3], "call"), p;
	for (p = 1; p < procs; p++)
		if (fork() == 0)
			break;
	for (i = 0; i < n; i++)
		if (uprobe)
			target(i, (int)i & 1);
		else
			getppid();
	if (p < procs)
		return 0;
	while (wait(NULL) > 0)
		;
	struct rusage s, c;
	getrusage(RUSAGE_SELF, &s);
	getrusage(RUSAGE_CHILDREN, &c);
	fprintf(stderr, "load: cpu_us=%ld\n",
		s.ru_utime.tv_sec * 1000000L + s.ru_utime.tv_usec + s.ru_stime.tv_sec * 1000000L + s.ru_stime.tv_usec +
		c.ru_utime.tv_sec * 1000000L + c.ru_utime.tv_usec + c.ru_stime.tv_sec * 1000000L + c.ru_stime.tv_usec);
	return 0;
}
EOF
gcc -O2 -g -o "$WORK/load" "$WORK/load.c"
LOAD=$WORK/load

median() { sort -g | awk '{v[NR] = $1} END { if (NR == 0) { print "NA"; exit } if (NR % 2) print v[(NR + 1) / 2]; else printf "%.6g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { echo "$1 $2" | awk '{ if ($2 + 0 > 0) printf "%.2f", $1 / $2; else print "NA" }'; }

# run NAME BIN FILE ARGS...: one recording under /usr/bin/time; sets
# WALL, CPU (recorder tree), WCPU (workload's own), SAMPLES, LOST, DUPS.
run() {
	local bin=$2 f=$3
	shift 3
	rm -f "$f"
	/usr/bin/time -f 'time: %e %U %S' "$bin" record -q -o "$f" "$@" >"$WORK/out" 2>&1 </dev/null || { cat "$WORK/out" >&2; return 1; }
	WALL=$(awk '/^time: / {print $2}' "$WORK/out")
	CPU=$(awk '/^time: / {print $3 + $4}' "$WORK/out")
	WCPU=$(sed -n 's/^load: cpu_us=\([0-9]*\)/\1/p' "$WORK/out" | awk '{print $1 / 1e6} END { if (NR == 0) print 0 }' | head -n 1)
	local st
	st=$("$PERF" report --stats -i "$f" 2>/dev/null || true)
	SAMPLES=$(echo "$st" | awk '/^ *SAMPLE events:/ {print $3; exit}')
	LOST=$(echo "$st" | awk '/LOST_SAMPLES events:/ {n = $3} END {print n + 0}')
	if [ "$LOST" = 0 ]; then
		LOST=$("$PERF" script -D -i "$f" 2>/dev/null | sed -n 's/.*PERF_RECORD_LOST: .*lost:\([0-9]*\).*/\1/p' | awk '{s += $1} END {print s + 0}')
	fi
	DUPS=$("$PERF" script --ns -F tid,cpu,time -i "$f" 2>/dev/null | sort | uniq -d | wc -l)
	SAMPLES=${SAMPLES:-0}
}

# series NAME ARGS...: RUNS recordings with perf and with gperf; prints the
# medians of both and their ratios. Sets P_* and G_* medians.
series() {
	local name=$1
	shift
	for who in perf gperf; do
		local bin=$PERF
		[ $who = gperf ] && bin=$GPERF
		: >"$WORK/$who.series"
		for _ in $(seq 0 "$RUNS"); do
			run "$name" "$bin" "$WORK/$who.data" "$@"
			echo "$WALL $CPU $WCPU $SAMPLES $LOST $DUPS" >>"$WORK/$who.series"
		done
		sed -i 1d "$WORK/$who.series" # warm-up
	done
	for who in perf gperf; do
		local s=$WORK/$who.series
		eval "${who}_wall=$(awk '{print $1}' "$s" | median)"
		eval "${who}_own=$(awk '{print $2 - $3}' "$s" | median)"
		eval "${who}_samples=$(awk '{print $4}' "$s" | median)"
		eval "${who}_lost=$(awk '{print $5}' "$s" | median)"
		eval "${who}_lost_max=$(awk '{print $5}' "$s" | sort -g | tail -n 1)"
		eval "${who}_dups=$(awk '{print $6}' "$s" | sort -g | tail -n 1)"
	done
}

series fixed -e raw_syscalls:sys_enter -- true
# shellcheck disable=SC2154
echo "record.fixed perf_wall=$perf_wall gperf_wall=$gperf_wall speedup=$(ratio "$perf_wall" "$gperf_wall") perf_cpu=$perf_own gperf_cpu=$gperf_own"
pfix=$perf_own gfix=$gperf_own

series cpu -e raw_syscalls:sys_enter -- "$LOAD" "$N" 1
pcpm=$(echo "$perf_own $pfix $perf_samples" | awk '{ if ($3 > 0) printf "%.3f", ($1 - $2) / $3 * 1e6; else print "NA" }')
gcpm=$(echo "$gperf_own $gfix $gperf_samples" | awk '{ if ($3 > 0) printf "%.3f", ($1 - $2) / $3 * 1e6; else print "NA" }')
echo "record.cpu N=$N perf_samples=$perf_samples gperf_samples=$gperf_samples perf_lost=$perf_lost gperf_lost=$gperf_lost perf_dups_max=$perf_dups gperf_dups_max=$gperf_dups perf_cpu_s_per_Msample=$pcpm gperf_cpu_s_per_Msample=$gcpm gperf_over_perf=$(ratio "$gcpm" "$pcpm") perf_own_cpu=$perf_own gperf_own_cpu=$gperf_own perf_wall=$perf_wall gperf_wall=$gperf_wall"

series procs2 -e raw_syscalls:sys_enter -- "$LOAD" "$N" 2
echo "record.procs2 N=2x$N perf_samples=$perf_samples gperf_samples=$gperf_samples perf_lost_med=$perf_lost perf_lost_max=$perf_lost_max gperf_lost_med=$gperf_lost gperf_lost_max=$gperf_lost_max perf_loss_pct=$(echo "$perf_lost $perf_samples" | awk '{printf "%.2f", 100 * $1 / ($1 + $2)}') gperf_loss_pct=$(echo "$gperf_lost $gperf_samples" | awk '{printf "%.2f", 100 * $1 / ($1 + $2)}') perf_dups_max=$perf_dups gperf_dups_max=$gperf_dups perf_wall=$perf_wall gperf_wall=$gperf_wall"

"$PERF" probe -q -x "$LOAD" -a "$G:target=target arg flag" >/dev/null
series uprobe -e "$G:target" -- "$LOAD" "$N" 1 call
gcpm=$(echo "$gperf_own $gfix $gperf_samples" | awk '{ if ($3 > 0) printf "%.3f", ($1 - $2) / $3 * 1e6; else print "NA" }')
pcpm=$(echo "$perf_own $pfix $perf_samples" | awk '{ if ($3 > 0) printf "%.3f", ($1 - $2) / $3 * 1e6; else print "NA" }')
echo "record.uprobe N=$N perf_samples=$perf_samples gperf_samples=$gperf_samples perf_lost=$perf_lost gperf_lost=$gperf_lost perf_cpu_s_per_Msample=$pcpm gperf_cpu_s_per_Msample=$gcpm gperf_over_perf=$(ratio "$gcpm" "$pcpm") perf_own_cpu=$perf_own gperf_own_cpu=$gperf_own perf_wall=$perf_wall gperf_wall=$gperf_wall"
