package flamegraph_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gperf-dev/gperf/export"
	"github.com/gperf-dev/gperf/internal/testutil"
)

func TestMain(m *testing.M) { testutil.Main(m) }

// perfRecord records the hot.c fixture with the oracle perf and returns
// the data file and the wall time the recording took.
func perfRecord(t *testing.T, perfArgs []string, workload ...string) (data, bin string, wall time.Duration) {
	t.Helper()
	testutil.Requires(t, testutil.Root, testutil.Perf)
	bin = testutil.BuildC(t, testutil.FramePointer, "hot.c")
	dir := t.TempDir()
	data = filepath.Join(dir, "perf.data")
	args := append(append([]string{"record"}, perfArgs...), "-o", data, "--", bin)
	start := time.Now()
	r := testutil.RunPerf(t, dir, append(args, workload...)...)
	wall = time.Since(start)
	if r.Code != 0 {
		t.Fatalf("perf %s: exit %d\n%s", strings.Join(args, " "), r.Code, r.Stderr)
	}
	return data, bin, wall
}

// svgAndFolded exports the same input as a flame graph and as folded
// stacks.
func svgAndFolded(t *testing.T, opts export.Options, fg export.FlameGraphOptions) (svgPath string, frames []SVGFrame, folded map[string]uint64, total uint64) {
	t.Helper()
	svgPath = filepath.Join(t.TempDir(), "flamegraph.svg")
	f, err := os.Create(svgPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := export.WriteFlameGraph(f, opts, fg); err != nil {
		t.Fatal(err)
	}
	f.Close()
	data, _ := os.ReadFile(svgPath)
	frames = ParseSVG(t, data)
	var buf bytes.Buffer
	if err := export.WriteFolded(&buf, opts); err != nil {
		t.Fatal(err)
	}
	folded = map[string]uint64{}
	for _, l := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		i := strings.LastIndexByte(l, ' ')
		v, err := strconv.ParseUint(l[i+1:], 10, 64)
		if err != nil {
			t.Fatalf("bad folded line %q", l)
		}
		folded[l[:i]] += v
		total += v
	}
	return svgPath, frames, folded, total
}

// framePaths names each drawn frame by its path from the root, as in
// folded stacks ("comm;main;f", kernel frames suffixed "_[k]", inlined
// ones "_[i]").
func framePaths(t *testing.T, frames []SVGFrame) []string {
	t.Helper()
	paths := make([]string, len(frames))
	for i, f := range frames {
		if f.Depth == 0 {
			continue
		}
		name := f.Name
		switch f.Kind {
		case "kernel":
			name += "_[k]"
		case "inlined":
			name += "_[i]"
		}
		parent := -1
		for j, p := range frames {
			if p.Depth == f.Depth-1 && p.Offset <= f.Offset && f.Offset+f.W <= p.Offset+p.W {
				parent = j
			}
		}
		if parent < 0 {
			t.Fatalf("frame %q has no parent", f.Name)
		}
		if frames[parent].Depth == 0 {
			paths[i] = name
		} else {
			if paths[parent] == "" {
				t.Fatalf("frames are not in depth order")
			}
			paths[i] = paths[parent] + ";" + name
		}
	}
	return paths
}

// checkAgainstFolded checks that every drawn frame weighs what the folded
// stacks under its path weigh, and that what is not drawn is narrower than
// the threshold.
func checkAgainstFolded(t *testing.T, frames []SVGFrame, folded map[string]uint64, width int, minWidth float64) {
	t.Helper()
	prefix := map[string]uint64{}
	var total uint64
	for k, v := range folded {
		parts := strings.Split(k, ";")
		for i := range parts {
			prefix[strings.Join(parts[:i+1], ";")] += v
		}
		total += v
	}
	drawn := map[string]bool{}
	for i, p := range framePaths(t, frames) {
		if frames[i].Depth == 0 {
			continue
		}
		drawn[p] = true
		if frames[i].W != prefix[p] {
			t.Errorf("frame %s weighs %d, its folded stacks %d", p, frames[i].W, prefix[p])
		}
	}
	scale := float64(width-20) / float64(total)
	for p, w := range prefix {
		if !drawn[p] && float64(w)*scale >= minWidth {
			t.Errorf("frame %s (%d, %.2f px) is not drawn", p, w, float64(w)*scale)
		}
	}
}

