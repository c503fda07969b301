package script

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/gperf-dev/gperf/perfdata"
	"github.com/gperf-dev/gperf/tracefs"
)

// Options are perf script's options that gperf implements.
type Options struct {
	// Input is the perf.data path; "-" reads a pipe-mode stream from
	// Stdin; "" means "-" when stdin is a FIFO, else "perf.data".
	Input string
	// Fields are the -F arguments, in order.
	Fields []string
	// Force reads files owned by other users (-f).
	Force bool
	// HideCallGraph is -G.
	HideCallGraph bool
	// CPUs, Pids, Tids and Comms filter samples (-C, --pid, --tid,
	// --comms); comma-separated lists, ranges allowed for CPUs.
	CPUs, Pids, Tids, Comms string
	// NS prints 9 decimals of seconds (--ns).
	NS bool
	// Header prints the header before the samples; HeaderOnly prints
	// only the header.
	Header, HeaderOnly bool
	// ShowTaskEvents and ShowMmapEvents print those records too.
	ShowTaskEvents, ShowMmapEvents bool
	// Kallsyms is --kallsyms.
	Kallsyms string
	// RelTime and DeltaTime print times relative to the first or the
	// previous sample.
	RelTime, DeltaTime bool

	// Stdin is read for Input "-" (os.Stdin when nil).
	Stdin io.Reader
	// Stderr receives perf's warnings (os.Stderr when nil).
	Stderr io.Writer
}

// ExitError is an error perf reports by printing Msg alone (no "Error:"
// prefix) and exiting with Code.
type ExitError struct {
	Msg  string
	Code int
}

func (e *ExitError) Error() string { return e.Msg }

// Run prints the samples of opts.Input to w as perf script does.
func Run(w io.Writer, opts Options) error {
	s, err := newSession(opts)
	if err != nil {
		return err
	}
	defer s.close()
	bw := bufio.NewWriterSize(w, 1<<20)
	s.out = bw
	err = s.run()
	if ferr := bw.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("write output: %w", ferr)
	}
	return err
}

type thread struct {
	pid, tid int32
	comm     string
	commSet  bool
	// start caches the comm/pid/tid columns appendStart printed last for
	// this thread, valid while the fields, ids and comm are the same.
	start     []byte
	startF    field
	startPid  int32
	startTid  int32
	startComm string
}

type evsel struct {
	attr *perfdata.EventAttr
	name string
	// padded is name right-aligned to paddedWidth, then ": ".
	padded      []byte
	paddedWidth int
	otype       int
	tp          *PrintFmt
	hasChain    bool
}

type session struct {
	opts    Options
	f       *perfdata.File
	stderr  io.Writer
	out     *bufio.Writer
	buf     []byte
	frames  []Frame
	sym     *Symbolizer
	env     *PrintEnv
	output  [numTypes]typeOutput
	flags   bool // -F flags
	evsels  map[*perfdata.EventAttr]*evsel
	order   []*evsel
	threads map[int32]*thread
	// use_callchain: perf's symbol_conf.use_callchain after setup
	useCallchain bool
	nameWidth    int
	cpuFilter    map[uint32]bool
	pidFilter    map[int32]bool
	tidFilter    map[int32]bool
	commFilter   map[string]bool
	initialTime  uint64
	prevTime     uint64
	lastThread   *thread
	lastEvsel    *evsel
}

func (s *session) warn(msg string) {
	fmt.Fprintln(s.stderr, msg)
}

