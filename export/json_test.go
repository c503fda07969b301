package export_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gperf-dev/gperf/export"
	"github.com/gperf-dev/gperf/internal/testutil"
)

// jsonSample is the sample object of --json (docs/export.md).
type jsonSample struct {
	Type   string `json:"type"`
	Event  string `json:"event"`
	Comm   string `json:"comm"`
	Pid    int64  `json:"pid"`
	Tid    int64  `json:"tid"`
	CPU    *int64 `json:"cpu"`
	Time   uint64 `json:"time"`
	Period uint64 `json:"period"`
	IP     string `json:"ip"`
	Sym    string `json:"sym"`
	SymOff string `json:"symoff"`
	DSO    string `json:"dso"`
	Chain  []struct {
		IP     string `json:"ip"`
		Sym    string `json:"sym"`
		SymOff string `json:"symoff"`
		DSO    string `json:"dso"`
	} `json:"callchain"`
	Fields map[string]json.RawMessage `json:"fields"`
}

func readJSON(t *testing.T, opts export.Options) []jsonSample {
	t.Helper()
	var buf bytes.Buffer
	if err := export.WriteJSON(&buf, opts); err != nil {
		t.Fatal(err)
	}
	var out []jsonSample
	for i, l := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		var s jsonSample
		d := json.NewDecoder(strings.NewReader(l))
		d.DisallowUnknownFields()
		if err := d.Decode(&s); err != nil {
			t.Fatalf("JSON line %d does not parse: %v\n%s", i+1, err, l)
		}
		if s.Type == "sample" {
			out = append(out, s)
		}
	}
	return out
}

// addProbe adds a uprobe with perf probe and removes it at cleanup.
func addProbe(t *testing.T, bin, spec string) (event string) {
	t.Helper()
	testutil.Requires(t, testutil.Root, testutil.Perf, testutil.Uprobes)
	group := testutil.Group(t)
	ev := "ev" + strings.TrimPrefix(group, testutil.GroupPrefix)
	event = group + ":" + ev
	r := testutil.RunPerf(t, "", "probe", "-x", bin, "-a", event+"="+spec)
	if r.Code != 0 {
		t.Fatalf("perf probe -a %s: exit %d\n%s", spec, r.Code, r.Stderr)
	}
	t.Cleanup(func() {
		if r := testutil.RunPerf(t, "", "probe", "-d", group+":*"); r.Code != 0 {
			t.Errorf("perf probe -d %s:*: %s", group, r.Stderr)
		}
	})
	return event
}

var probeLineRe = regexp.MustCompile(`^\s*(.*\S)\s+(\d+)/(\d+)\s+\[(\d+)\]\s+(\d+)\.(\d{9}):\s+(\S+):\s+\(([0-9a-f]+)\) level=(-?\d+) res=0x([0-9a-f]+)$`)

// TestJSONProbeArgs records a uprobe with arguments and checks each JSON
// line against perf script's text for the same sample (comm, pid, tid,
// cpu, time, probe address, level, res) and res against what the program
// printed itself.
func TestJSONProbeArgs(t *testing.T) {
	bin := testutil.BuildC(t, 0, "ldlm.c")
	event := addProbe(t, bin, "ldlm_resource_dump level res")
	for _, rec := range recorders {
		t.Run(rec.name, func(t *testing.T) {
			dir := t.TempDir()
			data := filepath.Join(dir, "perf.data")
			stdout, _ := rec.record(t, dir, data, recordSpec{events: []string{event}, cmd: []string{bin, "2"}})
			checkJSONProbeArgs(t, data, bin, stdout)
		})
	}
}

