package probe_test

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gperf-dev/gperf/internal/testutil"
)

// Golden tests: perf probe and gperf probe run with the same arguments on
// the same fixture; everything they print must be the same bytes.

// TestParseErrorsMatchPerf feeds definitions perf rejects while parsing.
func TestParseErrorsMatchPerf(t *testing.T) {
	testutil.Requires(t, testutil.Root, testutil.Perf, testutil.Uprobes)
	bin := testutil.BuildC(t, testutil.O2|testutil.PIE|testutil.NoDebug, "ldlm.c")
	specs := []string{
		"1bad=ldlm_res_hash_dump",
		"=ldlm_res_hash_dump",
		"g:e:f=ldlm_res_hash_dump",
		"ldlm_res_hash_dump:x",
		"ldlm_res_hash_dump+x",
		"ldlm_res_hash_dump%foo",
		"ldlm_res_hash_dump@a.c@b.c",
		"ldlm_res_hash_dump:3+4",
		"ldlm_res_hash_dump:6;foo",
		"ldlm_res_hash_dump+4;foo",
		"ldlm_res_hash_dump%return level",
		"ldlm_res_hash_dump:3%return",
		"ldlm.c;",
		"ldlm.c+4",
		"0x12zz",
		"ldlm_res_hash_dump:6 res->lr_name.name[x]",
		"ldlm_res_hash_dump:6 res->lr_name.name[]",
		"ldlm_res_hash_dump:6 res-lr",
		"ldlm_res_hash_dump:6 a[0]b",
		"%sdt_x:y+3",
	}
	for _, s := range specs {
		for _, v := range [][]string{nil, {"-v"}, {"-q"}} {
			args := append(append([]string{"-n", "-x", bin}, v...), s)
			perf, gp := both(t, "", args...)
			if perf.Code == 0 {
				t.Errorf("perf accepted %q; the test expects a parse error", s)
			}
			if len(v) > 0 && v[0] == "-v" {
				// -v prints perf's debug trace; compare the verdict.
				perf.Stderr, gp.Stderr = lastLines(perf.Stderr, 2), lastLines(gp.Stderr, 2)
			}
			sameResult(t, strings.Join(args, " "), perf, gp)
		}
	}
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

// symbolSpecs are definitions resolved from the symbol table alone.
var symbolSpecs = []string{
	"ldlm_res_hash_dump",
	"ldlm_res_hash_dump+4 %di",
	"ldlm_res_hash_dump+4 a=%di b=+8(%si):u32 c=@ldlm_dump_level:s32 $comm",
	"ldlm_res_hash_dump%return $retval",
	"ldlm_res_hash_dump%return r=$retval:x32",
	"ldlm_res*",
	"ldlm_*dump",
	"nosuch",
	"main+100000",
	"ldlm_res_hash_dump:3",
	"ldlm_res_hash_dump level",
	"ldlm_res_hash_dump;x*",
	"myev=ldlm_res_hash_dump%return",
	"0x1176",
	"0x1176 %ax",
}

// TestSymbolProbesMatchPerf resolves definitions on binaries without
// DWARF (PIE, non-PIE, shared library): the definitions written, the
// messages and the exit status must be perf's.
func TestSymbolProbesMatchPerf(t *testing.T) {
	testutil.Requires(t, testutil.Root, testutil.Perf, testutil.Uprobes)
	n := 0
	for _, f := range []testutil.BuildFlags{testutil.NoDebug | testutil.O2 | testutil.PIE, testutil.NoDebug, testutil.NoDebug | testutil.O2 | testutil.Shared} {
		bin := testutil.BuildC(t, f, "ldlm.c")
		for _, s := range symbolSpecs {
			t.Run(f.String()+"/"+s, func(t *testing.T) {
				if f&testutil.Shared != 0 {
					// perf 6.1 also probes the PLT stub of a shared
					// library's function (docs/compat.md): compare the
					// definitions without those.
					perf, gp := both(t, "", "-n", "-v", "-x", bin, s)
					testutil.Same(t, "-n -v "+s, "perf", dropPLT(t, bin, writing(perf.Stderr)), "gperf", writing(gp.Stderr))
					perf, gp = both(t, "", "-x", bin, "-D", s)
					testutil.Same(t, "-D "+s, "perf", dropPLT(t, bin, perf.Stdout), "gperf", gp.Stdout)
					n++
					return
				}
				perf, gp := both(t, "", "-n", "-x", bin, s)
				sameResult(t, "-n "+s, perf, gp)
				perf, gp = both(t, "", "-n", "-v", "-x", bin, s)
				testutil.Same(t, "-n -v "+s, "perf", writing(perf.Stderr), "gperf", writing(gp.Stderr))
				perf, gp = both(t, "", "-x", bin, "-D", s)
				testutil.Same(t, "-D "+s, "perf", perf.Stdout, "gperf", gp.Stdout)
				if perf.Code != gp.Code {
					t.Errorf("-D %s: perf exits %d, gperf %d", s, perf.Code, gp.Code)
				}
				n++
			})
		}
	}
	t.Logf("%d definitions matched perf", n)
}

var defAddrRE = regexp.MustCompile(`:0x([0-9a-f]+)(\s|$)`)

// dropPLT removes the definitions (lines) whose uprobe address is in one of
// bin's PLT sections.
func dropPLT(t *testing.T, bin, text string) string {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var keep []string
	for _, l := range strings.SplitAfter(text, "\n") {
		if m := defAddrRE.FindStringSubmatch(l); m != nil {
			a, _ := strconv.ParseUint(m[1], 16, 64)
			inPLT := false
			for _, sec := range f.Sections {
				if strings.HasPrefix(sec.Name, ".plt") && a >= sec.Offset && a < sec.Offset+sec.Size {
					inPLT = true
				}
			}
			if inPLT {
				continue
			}
		}
		keep = append(keep, l)
	}
	return strings.TrimSuffix(strings.Join(keep, ""), "\n") + map[bool]string{true: "\n", false: ""}[strings.HasSuffix(text, "\n") && len(keep) > 0]
}

// TestTrailingOptions checks gperf's one deliberate difference in option
// parsing: an option after the definition is an option (perf takes it as
// a probe argument, "-n" then makes the kernel refuse the probe).
func TestTrailingOptions(t *testing.T) {
	testutil.Requires(t, testutil.Root, testutil.Uprobes)
	bin := testutil.BuildC(t, testutil.NoDebug|testutil.O2|testutil.PIE, "ldlm.c")
	g := testutil.Group(t)
	cleanupGroup(t, g)
	ev := "trailing" + strings.TrimPrefix(g, testutil.GroupPrefix)
	r := testutil.Run(t, "", gperf(t), "probe", "-x", bin, g+":"+ev+"=ldlm_res_hash_dump", "%di", "-8(%sp):s32", "-n", "-v")
	if r.Code != 0 {
		t.Fatalf("gperf: exit %d\n%s", r.Code, r.Stderr)
	}
	want := "Writing event: p:" + g + "/" + ev + " " + bin + ":0x"
	if w := writing(r.Stderr); !strings.HasPrefix(w, want) || !strings.HasSuffix(w, " %di -8(%sp):s32") {
		t.Errorf("trailing -n -v: got %q, want %q... %%di -8(%%sp):s32", w, want)
	}
	if ev := uprobeEvents(t, g); len(ev) != 0 {
		t.Errorf("dry run added %q", ev)
	}
}

var (
	kmodOnce sync.Once
	kmodPath string
	kmodErr  error
	kmodLog  []byte
)

// kmod builds testdata/kmod/ldlm_demo.ko against the installed kernel
// headers, once per run.
func kmod(t *testing.T) string {
	t.Helper()
	testutil.Requires(t, testutil.KernelHeaders)
	kmodOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gperf-kmod-")
		if err != nil {
			kmodErr = err
			return
		}
		src := filepath.Join(testutil.RepoRoot(), "testdata", "kmod")
		ents, err := os.ReadDir(src)
		if err != nil {
			kmodErr = err
			return
		}
		for _, e := range ents {
			b, err := os.ReadFile(filepath.Join(src, e.Name()))
			if err != nil {
				kmodErr = err
				return
			}
			os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644)
		}
		cmd := exec.Command("make", "KDIR="+testutil.KernelHeadersDir())
		cmd.Dir = dir
		kmodLog, kmodErr = cmd.CombinedOutput()
		kmodPath = filepath.Join(dir, "ldlm_demo.ko")
	})
	if kmodErr != nil {
		t.Fatalf("build ldlm_demo.ko: %v\n%s", kmodErr, kmodLog)
	}
	return kmodPath
}

