package script_test

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gperf-dev/gperf/internal/testutil"
)

// perfDataRecords calls fn with each record of a perf.data file's data
// section (its offset and bytes).
func perfDataRecords(t *testing.T, data []byte, fn func(rec []byte)) {
	t.Helper()
	if len(data) < 56 || string(data[:8]) != "PERFILE2" {
		t.Fatal("not a perf.data file")
	}
	off := binary.LittleEndian.Uint64(data[40:])
	size := binary.LittleEndian.Uint64(data[48:])
	for p := off; p+8 <= off+size && p+8 <= uint64(len(data)); {
		sz := uint64(binary.LittleEndian.Uint16(data[p+6:]))
		if sz < 8 || p+sz > uint64(len(data)) {
			t.Fatalf("bad record at offset %d", p)
		}
		fn(data[p : p+sz])
		p += sz
	}
}

// kernelEdge is one rewrite of a recording's first two kernel samples.
type kernelEdge struct {
	name     string
	user     bool   // the first one becomes a user sample at 0x1000
	ip1, ip2 uint64 // new ips (0: unchanged)
	chain    bool   // the callchains' kernel entries too
}

// TestKernelMapEdges pins when perf's kernel map spans the kernel MMAP
// record and when only a partial --kallsyms file's symbols: a recording's
// first kernel samples are rewritten to addresses at the edges (below
// _text, past _etext, at and past the end of the last kallsyms symbol),
// with the first sample of the file a user or a kernel one, and perf and
// gperf print each variant.
func TestKernelMapEdges(t *testing.T) {
	testutil.Requires(t, testutil.Root, testutil.Perf)
	gperf := buildGperf(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "edge.data")
	// dd spends its time in the kernel: many kernel samples.
	perfRecord(t, dir, out, "-g", "-e", "cpu-clock", "-F", "2000", "--", "dd", "if=/dev/zero", "of=/dev/null", "bs=4k", "count=100000")
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var lo, hi uint64
	perfDataRecords(t, data, func(r []byte) {
		// PERF_RECORD_MMAP of the kernel: pid, tid, addr, len, pgoff, name.
		if binary.LittleEndian.Uint32(r) == 1 && binary.LittleEndian.Uint16(r[4:])&7 == 1 && bytes.HasPrefix(r[40:], []byte("[kernel.kallsyms]")) {
			lo = binary.LittleEndian.Uint64(r[16:])
			hi = lo + binary.LittleEndian.Uint64(r[24:])
		}
	})
	if hi <= lo {
		t.Fatal("no kernel MMAP record in the recording")
	}
	// A partial kallsyms: the first text symbols up to the middle of the
	// kernel's range.
	ks, err := os.ReadFile("/proc/kallsyms")
	if err != nil {
		t.Fatal(err)
	}
	var part bytes.Buffer
	var last uint64
	sc := bufio.NewScanner(bytes.NewReader(ks))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 {
			continue
		}
		a, err := strconv.ParseUint(f[0], 16, 64)
		if err != nil || a < lo {
			part.WriteString(sc.Text() + "\n")
			continue
		}
		if a >= lo+(hi-lo)/2 {
			break
		}
		part.WriteString(sc.Text() + "\n")
		last = a
	}
	if last == 0 {
		t.Fatal("no kernel text symbol in /proc/kallsyms")
	}
	partPath := filepath.Join(dir, "kallsyms.part")
	if err := os.WriteFile(partPath, part.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	// The last symbol has no size: perf ends it a page past its page.
	lastEnd := (last+4095)&^4095 + 4096
	edges := []kernelEdge{
		{name: "in-partial", ip1: last, ip2: last + 1},
		{name: "past-last-symbol", ip1: last, ip2: lastEnd},
		{name: "last-byte-of-last-symbol", ip1: last, ip2: lastEnd - 1},
		{name: "first-past-partial", ip1: hi - 1, ip2: lastEnd},
		{name: "first-past-etext", ip1: hi, ip2: hi - 1},
		{name: "first-below-text", ip1: lo - 1, ip2: lo},
		{name: "first-past-etext-chain", ip1: hi, ip2: lastEnd, chain: true},
		{name: "first-past-partial-chain", ip1: hi - 1, ip2: lastEnd, chain: true},
		{name: "user-first", user: true, ip2: lastEnd},
		{name: "user-first-in-partial", user: true, ip2: last},
		{name: "user-first-past-etext", user: true, ip2: hi},
	}
	for _, e := range edges {
		mut := append([]byte(nil), data...)
		n := 0
		perfDataRecords(t, mut, func(r []byte) {
			// PERF_RECORD_SAMPLE of -g cpu-clock: ip, pid/tid, time,
			// period, callchain.
			if n >= 2 || binary.LittleEndian.Uint32(r) != 9 || binary.LittleEndian.Uint16(r[4:])&7 != 1 {
				return
			}
			ip := e.ip1
			if n == 1 {
				ip = e.ip2
			}
			n++
			if n == 1 && e.user {
				misc := binary.LittleEndian.Uint16(r[4:])
				binary.LittleEndian.PutUint16(r[4:], misc&^7|2)
				binary.LittleEndian.PutUint64(r[8:], 0x1000)
				binary.LittleEndian.PutUint64(r[40:], 0) // no callchain
				return
			}
			if ip == 0 {
				return
			}
			binary.LittleEndian.PutUint64(r[8:], ip)
			if e.chain {
				nr := binary.LittleEndian.Uint64(r[40:])
				for k := uint64(0); k < nr && 48+8*k+8 <= uint64(len(r)); k++ {
					if v := binary.LittleEndian.Uint64(r[48+8*k:]); v >= lo && v < 0xfffffffffffff000 {
						binary.LittleEndian.PutUint64(r[48+8*k:], ip)
					}
				}
			}
		})
		if n < 2 {
			t.Fatalf("%s: fewer than two kernel samples in the recording", e.name)
		}
		file := filepath.Join(dir, e.name+".data")
		if err := os.WriteFile(file, mut, 0o644); err != nil {
			t.Fatal(err)
		}
		compare(t, gperf, file, [][]string{{"--kallsyms", partPath, "-G"}, {"--kallsyms", partPath}})
	}
}

