package probe_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gperf-dev/gperf/internal/testutil"
	"github.com/gperf-dev/gperf/probe"
	"github.com/gperf-dev/gperf/tracefs"
)

// hostKallsyms returns the addresses of the named symbols and of _text
// in the host's /proc/kallsyms.
func hostKallsyms(t *testing.T, names ...string) map[string]uint64 {
	t.Helper()
	f, err := os.Open("/proc/kallsyms")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := map[string]bool{"_text": true}
	for _, n := range names {
		want[n] = true
	}
	got := map[string]uint64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fl := strings.Fields(sc.Text())
		if len(fl) != 3 || !want[fl[2]] {
			continue
		}
		if _, seen := got[fl[2]]; seen {
			continue
		}
		a, err := strconv.ParseUint(fl[0], 16, 64)
		if err == nil && a != 0 {
			got[fl[2]] = a
		}
	}
	for n := range want {
		if _, ok := got[n]; !ok {
			t.Fatalf("/proc/kallsyms: no address for %s", n)
		}
	}
	return got
}

// TestListKallsymsMatchesPerf: perf -l shows a kprobe without DWARF by
// the kallsyms symbol holding its address (_text+OFF as vfs_read),
// compared through a private tracefs whose kprobe_events holds the
// definitions as a kernel would list them.
func TestListKallsymsMatchesPerf(t *testing.T) {
	testutil.Requires(t, testutil.Root, testutil.Perf, testutil.Tracefs)
	k := hostKallsyms(t, "vfs_read", "vfs_write")
	rd, wr := k["vfs_read"]-k["_text"], k["vfs_write"]-k["_text"]
	events := fmt.Sprintf("p:probe/vfs_read _text+%d\n", rd) +
		fmt.Sprintf("r16:probe/vfs_read__return _text+%d arg1=$retval\n", rd) +
		fmt.Sprintf("p:probe/vfs_read_4 _text+%d\n", rd+4) +
		"p:probe/vfs_write vfs_write+0\n" +
		"p:probe/vfs_write_8 vfs_write+8 count=%dx:u64\n" +
		fmt.Sprintf("p:probe/between _text+%d\n", wr)
	readme, err := os.ReadFile(testutil.TracingDir + "/README")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, text := range map[string]string{"README": string(readme), "kprobe_events": events} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	script := `set -e; mount -t tmpfs none /sys/kernel/tracing; cp "$0"/README "$0"/kprobe_events /sys/kernel/tracing/; ` +
		`touch /sys/kernel/tracing/uprobe_events; cd /; exec "$@"`
	run := func(bin string) testutil.Result {
		return testutil.Run(t, "", "unshare", "-m", "sh", "-c", script, dir, bin, "probe", "-l")
	}
	perf := run(testutil.PerfPath())
	if perf.Code != 0 || !strings.Contains(perf.Stdout, "(on vfs_read") {
		t.Fatalf("perf probe -l: exit %d, stdout:\n%s\nstderr:\n%s", perf.Code, perf.Stdout, perf.Stderr)
	}
	// gperf finds the real tracefs under /sys/kernel/debug too: point it
	// at the same files.
	var out, errs bytes.Buffer
	err = probe.List(nil, probe.Options{Tracefs: &tracefs.FS{Dir: dir}, Stdout: &out, Stderr: &errs})
	if err != nil {
		t.Fatalf("gperf probe -l: %v\n%s", err, errs.String())
	}
	testutil.Same(t, "probe -l", "perf", perf.Stdout, "gperf", out.String())
}

// TestKprobeRefusalNamesVariable: gperf refuses the module's computed res
// (perf fetches it wrongly) with a reason that names res.
func TestKprobeRefusalNamesVariable(t *testing.T) {
	testutil.Requires(t, testutil.Root, testutil.Perf, testutil.Tracefs)
	ko := kmod(t)
	r := testutil.RunPerf(t, "", "probe", "-m", ko, "-L", "ldlm_res_hash_dump")
	for _, m := range numberedRE.FindAllStringSubmatch(r.Stdout, -1) {
		spec := "ldlm_res_hash_dump:" + m[1] + " res"
		perf := fakeTracefs(t, testutil.PerfPath(), "probe", "-n", "-m", ko, spec)
		gp := fakeTracefs(t, gperf(t), "probe", "-n", "-m", ko, spec)
		if gp.Code == 0 || perf.Code != 0 {
			continue
		}
		if !strings.Contains(gp.Stderr, "computed") || !refusalNamesArg(gp.Stderr, spec) {
			t.Errorf("%s: gperf's refusal does not name res:\n%s", spec, gp.Stderr)
		}
		return
	}
	t.Errorf("gperf refuses res at no line of ldlm_res_hash_dump where perf fetches it")
}