func newSession(opts Options) (*session, error) {
	s := &session{opts: opts, stderr: opts.Stderr, threads: map[int32]*thread{}, evsels: map[*perfdata.EventAttr]*evsel{}}
	if s.stderr == nil {
		s.stderr = os.Stderr
	}
	s.output = defaultOutput()
	for _, fa := range opts.Fields {
		if err := parseFields(&s.output, fa, &s.flags, s.warn); err != nil {
			return nil, err
		}
	}
	var err error
	if s.cpuFilter, err = parseCPUList(opts.CPUs); err != nil {
		return nil, err
	}
	if s.pidFilter, err = parseIntList(opts.Pids, "pid"); err != nil {
		return nil, err
	}
	if s.tidFilter, err = parseIntList(opts.Tids, "tid"); err != nil {
		return nil, err
	}
	if opts.Comms != "" {
		s.commFilter = map[string]bool{}
		for _, c := range strings.Split(opts.Comms, ",") {
			s.commFilter[c] = true
		}
	}
	if err := s.open(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *session) close() {
	if s.f != nil {
		s.f.Close()
	}
}

// open opens the input as perf_data__open does, with perf's messages.
func (s *session) open() error {
	in := s.opts.Input
	if in == "" {
		var st unix.Stat_t
		if unix.Fstat(0, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFIFO {
			in = "-"
		} else {
			in = "perf.data"
		}
	}
	if in == "-" {
		r := s.opts.Stdin
		if r == nil {
			r = os.Stdin
		}
		f, err := perfdata.NewPipe(r)
		if err != nil {
			return fmt.Errorf("read perf.data from stdin: %w", err)
		}
		s.f = f
		return nil
	}
	var st unix.Stat_t
	if err := unix.Stat(in, &st); err != nil {
		return &ExitError{Msg: fmt.Sprintf("failed to open %s: %s", in, errnoText(err)), Code: 255}
	}
	if !s.opts.Force && st.Uid != 0 && int(st.Uid) != os.Geteuid() {
		return &ExitError{Msg: fmt.Sprintf("File %s not owned by current user or root (use -f to override)", in), Code: 255}
	}
	if st.Size == 0 && st.Mode&unix.S_IFMT == unix.S_IFREG {
		return &ExitError{Msg: fmt.Sprintf("zero-sized data (%s), nothing to do!", in), Code: 255}
	}
	f, err := perfdata.Open(in)
	if err != nil {
		return fmt.Errorf("read %s: %w", in, err)
	}
	s.f = f
	return nil
}

func errnoText(err error) string {
	var en unix.Errno
	if errors.As(err, &en) {
		t := en.Error()
		return strings.ToUpper(t[:1]) + t[1:]
	}
	return err.Error()
}

// setup resolves event names and formats and decides the output fields,
// as perf_session__check_output_opt does.
func (s *session) setup() error {
	s.sym = NewSymbolizer(s.f, SymbolizerOptions{Kallsyms: s.opts.Kallsyms})
	formats := map[uint64]*tracefs.Format{}
	s.env = &PrintEnv{Syms: s.sym}
	if td := s.f.Features.TracingData; td != nil {
		s.env.Printk = ParsePrintk(td.PrintkFormats)
		for _, sys := range td.Systems {
			for _, text := range sys.Formats {
				ft, err := tracefs.ParseFormat(text)
				if err != nil {
					continue
				}
				ft.System = sys.Name
				formats[uint64(ft.ID)] = ft
			}
		}
	}
	for _, a := range s.f.Attrs {
		s.addEvsel(a, formats)
	}
	return s.checkOutput()
}

func (s *session) addEvsel(a *perfdata.EventAttr, formats map[uint64]*tracefs.Format) *evsel {
	if e := s.evsels[a]; e != nil {
		return e
	}
	e := &evsel{attr: a, name: a.Name, otype: outputType(a.Type)}
	e.hasChain = a.SampleType&perfdata.SampleCallchain != 0
	if a.Type == perfdata.EventType(2) {
		if ft := formats[a.Config]; ft != nil {
			e.tp = CompilePrintFmt(ft, s.env)
			if e.tp.Err != nil {
				s.warn("Warning: " + e.tp.Err.Error())
			}
			if e.name == "" {
				e.name = ft.System + ":" + ft.Name
			}
		}
	}
	if e.name == "" {
		e.name = defaultEventName(a)
	}
	s.evsels[a] = e
	s.order = append(s.order, e)
	if n := len(e.name); n > s.nameWidth {
		s.nameWidth = n
	}
	return e
}

var swNames = []string{"cpu-clock", "task-clock", "page-faults", "context-switches", "cpu-migrations", "minor-faults", "major-faults", "alignment-faults", "emulation-faults", "dummy", "bpf-output", "cgroup-switches"}
var hwNames = []string{"cycles", "instructions", "cache-references", "cache-misses", "branches", "branch-misses", "bus-cycles", "stalled-cycles-frontend", "stalled-cycles-backend", "ref-cycles"}

func defaultEventName(a *perfdata.EventAttr) string {
	switch a.Type {
	case 0:
		if a.Config < uint64(len(hwNames)) {
			return hwNames[a.Config]
		}
	case 1:
		if a.Config < uint64(len(swNames)) {
			return swNames[a.Config]
		}
	case 2:
		return "unknown tracepoint"
	}
	return fmt.Sprintf("raw 0x%x", a.Config)
}

func (s *session) checkOutput() error {
	// perf checks the first event of each type.
	for j := 0; j < numTypes; j++ {
		var first *evsel
		for _, e := range s.order {
			if e.otype == j {
				first = e
				break
			}
		}
		o := &s.output[j]
		if first == nil {
			if o.userSet && !o.wildcardSet {
				return &ExitError{Msg: fmt.Sprintf("%s events do not exist. Remove corresponding -F option to proceed.", strings.ToUpper(typeNames[j][:1])+typeNames[j][1:]), Code: 255}
			}
			continue
		}
		if o.fields != 0 {
			if err := s.checkAttr(first, o); err != nil {
				return err
			}
		}
		if bad := o.fields &^ supportedFields; bad != 0 {
			for _, fn := range fieldNames {
				if bad&fn.f != 0 {
					return fmt.Errorf("gperf script: output field %q is not supported", fn.name)
				}
			}
		}
	}
	if s.cpuFilter != nil {
		for j := 0; j < numTypes; j++ {
			for _, e := range s.order {
				if e.otype == j {
					if e.attr.SampleType&perfdata.SampleCPU == 0 {
						return &ExitError{Msg: "File does not contain CPU events. Remove -C option to proceed.", Code: 255}
					}
					break
				}
			}
		}
	}
	s.useCallchain = !s.opts.HideCallGraph
	if s.useCallchain && !s.f.Pipe {
		any := false
		for _, e := range s.order {
			if e.hasChain {
				any = true
				break
			}
		}
		if len(s.order) > 0 && !any {
			s.useCallchain = false
		}
	}
	if s.useCallchain && !s.output[typeTrace].userSet {
		for _, e := range s.order {
			if e.otype == typeTrace && e.hasChain {
				s.output[typeTrace].fields |= fIP | fSym | fSymOff | fDSO
				break
			}
		}
	}
	return nil
}

// supportedFields are the -F fields gperf prints.
const supportedFields = fComm | fTid | fPid | fTime | fCPU | fEvname | fTrace | fIP | fSym | fDSO | fAddr | fSymOff | fPeriod | fBPFOutput

// Sample-type checks of the fields gperf does not print, so that a default
// field the samples lack is dropped as perf drops it.
var absentChecks = []struct {
	f   field
	bit perfdata.SampleFormat
}{
	{fDataSrc, perfdata.SampleDataSrc}, {fWeight, perfdata.SampleWeight | perfdata.SampleWeightStruct},
	{fPhysAddr, perfdata.SamplePhysAddr}, {fDataPageSize, perfdata.SampleDataPageSize},
	{fCodePageSize, perfdata.SampleCodePageSize}, {fInsLat, perfdata.SampleWeightStruct},
	{fRetireLat, perfdata.SampleWeightStruct}, {fIregs, perfdata.SampleRegsIntr}, {fUregs, perfdata.SampleRegsUser},
}

func (s *session) checkAttr(e *evsel, o *typeOutput) error {
	st := e.attr.SampleType
	for _, c := range absentChecks {
		if o.fields&c.f != 0 && st&c.bit == 0 && o.userSetFields&c.f == 0 {
			o.fields &^= c.f
		}
	}
	check := func(bit perfdata.SampleFormat, what string, f field) error {
		if st&bit != 0 {
			return nil
		}
		if o.userSetFields&f != 0 {
			name := ""
			for _, fn := range fieldNames {
				if fn.f == f&^fPid || fn.f == f {
					name = fn.name
					break
				}
			}
			return &ExitError{Msg: fmt.Sprintf("Samples for '%s' event do not have %s attribute set. Cannot print '%s' field.", e.name, what, name), Code: 255}
		}
		o.fields &^= f
		return nil
	}
	if o.fields&fIP != 0 {
		if err := check(perfdata.SampleIP, "IP", fIP); err != nil {
			return err
		}
	}
	if o.fields&fAddr != 0 {
		if err := check(perfdata.SampleAddr, "ADDR", fAddr); err != nil {
			return err
		}
	}
	if o.fields&fSym != 0 && st&(perfdata.SampleIP|perfdata.SampleAddr) == 0 {
		return &ExitError{Msg: "Display of symbols requested but neither sample IP nor sample address\navailable. Hence, no addresses to convert to symbols.", Code: 255}
	}
	if o.fields&fSymOff != 0 && o.fields&fSym == 0 {
		return &ExitError{Msg: "Display of offsets requested but symbol is notselected.", Code: 255}
	}
	if o.fields&fDSO != 0 && st&(perfdata.SampleIP|perfdata.SampleAddr) == 0 {
		return &ExitError{Msg: "Display of DSO requested but no address to convert.", Code: 255}
	}
	if o.fields&(fPid|fTid) != 0 {
		if err := check(perfdata.SampleTID, "TID", fTid|fPid); err != nil {
			return err
		}
	}
	if o.fields&fTime != 0 {
		if err := check(perfdata.SampleTime, "TIME", fTime); err != nil {
			return err
		}
	}
	if o.fields&fCPU != 0 {
		if err := check(perfdata.SampleCPU, "CPU", fCPU); err != nil {
			return err
		}
	}
	if o.fields&fPeriod != 0 {
		if err := check(perfdata.SamplePeriod, "PERIOD", fPeriod); err != nil {
			return err
		}
	}
	return nil
}

func parseCPUList(s string) (map[uint32]bool, error) {
	if s == "" {
		return nil, nil
	}
	m := map[uint32]bool{}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.ParseUint(strings.TrimSpace(lo), 10, 32)
		if err != nil {
			return nil, &UsageError{fmt.Sprintf("Invalid cpu list %q", s)}
		}
		b := a
		if isRange {
			if b, err = strconv.ParseUint(strings.TrimSpace(hi), 10, 32); err != nil || b < a || b-a > 1<<16 {
				return nil, &UsageError{fmt.Sprintf("Invalid cpu list %q", s)}
			}
		}
		for c := a; c <= b; c++ {
			m[uint32(c)] = true
		}
	}
	return m, nil
}

func parseIntList(s, what string) (map[int32]bool, error) {
	if s == "" {
		return nil, nil
	}
	m := map[int32]bool{}
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		v, err := strconv.ParseInt(part, 10, 32)
		if err != nil {
			return nil, &UsageError{fmt.Sprintf("invalid %s list %q", what, s)}
		}
		m[int32(v)] = true
	}
	return m, nil
}

