# The kernel lab's scenario, run as /init's child inside the qemu guest (see
# lab/run.sh). Every step runs perf (Debian's 6.1, the oracle) and gperf on
# the same input and saves stdout, stderr and exit status under /out/<step>;
# each step's directory goes back to the host over the second serial port as
# base64 of a tar, framed by "@@BEGIN step" / "@@END step". lab/check.sh
# compares the outputs on the host. File names: <tool>.<what>.{out,err,rc}
# (plus .cmd, the command line, and .time, its wall time in seconds);
# in steps 2-4 <probe tool>.<record tool>.<script tool>.script is the output
# of the script tool on the file the record tool wrote while the probe
# tool's probes were defined.
. /lab/env
TR=/sys/kernel/tracing
MOD=/kmod/ldlm_demo.ko
DUMP=/sys/kernel/debug/ldlm_demo/dump_namespaces
SER=/dev/ttyS1
T=120 # seconds any one command may take

# run DIR NAME CMD...: CMD's stdout, stderr and exit status in DIR/NAME.*
run() {
	local d=$1 n=$2
	shift 2
	for a in "$@"; do
		case $a in
		*[!A-Za-z0-9_./:=@+-]*) printf "'%s' " "$a" ;;
		*) printf '%s ' "$a" ;;
		esac
	done >"$d/$n.cmd"
	local t0 rc
	t0=$(cut -d' ' -f1 /proc/uptime)
	echo "lab: [${t0}s] $d/$n: $*"
	timeout -s KILL $T "$@" >"$d/$n.out" 2>"$d/$n.err" </dev/null
	rc=$?
	echo $rc >"$d/$n.rc"
	echo "$t0 $(cut -d' ' -f1 /proc/uptime)" | awk '{printf "%.2f\n", $2 - $1}' >"$d/$n.time"
}

# kprobes DIR NAME: save what kprobe_events holds (the host fails the step if
# anything is left), then clean up so the next step starts empty.
kprobes() {
	cat $TR/kprobe_events >"$1/$2.kprobes"
	if [ -s "$1/$2.kprobes" ]; then
		echo 0 >$TR/events/enable
		echo >$TR/kprobe_events
	fi
}

# emit STEP: send /out/STEP to the host.
emit() {
	(cd /out && tar -c "$1" | base64) >/tmp/emit.b64
	{
		echo "@@BEGIN $1"
		cat /tmp/emit.b64
		echo "@@END $1"
	} >$SER
	echo "lab: step $1 sent at $(cut -d' ' -f1 /proc/uptime)s ($(wc -c </tmp/emit.b64) bytes)"
}

setup() {
	mount -t proc proc /proc
	mount -t sysfs sys /sys
	mount -t devtmpfs dev /dev
	mount -t debugfs debugfs /sys/kernel/debug
	mount -t tracefs tracefs $TR
	# No tmpfs over /tmp: the initramfs root is already RAM, and the
	# module's source sits at the path its DWARF names, which is under
	# /tmp when the lab runs from a checkout there (CI's clones).
	stty -F $SER raw -echo 2>/dev/null
	# The file steps 4 and 5 read with dd.
	head -c 10007 /dev/urandom >/tmp/readme
	D=/out/s0
	mkdir -p $D
	uname -r >$D/uname
	cp /lab/env $D/env
	cat /proc/cmdline >$D/cmdline
	run $D insmod insmod $MOD
	grep ldlm_demo /proc/modules >$D/modules
	run $D perf.version perf version
	run $D gperf.version gperf version
	emit s0
}

# Step 1: source listing, functions and variables of the module, by name
# (from /lib/modules) and by path.
step1() {
	D=/out/s1
	mkdir -p $D
	for t in perf gperf; do
		run $D $t.L.name $t probe -m ldlm_demo -L ldlm_res_hash_dump
		run $D $t.L.path $t probe -m $MOD -L ldlm_res_hash_dump
		run $D $t.L.walk $t probe -m ldlm_demo -L ldlm_hash_for_each
		run $D $t.F.path $t probe -m $MOD -F
		run $D $t.V.func $t probe -m ldlm_demo -V ldlm_res_hash_dump
		for n in $LINE $((LINE + 1)); do
			run $D $t.V$n.name $t probe -m ldlm_demo -V ldlm_res_hash_dump:$n
			run $D $t.V$n.path $t probe -m $MOD -V ldlm_res_hash_dump:$n
		done
		kprobes $D $t
	done
	emit s1
}

