package tracefs

import (
	"errors"
	"fmt"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Event names one trace event: a tracepoint or a probe.
type Event struct {
	System string // the directory under events/, e.g. "sched" or a probe group
	Name   string // e.g. "sched_switch"
}

// String returns "system:name", perf's spelling.
func (e Event) String() string { return e.System + ":" + e.Name }

// validName rejects names that would leave events/ or the one directory
// level they name.
func validName(what, s string) error {
	if s == "" || s == "." || s == ".." || strings.ContainsAny(s, "/\x00\n") {
		return fmt.Errorf("bad %s name %q", what, s)
	}
	return nil
}

// Systems lists the event systems (directories under events/), sorted.
func (fs *FS) Systems() ([]string, error) {
	return subdirs(fs.path("events"))
}

func subdirs(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	var names []string
	for _, e := range ents {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// Events lists the events matching glob, sorted by system then name. The
// glob is "system:event" (or "system/event") with path.Match patterns in
// either part, e.g. "sched:sched_switch", "probe:*", "probe_*:*"; a glob
// without a separator matches event names in every system. No match is not
// an error: the result is empty.
func (fs *FS) Events(glob string) ([]Event, error) {
	sysGlob, evGlob, ok := strings.Cut(glob, ":")
	if !ok {
		sysGlob, evGlob, ok = strings.Cut(glob, "/")
	}
	if !ok {
		sysGlob, evGlob = "*", glob
	}
	for _, g := range []string{sysGlob, evGlob} {
		if _, err := path.Match(g, ""); err != nil || g == "" || strings.ContainsAny(g, "/:") {
			return nil, fmt.Errorf("list events %q: bad pattern", glob)
		}
	}
	systems, err := fs.Systems()
	if err != nil {
		return nil, fmt.Errorf("list events %q: %w", glob, err)
	}
	var evs []Event
	for _, sys := range systems {
		if m, _ := path.Match(sysGlob, sys); !m {
			continue
		}
		names, err := subdirs(fs.path("events", sys))
		if err != nil {
			// A probe group can vanish while we list it.
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			return nil, fmt.Errorf("list events %q: %w", glob, err)
		}
		for _, n := range names {
			if m, _ := path.Match(evGlob, n); m {
				evs = append(evs, Event{System: sys, Name: n})
			}
		}
	}
	return evs, nil
}

// eventFile opens events/<system>/<event>/<file> for reading.
func (fs *FS) readEventFile(system, event, file string) ([]byte, error) {
	if err := validName("system", system); err != nil {
		return nil, err
	}
	if err := validName("event", event); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(fs.path("events", system, event, file))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("event %s:%s does not exist: %w", system, event, err)
	}
	return b, err
}

// EventID returns the event's id, the perf_event_attr.config that selects
// it with PERF_TYPE_TRACEPOINT.
func (fs *FS) EventID(system, event string) (int, error) {
	b, err := fs.readEventFile(system, event, "id")
	if err != nil {
		return 0, fmt.Errorf("read id of %s:%s: %w", system, event, err)
	}
	id, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || id < 0 {
		return 0, fmt.Errorf("read id of %s:%s: bad id %q", system, event, clip(string(b)))
	}
	return id, nil
}

// FormatText returns the event's format file verbatim, as perf stores it in
// perf.data's tracing data.
func (fs *FS) FormatText(system, event string) ([]byte, error) {
	b, err := fs.readEventFile(system, event, "format")
	if err != nil {
		return nil, fmt.Errorf("read format of %s:%s: %w", system, event, err)
	}
	return b, nil
}

// Format reads and parses the event's format file; Format.System is set.
func (fs *FS) Format(system, event string) (*Format, error) {
	b, err := fs.FormatText(system, event)
	if err != nil {
		return nil, err
	}
	f, err := ParseFormat(b)
	if err != nil {
		return nil, fmt.Errorf("read format of %s:%s: %w", system, event, err)
	}
	f.System = system
	return f, nil
}

// EnableEvent turns the event on in tracefs (events/<sys>/<ev>/enable),
// so it records into the ftrace ring buffer. perf does not need this: it
// opens events with perf_event_open.
func (fs *FS) EnableEvent(system, event string) error {
	return fs.setEnable(system, event, "1")
}

// DisableEvent turns the event off in tracefs.
func (fs *FS) DisableEvent(system, event string) error {
	return fs.setEnable(system, event, "0")
}

// EventEnabled reports whether the event is on in tracefs.
func (fs *FS) EventEnabled(system, event string) (bool, error) {
	b, err := fs.readEventFile(system, event, "enable")
	if err != nil {
		return false, fmt.Errorf("read enable of %s:%s: %w", system, event, err)
	}
	// "0", "1", or "0*"/"1*" when soft-disabled (trace_events.c, event_enable_read).
	return strings.HasPrefix(string(b), "1"), nil
}

func (fs *FS) setEnable(system, event, val string) error {
	op := "enable event"
	if val == "0" {
		op = "disable event"
	}
	if err := validName("system", system); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if err := validName("event", event); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	p := fs.path("events", system, event, "enable")
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_TRUNC, 0)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s %s:%s: event does not exist: %w", op, system, event, err)
	}
	if err != nil {
		return fmt.Errorf("%s %s:%s: %w", op, system, event, err)
	}
	defer f.Close()
	if _, err := f.WriteString(val); err != nil {
		return &KernelError{Op: op, Def: system + ":" + event, Err: errnoOf(err)}
	}
	return nil
}