// findThread is machine__findnew_thread.
func (s *session) findThread(pid, tid int32) *thread {
	if t := s.lastThread; t != nil && t.tid == tid {
		if t.pid == -1 && pid != -1 {
			t.pid = pid
		}
		return t
	}
	t := s.threads[tid]
	if t == nil {
		t = &thread{pid: pid, tid: tid}
		if tid == 0 {
			t.comm, t.commSet = "swapper", true
		} else {
			t.comm = ":" + strconv.Itoa(int(tid))
		}
		s.threads[tid] = t
	} else if t.pid == -1 && pid != -1 {
		t.pid = pid
	}
	s.lastThread = t
	return t
}

func (s *session) run() error {
	if err := s.setup(); err != nil {
		return err
	}
	if s.opts.Header || s.opts.HeaderOnly {
		s.buf = appendHeader(s.buf[:0], s.f, s.inputPath())
		s.out.Write(s.buf)
		if s.opts.HeaderOnly {
			return nil
		}
	}
	return s.pipeline()
}

// batch carries decoded records from the reader goroutine to the printer:
// decoding and time ordering run on one core while formatting runs on
// another. Records are copies, their slices point into the batch's
// arenas, and batches are recycled, so memory stays flat.
type batch struct {
	recs    []batchItem
	samples []perfdata.Sample
	arena   []byte
	chains  []uint64
	err     error
}

