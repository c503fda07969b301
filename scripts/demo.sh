#!/usr/bin/env bash
# The seed's session on a user-space fixture (testdata/ldlm.c, built -O2 -g
# as a real server would be): list probeable lines, show the variables at a
# line, probe it with struct fields, record while the fixture runs, print the
# samples, check them against what the fixture printed itself, remove the
# probes.
set -uo pipefail
GPERF=$(readlink -f "${1:-./gperf}")
work=$(mktemp -d /tmp/gperf-demo.XXXXXX)
cleanup() { "$GPERF" probe -q -d 'probe_ldlm:*' >/dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT
cp testdata/ldlm.c "$work/"
cd "$work" || exit 1
gcc -O2 -g -o ldlm ldlm.c || exit 1
step() { echo; echo "\$ $*"; "$@"; }
fail() { echo "demo: FAILED: $*"; exit 1; }

step "$GPERF" probe -x ./ldlm -L ldlm_res_hash_dump || fail "probe -L"
step "$GPERF" probe -x ./ldlm -V ldlm_res_hash_dump:6 || fail "probe -V"

# At -O2, `res` is container_of(hnode): DWARF says its value is computed
# (rbx-8), not stored. perf 6.1 would load memory at rbx-8 and record
# garbage; gperf refuses the pointer itself but fetches its fields right.
echo; echo "# res itself is a computed value at this line: gperf refuses it rather than record garbage"
step "$GPERF" probe -x ./ldlm -n ldlm_res_hash_dump:6 res && fail "probe of a computed pointer should be refused"

step "$GPERF" probe -x ./ldlm ldlm_res_hash_dump:6 'res->lr_refcount' 'res->lr_name.name[0]' || fail "probe add"
step "$GPERF" record -e 'probe_ldlm:*' -- ./ldlm 1 | tee fixture.out || fail "record"
step "$GPERF" script || fail "script"

echo; echo "\$ $GPERF script | sed -ne 's/.*lr_refcount=\(0x[0-9a-f]*\) name=\(0x[0-9a-f]*\).*/\1 \2/p'"
"$GPERF" script | sed -ne 's/.*lr_refcount=\(0x[0-9a-f]*\) name=\(0x[0-9a-f]*\).*/\1 \2/p' |
	while read -r ref name; do printf '%d %s\n' "$ref" "$name"; done >probed.txt
# The fixture bumps the refcount around the dump; line 6 sees it bumped.
sed -ne 's/.*refcount=\([0-9]*\) name0=\(0x[0-9a-f]*\).*/\1 \2/p' fixture.out >printed.txt
cat probed.txt
if diff -u printed.txt probed.txt; then
	echo "demo: all $(wc -l <probed.txt) samples equal what the fixture printed"
else
	fail "probed values differ from the fixture's own output"
fi
step "$GPERF" probe -d 'probe_ldlm:*' || fail "probe -d"
echo; echo "demo: done"
