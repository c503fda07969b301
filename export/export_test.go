package export_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gperf-dev/gperf/export"
	"github.com/gperf-dev/gperf/internal/testutil"
)

func TestMain(m *testing.M) { testutil.Main(m) }

// recording is a perf.data made once per test binary by a real recorder.
type recording struct {
	once sync.Once
	dir  string
	data string
	bin  string
	out  string // the workload's stdout
	err  error
	wall time.Duration
}

var cpuRec, offRec recording

// record runs the oracle perf with args (-o and the workload added) in a
// directory kept until the test binary exits.
func (rc *recording) record(t *testing.T, bin string, perfArgs []string, workload ...string) (data string) {
	t.Helper()
	rc.once.Do(func() {
		dir, err := os.MkdirTemp("", "gperf-export-")
		if err != nil {
			rc.err = err
			return
		}
		rc.dir, rc.bin = dir, bin
		rc.data = filepath.Join(dir, "perf.data")
		args := append(append([]string{"record"}, perfArgs...), "-o", rc.data, "--")
		args = append(append(args, bin), workload...)
		r := testutil.RunPerf(t, dir, args...)
		if r.Code != 0 {
			rc.err = fmt.Errorf("perf %s: exit %d\n%s", strings.Join(args, " "), r.Code, r.Stderr)
		}
		rc.out = r.Stdout
	})
	if rc.err != nil {
		t.Fatal(rc.err)
	}
	return rc.data
}

// cpuRecording is `perf record -g -e cpu-clock` of testdata/hot.c.
func cpuRecording(t *testing.T) (data, bin string) {
	t.Helper()
	testutil.Requires(t, testutil.Root, testutil.Perf)
	bin = testutil.BuildC(t, testutil.FramePointer, "hot.c")
	data = cpuRec.record(t, bin, []string{"-g", "-e", "cpu-clock"}, "cpu")
	return data, cpuRec.bin
}

// perfScript runs the oracle's perf script on data.
func perfScript(t *testing.T, data string, args ...string) string {
	t.Helper()
	r := testutil.RunPerf(t, filepath.Dir(data), append([]string{"script", "-i", data}, args...)...)
	if r.Code != 0 {
		t.Fatalf("perf script %s: exit %d\n%s", strings.Join(args, " "), r.Code, r.Stderr)
	}
	return r.Stdout
}

var (
	headerRe = regexp.MustCompile(`^(.*\S)\s+(\d+)\s+(\S+):\s*$`)
	frameRe  = regexp.MustCompile(`^\s+([0-9a-f]+) (.*) \((.*)\)$`)
)

// block is one sample of perf script output: its first line and its
// callchain frames, leaf first, named as stackcollapse-perf.pl names them
// (function; "[dso basename]" when only the file is known; kernel frames
// suffixed "_[k]").
type block struct {
	header string
	frames []string
}

func perfBlocks(t *testing.T, text string) []block {
	t.Helper()
	var out []block
	var cur *block
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			cur = nil
			continue
		}
		if m := frameRe.FindStringSubmatch(line); m != nil && cur != nil {
			sym, dso := m[2], m[3]
			// A deleted file's name ends in " (deleted)" inside the
			// parentheses.
			if strings.HasSuffix(line, " (deleted))") {
				if i := strings.LastIndex(sym, " ("); i >= 0 {
					sym, dso = sym[:i], sym[i+2:]+" ("+dso
				}
			}
			name := sym
			if sym == "[unknown]" {
				switch {
				case dso == "[unknown]":
				case strings.HasPrefix(dso, "["):
					name = dso
				default:
					name = "[" + filepath.Base(dso) + "]"
				}
			}
			// Folded lines cannot hold ';' in a name.
			name = strings.ReplaceAll(name, ";", ":")
			if dso == "[kernel.kallsyms]" {
				name += "_[k]"
			}
			cur.frames = append(cur.frames, name)
			continue
		}
		out = append(out, block{header: line})
		cur = &out[len(out)-1]
	}
	return out
}

