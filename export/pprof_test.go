package export_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/gperf-dev/gperf/export"
	"github.com/gperf-dev/gperf/internal/testutil"
)

// writePprof exports data to a profile file and parses it back.
func writePprof(t *testing.T, opts export.Options) (string, *profile.Profile) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "profile.pb.gz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := export.WritePprof(f, opts); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	p, err := profile.Parse(r)
	if err != nil {
		t.Fatalf("the profile does not parse: %v", err)
	}
	return path, p
}

// profileFolded rebuilds folded stacks from a profile: comm label, then
// the locations' functions outermost first (kernel ones suffixed "_[k]",
// those without a function named "[file basename]").
func profileFolded(t *testing.T, p *profile.Profile, col int) (map[string]uint64, uint64) {
	t.Helper()
	m := map[string]uint64{}
	var total uint64
	for _, s := range p.Sample {
		var frames []string
		for _, l := range s.Location {
			name := "[unknown]"
			file := ""
			if l.Mapping != nil {
				file = l.Mapping.File
			}
			switch {
			case len(l.Line) > 0:
				name = strings.ReplaceAll(l.Line[0].Function.Name, ";", ":")
			case strings.HasPrefix(file, "["):
				name = file
			case file != "":
				name = "[" + filepath.Base(file) + "]"
			}
			if file == "[kernel.kallsyms]" {
				name += "_[k]"
			}
			frames = append(frames, name)
		}
		if len(s.Label["comm"]) != 1 {
			t.Fatalf("sample without a comm label: %v", s.Label)
		}
		m[foldedStack(s.Label["comm"][0], frames)] += uint64(s.Value[col])
		total += uint64(s.Value[col])
	}
	return m, total
}

// checkPprofCPU converts a cpu-clock profile: its stacks are perf
// script's, the sample count and nanoseconds add up, and `go tool pprof
// -top` shows the hot function first.
func checkPprofCPU(t *testing.T, data, bin string) {
	path, p := writePprof(t, export.Options{Input: data})
	if len(p.SampleType) != 2 || p.SampleType[0].Type != "samples" || p.SampleType[1].Type != "cpu" || p.SampleType[1].Unit != "nanoseconds" {
		t.Fatalf("sample types %v, want samples/count and cpu/nanoseconds", p.SampleType)
	}
	got, total := profileFolded(t, p, 0)
	want, samples := perfFolded(t, data)
	if total != samples {
		t.Errorf("profile has %d samples, perf script shows %d", total, samples)
	}
	testutil.Same(t, "pprof stacks", "perf script callchains", foldedText(want), "gperf --pprof", foldedText(got))
	// Every cpu-clock sample carries its period in nanoseconds (perf
	// script -F period).
	var ns int64
	for _, s := range p.Sample {
		ns += s.Value[1]
	}
	var wantNS int64
	// (On pipe-mode input perf prints the callchains too: only the
	// period lines count.)
	for _, l := range strings.Split(perfScript(t, data, "-F", "period"), "\n") {
		if v, err := strconv.ParseInt(strings.TrimSpace(l), 10, 64); err == nil {
			wantNS += v
		}
	}
	if ns != wantNS {
		t.Errorf("profile has %d ns of CPU, perf script's periods sum to %d", ns, wantNS)
	}
	// Labels and mappings. (perf record of a workload samples no CPU
	// number, so there is no cpu label.)
	for _, s := range p.Sample {
		if len(s.NumLabel["pid"]) != 1 || len(s.NumLabel["tid"]) != 1 {
			t.Fatalf("sample labels %v %v, want comm, pid, tid", s.Label, s.NumLabel)
		}
	}
	var binMapping *profile.Mapping
	for _, m := range p.Mapping {
		if m.File == bin {
			binMapping = m
		}
	}
	if binMapping == nil || binMapping.BuildID == "" || !binMapping.HasFunctions {
		t.Errorf("no mapping of %s with a build ID and functions: %v", bin, p.Mapping)
	}

	checkPprofLines(t, data, p)

	// go tool pprof, run as a process, opens it and ranks hot_function
	// first by flat time.
	gotool := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.Command(gotool, "tool", "pprof", "-top", "-symbolize=none", path).CombinedOutput()
	if err != nil {
		t.Fatalf("go tool pprof -top: %v\n%s", err, out)
	}
	lines := strings.Split(string(out), "\n")
	first := ""
	for i, l := range lines {
		if strings.Contains(l, "flat%") && i+1 < len(lines) {
			first = lines[i+1]
			break
		}
	}
	f := strings.Fields(first)
	if len(f) == 0 || f[len(f)-1] != "hot_function" {
		t.Errorf("go tool pprof -top does not rank hot_function first:\n%s", out)
	}
}