// fakeTracefs runs a command in a private mount namespace whose
// /sys/kernel/tracing is a tmpfs holding the real tracefs README and empty
// kprobe_events and uprobe_events: perf then writes kprobe definitions as
// on a kernel with kprobes (KERNEL-LAB.md), and the writes go nowhere.
func fakeTracefs(t *testing.T, name string, args ...string) testutil.Result {
	t.Helper()
	return fakeTracefsFiles(t, "kprobe_events uprobe_events", name, args...)
}

// fakeTracefsFiles is fakeTracefs with the given empty probe files only.
func fakeTracefsFiles(t *testing.T, files string, name string, args ...string) testutil.Result {
	t.Helper()
	readme, err := os.ReadFile(testutil.TracingDir + "/README")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "README"), readme, 0o644); err != nil {
		t.Fatal(err)
	}
	script := `set -e; mount -t tmpfs none /sys/kernel/tracing; cp "$0"/README /sys/kernel/tracing/; ` +
		`cd /sys/kernel/tracing; touch ` + files + `; cd /; exec "$@"`
	return testutil.Run(t, "", "unshare", append([]string{"-m", "sh", "-c", script, dir, name}, args...)...)
}

// kprobeSpecs are module probes resolved from the symbol table or from
// function entries.
var kprobeSpecs = []string{
	"ldlm_res_hash_dump",
	"ldlm_res_hash_dump+8 %di",
	"ldlm_resource_dump%return $retval",
	"ldlm_res_hash_dump+8 x=+0(%di):x64 @jiffies",
	"ldlm_*_dump",
	"nosuch",
}