// foldedStack is comm and frames, outermost first, joined by ';'.
func foldedStack(comm string, leafFirst []string) string {
	parts := []string{comm}
	for i := len(leafFirst) - 1; i >= 0; i-- {
		parts = append(parts, leafFirst[i])
	}
	return strings.Join(parts, ";")
}

// perfFolded turns perf script's callchains into folded stacks, counting
// samples.
func perfFolded(t *testing.T, data string) (folded map[string]uint64, samples uint64) {
	t.Helper()
	folded = map[string]uint64{}
	for _, b := range perfBlocks(t, perfScript(t, data, "-F", "comm,tid,event,ip,sym,dso")) {
		m := headerRe.FindStringSubmatch(b.header)
		if m == nil {
			t.Fatalf("perf script line not understood: %q", b.header)
		}
		folded[foldedStack(m[1], b.frames)]++
		samples++
	}
	return folded, samples
}

func foldedText(m map[string]uint64) string {
	var lines []string
	for k, v := range m {
		lines = append(lines, k+" "+strconv.FormatUint(v, 10))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n"
}

func parseFoldedText(t *testing.T, s string) (map[string]uint64, uint64) {
	t.Helper()
	m := map[string]uint64{}
	var total uint64
	for _, l := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		i := strings.LastIndexByte(l, ' ')
		v, err := strconv.ParseUint(l[i+1:], 10, 64)
		if i < 0 || err != nil {
			t.Fatalf("bad folded line %q", l)
		}
		m[l[:i]] += v
		total += v
	}
	return m, total
}

// TestFoldedMatchesPerf converts a perf-recorded cpu-clock profile to
// folded stacks and checks them against perf script's own callchains:
// the same stacks with the same counts, summing to the sample count.
func TestFoldedMatchesPerf(t *testing.T) {
	data, _ := cpuRecording(t)
	var buf bytes.Buffer
	if err := export.WriteFolded(&buf, export.Options{Input: data}); err != nil {
		t.Fatal(err)
	}
	got, total := parseFoldedText(t, buf.String())
	t.Logf("%d samples in %d distinct stacks", total, len(got))
	want, samples := perfFolded(t, data)
	if total != samples {
		t.Errorf("folded counts sum to %d, perf script shows %d samples", total, samples)
	}
	testutil.Same(t, "folded stacks", "perf script callchains", foldedText(want), "gperf folded", foldedText(got))
	// The hot path leads.
	var hot uint64
	for k, v := range got {
		if strings.Contains(k, ";main;hot_caller;hot_function") {
			hot += v
		}
	}
	if hot*2 < total {
		t.Errorf("hot_function has %d of %d samples", hot, total)
	}
}

// offCPURecording is `perf record -a -g -e sched:sched_switch` of
// testdata/hot.c sleeping 5 times 100 ms in main -> sleep_outer ->
// sleep_inner; it returns the wall time the recording took, an upper
// bound for any task's time off CPU in it.
func offCPURecording(t *testing.T) (data string, wall time.Duration) {
	t.Helper()
	testutil.Requires(t, testutil.Root, testutil.Perf, testutil.Tracefs)
	bin := testutil.BuildC(t, testutil.FramePointer, "hot.c")
	start := time.Now()
	data = offRec.record(t, bin, []string{"-a", "-g", "-e", "sched:sched_switch"}, "sleep", "100", "5")
	if offRec.wall == 0 {
		offRec.wall = time.Since(start)
	}
	return data, offRec.wall
}

const sleptNS = 5 * 100 * 1e6

var switchRe = regexp.MustCompile(`^(.*\S)\s+(-?\d+)\s+(\d+)\.(\d{9}):\s+sched:sched_switch:.*\bprev_pid=(\d+)\b.*\bnext_pid=(\d+)\b`)