const (
	batchRecords = 2048
	batchArena   = 1 << 20
	batchChains  = 1 << 16
)

func newBatch() *batch {
	return &batch{
		recs:    make([]batchItem, 0, batchRecords),
		samples: make([]perfdata.Sample, 0, batchRecords),
		arena:   make([]byte, 0, batchArena),
		chains:  make([]uint64, 0, batchChains),
	}
}

func (b *batch) reset() {
	clear(b.recs)
	b.recs, b.samples, b.arena, b.chains, b.err = b.recs[:0], b.samples[:0], b.arena[:0], b.chains[:0], nil
}

// batchItem is a record, or text to print in its place (pipe-mode
// header features, rendered by the reader goroutine, which alone touches
// the file's feature state).
type batchItem struct {
	rec  perfdata.Record
	text []byte
}

// add copies rec into the batch; false when the batch is full.
func (b *batch) add(rec perfdata.Record, s *session) bool {
	if len(b.recs) == cap(b.recs) {
		return false
	}
	switch r := rec.(type) {
	case *perfdata.HeaderFeature:
		if s.f.Pipe && s.opts.Header {
			b.recs = append(b.recs, batchItem{text: appendFeature(nil, s.f, int(r.Feature))})
		}
	case *perfdata.Sample:
		if len(b.samples) == cap(b.samples) || len(b.arena)+len(r.Raw) > cap(b.arena) && len(b.arena) > 0 ||
			len(b.chains)+len(r.Callchain) > cap(b.chains) && len(b.chains) > 0 {
			return false
		}
		// Only add writes b.samples, and only these fields: a reused
		// element needs no clearing of the others.
		k := len(b.samples)
		b.samples = b.samples[:k+1]
		c := &b.samples[k]
		c.RecordCommon = r.RecordCommon
		c.IP, c.Pid, c.Tid, c.Time, c.Addr = r.IP, r.Pid, r.Tid, r.Time, r.Addr
		c.ID, c.StreamID, c.CPU, c.Res, c.Period = r.ID, r.StreamID, r.CPU, r.Res, r.Period
		c.Callchain = nil
		if len(b.arena)+len(r.Raw) <= cap(b.arena) {
			n := len(b.arena)
			b.arena = append(b.arena, r.Raw...)
			c.Raw = b.arena[n:len(b.arena):len(b.arena)]
		} else {
			c.Raw = append([]byte(nil), r.Raw...)
		}
		if len(r.Callchain) > 0 {
			if len(b.chains)+len(r.Callchain) <= cap(b.chains) {
				n := len(b.chains)
				b.chains = append(b.chains, r.Callchain...)
				c.Callchain = b.chains[n:len(b.chains):len(b.chains)]
			} else {
				c.Callchain = append([]uint64(nil), r.Callchain...)
			}
		}
		b.recs = append(b.recs, batchItem{rec: c})
	case *perfdata.Comm:
		c := *r
		b.recs = append(b.recs, batchItem{rec: &c})
	case *perfdata.Fork:
		c := *r
		b.recs = append(b.recs, batchItem{rec: &c})
	case *perfdata.Exit:
		c := *r
		b.recs = append(b.recs, batchItem{rec: &c})
	case *perfdata.Mmap:
		c := *r
		b.recs = append(b.recs, batchItem{rec: &c})
	case *perfdata.Mmap2:
		c := *r
		c.BuildID = append([]byte(nil), r.BuildID...)
		b.recs = append(b.recs, batchItem{rec: &c})
	}
	return true
}

