package export

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/gperf-dev/gperf/perfdata"
	"github.com/gperf-dev/gperf/script"
	"github.com/gperf-dev/gperf/tracefs"
)

// Options select what is exported from a perf.data file. The list options
// take perf script's syntax.
type Options struct {
	// Input is the perf.data path; default "perf.data"; "-" reads a
	// pipe-mode stream (perf record -o -) from standard input.
	Input string
	// Event selects one event by name ("cpu-clock", "sched:sched_switch",
	// or the part after the colon); "" keeps all of them where the format
	// allows several (pprof, JSON) and requires a file with one event
	// otherwise (folded, flame graph).
	Event string
	// Pids, Tids and Comms keep only samples of these processes, threads
	// or commands (comma-separated); CPUs keeps samples taken on these
	// CPUs ("0-3,6").
	Pids, Tids, Comms, CPUs string
	// Kallsyms is a kallsyms file for kernel addresses; default: perf's
	// build-id cache copy for the recorded kernel, else /proc/kallsyms
	// when the file comes from the running kernel.
	Kallsyms string
	// Period weighs stacks by sample period (nanoseconds for cpu-clock)
	// instead of counting samples (folded stacks and flame graphs).
	Period bool
	// OffCPU turns sched:sched_switch samples into time off CPU: per
	// task, the time from switching out to switching back in, attributed
	// to the stack at switch-out (folded stacks and flame graphs).
	OffCPU bool
	// Inline adds the functions inlined at each user frame's address,
	// from DWARF, as frames of their own (folded stacks and flame graphs:
	// kind "inlined", "_[i]"; pprof: extra lines of the location).
	Inline bool
	// TaskEvents and MmapEvents add comm/fork/exit and mmap records to the
	// JSON output.
	TaskEvents, MmapEvents bool
}

// event is one recorded event.
type event struct {
	attr   *perfdata.EventAttr
	name   string
	idx    int
	format *tracefs.Format // tracepoints and probes: the raw data layout
	// pprof value columns: samples, and period when it means something.
	colCount, colPeriod int
}

// session walks one perf.data file with the process state perf keeps:
// mappings, thread names, and the symbolizer.
type session struct {
	opts    Options
	f       *perfdata.File
	events  []*event
	byAttr  map[*perfdata.EventAttr]*event
	sel     *event // the selected event, nil for all
	order   binary.ByteOrder
	sym     *symbolizer        // mappings, build IDs and lines, for pprof
	names   *script.Symbolizer // symbol names, as gperf script prints them
	sframes []script.Frame
	comms   map[uint32]string // by tid
	gen     map[uint32]uint32 // by pid: bumped when its mappings change

	pids, tids, cpus map[uint32]bool
	commSet          map[string]bool

	firstTime, lastTime uint64
	samples             uint64
}

