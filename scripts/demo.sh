#!/usr/bin/env bash
# The seed's session on a user-space fixture: list probeable lines, show the
# variables at a line, probe it with a variable and struct fields, record
# while the fixture runs, print the samples, remove the probes.
set -uo pipefail
GPERF=${1:-./gperf}
work=$(mktemp -d /tmp/gperf-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp testdata/ldlm.c "$work/"
(cd "$work" && gcc -O2 -g -o ldlm ldlm.c) || exit 1
BIN=$work/ldlm
step() { echo; echo "\$ $*"; "$@"; }
missing=()
run() { step "$@" || { missing+=("$*"); return 1; }; }

run "$GPERF" probe -x "$BIN" -L ldlm_res_hash_dump
run "$GPERF" probe -x "$BIN" -V ldlm_res_hash_dump:6
if run "$GPERF" probe -x "$BIN" ldlm_res_hash_dump:6 res 'res->lr_refcount' 'res->lr_name.name[0]'; then
	run "$GPERF" record -o "$work/perf.data" -e 'probe_ldlm:*' -- "$BIN" 1 &&
	run "$GPERF" script -i "$work/perf.data"
	echo; echo "\$ $GPERF probe -d 'probe_ldlm:*'"
	"$GPERF" probe -d 'probe_ldlm:*' || missing+=("probe -d")
fi
echo
if [ ${#missing[@]} -gt 0 ]; then
	echo "demo: these steps are not available yet:"
	printf '  %s\n' "${missing[@]}"
	exit 0
fi
echo "demo: done"