// perfOffCPU computes off-CPU time per folded stack from perf script's
// sched_switch lines (nanosecond timestamps with --ns), the way the
// export documents it: per task, switch-out to switch-in, charged to the
// switch-out stack.
func perfOffCPU(t *testing.T, data string) map[string]uint64 {
	t.Helper()
	type out struct {
		since uint64
		stack string
	}
	pending := map[string]out{}
	folded := map[string]uint64{}
	for _, b := range perfBlocks(t, perfScript(t, data, "--ns", "-F", "comm,tid,time,event,trace,ip,sym,dso")) {
		m := switchRe.FindStringSubmatch(b.header)
		if m == nil {
			t.Fatalf("perf script line not understood: %q", b.header)
		}
		sec, _ := strconv.ParseUint(m[3], 10, 64)
		ns, _ := strconv.ParseUint(m[4], 10, 64)
		ts := sec*1e9 + ns
		prev, next := m[5], m[6]
		if p, ok := pending[next]; ok && next != "0" {
			folded[p.stack] += ts - p.since
			delete(pending, next)
		}
		if prev != "0" {
			pending[prev] = out{ts, foldedStack(m[1], b.frames)}
		}
	}
	for k, v := range folded {
		if v == 0 {
			delete(folded, k)
		}
	}
	return folded
}

// TestOffCPU checks off-CPU stacks against the same computation on perf
// script's output, and that the sleeping path carries the time slept:
// at least what the fixture asked nanosleep for, at most the wall time
// of the whole recording.
func TestOffCPU(t *testing.T) {
	data, wall := offCPURecording(t)
	var buf bytes.Buffer
	if err := export.WriteFolded(&buf, export.Options{Input: data, OffCPU: true}); err != nil {
		t.Fatal(err)
	}
	got, total := parseFoldedText(t, buf.String())
	want := perfOffCPU(t, data)
	// Other tasks' stacks may hold C++ names, which perf demangles and
	// gperf does not: compare the fixture's stacks one by one and the
	// totals of all tasks.
	comm := filepath.Base(offRec.bin)
	var wantTotal uint64
	wantOwn, gotOwn := map[string]uint64{}, map[string]uint64{}
	for k, v := range want {
		wantTotal += v
		if strings.HasPrefix(k, comm+";") {
			wantOwn[k] = v
		}
	}
	for k, v := range got {
		if strings.HasPrefix(k, comm+";") {
			gotOwn[k] = v
		}
	}
	testutil.Same(t, "off-CPU folded stacks of "+comm, "from perf script --ns", foldedText(wantOwn), "gperf --off-cpu", foldedText(gotOwn))
	if wantTotal != total {
		t.Errorf("off-CPU time of all tasks: %d ns, from perf script %d ns", total, wantTotal)
	}
	var sleep uint64
	for k, v := range got {
		if strings.Contains(k, ";main;sleep_outer;sleep_inner;") {
			sleep += v
		}
	}
	t.Logf("off CPU: %d ns in all, %d ns under sleep_inner; slept %d ns, recording took %v", total, sleep, uint64(sleptNS), wall)
	if sleep < sleptNS || sleep > uint64(wall) {
		t.Errorf("sleep path carries %d ns off CPU, want between %d (slept) and %d (wall time)", sleep, uint64(sleptNS), wall.Nanoseconds())
	}
	// With a comm filter only the fixture remains.
	buf.Reset()
	if err := export.WriteFolded(&buf, export.Options{Input: data, OffCPU: true, Comms: comm}); err != nil {
		t.Fatal(err)
	}
	filtered, _ := parseFoldedText(t, buf.String())
	for k, v := range got {
		if strings.HasPrefix(k, comm+";") && filtered[k] != v {
			t.Errorf("with --comms %s, stack %q has %d ns, want %d", comm, k, filtered[k], v)
		}
	}
	for k := range filtered {
		if !strings.HasPrefix(k, comm+";") {
			t.Errorf("with --comms %s, stack %q remains", comm, k)
		}
	}
}
