package record_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gperf-dev/gperf/internal/testutil"
)

func TestMain(m *testing.M) { testutil.Main(m) }

var (
	gperfOnce sync.Once
	gperfPath string
	gperfErr  error
	gperfDir  string
)

// gperf builds the gperf binary once per test run.
func gperf(t *testing.T) string {
	t.Helper()
	gperfOnce.Do(func() {
		gperfDir, gperfErr = os.MkdirTemp("", "gperf-record-test-")
		if gperfErr != nil {
			return
		}
		gperfPath = filepath.Join(gperfDir, "gperf")
		cmd := exec.Command("go", "build", "-o", gperfPath, ".")
		cmd.Dir = testutil.RepoRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			gperfErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if gperfErr != nil {
		t.Fatal(gperfErr)
	}
	return gperfPath
}

// kernelReady skips unless the test can record: root, perf, tracefs.
func kernelReady(t *testing.T, more ...testutil.Requirement) {
	t.Helper()
	testutil.Requires(t, append([]testutil.Requirement{testutil.Root, testutil.Perf, testutil.Tracefs}, more...)...)
}

// addProbe adds a uprobe with real perf and removes its group at cleanup.
func addProbe(t *testing.T, bin, spec string) string {
	t.Helper()
	group := testutil.Group(t)
	r := testutil.RunPerf(t, "", "probe", "-q", "-x", bin, "-a", group+":"+spec)
	if r.Code != 0 {
		t.Fatalf("perf probe -a %s: %s", spec, r.Stderr)
	}
	t.Cleanup(func() { testutil.RunPerf(t, "", "probe", "-q", "-d", group+":*") })
	return group
}

// script runs real perf script on a file.
func script(t *testing.T, file string, args ...string) string {
	t.Helper()
	r := testutil.RunPerf(t, "", append([]string{"script", "-i", file}, args...)...)
	if r.Code != 0 {
		t.Fatalf("perf script -i %s: exit %d\n%s", file, r.Code, r.Stderr)
	}
	return r.Stdout
}

// sameScript checks that gperf script prints what perf script prints for
// a gperf-recorded file.
func sameScript(t *testing.T, file string, args ...string) {
	t.Helper()
	want := script(t, file, args...)
	r := testutil.Run(t, "", gperf(t), append([]string{"script", "-i", file}, args...)...)
	if r.Code != 0 {
		t.Fatalf("gperf script -i %s: exit %d\n%s", file, r.Code, r.Stderr)
	}
	testutil.Same(t, "script on gperf's file", "perf script", want, "gperf script", r.Stdout)
}

var (
	// "   comm  PID/TID [CPU] TIME:" at the start of each sample line
	reHead = regexp.MustCompile(`(?m)^(\s*\S+)\s+\d+(/\d+)?\s+\[\d+\]\s+\d+\.\d+:`)
	reHex  = regexp.MustCompile(`\b(0x)?[0-9a-f]{6,16}\b`)
)

// normalize removes what differs from run to run: pids, CPUs, times, and
// addresses (PIE, heap, stack); values are checked against what the
// fixture printed separately.
func normalize(s string) string {
	s = reHead.ReplaceAllString(s, "$1 PID [CPU] TIME:")
	return reHex.ReplaceAllString(s, "ADDR")
}

// evlist returns real perf's `evlist -v` of a file.
func evlist(t *testing.T, file string) string {
	t.Helper()
	r := testutil.RunPerf(t, "", "evlist", "-v", "-i", file)
	if r.Code != 0 {
		t.Fatalf("perf evlist -i %s: %s", file, r.Stderr)
	}
	var keep []string
	for _, l := range strings.Split(r.Stdout, "\n") {
		if !strings.HasPrefix(l, "#") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// stats checks `perf report --stats` has no unknown or invalid record and
// returns its output.
func stats(t *testing.T, file string) string {
	t.Helper()
	r := testutil.RunPerf(t, "", "report", "--stats", "-i", file)
	if r.Code != 0 {
		t.Fatalf("perf report --stats -i %s: exit %d\n%s", file, r.Code, r.Stderr)
	}
	low := strings.ToLower(r.Stdout + r.Stderr)
	for _, bad := range []string{"unknown", "invalid", "unprocessable"} {
		if strings.Contains(low, bad) {
			t.Errorf("perf report --stats -i %s mentions %q:\n%s%s", file, bad, r.Stdout, r.Stderr)
		}
	}
	return r.Stdout
}

func statCount(out, what string) int {
	m := regexp.MustCompile(`(?m)^\s*` + what + ` events:\s+(\d+)`).FindStringSubmatch(out)
	if m == nil {
		return 0
	}
	var n int
	fmt.Sscan(m[1], &n)
	return n
}

// both records the same command line with real perf and with gperf, each
// into its own file in dir, and returns both runs.
func both(t *testing.T, dir string, args ...string) (perfRes, gperfRes testutil.Result, perfFile, gperfFile string) {
	t.Helper()
	perfFile, gperfFile = filepath.Join(dir, "perf.data"), filepath.Join(dir, "gperf.data")
	perfRes = testutil.RunPerf(t, dir, append([]string{"record", "-o", perfFile}, args...)...)
	if perfRes.Code != 0 {
		t.Fatalf("perf record %s: exit %d\n%s", strings.Join(args, " "), perfRes.Code, perfRes.Stderr)
	}
	gperfRes = testutil.Run(t, dir, gperf(t), append([]string{"record", "-o", gperfFile}, args...)...)
	if gperfRes.Code != 0 {
		t.Fatalf("gperf record %s: exit %d\n%s", strings.Join(args, " "), gperfRes.Code, gperfRes.Stderr)
	}
	return
}

var reDump = regexp.MustCompile(`dump res=(0x[0-9a-f]+) `)

// TestUprobeArgs: a uprobe with arguments on ldlm; every call is one
// sample carrying the values the program printed, and perf script reads
// gperf's file as it reads its own recording of the same run.
func TestUprobeArgs(t *testing.T) {
	kernelReady(t, testutil.Uprobes)
	bin := testutil.BuildC(t, 0, "ldlm.c")
	group := addProbe(t, bin, "ev=ldlm_resource_dump level res")
	dir := t.TempDir()
	const rounds = 3
	pr, gr, pf, gf := both(t, dir, "-e", group+":ev", "--", bin, fmt.Sprint(rounds))

	got := script(t, gf)
	want := script(t, pf)
	// The fixture printed each resource it dumped: the samples carry
	// the same pointers, in the same order.
	printed := reDump.FindAllStringSubmatch(gr.Stdout, -1)
	if len(printed) != 8*rounds {
		t.Fatalf("fixture printed %d dumps, want %d:\n%s", len(printed), 8*rounds, gr.Stdout)
	}
	sampled := regexp.MustCompile(`level=1 res=(0x[0-9a-f]+)`).FindAllStringSubmatch(got, -1)
	if len(sampled) != len(printed) {
		t.Fatalf("gperf recorded %d samples, the fixture made %d calls:\n%s", len(sampled), len(printed), got)
	}
	for i := range printed {
		if sampled[i][1] != printed[i][1] {
			t.Errorf("sample %d: res=%s, the fixture printed %s", i, sampled[i][1], printed[i][1])
		}
	}
	if n := len(reDump.FindAllString(pr.Stdout, -1)); n != len(printed) {
		t.Fatalf("perf's run printed %d dumps", n)
	}
	testutil.Same(t, "perf script", "perf's file", normalize(want), "gperf's file", normalize(got))
	testutil.Same(t, "perf evlist -v", "perf's file", evlist(t, pf), "gperf's file", evlist(t, gf))
	sameScript(t, gf)
	bl := func(file string) string { return testutil.RunPerf(t, dir, "buildid-list", "-i", file).Stdout }
	testutil.Same(t, "perf buildid-list", "perf's file", bl(pf), "gperf's file", bl(gf))
	st := stats(t, gf)
	if n := statCount(st, "SAMPLE"); n != len(printed) {
		t.Errorf("perf report --stats: %d samples, want %d", n, len(printed))
	}
}

// TestUprobeReturn: a %return probe fires once per call.
func TestUprobeReturn(t *testing.T) {
	kernelReady(t, testutil.Uprobes)
	bin := testutil.BuildC(t, 0, "ldlm.c")
	group := addProbe(t, bin, "evr=ldlm_res_hash_dump%return $retval")
	dir := t.TempDir()
	_, _, pf, gf := both(t, dir, "-e", group+":*", "--", bin, "2")
	got, want := script(t, gf), script(t, pf)
	if n := strings.Count(got, ":evr__return: "); n != 16 {
		t.Errorf("gperf recorded %d return samples, want 16 (8 resources x 2 rounds):\n%s", n, got)
	}
	testutil.Same(t, "perf script", "perf's file", normalize(want), "gperf's file", normalize(got))
	testutil.Same(t, "perf evlist -v", "perf's file", evlist(t, pf), "gperf's file", evlist(t, gf))
}

// TestRawSyscallsFilter: raw_syscalls:sys_enter filtered on nanosleep
// counts exactly the nanosleep calls the fixture makes.
func TestRawSyscallsFilter(t *testing.T) {
	kernelReady(t)
	bin := testutil.BuildC(t, testutil.FramePointer, "hot.c")
	dir := t.TempDir()
	const k = 7
	_, _, pf, gf := both(t, dir, "-e", "raw_syscalls:sys_enter", "--filter", "id == 35", "--", bin, "sleep", "1", fmt.Sprint(k))
	got, want := script(t, gf), script(t, pf)
	if n := strings.Count(got, "NR 35 "); n != k || strings.Count(got, "\n") != k {
		t.Errorf("gperf recorded %d nanosleep samples (%d lines), want %d:\n%s", n, strings.Count(got, "\n"), k, got)
	}
	testutil.Same(t, "perf script", "perf's file", normalize(want), "gperf's file", normalize(got))
	testutil.Same(t, "perf evlist -v", "perf's file", evlist(t, pf), "gperf's file", evlist(t, gf))
	sameScript(t, gf)
	stats(t, gf)
}

// TestCPUClockCallGraph: cpu-clock -g on a frame-pointer fixture: the
// samples' call chains resolve to the fixture's functions as in perf's
// own recording.
func TestCPUClockCallGraph(t *testing.T) {
	kernelReady(t)
	bin := testutil.BuildC(t, testutil.FramePointer, "hot.c")
	dir := t.TempDir()
	_, _, pf, gf := both(t, dir, "-e", "cpu-clock", "-g", "--", bin, "cpu", "30")
	testutil.Same(t, "perf evlist -v", "perf's file", evlist(t, pf), "gperf's file", evlist(t, gf))
	// Sampling is timing-based: compare what the chains say, not the
	// bytes. Both recordings must resolve most samples to a chain
	// main <- hot_caller in the fixture.
	through := func(file string) (n, total int) {
		for _, block := range strings.Split(script(t, file, "-F", "ip,sym,dso"), "\n\n") {
			if strings.TrimSpace(block) == "" {
				continue
			}
			total++
			if strings.Contains(block, " hot_caller (") && strings.Contains(block, " main (") {
				n++
			}
		}
		return n, total
	}
	pn, pt := through(pf)
	gn, gt := through(gf)
	t.Logf("samples through main <- hot_caller: perf %d/%d, gperf %d/%d", pn, pt, gn, gt)
	if pt == 0 || gt == 0 || gn*2*pt < pn*gt {
		t.Errorf("gperf resolved %d/%d samples through main <- hot_caller, perf %d/%d", gn, gt, pn, pt)
	}
	sameScript(t, gf)
	stats(t, gf)
}

// TestSchedSwitchAllCPUs: -a sched:sched_switch while a command runs.
func TestSchedSwitchAllCPUs(t *testing.T) {
	kernelReady(t)
	bin := testutil.BuildC(t, testutil.FramePointer, "hot.c")
	dir := t.TempDir()
	_, _, pf, gf := both(t, dir, "-a", "-e", "sched:sched_switch", "--", bin, "sleep", "5", "20")
	testutil.Same(t, "perf evlist -v", "perf's file", evlist(t, pf), "gperf's file", evlist(t, gf))
	st := stats(t, gf)
	if statCount(st, "SAMPLE") < 20 {
		t.Errorf("gperf recorded %d switches, the fixture slept 20 times:\n%s", statCount(st, "SAMPLE"), st)
	}
	got := script(t, gf)
	sameScript(t, gf)
	if n := strings.Count(got, "prev_comm=hot-"); n < 20 {
		t.Errorf("%d switches away from the fixture, want at least 20", n)
	}
	// Processes that ran before the session have their names.
	if statCount(st, "COMM") < 2 || statCount(st, "FORK") < 1 {
		t.Errorf("no synthesized COMM/FORK records:\n%s", st)
	}
}

// TestEvlistParity: the attrs gperf opens are perf's, for a range of
// command lines.
func TestEvlistParity(t *testing.T) {
	kernelReady(t)
	for _, args := range [][]string{
		{"-e", "raw_syscalls:sys_enter", "-e", "raw_syscalls:sys_exit"},
		{"-e", "raw_syscalls:sys_enter,sched:sched_switch", "--no-inherit"},
		{"-e", "cpu-clock", "-c", "10000"},
		{"-e", "task-clock", "-F", "999"},
		{"-e", "page-faults", "-e", "sched:sched_process_exec", "-g"},
		{"-C", "0", "-e", "cpu-clock:u"},
		{"-e", "context-switches", "--call-graph", "fp"},
		{"-c", "20000"}, // perf's default event
		{"-e", "cycles"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			dir := t.TempDir()
			_, _, pf, gf := both(t, dir, append(args, "--", "true")...)
			testutil.Same(t, "perf evlist -v", "perf's file", evlist(t, pf), "gperf's file", evlist(t, gf))
			stats(t, gf)
		})
	}
}

// TestLostReported: a one-page ring flooded with events loses some, and
// gperf says so as perf does.
func TestLostReported(t *testing.T) {
	kernelReady(t)
	bin := testutil.BuildC(t, testutil.FramePointer, "hot.c")
	dir := t.TempDir()
	f := filepath.Join(dir, "lost.data")
	// 200000 nanosleeps of 0 ms: a flood of raw_syscalls events.
	r := testutil.Run(t, dir, gperf(t), "record", "-m", "1", "-e", "raw_syscalls:*", "-o", f, "--", bin, "sleep", "0", "200000")
	if r.Code != 0 {
		t.Fatalf("gperf record: exit %d\n%s", r.Code, r.Stderr)
	}
	st := stats(t, f)
	lost := statCount(st, "LOST") + statCount(st, "LOST_SAMPLES")
	if lost == 0 {
		t.Skip("the one-page ring kept up with the flood on this machine; nothing to report")
	}
	if !strings.Contains(r.Stderr, "lost") {
		t.Errorf("%d LOST records in the file, but gperf did not report them:\n%s", lost, r.Stderr)
	}
}

// TestSignals: SIGINT ends a session cleanly; SIGKILL leaves a file perf
// reads up to the last flush.
func TestSignals(t *testing.T) {
	kernelReady(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			f := filepath.Join(dir, "sig.data")
			cmd := exec.Command(gperf(t), "record", "-a", "-e", "sched:sched_switch", "-o", f)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Wait until some data was flushed (the header's data size
			// is written at each flush).
			deadline := time.Now().Add(10 * time.Second)
			for time.Now().Before(deadline) {
				if st, err := os.Stat(f); err == nil && st.Size() > 64<<10 {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			time.Sleep(300 * time.Millisecond)
			cmd.Process.Signal(sig)
			err := cmd.Wait()
			ee, _ := err.(*exec.ExitError)
			if sig != syscall.SIGKILL && (ee == nil || ee.ExitCode() != 128+int(sig)) {
				t.Errorf("gperf record after %v: %v, want exit status %d\n%s", sig, err, 128+int(sig), stderr.String())
			}
			st := stats(t, f)
			if statCount(st, "SAMPLE") == 0 {
				t.Errorf("no samples readable after %v:\n%s", sig, st)
			}
			script(t, f)
		})
	}
}

// TestErrors: bad workloads and events fail cleanly and leave an existing
// perf.data alone.
func TestErrors(t *testing.T) {
	kernelReady(t)
	dir := t.TempDir()
	f := filepath.Join(dir, "perf.data")
	if err := os.WriteFile(f, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"-e", "raw_syscalls:sys_enter", "--", "/nonexistent/cmd"}, "/nonexistent/cmd"},
		{[]string{"-e", "nosuchsys:nosuchevent", "--", "true"}, "nosuchsys:nosuchevent"},
		{[]string{"-e", "cpu-clock", "-p", "999999999"}, "999999999"},
		{[]string{"-e", "raw_syscalls:sys_enter", "--filter", "((", "--", "true"}, "filter"},
		{[]string{"-e", "cpu-clock", "-C", "9999", "--", "true"}, "9999"},
	} {
		r := testutil.Run(t, dir, gperf(t), append([]string{"record", "-o", f}, c.args...)...)
		if r.Code == 0 || !strings.Contains(r.Stderr, c.msg) || strings.Contains(r.Stderr, "panic") {
			t.Errorf("gperf record %s: exit %d, stderr %q; want an error naming %q", strings.Join(c.args, " "), r.Code, r.Stderr, c.msg)
		}
		if b, _ := os.ReadFile(f); string(b) != "old" {
			t.Errorf("gperf record %s touched the existing perf.data", strings.Join(c.args, " "))
		}
		ents, _ := os.ReadDir(dir)
		if len(ents) != 1 {
			t.Errorf("gperf record %s left files behind: %v", strings.Join(c.args, " "), ents)
		}
	}
}

// TestWorkloadStatus: gperf exits with the workload's status, keeps the
// previous file as perf.data.old, and the workload's own options are not
// gperf's.
func TestWorkloadStatus(t *testing.T) {
	kernelReady(t)
	dir := t.TempDir()
	for i := 0; i < 2; i++ {
		r := testutil.Run(t, dir, gperf(t), "record", "-q", "-e", "raw_syscalls:sys_enter", "sh", "-c", "echo -o x; exit 3")
		if r.Code != 3 || !strings.Contains(r.Stdout, "-o x") {
			t.Fatalf("gperf record sh -c ...: exit %d, stdout %q, stderr %q; want exit 3 and the workload's output", r.Code, r.Stdout, r.Stderr)
		}
	}
	for _, f := range []string{"perf.data", "perf.data.old"} {
		stats(t, filepath.Join(dir, f))
	}
}

// TestPipeMode: -o - writes a stream perf script reads.
func TestPipeMode(t *testing.T) {
	kernelReady(t)
	bin := testutil.BuildC(t, testutil.FramePointer, "hot.c")
	dir := t.TempDir()
	pipe := filepath.Join(dir, "pipe.data")
	out, err := os.Create(pipe)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(gperf(t), "record", "-e", "raw_syscalls:sys_enter", "--filter", "id == 35", "-o", "-", "--", bin, "sleep", "1", "3")
	cmd.Stdout = out
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("gperf record -o -: %v\n%s", err, stderr.String())
	}
	out.Close()
	if !strings.Contains(stderr.String(), "slept 3000000 ns") {
		t.Errorf("the workload's stdout did not go to stderr in pipe mode: %q", stderr.String())
	}
	r := testutil.RunPerf(t, dir, "script", "-i", pipe)
	if r.Code != 0 || strings.Count(r.Stdout, "NR 35 ") != 3 {
		t.Errorf("perf script -i pipe: exit %d, %d nanosleeps, want 3\n%s%s", r.Code, strings.Count(r.Stdout, "NR 35 "), r.Stdout, r.Stderr)
	}
}

// TestSummary: the closing lines are perf's.
func TestSummary(t *testing.T) {
	kernelReady(t)
	dir := t.TempDir()
	pr, gr, _, _ := both(t, dir, "-e", "raw_syscalls:sys_enter", "--", "true")
	re := regexp.MustCompile(`(?m)^\[ perf record: (Woken up|Captured and wrote) .*\]$`)
	shape := func(s string) []string {
		var l []string
		sc := bufio.NewScanner(strings.NewReader(s))
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				l = append(l, m[1])
			}
		}
		return l
	}
	if p, g := shape(pr.Stderr), shape(gr.Stderr); strings.Join(p, ",") != strings.Join(g, ",") {
		t.Errorf("summary lines: perf %q, gperf %q", pr.Stderr, gr.Stderr)
	}
	samples := regexp.MustCompile(`\((\d+) samples\)`)
	if p, g := samples.FindStringSubmatch(pr.Stderr), samples.FindStringSubmatch(gr.Stderr); p == nil || g == nil || p[1] != g[1] {
		t.Errorf("sample counts differ: perf %q, gperf %q", pr.Stderr, gr.Stderr)
	}
}

