package export_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gperf-dev/gperf/export"
)

// TestErrors: bad input gives an error naming the problem, never a panic
// or output.
func TestErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.data")
	os.WriteFile(garbage, bytes.Repeat([]byte("not a perf.data file "), 20), 0o644)
	truncated := filepath.Join(dir, "empty.data")
	os.WriteFile(truncated, []byte("PERFILE2"), 0o644)
	for _, c := range []struct {
		name string
		opts export.Options
		want string
	}{
		{"missing", export.Options{Input: filepath.Join(dir, "nope.data")}, "no such file"},
		{"garbage", export.Options{Input: garbage}, "perf.data"},
		{"truncated", export.Options{Input: truncated}, "perf.data"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for what, run := range map[string]func(*bytes.Buffer) error{
				"folded": func(b *bytes.Buffer) error { return export.WriteFolded(b, c.opts) },
				"json":   func(b *bytes.Buffer) error { return export.WriteJSON(b, c.opts) },
				"pprof":  func(b *bytes.Buffer) error { return export.WritePprof(b, c.opts) },
				"svg": func(b *bytes.Buffer) error {
					return export.WriteFlameGraph(b, c.opts, export.FlameGraphOptions{})
				},
			} {
				var buf bytes.Buffer
				err := run(&buf)
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Errorf("%s: error %v, want one mentioning %q", what, err, c.want)
				}
				if buf.Len() != 0 {
					t.Errorf("%s: wrote %d bytes despite the error", what, buf.Len())
				}
			}
		})
	}
}

// TestUsageErrors: asking a real file for what it does not have.
func TestUsageErrors(t *testing.T) {
	for _, rec := range recorders[:1] {
		data, _, _, _ := recordHot(t, rec, recordSpec{events: []string{"cpu-clock", "task-clock"}, callGraph: true}, "cpu", "20")
		for _, c := range []struct {
			opts export.Options
			want string
		}{
			{export.Options{Input: data}, "choose one with --event"},
			{export.Options{Input: data, Event: "cycles"}, `no event "cycles" in the file (it has cpu-clock, task-clock)`},
			{export.Options{Input: data, OffCPU: true}, "record with: gperf record -a -g -e sched:sched_switch"},
			{export.Options{Input: data, Event: "cpu-clock", Pids: "1"}, "no samples"},
			{export.Options{Input: data, Event: "cpu-clock", Pids: "x"}, `parse pid list "x"`},
			{export.Options{Input: data, Event: "cpu-clock", CPUs: "3-1"}, `bad range "3-1"`},
		} {
			var buf bytes.Buffer
			err := export.WriteFolded(&buf, c.opts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%+v: error %v, want one containing %q", c.opts, err, c.want)
			}
		}
		// Both events in one profile, each with its columns; the
		// folded stacks of one event.
		_, p := writePprof(t, export.Options{Input: data})
		var types []string
		for _, st := range p.SampleType {
			types = append(types, st.Type+"/"+st.Unit)
		}
		if got := strings.Join(types, " "); got != "cpu-clock_samples/count cpu-clock_cpu/nanoseconds task-clock_samples/count task-clock_cpu/nanoseconds" {
			t.Errorf("sample types of a two-event profile: %s", got)
		}
		var buf bytes.Buffer
		if err := export.WriteFolded(&buf, export.Options{Input: data, Event: "task-clock"}); err != nil {
			t.Fatal(err)
		}
		want, _ := perfFoldedEvent(t, data, "task-clock")
		got, _ := parseFoldedText(t, buf.String())
		if foldedText(got) != foldedText(want) {
			t.Errorf("folded stacks of task-clock differ from perf script's:\n%s", foldedText(got))
		}
	}
}