# Steps 2 and 3: a line probe in the hash walk with a computed-location
# variable (res = hnode - 8) and two fields through it. First with res
# itself, recorded by perf; then the fields alone, recorded with each tool
# on each tool's probes and each file printed by each tool. The module's
# printk of the same walk goes to <probe>.<record>.dmesg.
step23() {
	D=/out/s23
	mkdir -p $D
	for t in perf gperf; do
		# The probe with the pointer res itself (a computed location):
		# its definition is judged by recording it with perf.
		run $D $t.addres $t probe -m ldlm_demo ldlm_res_hash_dump:$LINE res 'res->lr_refcount' 'res->lr_name.name[0]'
		cat $TR/kprobe_events >$D/$t.res.kprobe_events
		if [ -s $D/$t.res.kprobe_events ]; then
			dmesg -c >/dev/null
			run $D $t.res.perf.record perf record -e 'probe:*' -o /tmp/$t.res.data -- sh -c "echo 1 > $DUMP"
			dmesg -c >$D/$t.res.perf.dmesg
			run $D $t.res.perf.perf.script perf script -i /tmp/$t.res.data
			run $D $t.delres $t probe -d 'probe:*'
		fi
		kprobes $D $t.res
		# The fields only, recorded and printed by both tools.
		run $D $t.add $t probe -m ldlm_demo ldlm_res_hash_dump:$LINE 'res->lr_refcount' 'res->lr_name.name[0]'
		cat $TR/kprobe_events >$D/$t.kprobe_events
		for r in perf gperf; do
			dmesg -c >/dev/null
			run $D $t.$r.record $r record -e 'probe:*' -o /tmp/$t.$r.data -- sh -c "echo 1 > $DUMP"
			dmesg -c >$D/$t.$r.dmesg
			for s in perf gperf; do
				run $D $t.$r.$s.script $s script -i /tmp/$t.$r.data
			done
		done
		run $D $t.del $t probe -d 'probe:*'
		kprobes $D $t
	done
	emit s23
}

# Step 4: kernel functions without DWARF: entry and return probes, -l,
# system-wide recording while dd reads a file, -d with two patterns.
step4() {
	D=/out/s4
	mkdir -p $D
	wc -c </tmp/readme >$D/readme.size
	for t in perf gperf; do
		run $D $t.add $t probe -a vfs_read
		run $D $t.addret $t probe -a 'vfs_read%return $retval'
		cat $TR/kprobe_events >$D/$t.kprobe_events
		run $D $t.list $t probe -l
		# The definitions are compared as text, so each tool records on its
		# own probes only (system-wide recording is slow under TCG).
		run $D $t.$t.record $t record -a -e 'probe:*' -o /tmp/k.$t.data -- dd if=/tmp/readme of=/dev/null bs=1000
		for s in perf gperf; do
			run $D $t.$t.$s.script $s script -i /tmp/k.$t.data
		done
		run $D $t.del $t probe -d 'probe:*'
		cat $TR/kprobe_events >$D/$t.del.kprobes
		run $D $t.add2 $t probe -a vfs_read
		run $D $t.delall $t probe -d '*'
		kprobes $D $t
	done
	emit s4
}

# Step 5 (optional, with a vmlinux carrying DWARF): line and variable probes
# in the kernel itself.
step5() {
	D=/out/s5
	mkdir -p $D
	if [ -z "$VMLINUX" ]; then
		echo "no vmlinux (set LAB_VMLINUX or LAB_DBG=1)" >$D/skipped
		emit s5
		return
	fi
	for t in perf gperf; do
		run $D $t.V $t probe -k $VMLINUX -V vfs_read
		run $D $t.Vline $t probe -k $VMLINUX -V vfs_read:$KLINE
		run $D $t.add $t probe -k $VMLINUX -a 'vfs_read count'
		run $D $t.addline $t probe -k $VMLINUX -a "vfs_read:$KLINE count"
		cat $TR/kprobe_events >$D/$t.kprobe_events
		run $D $t.record $t record -e 'probe:*' -o /tmp/v.$t.data -- dd if=/tmp/readme of=/dev/null bs=1000
		run $D $t.script $t script -i /tmp/v.$t.data
		run $D $t.del $t probe -d 'probe:*'
		kprobes $D $t
		emit s5
	done
}

# Step 6: bad input on a real kernel. The error_log after each tool's attempt
# at a definition the kernel refuses is saved as <tool>.error_log.
step6() {
	D=/out/s6
	mkdir -p $D
	for t in perf gperf; do
		# The control: the valid probe next to the bad ones.
		run $D $t.control $t probe -m ldlm_demo ldlm_res_hash_dump
		run $D $t.controldel $t probe -d 'probe:*'
		run $D $t.nomod $t probe -m no_such_module ldlm_res_hash_dump
		run $D $t.nofunc $t probe -m ldlm_demo no_such_function
		run $D $t.nocode $t probe -m ldlm_demo ldlm_res_hash_dump:$NOCODE
		echo >$TR/error_log
		run $D $t.refused $t probe -a 'vfs_read %nosuchreg'
		cat $TR/error_log >$D/$t.error_log
		kprobes $D $t
	done
	emit s6
}

setup
for s in ${STEPS:-1 23 4 5 6}; do
	step$s
done
dmesg >/out/dmesg
mkdir -p /out/end && cp /out/dmesg /out/end/dmesg
emit end
