package perfdata_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gperf-dev/gperf/internal/testutil"
)

// recording is one perf.data file made with the oracle perf at test time.
type recording struct {
	name string
	pipe bool
	// args go between "perf record" and "-o FILE"; "{hot}" and "{ldlm}"
	// stand for fixture binaries, "{group}" for a probe group.
	args []string
	// workload follows "--".
	workload []string
	// probe, if set, is a perf probe -x {ldlm} -a definition made first
	// (and deleted after).
	probe string
}

var recordings = []recording{
	{name: "tracepoint", args: []string{"-e", "raw_syscalls:sys_enter"}, workload: []string{"true"}},
	{name: "callchain", args: []string{"-e", "cpu-clock", "-c", "100000", "-g"}, workload: []string{"{hot}", "cpu", "20"}},
	{name: "syswide", args: []string{"-e", "sched:sched_switch", "-a"}, workload: []string{"sleep", "0.2"}},
	{name: "multi", args: []string{"-e", "cpu-clock", "-c", "100000", "-e", "raw_syscalls:sys_enter", "-e", "raw_syscalls:sys_exit"}, workload: []string{"{hot}", "cpu", "5"}},
	{name: "cpuwide-g", args: []string{"-a", "-g", "-e", "cpu-clock", "-c", "200000"}, workload: []string{"{hot}", "cpu", "10"}},
	{name: "pipe", pipe: true, args: []string{"-e", "raw_syscalls:sys_enter"}, workload: []string{"true"}},
	{name: "pipe-g", pipe: true, args: []string{"-e", "cpu-clock", "-c", "100000", "-g"}, workload: []string{"{hot}", "cpu", "10"}},
	{name: "group", args: []string{"-e", "{cpu-clock,task-clock}", "-c", "100000"}, workload: []string{"{hot}", "cpu", "5"}},
	{name: "groupread", args: []string{"-e", "{cpu-clock,task-clock}:S", "-c", "100000"}, workload: []string{"{hot}", "cpu", "5"}},
	{name: "kitchen", args: []string{"-e", "cpu-clock", "-c", "100000", "--call-graph", "dwarf,1024", "-d", "--phys-data",
		"--data-page-size", "--code-page-size", "--user-regs=ax,bx", "-s", "--switch-events", "--namespaces",
		"--all-cgroups", "-k", "monotonic", "-T", "--sample-cpu"}, workload: []string{"{hot}", "cpu", "5"}},
	{name: "zstd", args: []string{"-z", "-e", "cpu-clock", "-c", "100000", "-g"}, workload: []string{"{hot}", "cpu", "20"}},
	{name: "zstd19-a", args: []string{"--compression-level=19", "-a", "-g", "-e", "cpu-clock", "-c", "50000"}, workload: []string{"{hot}", "cpu", "20"}},
	{name: "uprobe", args: []string{"-e", "{group}:{event}"}, workload: []string{"{ldlm}", "3"}, probe: "{group}:{event}=ldlm_res_hash_dump"},
}

// record makes the recording in dir and returns the file's path.
func (rc recording) record(t testing.TB, dir string) string {
	t.Helper()
	testutil.Requires(t, testutil.Root, testutil.Perf, testutil.Tracefs)
	hot := testutil.BuildC(t, testutil.FramePointer, "hot.c")
	ldlm := testutil.BuildC(t, 0, "ldlm.c")
	group := testutil.Group(t)
	subst := func(l []string) []string {
		out := make([]string, len(l))
		for i, s := range l {
			s = strings.ReplaceAll(s, "{hot}", hot)
			s = strings.ReplaceAll(s, "{ldlm}", ldlm)
			s = strings.ReplaceAll(s, "{event}", "ev"+strings.TrimPrefix(group, testutil.GroupPrefix))
			out[i] = strings.ReplaceAll(s, "{group}", group)
		}
		return out
	}
	if rc.probe != "" {
		testutil.Requires(t, testutil.Uprobes)
		def := subst([]string{rc.probe})[0]
		r := testutil.RunPerf(t, dir, "probe", "-x", ldlm, "-a", def)
		if r.Code != 0 {
			t.Fatalf("perf probe -x %s -a %s: exit %d\n%s", ldlm, def, r.Code, r.Stderr)
		}
		t.Cleanup(func() {
			if r := testutil.RunPerf(t, dir, "probe", "-d", group+":*"); r.Code != 0 {
				t.Errorf("perf probe -d %s:*: %s", group, r.Stderr)
			}
		})
	}
	out := filepath.Join(dir, rc.name+".data")
	args := []string{"record"}
	args = append(args, subst(rc.args)...)
	if rc.pipe {
		args = append(args, "-o", "-")
	} else {
		args = append(args, "-o", out)
	}
	args = append(args, "--")
	args = append(args, subst(rc.workload)...)
	cmd := exec.Command(testutil.PerfPath(), args...)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if rc.pipe {
		f, err := os.Create(out)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		cmd.Stdout = f
	}
	if err := cmd.Run(); err != nil {
		t.Fatalf("perf %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}
