#!/usr/bin/env bash
# The kernel lab (`make kernel-test`): boot a Debian 6.1 cloud kernel under
# qemu with an initramfs holding busybox, Debian's perf, the static gperf and
# the ldlm_demo test module (testdata/kmod), run the scenario of
# lab/guest.sh side by side with perf, bring the outputs back over a serial
# port and print a per-step PASS/FAIL table (lab/check.sh).
#
# Environment (all optional; docs/kernel-lab.md has the details):
#   LAB_KVER      kernel ABI name, e.g. 6.1.0-53-cloud-amd64 (default: the
#                 cloud kernel whose package version equals linux-perf's)
#   LAB_CACHE     download/build cache (default lab/cache)
#   LAB_OUT       where the guest's outputs land (default $LAB_CACHE/out)
#   LAB_ACCEL     tcg (default), kvm, or auto (try kvm, fall back to tcg)
#   LAB_TIMEOUT   seconds before a hung guest is killed (default 900, 1200
#                 with a vmlinux)
#   LAB_STEPS     the steps to run (default "1 23 4 5 6")
#   LAB_VMLINUX   a vmlinux with DWARF: enables step 5 (-k VMLINUX)
#   LAB_DBG=1     download linux-image-<ver>-cloud-amd64-dbg for step 5
#   GPERF         the gperf binary (default ./gperf, built by `make build`)
set -euo pipefail

LAB=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$LAB/.." && pwd)
CACHE=${LAB_CACHE:-$LAB/cache}
OUT=${LAB_OUT:-$CACHE/out}
GPERF=${GPERF:-$ROOT/gperf}
PERF=/usr/bin/perf
ACCEL=${LAB_ACCEL:-tcg}
TIMEOUT=${LAB_TIMEOUT:-}
APT_OPTS=(-y -qq --no-install-recommends -o APT::Get::Upgrade-By-Source-Package=false
	-o DPkg::Lock::Timeout=600)
export DEBIAN_FRONTEND=noninteractive

start=$SECONDS
log() { printf '[lab %4ds] %s\n' $((SECONDS - start)) "$*" >&2; }
die() { printf 'lab: %s\n' "$*" >&2; exit 2; }

mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
# One lab run at a time per cache: runs share the cache, and one guest is
# all two cores can take.
exec 9>"$CACHE/.lock"
if ! flock -n 9; then
	log "waiting for another lab run on $CACHE"
	flock -w 1800 9 || die "another lab run holds $CACHE/.lock"
fi

# apt_install PKG...: install packages with apt, refusing any plan that would
# touch linux-perf (the oracle must never change).
apt_install() {
	local plan
	plan=$(apt-get install -s "${APT_OPTS[@]}" "$@" 2>&1) || {
		apt-get update -qq -o DPkg::Lock::Timeout=600
		plan=$(apt-get install -s "${APT_OPTS[@]}" "$@" 2>&1) || die "apt cannot install $*: $plan"
	}
	if grep -Eq '^(Inst|Remv|Conf) linux-perf ' <<<"$plan"; then
		die "installing $* would change linux-perf (the oracle); refusing"
	fi
	log "apt-get install $*"
	apt-get install "${APT_OPTS[@]}" "$@" >"$CACHE/apt.log" 2>&1 ||
		die "apt-get install $* failed: $(tail -3 "$CACHE/apt.log")"
}

# apt_download PKG: download PKG's .deb into the cache once; DEB names it.
apt_download() {
	local pkg=$1
	mkdir -p "$CACHE/debs"
	DEB=$(ls "$CACHE/debs/${pkg}_"*.deb 2>/dev/null | head -1 || true)
	[ -n "$DEB" ] && return
	log "apt-get download $pkg"
	(cd "$CACHE/debs" && apt-get download "$pkg" >/dev/null 2>&1) || {
		apt-get update -qq -o DPkg::Lock::Timeout=600
		(cd "$CACHE/debs" && apt-get download "$pkg" >/dev/null 2>&1) || die "apt-get download $pkg failed"
	}
	DEB=$(ls "$CACHE/debs/${pkg}_"*.deb | head -1)
}

