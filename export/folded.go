package export

import (
	"fmt"
	"io"

	"github.com/gperf-dev/gperf/flamegraph"
	"github.com/gperf-dev/gperf/perfdata"
)

// stackAgg adds up samples by (comm, pid, callchain) and resolves each
// distinct stack once, when first seen, with the mappings of that time.
type stackAgg struct {
	s      *session
	byKey  map[string]*aggStack
	order  []*aggStack
	key    []byte
	frames []Frame
}

type aggStack struct {
	comm   string
	frames []flamegraph.Frame // root first: comm, then outermost caller
	weight uint64
}

func newStackAgg(s *session) *stackAgg {
	return &stackAgg{s: s, byKey: map[string]*aggStack{}}
}

// get returns the aggregate of a sample's stack, resolving it if new.
func (a *stackAgg) get(r *perfdata.Sample, comm string) *aggStack {
	a.key = append(a.s.chainKey(a.key[:0], r), comm...)
	if st, ok := a.byKey[string(a.key)]; ok {
		return st
	}
	a.frames = a.s.stack(r, a.frames)
	st := &aggStack{comm: comm, frames: make([]flamegraph.Frame, 0, len(a.frames)+1)}
	st.frames = append(st.frames, flamegraph.Frame{Name: comm})
	for i := len(a.frames) - 1; i >= 0; i-- {
		f := &a.frames[i]
		k := flamegraph.User
		if f.Kernel {
			k = flamegraph.Kernel
		}
		st.frames = append(st.frames, flamegraph.Frame{Name: f.foldedName(), Kind: k})
		if a.s.opts.Inline {
			for _, in := range a.s.sym.inlined(f, i > 0) {
				st.frames = append(st.frames, flamegraph.Frame{Name: in.name, Kind: flamegraph.Inlined})
			}
		}
	}
	a.byKey[string(a.key)] = st
	a.order = append(a.order, st)
	return st
}

// stacks merges the aggregates into a call tree.
func (a *stackAgg) stacks() *flamegraph.Stacks {
	out := &flamegraph.Stacks{}
	for _, st := range a.order {
		out.Add(st.frames, st.weight)
	}
	return out
}

// Stacks reads the input and returns its stacks merged and weighted
// (samples, period, or with OffCPU nanoseconds off CPU), with the unit of
// the weights ("samples", "ns" or "events") and a line describing them.
func Stacks(opts Options) (st *flamegraph.Stacks, unit, desc string, err error) {
	s, err := openSession(opts)
	if err != nil {
		return nil, "", "", err
	}
	defer s.close()
	if opts.OffCPU {
		return s.offCPU()
	}
	ev, err := s.single("a flame graph or folded output")
	if err != nil {
		return nil, "", "", err
	}
	s.sel = ev
	agg := newStackAgg(s)
	unit = "samples"
	if opts.Period {
		unit = "events"
		if isClock(ev.attr) {
			unit = "ns"
		}
	}
	err = s.walk(handlers{sample: func(c *sampleCtx) error {
		w := uint64(1)
		if opts.Period {
			w = period(c.s)
		}
		agg.get(c.s, c.comm).weight += w
		return nil
	}})
	if err != nil {
		return nil, "", "", err
	}
	if s.samples == 0 {
		return nil, "", "", fmt.Errorf("export %s: %w of event %s (after filters)", opts.Input, errNoSamples, ev.name)
	}
	desc = fmt.Sprintf("%s: %d samples", ev.name, s.samples)
	return agg.stacks(), unit, desc, nil
}

// WriteFolded writes the input's stacks as folded lines
// ("comm;caller;...;callee weight", kernel frames suffixed "_[k]"),
// sorted, one line per distinct stack.
func WriteFolded(w io.Writer, opts Options) error {
	st, _, _, err := Stacks(opts)
	if err != nil {
		return err
	}
	return st.WriteFolded(w)
}

// FlameGraphOptions are the drawing options of WriteFlameGraph.
type FlameGraphOptions struct {
	Title    string  // default "Flame Graph" or "Off-CPU Time Flame Graph"
	Width    int     // pixels, default 1200
	MinWidth float64 // pixels, default 0.1
}

// WriteFlameGraph draws the input's stacks as an interactive SVG.
func WriteFlameGraph(w io.Writer, opts Options, fg FlameGraphOptions) error {
	st, unit, desc, err := Stacks(opts)
	if err != nil {
		return err
	}
	title := fg.Title
	if title == "" {
		title = "Flame Graph"
		if opts.OffCPU {
			title = "Off-CPU Time Flame Graph"
		}
	}
	return flamegraph.Render(w, st, flamegraph.Options{
		Title: title, Subtitle: desc, Width: fg.Width, MinWidth: fg.MinWidth, Unit: unit,
	})
}
