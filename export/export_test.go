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

// perfFolded turns perf script's callchains into folded stacks: comm,
// then the frames outermost first, named as stackcollapse-perf.pl names
// them (function; "[dso basename]" when only the file is known; kernel
// frames suffixed "_[k]"), counting samples.
func perfFolded(t *testing.T, data string) (folded map[string]uint64, samples uint64) {
	t.Helper()
	text := perfScript(t, data, "-F", "comm,tid,event,ip,sym,dso")
	folded = map[string]uint64{}
	var comm string
	var frames []string
	flush := func() {
		if comm == "" {
			return
		}
		parts := []string{comm}
		for i := len(frames) - 1; i >= 0; i-- {
			parts = append(parts, frames[i])
		}
		folded[strings.Join(parts, ";")]++
		samples++
		comm, frames = "", nil
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			flush()
			continue
		}
		if m := frameRe.FindStringSubmatch(line); m != nil && comm != "" {
			sym, dso := m[2], m[3]
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
			if dso == "[kernel.kallsyms]" {
				name += "_[k]"
			}
			frames = append(frames, name)
			continue
		}
		if m := headerRe.FindStringSubmatch(line); m != nil {
			flush()
			comm = m[1]
			continue
		}
		t.Fatalf("perf script line not understood: %q", line)
	}
	flush()
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
