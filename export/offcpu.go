package export

import (
	"fmt"

	"github.com/gperf-dev/gperf/flamegraph"
)

// switchEvent is the tracepoint off-CPU analysis reads.
const switchEvent = "sched:sched_switch"

// offCPU computes time off CPU from sched:sched_switch samples: when a
// task switches out (prev_pid), the sample's stack is where it stopped;
// when it switches back in (next_pid), the time since is added to that
// stack. The idle task (pid 0) is left out, and so are tasks still off
// CPU when the recording ends (nobody knows for how long). Filters apply
// to the task switching out.
func (s *session) offCPU() (*flamegraph.Stacks, string, string, error) {
	var ev *event
	for _, e := range s.events {
		if e.name == switchEvent {
			ev = e
		}
	}
	if ev == nil {
		return nil, "", "", fmt.Errorf("export %s: off-CPU time needs %s samples with callchains, and the file has %s; record with: gperf record -a -g -e %s",
			s.opts.Input, switchEvent, s.eventNames(), switchEvent)
	}
	if ev.format == nil {
		return nil, "", "", fmt.Errorf("export %s: the file has no format for %s in its tracing data", s.opts.Input, switchEvent)
	}
	prevF, nextF := ev.format.Field("prev_pid"), ev.format.Field("next_pid")
	if prevF == nil || nextF == nil || prevF.Size != 4 || nextF.Size != 4 {
		return nil, "", "", fmt.Errorf("export %s: the %s format has no 4-byte prev_pid and next_pid fields", s.opts.Input, switchEvent)
	}
	s.sel = ev
	type out struct {
		since uint64
		st    *aggStack
	}
	pending := map[uint32]out{}
	agg := newStackAgg(s)
	var switches uint64
	field := func(raw []byte, off int) (uint32, bool) {
		if off < 0 || off+4 > len(raw) {
			return 0, false
		}
		return s.order.Uint32(raw[off:]), true
	}
	// Filters are applied here rather than by walk: the task switching
	// in must be seen whatever the filters say.
	pids, tids, cpus, comms := s.pids, s.tids, s.cpus, s.commSet
	s.pids, s.tids, s.cpus, s.commSet = nil, nil, nil, nil
	err := s.walk(handlers{sample: func(c *sampleCtx) error {
		r := c.s
		prev, ok1 := field(r.Raw, prevF.Offset)
		next, ok2 := field(r.Raw, nextF.Offset)
		if !ok1 || !ok2 {
			return nil
		}
		if p, ok := pending[next]; ok && next != 0 {
			if r.Time >= p.since {
				p.st.weight += r.Time - p.since
			}
			delete(pending, next)
		}
		if prev == 0 {
			return nil
		}
		if pids != nil && !pids[r.Pid] || tids != nil && !tids[prev] || cpus != nil && !cpus[r.CPU] {
			return nil
		}
		if comms != nil && !comms[c.comm] {
			return nil
		}
		switches++
		pending[prev] = out{since: r.Time, st: agg.get(r, c.comm)}
		return nil
	}})
	if err != nil {
		return nil, "", "", err
	}
	if switches == 0 {
		return nil, "", "", fmt.Errorf("export %s: %w of %s (after filters)", s.opts.Input, errNoSamples, switchEvent)
	}
	st := agg.stacks()
	if st.Total() == 0 {
		return nil, "", "", fmt.Errorf("export %s: no task switched out and back in during the recording", s.opts.Input)
	}
	desc := fmt.Sprintf("time off CPU from %d context switches (%s)", switches, switchEvent)
	return st, "ns", desc, nil
}