// TestHeaderParity: the header features describe the machine as perf's
// do (perf report --header-only -I), apart from what changes run to run.
func TestHeaderParity(t *testing.T) {
	kernelReady(t)
	dir := t.TempDir()
	_, _, pf, gf := both(t, dir, "-e", "raw_syscalls:sys_enter", "--", "true")
	volatile := regexp.MustCompile(`captured on|data offset|data size|feat offset|cmdline|time of|sample duration|perf version|meminfo|^# event|^#\s*$`)
	header := func(file string) string {
		r := testutil.RunPerf(t, dir, "report", "--header-only", "-I", "-i", file)
		if r.Code != 0 {
			t.Fatalf("perf report --header-only -i %s: %s", file, r.Stderr)
		}
		var keep []string
		for _, l := range strings.Split(r.Stdout, "\n") {
			if !volatile.MatchString(l) {
				keep = append(keep, l)
			}
		}
		return strings.Join(keep, "\n")
	}
	testutil.Same(t, "perf report --header-only -I", "perf's file", header(pf), "gperf's file", header(gf))
	// The same records, type by type. How many FINISHED_ROUND records a
	// file has is how many ring drain passes found data, which is timing:
	// perf's own recordings of this very command have 1 or 2 of them run
	// to run (measured: 11 and 1 in 12 runs). Those are compared apart
	// (both files have rounds, or neither), and so are the total and the
	// percents they change.
	ps, gs := stats(t, pf), stats(t, gf)
	pct := regexp.MustCompile(`\s+\(\s*[0-9.]+%\)$`)
	byType := func(s string) string {
		var keep []string
		for _, l := range strings.Split(s, "\n") {
			if strings.Contains(l, "TOTAL events:") || strings.Contains(l, "FINISHED_ROUND events:") {
				continue
			}
			keep = append(keep, pct.ReplaceAllString(l, ""))
		}
		return strings.Join(keep, "\n")
	}
	testutil.Same(t, "perf report --stats", "perf's file", byType(ps), "gperf's file", byType(gs))
	if p, g := statCount(ps, "FINISHED_ROUND"), statCount(gs, "FINISHED_ROUND"); (p > 0) != (g > 0) {
		t.Errorf("FINISHED_ROUND records: perf's file %d, gperf's %d", p, g)
	}
	bl := func(file string) string {
		return testutil.RunPerf(t, dir, "buildid-list", "-i", file).Stdout
	}
	testutil.Same(t, "perf buildid-list", "perf's file", bl(pf), "gperf's file", bl(gf))
}
