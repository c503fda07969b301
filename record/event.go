package record

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gperf-dev/gperf/perfdata"
	"github.com/gperf-dev/gperf/tracefs"
)

// ErrEventNotFound is wrapped by the errors of -e selectors that match no
// event.
var ErrEventNotFound = errors.New("event not found")

// EventArg is one -e selector and the --filter that followed it.
type EventArg struct {
	Spec   string // "sched:sched_switch", "probe:*", "cpu-clock:u", "a,b"
	Filter string // tracepoint filter ("" for none)
}

// event is one resolved event: its attr (before the per-session
// configuration of evsel__config) and what the file says about it.
type event struct {
	name   string
	attr   perfdata.EventAttr
	filter string
	// tracepoint only
	system, tpName string
	format         []byte // the tracefs format file, byte-exact
	// modifiers given by the user (":u", ":k", ":p"...)
	excludeUser, excludeKernel bool
	precise                    int
	defaultEvent               bool // perf's implicit cycles:P (no -e)
}

// Software events perf knows by name (enum perf_sw_ids and the aliases in
// tools/perf/util/parse-events.c event_symbols_sw).
var softwareEvents = map[string]uint64{
	"cpu-clock":        0,
	"task-clock":       1,
	"page-faults":      2,
	"faults":           2,
	"context-switches": 3,
	"cs":               3,
	"cpu-migrations":   4,
	"migrations":       4,
	"minor-faults":     5,
	"major-faults":     6,
	"alignment-faults": 7,
	"emulation-faults": 8,
	"dummy":            9,
	"bpf-output":       10,
	"cgroup-switches":  11,
}

// Hardware events perf knows by name (enum perf_hw_id, event_symbols_hw).
var hardwareEvents = map[string]uint64{
	"cycles": 0, "cpu-cycles": 0, "instructions": 1, "cache-references": 2,
	"cache-misses": 3, "branch-instructions": 4, "branches": 4, "branch-misses": 5,
	"bus-cycles": 6, "stalled-cycles-frontend": 7, "idle-cycles-frontend": 7,
	"stalled-cycles-backend": 8, "idle-cycles-backend": 8, "ref-cycles": 9,
}

// canonical names perf prints for aliased software events.
var softwareNames = map[uint64]string{
	0: "cpu-clock", 1: "task-clock", 2: "page-faults", 3: "context-switches",
	4: "cpu-migrations", 5: "minor-faults", 6: "major-faults", 7: "alignment-faults",
	8: "emulation-faults", 9: "dummy", 10: "bpf-output", 11: "cgroup-switches",
}