func (s *session) pipeline() error {
	full := make(chan *batch, 2)
	free := make(chan *batch, 4)
	done := make(chan struct{})
	for i := 0; i < 3; i++ {
		free <- newBatch()
	}
	go func() {
		defer close(full)
		r := s.f.Records(perfdata.ReaderOptions{TimeOrder: true})
		var b *batch
		get := func() bool {
			select {
			case b = <-free:
				b.reset()
				return true
			case <-done:
				return false
			}
		}
		if !get() {
			return
		}
		for {
			rec, err := r.Next()
			if err != nil {
				if err != io.EOF {
					b.err = err
				}
				select {
				case full <- b:
				case <-done:
				}
				return
			}
			if b.add(rec, s) {
				continue
			}
			select {
			case full <- b:
			case <-done:
				return
			}
			if !get() {
				return
			}
			if !b.add(rec, s) {
				b.err = fmt.Errorf("record at offset %d does not fit a batch", rec.Common().Offset)
			}
		}
	}()
	defer func() {
		close(done)
		for range full {
		}
	}()
	for b := range full {
		for _, it := range b.recs {
			if it.text != nil {
				if _, err := s.out.Write(it.text); err != nil {
					return fmt.Errorf("write output: %w", err)
				}
				continue
			}
			if err := s.process(it.rec); err != nil {
				return err
			}
		}
		if b.err != nil {
			return fmt.Errorf("read %s: %w", s.inputName(), b.err)
		}
		free <- b
	}
	return nil
}

func (s *session) inputName() string {
	if s.f.Pipe {
		return "pipe"
	}
	if s.opts.Input == "" {
		return "perf.data"
	}
	return s.opts.Input
}

func (s *session) process(rec perfdata.Record) error {
	switch r := rec.(type) {
	case *perfdata.Sample:
		s.sym.Update(rec)
		return s.sample(r)
	case *perfdata.Comm:
		t := s.findThread(int32(r.Pid), int32(r.Tid))
		t.comm, t.commSet = r.Comm, true
		if s.opts.ShowTaskEvents {
			s.printSide(rec, int32(r.Pid), int32(r.Tid), 0)
		}
	case *perfdata.Fork:
		s.sym.Update(rec)
		if old := s.threads[int32(r.Tid)]; old != nil {
			delete(s.threads, int32(r.Tid))
			if s.lastThread == old {
				s.lastThread = nil
			}
		}
		parent := s.findThread(int32(r.PPid), int32(r.PTid))
		t := s.findThread(int32(r.Pid), int32(r.Tid))
		if parent.commSet {
			t.comm, t.commSet = parent.comm, true
		}
		if s.opts.ShowTaskEvents {
			s.printSide(rec, int32(r.Pid), int32(r.Tid), r.Time)
		}
	case *perfdata.Exit:
		if s.opts.ShowTaskEvents {
			s.printSide(rec, int32(r.Pid), int32(r.Tid), r.Time)
		}
	case *perfdata.Mmap:
		s.sym.Update(rec)
		if s.opts.ShowMmapEvents {
			s.printSide(rec, int32(r.Pid), int32(r.Tid), 0)
		}
	case *perfdata.Mmap2:
		s.sym.Update(rec)
		if s.opts.ShowMmapEvents {
			s.printSide(rec, int32(r.Pid), int32(r.Tid), 0)
		}
	}
	return nil
}

