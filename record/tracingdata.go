package record

import (
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/gperf-dev/gperf/perfdata"
	"github.com/gperf-dev/gperf/tracefs"
)

// tracingData captures what perf's tracing_data_get
// (tools/perf/util/trace-event-info.c) stores for the recorded
// tracepoints: the ring-buffer header formats, the events' format files
// grouped by system in first-use order, printk_formats; kallsyms is written
// empty as perf 6.1 does ("to keep older perf.data file parsers happy"),
// and so is saved_cmdlines.
func tracingData(fs *tracefs.FS, evs []*event) *perfdata.TracingData {
	var systems []perfdata.TraceSystem
	for _, e := range evs {
		if e.format == nil {
			continue
		}
		i := 0
		for i < len(systems) && systems[i].Name != e.system {
			i++
		}
		if i == len(systems) {
			systems = append(systems, perfdata.TraceSystem{Name: e.system})
		}
		systems[i].Formats = append(systems[i].Formats, e.format)
	}
	if len(systems) == 0 {
		return nil
	}
	read := func(p ...string) []byte {
		b, _ := os.ReadFile(filepath.Join(append([]string{fs.Dir}, p...)...))
		return b
	}
	return &perfdata.TracingData{
		Version:       "0.6",
		LongSize:      8,
		PageSize:      uint32(unix.Getpagesize()),
		HeaderPage:    read("events", "header_page"),
		HeaderEvent:   read("events", "header_event"),
		Systems:       systems,
		Kallsyms:      []byte{},
		PrintkFormats: read("printk_formats"),
		SavedCmdlines: []byte{},
	}
}