// openSession opens the input and prepares the events.
func openSession(opts Options) (*session, error) {
	if opts.Input == "" {
		opts.Input = "perf.data"
	}
	var f *perfdata.File
	var err error
	if opts.Input == "-" {
		// perf record -o - | gperf script -i - ...
		f, err = perfdata.NewPipe(os.Stdin)
	} else {
		f, err = perfdata.Open(opts.Input)
	}
	if err != nil {
		return nil, err
	}
	s := &session{opts: opts, f: f, byAttr: map[*perfdata.EventAttr]*event{},
		comms: map[uint32]string{}, gen: map[uint32]uint32{}, order: binary.LittleEndian}
	if f.BigEndian {
		s.order = binary.BigEndian
	}
	if err := s.setup(); err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

func (s *session) close() { s.f.Close() }

func (s *session) setup() error {
	td := s.f.Features.TracingData
	for i, a := range s.f.Attrs {
		ev := &event{attr: a, name: a.Name, idx: i, colPeriod: -1}
		if a.Type == perfdata.TypeTracepoint && td != nil {
			if tf, ok := td.FormatByID(a.Config); ok {
				if f, err := tracefs.ParseFormat(tf.Text); err == nil {
					ev.format = f
					if ev.name == "" {
						ev.name = tf.System + ":" + f.Name
					}
				}
			}
		}
		if ev.name == "" {
			ev.name = fmt.Sprintf("type%d/config%#x", a.Type, a.Config)
		}
		s.events = append(s.events, ev)
		s.byAttr[a] = ev
	}
	if len(s.events) == 0 {
		return fmt.Errorf("export %s: the file has no events", s.opts.Input)
	}
	if s.opts.Event != "" {
		for _, ev := range s.events {
			if ev.name == s.opts.Event || strings.HasSuffix(ev.name, ":"+s.opts.Event) {
				s.sel = ev
				break
			}
		}
		if s.sel == nil {
			return fmt.Errorf("export %s: no event %q in the file (it has %s)", s.opts.Input, s.opts.Event, s.eventNames())
		}
	}
	var err error
	if s.pids, err = parseIDs(s.opts.Pids, "pid"); err != nil {
		return err
	}
	if s.tids, err = parseIDs(s.opts.Tids, "tid"); err != nil {
		return err
	}
	if s.cpus, err = parseIDs(s.opts.CPUs, "cpu"); err != nil {
		return err
	}
	if s.opts.Comms != "" {
		s.commSet = map[string]bool{}
		for _, c := range strings.Split(s.opts.Comms, ",") {
			s.commSet[c] = true
		}
	}
	buildIDs := map[string]string{}
	for _, b := range s.f.Features.BuildIDs {
		buildIDs[b.Filename] = hex.EncodeToString(b.BuildID)
	}
	s.sym = newSymbolizer(buildIDs)
	s.names = script.NewSymbolizer(s.f, script.SymbolizerOptions{Kallsyms: s.opts.Kallsyms})
	return nil
}

func (s *session) eventNames() string {
	var n []string
	for _, ev := range s.events {
		n = append(n, ev.name)
	}
	return strings.Join(n, ", ")
}

// single returns the one event a format that draws one event uses: the
// selected one, or the only one in the file.
func (s *session) single(what string) (*event, error) {
	if s.sel != nil {
		return s.sel, nil
	}
	if len(s.events) == 1 {
		return s.events[0], nil
	}
	return nil, fmt.Errorf("export %s: %s draws one event and the file has %d (%s): choose one with --event",
		s.opts.Input, what, len(s.events), s.eventNames())
}

// parseIDs parses "1,2,5-7" (ranges allowed for CPUs, as perf).
func parseIDs(list, what string) (map[uint32]bool, error) {
	if list == "" {
		return nil, nil
	}
	m := map[uint32]bool{}
	for _, part := range strings.Split(list, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.ParseUint(lo, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("parse %s list %q: %q is not a number", what, list, part)
		}
		b := a
		if isRange {
			if b, err = strconv.ParseUint(hi, 10, 32); err != nil || b < a || b-a > 1<<16 {
				return nil, fmt.Errorf("parse %s list %q: bad range %q", what, list, part)
			}
		}
		for v := a; v <= b; v++ {
			m[uint32(v)] = true
		}
	}
	return m, nil
}

// sampleCtx is one sample being exported, with the state around it.
type sampleCtx struct {
	s    *perfdata.Sample
	ev   *event
	comm string
}

// handlers receive the records of a walk; nil ones are skipped.
type handlers struct {
	sample func(c *sampleCtx) error
	// other non-sample records (after the session updated its state).
	other func(r perfdata.Record) error
}

// walk reads the records in time order, keeps the process state up to
// date and calls h for each sample that passes the filters.
func (s *session) walk(h handlers) error {
	rd := s.f.Records(perfdata.ReaderOptions{TimeOrder: true})
	var c sampleCtx
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", s.opts.Input, err)
		}
		s.names.Update(rec)
		switch r := rec.(type) {
		case *perfdata.Sample:
			ev := s.byAttr[r.Attr]
			if ev == nil || (s.sel != nil && ev != s.sel) || !s.keep(r) {
				continue
			}
			c = sampleCtx{s: r, ev: ev, comm: s.comm(r.Tid)}
			if s.commSet != nil && !s.commSet[c.comm] {
				continue
			}
			if s.samples == 0 || r.Time < s.firstTime {
				s.firstTime = r.Time
			}
			s.lastTime = max(s.lastTime, r.Time)
			s.samples++
			if h.sample != nil {
				if err := h.sample(&c); err != nil {
					return err
				}
			}
			continue
		case *perfdata.Mmap:
			if r.Misc&perfdata.MiscMmapData == 0 {
				s.sym.addMapping(r.Pid, &mapping{start: r.Addr, end: r.Addr + r.Len, pgoff: r.Pgoff, file: r.Filename})
				s.gen[r.Pid]++
			}
		case *perfdata.Mmap2:
			if r.Misc&perfdata.MiscMmapData == 0 && r.Prot&0x4 != 0 || r.Pid == ^uint32(0) {
				m := &mapping{start: r.Addr, end: r.Addr + r.Len, pgoff: r.Pgoff, file: r.Filename}
				if r.Misc&perfdata.MiscMmapBuildID != 0 && len(r.BuildID) > 0 {
					m.buildID = hex.EncodeToString(r.BuildID)
				}
				s.sym.addMapping(r.Pid, m)
				s.gen[r.Pid]++
			}
		case *perfdata.Comm:
			s.comms[r.Tid] = r.Comm
			if r.Misc&perfdata.MiscCommExec != 0 {
				s.gen[r.Pid]++
			}
		case *perfdata.Fork:
			if c, ok := s.comms[r.PTid]; ok {
				s.comms[r.Tid] = c
			}
			s.sym.fork(r.Pid, r.PPid)
		}
		if h.other != nil {
			if err := h.other(rec); err != nil {
				return err
			}
		}
	}
}

