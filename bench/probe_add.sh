#!/usr/bin/env bash
# probe_add.sh GPERF: time `perf probe` and `gperf probe` on the commands
# that add, show, list and delete probes (probe_dwarf.sh times the DWARF
# queries -L/-V/--funcs): a dry-run add with struct-field arguments, -D on a
# glob, a real add then delete of a line probe, -l of 20 probes. Prints for
# each the median wall time and peak RSS of both, the speed ratio
# perf/gperf, and whether what they printed is identical.
#
#   RUNS=5 bench/probe_add.sh ./gperf
#
# Environment: PERF (default /usr/bin/perf), RUNS (default 5), VMLINUX (a
# vmlinux with DWARF, default the lab's or /usr/lib/debug), WORK (build
# and scratch directory), GEN_BIG (the large-program generator, default
# /work/shared/bench/gen_big.sh; skipped when absent). Needs root (tracefs).
set -euo pipefail
GPERF=${1:?usage: probe_add.sh /path/to/gperf}
PERF=${PERF:-/usr/bin/perf}
RUNS=${RUNS:-5}
WORK=${WORK:-${TMPDIR:-/tmp}/gperf-bench-probe-add}
GEN_BIG=${GEN_BIG:-/work/shared/bench/gen_big.sh}
HERE=$(cd "$(dirname "$0")" && pwd)
[ -x /usr/bin/time ] || { echo "probe_add: /usr/bin/time (GNU time) is required" >&2; exit 2; }
[ -e /sys/kernel/tracing/uprobe_events ] || mount -t tracefs nodev /sys/kernel/tracing
mkdir -p "$WORK"

LDLM=$WORK/ldlm-O2
cp "$HERE/../testdata/ldlm.c" "$WORK/ldlm.c"
gcc -O2 -g -o "$LDLM" "$WORK/ldlm.c"

# One group per run of this script; removed whatever happens.
G=gperfbench_$$
cleanup() { "$PERF" probe -q -d "$G:*" >/dev/null 2>&1 || true; }
trap cleanup EXIT

# measure CMD...: median wall seconds and peak KiB over RUNS runs (after
# one warm-up); sets W and M.
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

report() { # label perf-wall gperf-wall perf-kib gperf-kib identical
	awk -v l="$1" -v pw="$2" -v gw="$3" -v pm="$4" -v gm="$5" -v s="$6" 'BEGIN {
		printf "probe_add %-12s perf=%.4fs gperf=%.4fs speedup=%.1fx perf_rss=%.1fMiB gperf_rss=%.1fMiB rss_ratio=%.2f identical=%s\n",
			l, pw, gw, (gw > 0) ? pw / gw : 0, pm / 1024, gm / 1024, (pm > 0) ? gm / pm : 0, s
	}'
}

# q LABEL ARGS...: a command that changes nothing, run by both.
q() {
	local label=$1
	shift
	local pout gout same=no
	pout=$("$PERF" probe "$@" 2>&1) || true
	gout=$("$GPERF" probe "$@" 2>&1) || true
	[ "$pout" = "$gout" ] && same=yes
	measure "$PERF" probe "$@"
	local pw=$W pm=$M
	measure "$GPERF" probe "$@"
	report "$label" "$pw" "$W" "$pm" "$M" "$same"
}

# cycle TOOL: add a line probe with fields, then delete it (one timed unit).
cycle() {
	"$1" probe -q -x "$LDLM" "$G:cyc=ldlm_resource_dump:4 res->lr_refcount.counter res->lr_name.name[0] level" &&
		"$1" probe -q -d "$G:cyc"
}
export -f cycle
export LDLM G

echo "probe_add input=$LDLM runs=$RUNS"
q add_dry -x "$LDLM" -n "$G:dry=ldlm_resource_dump:4 res->lr_refcount.counter res->lr_name.name[0] level"
q show_D -x "$LDLM" -D 'ldlm_*'
q add_symtab -x "$LDLM" -n 'ldlm_res*'

measure bash -c "cycle $PERF"
pw=$W pm=$M
measure bash -c "cycle $GPERF"
report add_delete "$pw" "$W" "$pm" "$M" n/a

# -l over 20 probes added by perf, all function entries (perf carries a
# listed probe's line or offset over to the next, docs/compat.md).
for i in $(seq 1 20); do
	"$PERF" probe -q -x "$LDLM" "$G:l$i=ldlm_res_hash_dump" >/dev/null 2>&1 || true
done
q list20 -l "$G:*"
cleanup

if [ -r "$GEN_BIG" ]; then
	BIG=$WORK/big/big
	if [ ! -x "$BIG" ]; then
		sh "$GEN_BIG" "$WORK/big" >/dev/null
		make -s -C "$WORK/big" -j"$(nproc)" big >&2
	fi
	echo "probe_add input=$BIG bytes=$(stat -c %s "$BIG")"
	q big_add_dry -x "$BIG" -n 'fn_63_80:10 p->a p->other->label n'
	q big_D_glob -x "$BIG" -D 'fn_63_*'
	q big_missing -x "$BIG" -n no_such_function_xyz
fi

# Kernel definitions offline on a vmlinux with DWARF (perf -D ignores the
# build id; -n is gperf's only: perf refuses a vmlinux that is not the
# running kernel).
VMLINUX=${VMLINUX:-$(ls /usr/lib/debug/boot/vmlinux-* "$HERE"/../lab/cache/kernel/*/vmlinux-* 2>/dev/null | head -n 1 || true)}
if [ -n "$VMLINUX" ] && [ -r "$VMLINUX" ]; then
	echo "probe_add input=$VMLINUX bytes=$(stat -c %s "$VMLINUX")"
	q k_D_line -k "$VMLINUX" -D 'vfs_read:6 file'
	q k_D_args -k "$VMLINUX" -D 'do_sys_openat2 dfd filename'
fi