func checkJSONProbeArgs(t *testing.T, data, bin, stdout string) {
	text := perfScript(t, data, "--ns", "-F", "comm,pid,tid,cpu,time,event,trace")
	lines := strings.Split(strings.TrimSpace(text), "\n")
	got := readJSON(t, export.Options{Input: data})
	if len(got) != len(lines) || len(got) != 16 {
		t.Fatalf("%d JSON samples, perf script printed %d lines (want 16: 2 rounds of 8 resources)", len(got), len(lines))
	}
	printed := regexp.MustCompile(`dump res=0x([0-9a-f]+) `).FindAllStringSubmatch(stdout, -1)
	for i, l := range lines {
		m := probeLineRe.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("perf script line not understood: %q", l)
		}
		g := got[i]
		sec, _ := strconv.ParseUint(m[5], 10, 64)
		ns, _ := strconv.ParseUint(m[6], 10, 64)
		var level int64
		var res, ip uint64
		if err := json.Unmarshal(g.Fields["level"], &level); err != nil {
			t.Fatalf("fields.level %s: %v", g.Fields["level"], err)
		}
		if err := json.Unmarshal(g.Fields["res"], &res); err != nil {
			t.Fatalf("fields.res %s: %v", g.Fields["res"], err)
		}
		if err := json.Unmarshal(g.Fields["__probe_ip"], &ip); err != nil {
			t.Fatalf("fields.__probe_ip %s: %v", g.Fields["__probe_ip"], err)
		}
		gotLine := fmt.Sprintf("%s %d/%d [%03d] %d: %s: (%x) level=%d res=0x%x",
			g.Comm, g.Pid, g.Tid, deref(g.CPU), g.Time, g.Event, ip, level, res)
		wantLine := fmt.Sprintf("%s %s/%s [%s] %d: %s: (%s) level=%s res=0x%s", m[1], m[2], m[3], m[4], sec*1e9+ns, m[7], m[8], m[9], m[10])
		if gotLine != wantLine {
			t.Errorf("sample %d:\n perf script: %s\n gperf json:  %s", i, wantLine, gotLine)
		}
		if i < len(printed) && fmt.Sprintf("%x", res) != printed[i][1] {
			t.Errorf("sample %d: res=0x%x, the program printed res=0x%s", i, res, printed[i][1])
		}
		if g.Sym != "ldlm_resource_dump" || g.DSO != bin {
			t.Errorf("sample %d: ip %s in %s (%s), want ldlm_resource_dump in %s", i, g.IP, g.Sym, g.DSO, bin)
		}
	}
	// The same values reach pprof as labels.
	_, p := writePprof(t, export.Options{Input: data})
	var n int64
	for _, s := range p.Sample {
		if len(s.NumLabel["level"]) != 1 || len(s.NumLabel["res"]) != 1 {
			t.Fatalf("pprof sample without level/res labels: %v", s.NumLabel)
		}
		n += s.Value[0]
	}
	if n != 16 {
		t.Errorf("pprof has %d probe samples, want 16", n)
	}
}

func deref(p *int64) int64 {
	if p == nil {
		return -1
	}
	return *p
}

// checkJSONCallchains checks the JSON callchains of a cpu-clock
// recording against perf script's, sample by sample.
func checkJSONCallchains(t *testing.T, data, bin string) {
	got := readJSON(t, export.Options{Input: data})
	blocks := perfBlocks(t, perfScript(t, data, "--ns", "-F", "comm,tid,time,period,event,ip,sym,dso"))
	if len(got) != len(blocks) {
		t.Fatalf("%d JSON samples, perf script shows %d", len(got), len(blocks))
	}
	for i, b := range blocks {
		g := got[i]
		var names []string
		for _, f := range g.Chain {
			name := f.Sym
			if name == "" {
				name = "[unknown]"
				if f.DSO != "[unknown]" {
					name = "[" + filepath.Base(f.DSO) + "]"
					if strings.HasPrefix(f.DSO, "[") {
						name = f.DSO
					}
				}
			}
			if f.DSO == "[kernel.kallsyms]" {
				name += "_[k]"
			}
			names = append(names, name)
		}
		head := fmt.Sprintf("%s %d %d.%09d: %d cpu-clock:", g.Comm, g.Tid, g.Time/1e9, g.Time%1e9, g.Period)
		wantHead := strings.Join(strings.Fields(b.header), " ")
		if head != wantHead || strings.Join(names, ";") != strings.Join(b.frames, ";") {
			t.Fatalf("sample %d:\n perf script: %s %v\n gperf json:  %s %v", i, wantHead, b.frames, head, names)
		}
	}
}

// checkJSONTaskEvents: with task and mmap events, the workload's exec and
// the mapping of its binary are there, in the same stream as samples.
func checkJSONTaskEvents(t *testing.T, data, bin string) {
	var buf bytes.Buffer
	if err := export.WriteJSON(&buf, export.Options{Input: data, TaskEvents: true, MmapEvents: true}); err != nil {
		t.Fatal(err)
	}
	var exec, mmap, samples int
	for _, l := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("JSON line does not parse: %v\n%s", err, l)
		}
		switch m["type"] {
		case "comm":
			if m["exec"] == true && m["comm"] == filepath.Base(bin)[:min(15, len(filepath.Base(bin)))] {
				exec++
			}
		case "mmap":
			if m["file"] == bin {
				mmap++
			}
		case "sample":
			samples++
		}
	}
	if exec != 1 || mmap == 0 || samples == 0 {
		t.Errorf("%d exec of %s, %d mappings of it, %d samples", exec, bin, mmap, samples)
	}
}