// TestKprobeDefinitionsMatchPerf compares kprobe definitions for a module
// file (-m path.ko), offline, through the fake tracefs.
func TestKprobeDefinitionsMatchPerf(t *testing.T) {
	testutil.Requires(t, testutil.Root, testutil.Perf, testutil.Tracefs)
	ko := kmod(t)
	for _, s := range kprobeSpecs {
		t.Run(s, func(t *testing.T) {
			for _, v := range [][]string{{"-n"}, {"-n", "-v"}} {
				args := append(append([]string{"probe"}, v...), "-m", ko, s)
				perf := fakeTracefs(t, testutil.PerfPath(), args...)
				gp := fakeTracefs(t, gperf(t), args...)
				if len(v) > 1 {
					testutil.Same(t, strings.Join(args, " "), "perf", writing(perf.Stderr), "gperf", writing(gp.Stderr))
					continue
				}
				sameResult(t, strings.Join(args, " "), perf, gp)
			}
			// -D works offline, without any tracefs.
			perf := fakeTracefs(t, testutil.PerfPath(), "probe", "-m", ko, "-D", s)
			gp := testutil.Run(t, "", gperf(t), "probe", "-m", ko, "-D", s)
			testutil.Same(t, "-D "+s, "perf", perf.Stdout, "gperf", gp.Stdout)
		})
	}
}