// checkPprofLines compares the source lines of the sampled addresses
// (the profile's leaf locations) with perf script's srcline field, for
// every user-space sample perf has a line for.
func checkPprofLines(t *testing.T, data string, p *profile.Profile) {
	t.Helper()
	want := map[string]int64{}
	lines := strings.Split(perfScript(t, data, "-G", "-F", "ip,sym,srcline"), "\n")
	for i := 0; i+1 < len(lines); i += 2 {
		f := strings.Fields(lines[i])
		src := strings.TrimSpace(lines[i+1])
		if len(f) < 2 || f[1] == "[unknown]" || strings.HasPrefix(src, "[") || strings.HasPrefix(src, "??") {
			if len(f) < 2 && strings.TrimSpace(lines[i]) != "" {
				t.Fatalf("perf script line not understood: %q", lines[i])
			}
			continue
		}
		// perf names the compilation unit's file for code inlined from
		// a header (handle_amd in ld.so: dl-get-cpu-features.c:321 for
		// dl-cacheinfo.h:321): compare function and line, and the file
		// for the fixture's own functions.
		file, line, _ := strings.Cut(src, ":")
		if file != "hot.c" {
			file = "*"
		}
		want[f[1]+" "+file+":"+line]++
	}
	got := map[string]int64{}
	for _, s := range p.Sample {
		l := s.Location[0]
		if len(l.Line) == 0 || l.Line[0].Line == 0 {
			continue
		}
		file := filepath.Base(l.Line[0].Function.Filename)
		if file != "hot.c" {
			file = "*"
		}
		got[l.Line[0].Function.Name+" "+file+":"+strconv.FormatInt(l.Line[0].Line, 10)] += s.Value[0]
	}
	text := func(m map[string]int64) string {
		var l []string
		for k, v := range m {
			l = append(l, k+" "+strconv.FormatInt(v, 10))
		}
		sort.Strings(l)
		return strings.Join(l, "\n") + "\n"
	}
	testutil.Same(t, "sampled source lines", "perf script -F ip,sym,srcline", text(want), "gperf --pprof", text(got))
}

// checkInline: with Inline, hot_inlined (always_inline in hot.c) shows as
// an inlined frame under hot_function; removing the inlined frames gives
// back the plain folded stacks; in pprof the location holds both
// functions, hot_function at the line of the call in hot.c.
func checkInline(t *testing.T, data string) {
	var plain, inl bytes.Buffer
	if err := export.WriteFolded(&plain, export.Options{Input: data}); err != nil {
		t.Fatal(err)
	}
	if err := export.WriteFolded(&inl, export.Options{Input: data, Inline: true}); err != nil {
		t.Fatal(err)
	}
	want, total := parseFoldedText(t, plain.String())
	got, _ := parseFoldedText(t, inl.String())
	stripped := map[string]uint64{}
	var hot, inlined uint64
	for k, v := range got {
		var keep []string
		parts := strings.Split(k, ";")
		for i, p := range parts {
			if strings.HasSuffix(p, "_[i]") {
				if p == "hot_inlined_[i]" && i > 0 && parts[i-1] == "hot_function" {
					inlined += v
				}
				continue
			}
			keep = append(keep, p)
		}
		stripped[strings.Join(keep, ";")] += v
	}
	for k, v := range want {
		if strings.Contains(k, ";hot_caller;hot_function") {
			hot += v
		}
	}
	testutil.Same(t, "folded stacks without their inlined frames", "plain", foldedText(want), "--inline, inlined frames removed", foldedText(stripped))
	if inlined*2 < hot || hot*2 < total {
		t.Errorf("hot_inlined carries %d of hot_function's %d samples (%d in all)", inlined, hot, total)
	}

	_, p := writePprof(t, export.Options{Input: data, Inline: true})
	src, err := os.ReadFile(testutil.FixtureSource("hot.c"))
	if err != nil {
		t.Fatal(err)
	}
	callLine := int64(0)
	for i, l := range strings.Split(string(src), "\n") {
		if strings.TrimSpace(l) == "hot_inlined(n * 9);" {
			callLine = int64(i + 1)
		}
	}
	found := false
	for _, l := range p.Location {
		if len(l.Line) == 2 && l.Line[0].Function.Name == "hot_inlined" {
			found = true
			if l.Line[1].Function.Name != "hot_function" || l.Line[1].Line != callLine {
				t.Errorf("location %#x: %s:%d inlined in %s:%d, want hot_function:%d", l.Address,
					l.Line[0].Function.Name, l.Line[0].Line, l.Line[1].Function.Name, l.Line[1].Line, callLine)
			}
		}
	}
	if !found {
		t.Errorf("no pprof location with hot_inlined inlined into hot_function")
	}
}