// splitEvents splits one -e argument at top-level commas (perf accepts
// "-e a,b"); commas inside {} or // terms are kept.
func splitEvents(s string) []string {
	var out []string
	depth, slash := 0, false
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			depth--
		case '/':
			slash = !slash
		case ',':
			if depth == 0 && !slash {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// parseModifiers applies perf's event modifiers (u, k, h, p, P, ...) to e.
func parseModifiers(e *event, mods string) error {
	for _, c := range mods {
		switch c {
		case 'u':
			e.excludeKernel = true
		case 'k':
			e.excludeUser = true
		case 'p':
			e.precise++
		case 'P':
			e.precise = 3
		case 'h', 'H', 'G', 'I', 'S', 'D', 'W', 'b':
			// accepted, no effect on these events
		default:
			return fmt.Errorf("parse event modifier %q: unknown modifier %q", mods, c)
		}
	}
	if e.precise > 3 {
		return fmt.Errorf("parse event modifier %q: precise level above 3", mods)
	}
	return nil
}

// resolveEvents turns the -e arguments into events, expanding tracepoint
// globs with tp. With no -e, it is perf's default event.
func resolveEvents(args []EventArg, tp tracepoints) ([]*event, error) {
	if len(args) == 0 {
		e := &event{name: "cpu-clock:ppp", defaultEvent: true, precise: 3}
		e.attr.Type = perfdata.TypeSoftware
		e.attr.Config = 0
		return []*event{e}, nil
	}
	var evs []*event
	for _, a := range args {
		var added, last []*event
		for _, spec := range splitEvents(a.Spec) {
			spec = strings.TrimSpace(spec)
			if spec == "" {
				return nil, fmt.Errorf("parse event %q: empty event", a.Spec)
			}
			es, err := resolveEvent(spec, tp)
			if err != nil {
				return nil, err
			}
			added = append(added, es...)
			last = es
		}
		if a.Filter != "" {
			// perf applies --filter to the events of the last
			// selector before it (all of a glob's expansion:
			// foreach_evsel_in_last_glob in parse-events.c).
			for _, e := range last {
				if e.attr.Type != perfdata.TypeTracepoint {
					return nil, fmt.Errorf("filter %q: event %s is not a tracepoint", a.Filter, e.name)
				}
				e.filter = a.Filter
			}
		}
		evs = append(evs, added...)
	}
	return evs, nil
}

func resolveEvent(spec string, tp tracepoints) ([]*event, error) {
	name, mods, _ := strings.Cut(spec, ":")
	if cfg, ok := softwareEvents[name]; ok {
		e := &event{name: spec}
		e.attr.Type = perfdata.TypeSoftware
		e.attr.Config = cfg
		if err := parseModifiers(e, mods); err != nil {
			return nil, err
		}
		return []*event{e}, nil
	}
	if cfg, ok := hardwareEvents[name]; ok {
		e := &event{name: spec}
		e.attr.Type = perfdata.TypeHardware
		e.attr.Config = cfg
		if err := parseModifiers(e, mods); err != nil {
			return nil, err
		}
		return []*event{e}, nil
	}
	if mods == "" {
		return nil, fmt.Errorf("parse event %q: %w (not a hardware or software event or a system:name tracepoint)", spec, ErrEventNotFound)
	}
	// system:name with optional glob characters in either part.
	system, evname := name, mods
	if tp == nil {
		return nil, fmt.Errorf("parse event %q: %w (no tracefs)", spec, ErrEventNotFound)
	}
	found, err := tp.match(system, evname)
	if err != nil {
		return nil, fmt.Errorf("parse event %q: %w", spec, err)
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("parse event %q: %w: no tracepoint %s:%s", spec, ErrEventNotFound, system, evname)
	}
	var evs []*event
	for _, t := range found {
		e := &event{name: t.system + ":" + t.name, system: t.system, tpName: t.name, format: t.format}
		e.attr.Type = perfdata.TypeTracepoint
		e.attr.Config = t.id
		// evsel__newtp_idx in tools/perf/util/evsel.c
		e.attr.SampleType = perfdata.SampleRaw | perfdata.SampleTime | perfdata.SampleCPU | perfdata.SamplePeriod
		e.attr.SamplePeriod = 1
		evs = append(evs, e)
	}
	return evs, nil
}

// tracepoint is one tracefs event: its id and format file.
type tracepoint struct {
	system, name string
	id           uint64
	format       []byte
}

// tracepoints finds tracefs events by system and name globs.
type tracepoints interface {
	match(systemGlob, nameGlob string) ([]tracepoint, error)
}

// attrConfig holds what evsel__config needs from the command line.
type attrConfig struct {
	period    uint64 // -c (0: none)
	freq      uint64 // -F or the default 4000 (used when period is 0)
	userFreq  bool   // -F given
	callchain bool
	inherit   bool
	workload  bool // target__none: a forked workload, no pid/tid/cpu target
	cpuTarget bool // -a or -C
}

// configure sets each event's attr as perf 6.1's evsel__config and
// evlist__config do (tools/perf/util/evsel.c, record.c), and returns the
// list, with the dummy tracking event appended for CPU targets
// (record__setup_... in builtin-record.c adds "dummy:HG" when
// target__has_cpu).
func configure(evs []*event, c attrConfig) []*event {
	if c.cpuTarget {
		d := &event{name: "dummy:HG"}
		d.attr.Type = perfdata.TypeSoftware
		d.attr.Config = 9
		d.attr.SamplePeriod = 1
		evs = append(evs, d)
	}
	tracking := evs[0]
	if c.cpuTarget {
		tracking = evs[len(evs)-1]
	}
	for _, e := range evs {
		a := &e.attr
		a.Size = perfdata.AttrSizeVer7
		a.ReadFormat = perfdata.FormatID | perfdata.FormatLost
		a.Flags |= perfdata.AttrSampleIDAll
		if c.inherit {
			a.Flags |= perfdata.AttrInherit
		}
		a.SampleType |= perfdata.SampleIP | perfdata.SampleTID | perfdata.SampleTime
		dummy := e.name == "dummy:HG"
		if !dummy && (a.SamplePeriod == 0 || c.userFreq || c.period != 0) {
			if c.period != 0 {
				a.Flags &^= perfdata.AttrFreq
				a.SamplePeriod = c.period
			} else {
				a.Flags |= perfdata.AttrFreq
				a.SamplePeriod = c.freq
			}
		}
		if a.Flags&perfdata.AttrFreq != 0 {
			a.SampleType |= perfdata.SamplePeriod
		}
		if c.callchain && !dummy {
			a.SampleType |= perfdata.SampleCallchain
		}
		if c.cpuTarget {
			a.SampleType |= perfdata.SampleCPU
		}
		if e == tracking {
			a.Flags |= perfdata.AttrMmap | perfdata.AttrMmap2 | perfdata.AttrComm | perfdata.AttrCommExec |
				perfdata.AttrTask | perfdata.AttrKsymbol | perfdata.AttrBPFEvent
		}
		if dummy {
			continue // immediate: neither disabled nor enable_on_exec
		}
		a.Flags |= perfdata.AttrDisabled
		if c.workload {
			a.Flags |= perfdata.AttrEnableOnExec
		}
		if e.excludeUser {
			a.Flags |= perfdata.AttrExcludeUser | perfdata.AttrExcludeHV
		}
		if e.excludeKernel {
			a.Flags |= perfdata.AttrExcludeKernel | perfdata.AttrExcludeHV
		}
		a.Flags |= perfdata.AttrFlags(e.precise) << 15
		if !e.defaultEvent {
			a.Flags |= perfdata.AttrExcludeGuest
		}
	}
	// evlist__config: several events need the sample ID; IDENTIFIER when
	// their sample types differ.
	if len(evs) > 1 {
		same := true
		for _, e := range evs[1:] {
			if e.attr.SampleType != evs[0].attr.SampleType {
				same = false
			}
		}
		for _, e := range evs {
			if same {
				e.attr.SampleType |= perfdata.SampleID
			} else {
				e.attr.SampleType |= perfdata.SampleIdentifier
			}
		}
	}
	return evs
}

// tracefsEvents finds tracepoints in a tracefs mount.
type tracefsEvents struct{ fs *tracefs.FS }

func (t tracefsEvents) match(system, name string) ([]tracepoint, error) {
	evs, err := t.fs.Events(system + ":" + name)
	if err != nil {
		return nil, err
	}
	var l []tracepoint
	for _, e := range evs {
		id, err := t.fs.EventID(e.System, e.Name)
		if err != nil {
			return nil, err
		}
		f, err := t.fs.FormatText(e.System, e.Name)
		if err != nil {
			return nil, err
		}
		l = append(l, tracepoint{system: e.System, name: e.Name, id: uint64(id), format: f})
	}
	return l, nil
}