// TestKprobeDWARFMatchesPerf resolves module probes with DWARF (lines,
// $params, $vars, lazy patterns) through the private tracefs, compared as
// TestDefinitionsMatchPerf compares uprobes.
func TestKprobeDWARFMatchesPerf(t *testing.T) {
	testutil.Requires(t, testutil.Root, testutil.Perf, testutil.Tracefs)
	ko := kmod(t)
	var c defCounts
	run := func(args ...string) (testutil.Result, testutil.Result) {
		a := append([]string{"probe", "-m", ko}, args...)
		return fakeTracefs(t, testutil.PerfPath(), a...), fakeTracefs(t, gperf(t), a...)
	}
	for _, fn := range []string{"ldlm_res_hash_dump", "ldlm_hash_for_each", "ldlm_namespace_dump", "dump_namespaces_write", "ldlm_resource_new"} {
		specs := []string{fn + " $params", fn + ";*"}
		r := testutil.RunPerf(t, "", "probe", "-m", ko, "-L", fn)
		for _, m := range numberedRE.FindAllStringSubmatch(r.Stdout, 4)[1:] {
			specs = append(specs, fn+":"+m[1]+" $vars")
		}
		for _, s := range specs {
			compareWith(t, &c, run, ko, s, false)
		}
	}
	t.Logf("module definitions: %d specs, %d identical to perf's, %d with documented corrections, %d gperf refuses, %d perf refuses, %d both refuse",
		c.total, c.same, c.corrected, c.refused, c.extended, c.bothFail)
}

// TestKprobeUnsupported adds a kprobe on a kernel without kprobes (a
// tracefs without kprobe_events, as this project's host kernel): a clear
// error naming the kernel option, perf's exit status, nothing added.
func TestKprobeUnsupported(t *testing.T) {
	testutil.Requires(t, testutil.Root, testutil.Tracefs)
	ko := kmod(t)
	script := []string{"sh", "-c", `"$0" probe -m "$1" ldlm_res_hash_dump; echo "exit=$?"; cat /sys/kernel/tracing/uprobe_events`, gperf(t), ko}
	r := fakeTracefsFiles(t, "uprobe_events", script[0], script[1:]...)
	if !strings.Contains(r.Stdout, "exit=254\n") || !strings.Contains(r.Stderr, "CONFIG_KPROBE_EVENTS") || !strings.Contains(r.Stderr, "  Error: Failed to add events.") {
		t.Errorf("gperf probe -m without kprobe_events: stdout %q, stderr:\n%s", r.Stdout, r.Stderr)
	}
	if _, err := os.Stat(testutil.TracingDir + "/kprobe_events"); err != nil {
		r := testutil.Run(t, "", gperf(t), "probe", "-m", ko, "ldlm_res_hash_dump")
		if r.Code != 254 || !strings.Contains(r.Stderr, "CONFIG_KPROBE_EVENTS") {
			t.Errorf("gperf probe -m on this kernel: exit %d, stderr:\n%s", r.Code, r.Stderr)
		}
	}
}

// TestVmlinuxDefinitionsMatchPerf shows kprobe definitions (-D) for an
// offline vmlinux with DWARF, which need not be the running kernel: the
// same lines as perf -k -D (perf ignores the build id for -D).
func TestVmlinuxDefinitionsMatchPerf(t *testing.T) {
	testutil.Requires(t, testutil.Root, testutil.Perf, testutil.Tracefs, testutil.VmlinuxDWARF)
	v := testutil.VmlinuxPath()
	for _, s := range []string{
		"vfs_read", "vfs_read%return $retval", "vfs_read:6 file", "vfs_read count buf",
		"do_sys_openat2 dfd filename", "vfs_rea*", "no_such_function_xyz",
	} {
		perf := fakeTracefs(t, testutil.PerfPath(), "probe", "-k", v, "-D", s)
		gp := testutil.Run(t, "", gperf(t), "probe", "-k", v, "-D", s)
		testutil.Same(t, "-k -D "+s, "perf", perf.Stdout, "gperf", gp.Stdout)
		if (perf.Code == 0) != (gp.Code == 0) {
			t.Errorf("-k -D %s: perf exits %d, gperf %d\n%s", s, perf.Code, gp.Code, gp.Stderr)
		}
	}
}