// printSide prints a non-sample record as builtin-script.c's
// print_event_with_time.
func (s *session) printSide(rec perfdata.Record, pid, tid int32, ts uint64) {
	c := rec.Common()
	a := c.Attr
	var smp sampleView
	if a == nil && len(s.f.Attrs) > 0 {
		a = s.f.Attrs[0]
	}
	if a == nil {
		return
	}
	e := s.evsels[a]
	if e == nil {
		return
	}
	if a.Flags&perfdata.AttrSampleIDAll == 0 || c.Attr == nil {
		smp = sampleView{cpu: 0, time: ts, pid: pid, tid: tid}
	} else {
		id := c.SampleID
		smp = sampleView{cpu: id.CPU, time: id.Time, pid: int32(id.Pid), tid: int32(id.Tid)}
	}
	if s.cpuFilter != nil && smp.cpu != ^uint32(0) && !s.cpuFilter[smp.cpu] {
		return
	}
	var t *thread
	if tid != -1 {
		t = s.findThread(pid, tid)
	}
	b := s.buf[:0]
	b = s.appendStart(b, e, &smp, t)
	b = appendSideEvent(b, rec)
	s.buf = b
	s.out.Write(b)
}

type sampleView struct {
	cpu      uint32
	time     uint64
	pid, tid int32
}

func appendSideEvent(b []byte, rec perfdata.Record) []byte {
	b = append(b, "PERF_RECORD_"...)
	switch r := rec.(type) {
	case *perfdata.Comm:
		b = append(b, "COMM"...)
		if r.Misc&perfdata.MiscCommExec != 0 {
			b = append(b, " exec"...)
		}
		b = append(b, ": "...)
		b = append(b, r.Comm...)
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(int32(r.Pid)), 10)
		b = append(b, '/')
		b = strconv.AppendInt(b, int64(int32(r.Tid)), 10)
	case *perfdata.Fork:
		b = fmt.Appendf(b, "FORK(%d:%d):(%d:%d)", int32(r.Pid), int32(r.Tid), int32(r.PPid), int32(r.PTid))
	case *perfdata.Exit:
		b = fmt.Appendf(b, "EXIT(%d:%d):(%d:%d)", int32(r.Pid), int32(r.Tid), int32(r.PPid), int32(r.PTid))
	case *perfdata.Mmap:
		kind := byte('x')
		if r.Misc&perfdata.MiscMmapData != 0 {
			kind = 'r'
		}
		b = fmt.Appendf(b, "MMAP %d/%d: [%s(%s) @ %s]: %c %s", int32(r.Pid), int32(r.Tid), altHex(r.Addr), altHex(r.Len), altHex(r.Pgoff), kind, r.Filename)
	case *perfdata.Mmap2:
		prot := []byte("---p")
		if r.Prot&unix.PROT_READ != 0 {
			prot[0] = 'r'
		}
		if r.Prot&unix.PROT_WRITE != 0 {
			prot[1] = 'w'
		}
		if r.Prot&unix.PROT_EXEC != 0 {
			prot[2] = 'x'
		}
		if r.Flags&unix.MAP_SHARED != 0 {
			prot[3] = 's'
		}
		if r.Misc&perfdata.MiscMmapBuildID != 0 {
			b = fmt.Appendf(b, "MMAP2 %d/%d: [%s(%s) @ %s <%x>]: %s %s", int32(r.Pid), int32(r.Tid), altHex(r.Addr), altHex(r.Len), altHex(r.Pgoff), r.BuildID, prot, r.Filename)
		} else {
			b = fmt.Appendf(b, "MMAP2 %d/%d: [%s(%s) @ %s %02x:%02x %d %d]: %s %s", int32(r.Pid), int32(r.Tid), altHex(r.Addr), altHex(r.Len), altHex(r.Pgoff), r.Maj, r.Min, r.Ino, r.InoGen, prot, r.Filename)
		}
	}
	return append(b, '\n')
}

