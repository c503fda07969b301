package script_test

import (
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gperf-dev/gperf/internal/testutil"
)

func TestMain(m *testing.M) { testutil.Main(m) }

// parity counts the (file, field set) pairs found byte-identical to perf.
var parity atomic.Int64

// buildGperf builds the gperf binary into a temporary directory.
func buildGperf(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "gperf")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = testutil.RepoRoot()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// perfRecord runs perf record -o out args... in dir.
func perfRecord(t *testing.T, dir, out string, args ...string) {
	t.Helper()
	r := testutil.RunPerf(t, dir, append([]string{"record", "-o", out}, args...)...)
	if r.Code != 0 {
		t.Fatalf("perf record %s: exit %d\n%s", strings.Join(args, " "), r.Code, r.Stderr)
	}
}

// fieldSets are the option sets every recording is printed with.
var fieldSets = [][]string{
	nil,
	{"-F", "comm,tid,time,event,trace"},
	{"-F", "comm,pid,tid,cpu,time,event,trace,ip,sym,dso"},
	{"-F", "ip,sym,symoff,dso"},
	{"-F", "+pid,-cpu"},
	{"-F", "trace:comm,event,trace,period"},
	{"--ns"},
	{"-G"},
	{"--reltime"},
	{"--deltatime"},
	{"--show-task-events", "--show-mmap-events"},
	{"--header"},
}

// compare prints file with perf script and gperf script for each option
// set; stdout and the exit status must agree.
func compare(t *testing.T, gperf, file string, sets [][]string) {
	t.Helper()
	dir := filepath.Dir(file)
	for _, set := range sets {
		args := append([]string{"script", "-i", file}, set...)
		want := testutil.RunPerf(t, dir, args...)
		got := testutil.Run(t, dir, gperf, args...)
		what := fmt.Sprintf("%s %s", filepath.Base(file), strings.Join(set, " "))
		if (want.Code == 0) != (got.Code == 0) {
			t.Fatalf("%s: perf exit %d, gperf exit %d\nperf: %s\ngperf: %s", what, want.Code, got.Code, want.Stderr, got.Stderr)
		}
		if want.Code == 0 && want.Stdout == "" {
			t.Fatalf("%s: perf printed nothing; the recording is empty:\n%s", what, want.Stderr)
		}
		testutil.Same(t, what, "perf script", want.Stdout, "gperf script", got.Stdout)
		parity.Add(1)
	}
	t.Logf("%s: %d option sets identical to perf", filepath.Base(file), len(sets))
}

// symbolFileOffset returns the file offset of a function in an ELF file,
// the address form uprobe_events wants.
func symbolFileOffset(t *testing.T, bin, name string) uint64 {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range syms {
		if s.Name != name {
			continue
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_LOAD && s.Value >= p.Vaddr && s.Value < p.Vaddr+p.Memsz {
				return s.Value - p.Vaddr + p.Off
			}
		}
	}
	t.Fatalf("%s: no symbol %s", bin, name)
	return 0
}