// TestFlameGraphCPU draws a perf-recorded cpu-clock profile of hot.c:
// the frames weigh what the folded stacks say, the root carries every
// sample perf script shows, and hot_function under main -> hot_caller is
// there, a user frame, most of the width.
func TestFlameGraphCPU(t *testing.T) {
	data, bin, _ := perfRecord(t, []string{"-g", "-e", "cpu-clock"}, "cpu")
	svgPath, frames, folded, total := svgAndFolded(t, export.Options{Input: data}, export.FlameGraphOptions{Width: 1000})
	r := testutil.RunPerf(t, "", "script", "-i", data, "-F", "period")
	samples := uint64(strings.Count(r.Stdout, "\n"))
	if total != samples || frames[0].W != samples {
		t.Errorf("root weighs %d, folded stacks %d, perf script shows %d samples", frames[0].W, total, samples)
	}
	CheckGeometry(t, frames, 1000, total)
	checkAgainstFolded(t, frames, folded, 1000, 0.1)
	comm := filepath.Base(bin)
	var hot *SVGFrame
	for i, p := range framePaths(t, frames) {
		if p == comm+";__libc_start_call_main;main;hot_caller;hot_function" {
			hot = &frames[i]
		}
	}
	if hot == nil || hot.Kind != "user" || hot.W*2 < total {
		t.Fatalf("hot_function frame: %+v of %d samples", hot, total)
	}
	if !strings.Contains(hot.Title, "samples, ") {
		t.Errorf("hot_function title %q lacks samples and percent", hot.Title)
	}

	// With --period the same picture is in nanoseconds of cpu-clock.
	_, pframes, pfolded, ptotal := svgAndFolded(t, export.Options{Input: data, Period: true}, export.FlameGraphOptions{})
	if ptotal != total*250000 {
		t.Errorf("period weights sum to %d, want %d samples * 250000 ns", ptotal, total)
	}
	CheckGeometry(t, pframes, 1200, ptotal)
	checkAgainstFolded(t, pframes, pfolded, 1200, 0.1)
	if !strings.HasSuffix(pframes[0].Title, " s, 100.00%)") && !strings.HasSuffix(pframes[0].Title, " ms, 100.00%)") {
		t.Errorf("root title %q: want a time", pframes[0].Title)
	}

	// With --inline, hot_inlined is drawn as an inlined frame on top of
	// hot_function.
	_, iframes, ifolded, itotal := svgAndFolded(t, export.Options{Input: data, Inline: true}, export.FlameGraphOptions{})
	CheckGeometry(t, iframes, 1200, itotal)
	checkAgainstFolded(t, iframes, ifolded, 1200, 0.1)
	var inl *SVGFrame
	for i, p := range framePaths(t, iframes) {
		if p == comm+";__libc_start_call_main;main;hot_caller;hot_function;hot_inlined_[i]" {
			inl = &iframes[i]
		}
	}
	if inl == nil || inl.Kind != "inlined" || inl.W*2 < hot.W {
		t.Errorf("inlined frame hot_inlined: %+v (hot_function has %d samples)", inl, hot.W)
	}

	// And it works in a browser, offline.
	requireChromium(t)
	BrowserCheck(t, svgPath, 1000, "hot_function", "cold")
}

var switchRe = regexp.MustCompile(`prev_comm=(.*) prev_pid=(\d+) .* ==> next_comm=(.*) next_pid=(\d+) `)

// missedSwitches counts the sched_switch samples of comm's tasks that a
// recording misses, as perf script shows it: a task switched out twice,
// or in twice, with nothing between.
func missedSwitches(t *testing.T, data, comm string) int {
	t.Helper()
	r := testutil.RunPerf(t, "", "script", "-i", data, "-F", "trace")
	if r.Code != 0 {
		t.Fatalf("perf script -F trace: exit %d\n%s", r.Code, r.Stderr)
	}
	in := map[string]bool{}
	missed := 0
	for _, l := range strings.Split(r.Stdout, "\n") {
		m := switchRe.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		if m[1] == comm {
			if was, ok := in[m[2]]; ok && !was {
				missed++
			}
			in[m[2]] = false
		}
		if m[3] == comm {
			if was, ok := in[m[4]]; ok && was {
				missed++
			}
			in[m[4]] = true
		}
	}
	return missed
}

// TestFlameGraphOffCPU draws time off CPU of hot.c sleeping 5 x 100 ms in
// main -> sleep_outer -> sleep_inner: that frame carries at least the
// time slept and at most the wall time of the recording.
func TestFlameGraphOffCPU(t *testing.T) {
	testutil.Requires(t, testutil.Tracefs)
	// perf 6.1 drops samples under load without a LOST record (see
	// export's TestOffCPU): a recording where the fixture is switched in
	// or out twice in a row misses samples, and says nothing about the
	// flame graph, so it is made again, up to 3 times.
	var (
		data, bin string
		wall      time.Duration
	)
	for i := 1; ; i++ {
		data, bin, wall = perfRecord(t, []string{"-a", "-g", "-e", "sched:sched_switch"}, "sleep", "100", "5")
		missed := missedSwitches(t, data, filepath.Base(bin))
		if missed == 0 || i == 3 {
			break
		}
		t.Logf("attempt %d: perf's recording misses %d sched_switch samples of the fixture without a LOST record; recording again", i, missed)
	}
	comm := filepath.Base(bin)
	// The recording is system-wide: it holds the stacks of whatever else
	// ran meanwhile, such as gperf binaries other test packages build in
	// their temporary directories and delete when done. svgAndFolded
	// reads the file twice, and such a binary can vanish between the two
	// reads, so one output names its frames and the other says "[gperf]".
	// The whole picture is checked on its own (geometry); the SVG and the
	// folded stacks are compared on the fixture's process, whose binary
	// this test owns.
	_, frames, _, total := svgAndFolded(t, export.Options{Input: data, OffCPU: true}, export.FlameGraphOptions{})
	CheckGeometry(t, frames, 1200, total)
	_, frames, folded, total := svgAndFolded(t, export.Options{Input: data, OffCPU: true, Comms: comm}, export.FlameGraphOptions{})
	CheckGeometry(t, frames, 1200, total)
	checkAgainstFolded(t, frames, folded, 1200, 0.1)
	var sleep *SVGFrame
	for i, p := range framePaths(t, frames) {
		if p == comm+";__libc_start_call_main;main;sleep_outer;sleep_inner" {
			sleep = &frames[i]
		}
	}
	const slept = 5 * 100 * uint64(time.Millisecond)
	if sleep == nil {
		t.Fatal("no frame for main -> sleep_outer -> sleep_inner")
	}
	t.Logf("sleep_inner: %s; slept %v, recording took %v", sleep.Title, time.Duration(slept), wall)
	if sleep.W < slept || sleep.W > uint64(wall) {
		t.Errorf("sleep_inner carries %d ns off CPU, want between %d and %d", sleep.W, slept, wall.Nanoseconds())
	}
}