func (s *session) sample(r *perfdata.Sample) error {
	a := r.Attr
	e := s.lastEvsel
	if e == nil || e.attr != a {
		if e = s.evsels[a]; e == nil {
			e = s.addEvsel(a, nil)
		}
		s.lastEvsel = e
	}
	o := &s.output[e.otype]
	if o.fields == 0 {
		return nil
	}
	cpu := ^uint32(0)
	if a.SampleType&perfdata.SampleCPU != 0 {
		cpu = r.CPU
	}
	if s.cpuFilter != nil && cpu != ^uint32(0) && !s.cpuFilter[cpu] {
		return nil
	}
	pid, tid := int32(-1), int32(-1)
	if a.SampleType&perfdata.SampleTID != 0 {
		pid, tid = int32(r.Pid), int32(r.Tid)
	}
	t := s.findThread(pid, tid)
	if s.commFilter != nil && !s.commFilter[t.comm] {
		return nil
	}
	if s.pidFilter != nil && !s.pidFilter[t.pid] {
		return nil
	}
	if s.tidFilter != nil && !s.tidFilter[t.tid] {
		return nil
	}
	smp := sampleView{cpu: cpu, time: r.Time, pid: pid, tid: tid}
	// Format straight into the writer's free space when it is large
	// enough (the common case), else into s.buf.
	b := s.out.AvailableBuffer()
	own := cap(b) < 4096
	if own {
		b = s.buf[:0]
	}
	b = s.appendStart(b, e, &smp, t)
	f := o.fields
	if f&fPeriod != 0 {
		b = appendPadUint(b, r.Period, 10)
		b = append(b, ' ')
	}
	if f&fEvname != 0 {
		if e.padded == nil || e.paddedWidth != s.nameWidth {
			e.padded = e.padded[:0]
			for i := len(e.name); i < s.nameWidth; i++ {
				e.padded = append(e.padded, ' ')
			}
			e.padded = append(e.padded, e.name...)
			e.padded = append(e.padded, ": "...)
			e.paddedWidth = s.nameWidth
		}
		b = append(b, e.padded...)
	}
	if s.flags {
		b = append(b, "                        "...)
	}
	if f&fTrace != 0 && len(r.Raw) > 0 && e.tp != nil {
		b = e.tp.Append(b, r.Raw)
	}
	if f&fAddr != 0 {
		b = appendPadHex(b, r.Addr, 16)
	}
	if f&fIP != 0 {
		mode := r.CPUMode()
		useChain := s.useCallchain && a.SampleType&perfdata.SampleCallchain != 0
		if useChain {
			b = append(b, '\n')
			s.frames = s.sym.Callchain(s.frames[:0], uint32(pid), r.Callchain, 0)
			for i := range s.frames {
				fr := &s.frames[i]
				b = append(b, '\t')
				b = appendPadHex(b, fr.Addr, 16)
				b = appendSym(b, f, &fr.Symbol)
				b = append(b, '\n')
			}
		} else {
			b = append(b, ' ')
			b = appendPadHex(b, r.IP, 16)
			if f&(fSym|fDSO) != 0 {
				sy := s.sym.Resolve(uint32(pid), mode, r.IP)
				b = appendSym(b, f, &sy)
			}
		}
	}
	b = append(b, '\n')
	if own {
		s.buf = b[:0] // keep what it grew to
	}
	_, err := s.out.Write(b)
	if err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

func appendSym(b []byte, f field, sy *Symbol) []byte {
	if f&fSym != 0 {
		b = append(b, ' ')
		if sy.Name == "" {
			b = append(b, "[unknown]"...)
		} else {
			b = append(b, sy.Name...)
			if f&fSymOff != 0 {
				b = append(b, "+0x"...)
				b = strconv.AppendUint(b, sy.Off, 16)
			}
		}
	}
	if f&fDSO != 0 {
		b = append(b, " ("...)
		if sy.DSO == "" {
			b = append(b, "[unknown]"...)
		} else {
			b = append(b, sy.DSO...)
		}
		b = append(b, ')')
	}
	return b
}

// appendStart is perf_sample__fprintf_start.
func (s *session) appendStart(b []byte, e *evsel, smp *sampleView, t *thread) []byte {
	f := s.output[e.otype].fields
	idf := f & (fComm | fPid | fTid)
	if f&fIP != 0 && e.hasChain && s.useCallchain {
		idf |= fIP // unpadded comm
	}
	if t != nil && idf&^fIP != 0 {
		if t.start == nil || t.startF != idf || t.startPid != smp.pid || t.startTid != smp.tid || t.startComm != t.comm {
			t.start = s.appendIDs(t.start[:0], f, idf&fIP != 0, smp, t)
			t.startF, t.startPid, t.startTid, t.startComm = idf, smp.pid, smp.tid, t.comm
		}
		b = append(b, t.start...)
	} else {
		b = s.appendIDs(b, f, idf&fIP != 0, smp, t)
	}
	return s.appendCPUTime(b, f, smp)
}

// appendIDs appends the comm, pid and tid columns.
func (s *session) appendIDs(b []byte, f field, unpadded bool, smp *sampleView, t *thread) []byte {
	if f&fComm != 0 {
		comm := ":-1"
		if t != nil {
			comm = t.comm
		}
		if unpadded {
			b = append(b, comm...)
		} else {
			for i := len(comm); i < 16; i++ {
				b = append(b, ' ')
			}
			b = append(b, comm...)
		}
		b = append(b, ' ')
	}
	switch {
	case f&fPid != 0 && f&fTid != 0:
		b = appendPadInt(b, int64(smp.pid), 5)
		b = append(b, '/')
		n := len(b)
		b = strconv.AppendInt(b, int64(smp.tid), 10)
		for i := len(b) - n; i < 5; i++ {
			b = append(b, ' ')
		}
		b = append(b, ' ')
	case f&fPid != 0:
		b = appendPadInt(b, int64(smp.pid), 5)
		b = append(b, ' ')
	case f&fTid != 0:
		b = appendPadInt(b, int64(smp.tid), 5)
		b = append(b, ' ')
	}
	return b
}

// appendCPUTime appends the cpu and time columns.
func (s *session) appendCPUTime(b []byte, f field, smp *sampleView) []byte {
	if f&fCPU != 0 {
		b = append(b, '[')
		c := int64(int32(smp.cpu))
		if c >= 0 && c < 10 {
			b = append(b, '0', '0')
		} else if c >= 0 && c < 100 {
			b = append(b, '0')
		}
		b = appendDecInt(b, c)
		b = append(b, "] "...)
	}
	if f&fTime != 0 {
		ts := smp.time
		switch {
		case s.opts.RelTime:
			if s.initialTime == 0 {
				s.initialTime = ts
			}
			ts -= s.initialTime
		case s.opts.DeltaTime:
			if s.prevTime != 0 {
				ts -= s.prevTime
			} else {
				ts = 0
			}
			s.prevTime = smp.time
		}
		sec, ns := ts/1e9, ts%1e9
		if s.opts.NS {
			b = appendPadUint(b, sec, 5)
			b = append(b, '.')
			b = appendZeroPad(b, ns, 9)
		} else {
			// "%12s" of "%lu.%06lu"
			var tmp [32]byte
			i := len(tmp)
			for us, k := ns/1000, 0; k < 6; k++ {
				i--
				tmp[i] = byte('0' + us%10)
				us /= 10
			}
			i--
			tmp[i] = '.'
			for {
				i--
				tmp[i] = byte('0' + sec%10)
				if sec /= 10; sec == 0 {
					break
				}
			}
			for n := len(tmp) - i; n < 12; n++ {
				b = append(b, ' ')
			}
			b = append(b, tmp[i:]...)
		}
		b = append(b, ": "...)
	}
	return b
}

// altHex is C's "%#lx": no 0x prefix for zero.
func altHex(v uint64) string {
	if v == 0 {
		return "0"
	}
	return "0x" + strconv.FormatUint(v, 16)
}

func appendPadInt(b []byte, v int64, w int) []byte {
	var tmp [24]byte
	x := strconv.AppendInt(tmp[:0], v, 10)
	for i := len(x); i < w; i++ {
		b = append(b, ' ')
	}
	return append(b, x...)
}

func appendPadUint(b []byte, v uint64, w int) []byte {
	var tmp [24]byte
	x := strconv.AppendUint(tmp[:0], v, 10)
	for i := len(x); i < w; i++ {
		b = append(b, ' ')
	}
	return append(b, x...)
}

func appendPadHex(b []byte, v uint64, w int) []byte {
	var tmp [24]byte
	x := appendHex(tmp[:0], v)
	for i := len(x); i < w; i++ {
		b = append(b, ' ')
	}
	return append(b, x...)
}

func appendZeroPad(b []byte, v uint64, w int) []byte {
	var tmp [24]byte
	x := strconv.AppendUint(tmp[:0], v, 10)
	for i := len(x); i < w; i++ {
		b = append(b, '0')
	}
	return append(b, x...)
}

// inputPath is the path the input was opened from ("-" for stdin).
func (s *session) inputPath() string {
	if s.opts.Input != "" {
		return s.opts.Input
	}
	if s.f.Pipe {
		return "-"
	}
	return "perf.data"
}