// addProbes adds, with perf probe and raw uprobe_events lines, the probes
// on script_args's target(): typed arguments, a return probe, and
// bitfields/arrays/strings fetched from registers at the entry.
func addProbes(t *testing.T, bin string) string {
	t.Helper()
	testutil.Requires(t, testutil.Root, testutil.Perf, testutil.Tracefs, testutil.Uprobes)
	group := testutil.Group(t)
	t.Cleanup(func() {
		testutil.RunPerf(t, "", "probe", "-q", "-d", group+":*")
		if f, err := os.OpenFile(testutil.TracingDir+"/uprobe_events", os.O_WRONLY|os.O_APPEND, 0); err == nil {
			f.WriteString("-:" + group + "/sa_bits\n")
			f.Close()
		}
	})
	for _, spec := range []string{
		group + ":sa_args=target n:s32 big:u64 neg:x64 name:string f->d",
		group + ":sa_ret=target%return $retval",
		group + ":sa_small=target n:u8 big:x32 neg:s16",
	} {
		r := testutil.RunPerf(t, "", "probe", "-x", bin, "-a", spec)
		if r.Code != 0 {
			t.Fatalf("perf probe -a %q: exit %d\n%s", spec, r.Code, r.Stderr)
		}
	}
	off := symbolFileOffset(t, bin, "target")
	def := fmt.Sprintf("p:%s/sa_bits %s:0x%x s=%%di:s32 x=%%si:x64 u=%%dx:u16 nm=+0(%%cx):string a=+0(%%r8):b3@0/32 b=+0(%%r8):b5@3/32 c=+0(%%r8):b1@8/32 arr=+0(%%r8):x8[4] d=+4(%%r8):s32 cm=$comm",
		group, bin, off)
	f, err := os.OpenFile(testutil.TracingDir+"/uprobe_events", os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteString(def + "\n")
	f.Close()
	if err != nil {
		t.Fatalf("add uprobe %q: %v", def, err)
	}
	return group
}

func TestUprobeArgs(t *testing.T) {
	testutil.Requires(t, testutil.Root, testutil.Perf, testutil.Tracefs, testutil.Uprobes)
	bin := testutil.BuildC(t, 0, "script_args.c")
	group := addProbes(t, bin)
	gperf := buildGperf(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "uprobe.data")
	perfRecord(t, dir, out, "-e", group+":*", "--", bin, "12")
	compare(t, gperf, out, fieldSets)
}

func TestUprobePIEWithCallchain(t *testing.T) {
	testutil.Requires(t, testutil.Root, testutil.Perf, testutil.Tracefs, testutil.Uprobes)
	bin := testutil.BuildC(t, testutil.PIE|testutil.FramePointer, "script_args.c")
	group := addProbes(t, bin)
	gperf := buildGperf(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "uprobe-g.data")
	perfRecord(t, dir, out, "-g", "-e", group+":sa_args", "-e", group+":sa_ret__return", "--", bin, "6")
	compare(t, gperf, out, fieldSets)
}

func TestPipeMode(t *testing.T) {
	testutil.Requires(t, testutil.Root, testutil.Perf, testutil.Tracefs, testutil.Uprobes)
	bin := testutil.BuildC(t, 0, "script_args.c")
	group := addProbes(t, bin)
	gperf := buildGperf(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "pipe.data")
	fh, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(testutil.PerfPath(), "record", "-o", "-", "-e", group+":*", "-e", "raw_syscalls:sys_exit", "--", bin, "5")
	cmd.Stdout = fh
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err = cmd.Run()
	fh.Close()
	if err != nil {
		t.Fatalf("perf record -o -: %v\n%s", err, stderr.String())
	}
	compare(t, gperf, out, fieldSets)

	// And from stdin, as `perf record -o - | perf script`.
	want := testutil.RunPerf(t, dir, "script", "-i", out)
	in, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	g := exec.Command(gperf, "script", "-i", "-")
	g.Stdin = in
	got, err := g.Output()
	if err != nil {
		t.Fatalf("gperf script -i -: %v", err)
	}
	testutil.Same(t, "pipe from stdin", "perf script", want.Stdout, "gperf script -i -", string(got))
}

func TestSystemWideTracepoints(t *testing.T) {
	testutil.Requires(t, testutil.Root, testutil.Perf, testutil.Tracefs)
	bin := testutil.BuildC(t, 0, "script_args.c")
	gperf := buildGperf(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "sched.data")
	perfRecord(t, dir, out, "-a", "-e", "sched:sched_switch", "-e", "raw_syscalls:sys_enter", "-e", "raw_syscalls:sys_exit", "--", bin, "3")
	// The fixture's pid, from perf's own output, for --pid and --tid.
	pid := ""
	for _, l := range strings.Split(testutil.RunPerf(t, dir, "script", "-i", out, "-F", "comm,pid").Stdout, "\n") {
		if f := strings.Fields(l); len(f) == 2 && strings.HasPrefix(f[0], "script_args") {
			pid = f[1]
			break
		}
	}
	if pid == "" {
		t.Fatal("no sample of the fixture in the recording")
	}
	sets := append(fieldSets[:len(fieldSets):len(fieldSets)],
		[]string{"--pid", pid},
		[]string{"--tid", pid + ",1", "-F", "+pid"},
		[]string{"-C", "0"},
		[]string{"-C", "1", "-F", "comm,tid,cpu,event"},
		[]string{"--comms", "script_args-O0"},
		[]string{"--comms", "swapper,perf", "-F", "comm,pid,event,trace"},
	)
	compare(t, gperf, out, sets)
}

func TestManyTracepoints(t *testing.T) {
	testutil.Requires(t, testutil.Root, testutil.Perf, testutil.Tracefs)
	bin := testutil.BuildC(t, 0, "script_args.c")
	gperf := buildGperf(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "many.data")
	var events []string
	for _, e := range []string{"sched:*", "irq:*", "timer:*", "signal:*", "task:*", "syscalls:sys_enter_openat", "syscalls:sys_exit_openat", "syscalls:sys_enter_getppid"} {
		sys, _, _ := strings.Cut(e, ":")
		if _, err := os.Stat(filepath.Join(testutil.TracingDir, "events", sys)); err == nil {
			events = append(events, "-e", e)
		}
	}
	perfRecord(t, dir, out, append(append([]string{"-a"}, events...), "--", "sh", "-c", bin+" 2; ls / >/dev/null")...)
	compare(t, gperf, out, [][]string{nil, {"-F", "event,trace"}, {"--ns", "-F", "+pid"}, {"--header-only"}})
}

func TestCPUClockCallchain(t *testing.T) {
	testutil.Requires(t, testutil.Root, testutil.Perf)
	bin := testutil.BuildC(t, testutil.FramePointer, "script_args.c")
	gperf := buildGperf(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "cpu-g.data")
	perfRecord(t, dir, out, "-g", "-e", "cpu-clock", "-F", "2000", "--", bin, "30")
	// --kallsyms with a copy of /proc/kallsyms, and with its first 300 kB
	// only (kernel addresses past its last symbol have no map then).
	ks, err := os.ReadFile("/proc/kallsyms")
	if err != nil {
		t.Fatal(err)
	}
	full, part := filepath.Join(dir, "kallsyms"), filepath.Join(dir, "kallsyms.part")
	os.WriteFile(full, ks, 0o644)
	if len(ks) > 300000 {
		ks = ks[:300000]
	}
	os.WriteFile(part, ks, 0o644)
	compare(t, gperf, out, append(fieldSets[:len(fieldSets):len(fieldSets)],
		[]string{"--kallsyms", full}, []string{"--kallsyms", part, "-G"}))
	out2 := filepath.Join(dir, "cpu.data")
	perfRecord(t, dir, out2, "-e", "cpu-clock", "-e", "task-clock", "-F", "2000", "--", bin, "30")
	compare(t, gperf, out2, fieldSets)
}

func TestTwoEventTypes(t *testing.T) {
	testutil.Requires(t, testutil.Root, testutil.Perf, testutil.Tracefs)
	bin := testutil.BuildC(t, testutil.PIE, "script_args.c")
	gperf := buildGperf(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "two.data")
	perfRecord(t, dir, out, "-e", "cpu-clock", "-e", "raw_syscalls:sys_exit", "-F", "2000", "--", bin, "20")
	compare(t, gperf, out, append(fieldSets[:len(fieldSets):len(fieldSets)],
		[]string{"-F", "sw:comm,tid,ip,sym", "-F", "trace:comm,trace"},
		[]string{"-F", "comm,cpu"},
	))
}

func TestSystemWideCallchain(t *testing.T) {
	testutil.Requires(t, testutil.Root, testutil.Perf)
	bin := testutil.BuildC(t, testutil.FramePointer, "script_args.c")
	gperf := buildGperf(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "all-g.data")
	perfRecord(t, dir, out, "-a", "-g", "-e", "cpu-clock", "-F", "1000", "--", bin, "20")
	// Other processes run C++ code whose names perf demangles, which
	// gperf does not do: compare the fixture's and the kernel's samples.
	comm := filepath.Base(bin)
	if len(comm) > 15 {
		comm = comm[:15]
	}
	compare(t, gperf, out, [][]string{
		{"--comms", comm + ",swapper"},
		{"--comms", comm, "-G"},
		{"--comms", comm, "-F", "comm,tid,cpu,ip,sym"},
	})
}

func TestErrors(t *testing.T) {
	testutil.Requires(t, testutil.Root, testutil.Perf)
	bin := testutil.BuildC(t, 0, "script_args.c")
	gperf := buildGperf(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.data")
	perfRecord(t, dir, good, "-e", "cpu-clock", "--", bin, "2")

	check := func(what string, args ...string) testutil.Result {
		t.Helper()
		want := testutil.RunPerf(t, dir, args...)
		got := testutil.Run(t, dir, gperf, args...)
		if (want.Code == 0) != (got.Code == 0) {
			t.Fatalf("%s: perf exit %d, gperf exit %d\nperf: %s\ngperf: %s", what, want.Code, got.Code, want.Stderr, got.Stderr)
		}
		testutil.Same(t, what+" (stdout)", "perf", want.Stdout, "gperf", got.Stdout)
		if strings.Contains(got.Stderr, "panic") {
			t.Fatalf("%s: gperf panicked:\n%s", what, got.Stderr)
		}
		return got
	}

	// A file owned by someone else is refused unless -f, with perf's message.
	other := filepath.Join(dir, "other.data")
	b, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(other, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(other, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	want := testutil.RunPerf(t, dir, "script", "-i", other)
	got := check("not owned", "script", "-i", other)
	if strings.TrimSpace(got.Stderr) != strings.TrimSpace(want.Stderr) {
		t.Errorf("not owned: gperf says %q, perf says %q", got.Stderr, want.Stderr)
	}
	check("not owned, -f", "script", "-f", "-i", other)

	missing := filepath.Join(dir, "missing.data")
	want = testutil.RunPerf(t, dir, "script", "-i", missing)
	got = check("missing", "script", "-i", missing)
	if strings.TrimSpace(got.Stderr) != strings.TrimSpace(want.Stderr) {
		t.Errorf("missing: gperf says %q, perf says %q", got.Stderr, want.Stderr)
	}

	empty := filepath.Join(dir, "empty.data")
	os.WriteFile(empty, nil, 0o644)
	check("empty", "script", "-i", empty)

	// Truncated and garbled files: an error naming the problem, no panic.
	for _, n := range []int{8, 100, 200, len(b) / 2, len(b) - 7} {
		if n >= len(b) {
			continue
		}
		p := filepath.Join(dir, fmt.Sprintf("trunc%d.data", n))
		os.WriteFile(p, b[:n], 0o644)
		r := testutil.Run(t, dir, gperf, "script", "-i", p)
		if strings.Contains(r.Stderr, "panic") || strings.Contains(r.Stderr, "goroutine") {
			t.Fatalf("truncated at %d: gperf panicked:\n%s", n, r.Stderr)
		}
	}
	junk := append([]byte(nil), b...)
	for i := 0; i < len(junk); i += 97 {
		junk[i] ^= 0x5a
	}
	p := filepath.Join(dir, "junk.data")
	os.WriteFile(p, junk, 0o644)
	r := testutil.Run(t, dir, gperf, "script", "-i", p)
	if strings.Contains(r.Stderr, "panic") || strings.Contains(r.Stderr, "goroutine") {
		t.Fatalf("garbled file: gperf panicked:\n%s", r.Stderr)
	}

	check("bad field", "script", "-i", good, "-F", "comm,nosuchfield")
	check("mixed field forms", "script", "-i", good, "-F", "comm,+tid")
	check("field the samples lack", "script", "-i", good, "-F", "comm,addr")
}

func TestZZParityCount(t *testing.T) {
	t.Logf("parity: %d (file, option set) pairs byte-identical to perf script", parity.Load())
}