// keep applies the pid, tid and cpu filters.
func (s *session) keep(r *perfdata.Sample) bool {
	if s.pids != nil && !s.pids[r.Pid] {
		return false
	}
	if s.tids != nil && !s.tids[r.Tid] {
		return false
	}
	if s.cpus != nil && !s.cpus[r.CPU] {
		return false
	}
	return true
}

// comm is the thread's command name, or ":tid" as perf shows unknown
// threads.
func (s *session) comm(tid uint32) string {
	if c, ok := s.comms[tid]; ok {
		return c
	}
	return ":" + strconv.FormatInt(int64(int32(tid)), 10)
}

// stack resolves a sample's callchain (or its IP when it has none), leaf
// first, as perf script prints it (at most 127 frames, perf script's
// default).
func (s *session) stack(r *perfdata.Sample, dst []Frame) []Frame {
	dst = dst[:0]
	if r.Attr == nil || r.Attr.SampleType&perfdata.SampleCallchain == 0 {
		return append(dst, s.resolveIP(r))
	}
	s.sframes = s.names.Callchain(s.sframes[:0], r.Pid, r.Callchain, 0)
	for i := range s.sframes {
		dst = append(dst, s.frame(r.Pid, s.sframes[i].IP, s.sframes[i].Symbol))
	}
	return dst
}

// resolveIP resolves the sampled IP.
func (s *session) resolveIP(r *perfdata.Sample) Frame {
	return s.frame(r.Pid, r.IP, s.names.Resolve(r.Pid, r.CPUMode(), r.IP))
}

func (s *session) frame(pid uint32, addr uint64, sy script.Symbol) Frame {
	f := Frame{Addr: addr, Kernel: sy.Kernel, Sym: sy.Name, DSO: sy.DSO}
	if sy.Name != "" {
		f.SymOff = sy.Off
	}
	if f.DSO == "" {
		f.DSO = "[unknown]"
	}
	s.sym.attach(&f, pid)
	return f
}

// chainKey appends the bytes that identify a sample's stack for
// aggregation: pid, the pid's mapping generation and the callchain.
func (s *session) chainKey(dst []byte, r *perfdata.Sample) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, r.Pid)
	dst = binary.LittleEndian.AppendUint32(dst, s.gen[r.Pid])
	if r.Attr != nil && r.Attr.SampleType&perfdata.SampleCallchain != 0 {
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(r.Callchain)))
		for _, ip := range r.Callchain {
			dst = binary.LittleEndian.AppendUint64(dst, ip)
		}
	} else {
		dst = binary.LittleEndian.AppendUint32(dst, 0)
		dst = binary.LittleEndian.AppendUint16(dst, r.CPUMode())
		dst = binary.LittleEndian.AppendUint64(dst, r.IP)
	}
	return dst
}

// period is a sample's period: sampled, or the attr's fixed one.
func period(r *perfdata.Sample) uint64 {
	if r.Attr != nil && r.Attr.SampleType&perfdata.SamplePeriod != 0 {
		return r.Period
	}
	if r.Attr != nil && r.Attr.Flags&perfdata.AttrFreq == 0 && r.Attr.SamplePeriod > 0 {
		return r.Attr.SamplePeriod
	}
	return 1
}

// isClock reports whether an event's period is time in nanoseconds
// (the software cpu-clock and task-clock events).
func isClock(a *perfdata.EventAttr) bool {
	return a.Type == perfdata.TypeSoftware && (a.Config == 0 || a.Config == 1)
}

var errNoSamples = errors.New("no samples")