// pltEntries returns the file offsets of a file's .plt entries (past the
// header), the form uprobe_events wants.
func pltEntries(t *testing.T, path string) []uint64 {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	plt := f.Section(".plt")
	if plt == nil || plt.Entsize == 0 {
		t.Fatalf("%s: no .plt", path)
	}
	var offs []uint64
	for o := plt.Offset + plt.Entsize; o+plt.Entsize <= plt.Offset+plt.Size; o += plt.Entsize {
		offs = append(offs, o)
	}
	return offs
}

// TestPLTSymbols puts uprobes on every .plt entry of the fixture's libc
// (whose PLT has IRELATIVE entries without a symbol and named ones), so
// samples and callchains start in PLT stubs that printf and friends call
// through; perf names those from .rela.plt ("name@plt", "@plt"). The
// fixture's own .plt is left out: there _init, stretched over .plt by
// symbols__fixup_end, overlaps the PLT symbols, and which one perf finds
// depends on the shape of its symbol rb-tree (not emulated).
func TestPLTSymbols(t *testing.T) {
	testutil.Requires(t, testutil.Root, testutil.Perf, testutil.Tracefs, testutil.Uprobes)
	gperf := buildGperf(t)
	for _, flags := range []testutil.BuildFlags{testutil.FramePointer, testutil.PIE | testutil.FramePointer} {
		bin := testutil.BuildC(t, flags, "script_args.c")
		libc := ""
		r := testutil.Run(t, "", "ldd", bin)
		for _, l := range strings.Split(r.Stdout, "\n") {
			if f := strings.Fields(l); len(f) >= 3 && strings.HasPrefix(f[0], "libc.so") {
				libc = f[2]
			}
		}
		if libc == "" {
			t.Fatalf("ldd %s: no libc in\n%s", bin, r.Stdout)
		}
		group := testutil.Group(t)
		var defs []string
		for i, o := range pltEntries(t, libc) {
			defs = append(defs, fmt.Sprintf("p:%s/libc%d %s:0x%x", group, i, libc, o))
		}
		t.Cleanup(func() {
			f, err := os.OpenFile(testutil.TracingDir+"/uprobe_events", os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				return
			}
			defer f.Close()
			for _, d := range defs {
				name, _, _ := strings.Cut(strings.TrimPrefix(d, "p:"), " ")
				f.WriteString("-:" + name + "\n")
			}
		})
		f, err := os.OpenFile(testutil.TracingDir+"/uprobe_events", os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range defs {
			if _, err := f.WriteString(d + "\n"); err != nil {
				f.Close()
				t.Fatalf("add uprobe %q: %v", d, err)
			}
		}
		f.Close()
		dir := t.TempDir()
		out := filepath.Join(dir, "plt.data")
		perfRecord(t, dir, out, "-g", "-e", group+":*", "--", bin, "3")
		want := testutil.RunPerf(t, dir, "script", "-i", out, "-F", "ip,sym")
		if !strings.Contains(want.Stdout, "@plt") {
			t.Fatalf("perf script names no PLT entry:\n%s", want.Stdout)
		}
		compare(t, gperf, out, [][]string{nil, {"-G"}, {"-F", "ip,sym,symoff,dso"}})
	}
}