# apt_fetch PKG DIR: download PKG (once) and extract it into DIR.
apt_fetch() {
	local pkg=$1 dir=$2
	apt_download "$pkg"
	rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
	dpkg-deb -x "$DEB" "$dir.tmp"
	rm -rf "$dir" && mv "$dir.tmp" "$dir"
}

# pick_kver prints the ABI name (6.1.0-N-cloud-amd64) of the cloud kernel
# whose package version equals the installed perf's, else the newest one.
pick_kver() {
	local want pairs
	want=$(dpkg-query -W -f='${Version}' linux-perf 2>/dev/null || true)
	pairs=$(apt-cache show 'linux-image-*-cloud-amd64-unsigned' 2>/dev/null |
		awk '/^Package:/{p=$2} /^Version:/{print p, $2}' | sort -u)
	local hit
	hit=$(awk -v v="$want" '$2 == v {print $1}' <<<"$pairs" | sort -V | tail -1)
	if [ -z "$hit" ]; then
		# The newest kernel of perf's series (6.1 for perf 6.1).
		local series=${want%.*}
		hit=$(awk -v s="linux-image-$series." 'index($1, s) == 1 {print $1}' <<<"$pairs" | sort -V | tail -1)
		[ -n "$hit" ] && log "no cloud kernel has linux-perf's version $want; using $hit"
	fi
	[ -n "$hit" ] || return 1
	hit=${hit#linux-image-}
	echo "${hit%-unsigned}"
}

# --- tools ------------------------------------------------------------------
[ -x "$PERF" ] || die "$PERF (Debian's linux-perf, the oracle) is missing: run make deps"
[ -x "$GPERF" ] || die "$GPERF is missing: run make build"
file -L "$GPERF" | grep -q 'statically linked' || die "$GPERF is not statically linked"
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
command -v cpio >/dev/null || need+=(cpio)
[ ${#need[@]} -eq 0 ] || apt_install "${need[@]}"

# --- kernel, headers, busybox -------------------------------------------------
KVER=${LAB_KVER:-}
if [ -z "$KVER" ]; then
	KVER=$(pick_kver) || {
		log "apt-get update (no cloud kernel in the package lists)"
		apt-get update -qq -o DPkg::Lock::Timeout=600
		KVER=$(pick_kver) || die "no linux-image-*-cloud-amd64-unsigned in apt"
	}
fi
log "kernel $KVER (linux-perf $(dpkg-query -W -f='${Version}' linux-perf))"
KDIR=$CACHE/kernel/$KVER
VMLINUZ=$KDIR/image/boot/vmlinuz-$KVER
[ -f "$VMLINUZ" ] || apt_fetch "linux-image-$KVER-unsigned" "$KDIR/image"
[ -f "$VMLINUZ" ] || die "no boot/vmlinuz-$KVER in linux-image-$KVER-unsigned"
HDR=/usr/src/linux-headers-$KVER
[ -f "$HDR/Makefile" ] || apt_install "linux-headers-$KVER"
BUSYBOX=$CACHE/busybox/bin/busybox
[ -x "$BUSYBOX" ] || apt_fetch busybox-static "$CACHE/busybox"

VMLINUX=${LAB_VMLINUX:-}
if [ -z "$VMLINUX" ] && [ "${LAB_DBG:-0}" = 1 ]; then
	VMLINUX=$KDIR/vmlinux-$KVER
	if [ ! -f "$VMLINUX" ]; then
		apt_download "linux-image-$KVER-dbg"
		log "extract vmlinux-$KVER"
		rm -rf "$KDIR/dbg" && mkdir -p "$KDIR/dbg"
		dpkg-deb --fsys-tarfile "$DEB" | tar -x -C "$KDIR/dbg" "./usr/lib/debug/boot/vmlinux-$KVER"
		mv "$KDIR/dbg/usr/lib/debug/boot/vmlinux-$KVER" "$VMLINUX"
		rm -rf "$KDIR/dbg"
	fi
fi

# Step 5's line in vfs_read: the first one after the entry where perf (on the
# host, offline) finds code and the variable count.
KLINE=
if [ -n "$VMLINUX" ]; then
	[ -f "$VMLINUX" ] || die "LAB_VMLINUX=$VMLINUX: no such file"
	for n in $(seq 1 20); do
		if "$PERF" probe -k "$VMLINUX" -V "vfs_read:$n" 2>/dev/null | grep -q 'size_t[[:space:]]*count$'; then
			KLINE=$n
			break
		fi
	done
	[ -n "$KLINE" ] || die "no line of vfs_read in $VMLINUX has code and count"
fi

# --- the test module ------------------------------------------------------------
MODSRC=$CACHE/build/$KVER/kmod
mkdir -p "$MODSRC"
for f in ldlm_demo.c Kbuild Makefile; do
	cmp -s "$ROOT/testdata/kmod/$f" "$MODSRC/$f" || cp "$ROOT/testdata/kmod/$f" "$MODSRC/$f"
done
log "build ldlm_demo.ko against $HDR"
make -s -C "$MODSRC" KDIR="$HDR" >"$CACHE/kmod-build.log" 2>&1 ||
	die "module build failed: $(tail -20 "$CACHE/kmod-build.log")"
MOD=$MODSRC/ldlm_demo.ko

# Relative line numbers in ldlm_res_hash_dump, read from the source (perf's
# :N counts from the function's first line).
fn_line=$(grep -n '^static noinline int ldlm_res_hash_dump(' "$MODSRC/ldlm_demo.c" | cut -d: -f1)
walk_line=$(awk -v s="$fn_line" 'NR > s && /ldlm_resource_dump\(level, res\);/ {print NR; exit}' "$MODSRC/ldlm_demo.c")
nocode_line=$(awk -v s="$fn_line" 'NR > s && /lab: a line without code/ {print NR; exit}' "$MODSRC/ldlm_demo.c")
[ -n "$fn_line" ] && [ -n "$walk_line" ] && [ -n "$nocode_line" ] || die "cannot find the probe lines in ldlm_demo.c"

# --- initramfs ------------------------------------------------------------------
RD=$CACHE/initramfs
rm -rf "$RD" && mkdir -p "$RD"/{bin,sbin,usr/bin,proc,sys,dev,tmp,root,out,kmod,lab,etc} \
	"$RD/lib/modules/$KVER/extra"
cp "$BUSYBOX" "$RD/bin/busybox"
cp "$GPERF" "$RD/usr/bin/gperf"
cp "$PERF" "$RD/usr/bin/perf"
# perf's shared libraries and the dynamic loader: every absolute path ldd names.
ldd "$PERF" | tr -s ' \t' '\n' | grep '^/' | sort -u | while read -r lib; do
	mkdir -p "$RD$(dirname "$lib")"
	cp -L "$lib" "$RD$lib"
done
cp "$MOD" "$RD/kmod/ldlm_demo.ko"
cp "$MOD" "$RD/lib/modules/$KVER/extra/ldlm_demo.ko"
# The module's source at the path its DWARF names, so -L works.
mkdir -p "$RD$MODSRC"
cp "$MODSRC/ldlm_demo.c" "$RD$MODSRC/ldlm_demo.c"
cp "$LAB/guest.sh" "$RD/lab/guest.sh"
cat >"$RD/lab/env" <<ENV
KVER=$KVER
LINE=$((walk_line - fn_line))
NOCODE=$((nocode_line - fn_line))
VMLINUX=${VMLINUX:+/lab/vmlinux}
KLINE=$KLINE
STEPS="${LAB_STEPS:-1 23 4 5 6}"
ENV
cat >"$RD/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/usr/bin:/bin:/sbin HOME=/root TERM=dumb PAGER=cat
sh /lab/guest.sh
echo "lab: guest done"
poweroff -f
INIT
chmod +x "$RD/init"
echo 'root:x:0:0:root:/root:/bin/sh' >"$RD/etc/passwd"
echo 'root:x:0:' >"$RD/etc/group"
log "pack initramfs"
(cd "$RD" && find . | cpio -o -H newc --quiet | gzip -1) >"$CACHE/initramfs.gz"
initrd=$CACHE/initramfs.gz
if [ -n "$VMLINUX" ]; then
	# The kernel unpacks concatenated archives; the vmlinux (hundreds of MB)
	# goes in an uncompressed one, which is quicker to make and unpack.
	mkdir -p "$CACHE/vmlinux-rd/lab"
	ln -f "$VMLINUX" "$CACHE/vmlinux-rd/lab/vmlinux" 2>/dev/null || cp "$VMLINUX" "$CACHE/vmlinux-rd/lab/vmlinux"
	(cd "$CACHE/vmlinux-rd" && printf 'lab/vmlinux\n' | cpio -o -H newc --quiet) >"$CACHE/vmlinux.cpio"
	# Each archive must start 4-byte aligned; the kernel skips zero padding.
	cp "$CACHE/initramfs.gz" "$CACHE/initramfs-vmlinux"
	truncate -s %4 "$CACHE/initramfs-vmlinux"
	cat "$CACHE/vmlinux.cpio" >>"$CACHE/initramfs-vmlinux"
	rm -f "$CACHE/vmlinux.cpio"
	initrd=$CACHE/initramfs-vmlinux
fi

# --- boot -----------------------------------------------------------------------
# The timeouts leave room for a heavily shared host: the guest needs about a
# minute on an idle 2-core machine and five at a load average of 20.
mem=1024 TIMEOUT=${TIMEOUT:-900}
if [ -n "$VMLINUX" ]; then
	mem=3072 TIMEOUT=${LAB_TIMEOUT:-1200}
fi
accel=(-accel tcg,thread=multi -cpu max)
case $ACCEL in
tcg) ;;
kvm) accel=(-accel kvm -cpu host) ;;
auto) if [ -w /dev/kvm ] && [ ! -d /sys/module/kvm_pvm ]; then
	accel=(-accel kvm -cpu host)
fi ;;
*) die "LAB_ACCEL=$ACCEL: want tcg, kvm or auto" ;;
esac
rm -rf "$OUT" && mkdir -p "$OUT"
log "boot ${accel[*]} (timeout ${TIMEOUT}s)"
rc=0
timeout -k 10 "$TIMEOUT" qemu-system-x86_64 "${accel[@]}" -m "$mem" -smp 2 \
	-nographic -no-reboot -nic none -monitor none \
	-kernel "$VMLINUZ" -initrd "$initrd" \
	-append "console=ttyS0 tsc=reliable panic=-1 loglevel=4" \
	-serial "file:$OUT/console.log" -serial "file:$OUT/results.log" \
	</dev/null >"$OUT/qemu.log" 2>&1 || rc=$?
if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
	log "guest killed after ${TIMEOUT}s (console: $OUT/console.log)"
elif [ $rc -ne 0 ]; then
	log "qemu exited $rc: $(tail -5 "$OUT/qemu.log")"
fi
log "guest finished"
if ! grep -q '^lab: guest done' "$OUT/console.log" 2>/dev/null; then
	log "the guest did not finish its scenario; the end of its console:"
	tail -n 25 "$OUT/console.log" | tr -d '\r' | sed 's/^/    /' >&2
fi

# --- results --------------------------------------------------------------------
# results.log holds "@@BEGIN step" / base64 of a tar of /out/step / "@@END step";
# a step may be sent more than once (each time whole so far): the blocks are
# unpacked in order, so a block cut short by a killed guest loses only itself.
awk -v out="$OUT" '
	/^@@BEGIN / {f = sprintf("%s/%03d.%s.b64", out, ++k, $2); printf "" > f; on=1; next}
	/^@@END / {on=0; close(f); next}
	on {sub(/\r$/, ""); print >> f}
' "$OUT/results.log"
rm -f "$CACHE/initramfs-vmlinux"
for b in "$OUT"/*.b64; do
	[ -e "$b" ] || continue
	base64 -d "$b" 2>/dev/null | tar -x -C "$OUT" 2>/dev/null || log "block $(basename "$b") is incomplete"
	rm "$b"
done
ec=0
bash "$LAB/check.sh" "$OUT" || ec=$?
log "done in $((SECONDS - start))s"
exit $ec
