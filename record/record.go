package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gperf-dev/gperf/perfdata"
	"github.com/gperf-dev/gperf/tracefs"
)

// Options is a `perf record` command line.
type Options struct {
	Events    []EventArg // -e (with --filter); none: perf's default event
	Count     uint64     // -c: sample period (overrides Freq)
	Freq      string     // -F: frequency in Hz or "max"; "" for the default 4000
	CallGraph string     // "fp" for -g / --call-graph fp; "" for none
	Command   []string   // the workload (argv), may be empty with a target
	PIDs      string     // -p: comma-separated process ids
	TIDs      string     // -t: comma-separated thread ids
	AllCPUs   bool       // -a
	CPUs      string     // -C: CPU list
	NoInherit bool       // --no-inherit
	MmapPages string     // -m: pages or size (e.g. "512K"); "" for the default
	Output    string     // -o: file, "-" for a pipe on Stdout; "" for perf.data
	Quiet     bool       // -q
	Verbose   bool       // -v
	// Cmdline is gperf's own argv, for HEADER_CMDLINE.
	Cmdline []string
	// Version is written to HEADER_VERSION.
	Version string
	// Stdout receives perf.data in pipe mode; Stderr the messages perf
	// prints while recording (warnings).
	Stdout, Stderr io.Writer
	// Signals, when set, are the signals that end the session (SIGINT and
	// SIGTERM by default).
	Signals []os.Signal
}

// Result says what a session recorded.
type Result struct {
	Output   string
	Pipe     bool   // written to a pipe (-o -)
	Bytes    int64  // size of the file written
	Samples  uint64 // PERF_RECORD_SAMPLE records written
	Records  uint64 // all records written
	LostRecs uint64 // PERF_RECORD_LOST records written
	Lost     uint64 // samples the kernel dropped (LOST_SAMPLES, else LOST)
	Wakeups  uint64 // ring wake-ups
	// Workload is how the workload ended (nil without one).
	Workload *ExitStatus
	// Signal is the signal (SIGINT, SIGTERM) that ended the session, or 0.
	Signal syscall.Signal
}

// Summary returns perf's closing lines:
//
//	[ perf record: Woken up N times to write data ]
//	[ perf record: Captured and wrote X MB perf.data (N samples) ]
//
// preceded by the warnings perf prints when samples were lost.
func (r *Result) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "[ perf record: Woken up %d times to write data ]\n", r.Wakeups)
	if r.LostRecs > 0 {
		fmt.Fprintf(&b, "Warning:\nProcessed %d events and lost %d chunks!\n\nCheck IO/CPU overload!\n\n", r.Records, r.LostRecs)
	}
	if r.Lost > 0 {
		total := r.Samples + r.Lost
		if rate := float64(r.Lost) / float64(total); rate > 0.05 {
			fmt.Fprintf(&b, "Warning:\nProcessed %d samples and lost %3.2f%%!\n\n", total, rate*100)
		}
	}
	samples := ""
	if r.Samples > 0 && !r.Pipe {
		samples = fmt.Sprintf(" (%d samples)", r.Samples)
	}
	fmt.Fprintf(&b, "[ perf record: Captured and wrote %.3f MB %s%s ]\n", float64(r.Bytes)/1024/1024, r.Output, samples)
	return b.String()
}

// Default sampling frequency of perf record (record_opts.freq).
const defaultFreq = 4000

// session is one recording.
type session struct {
	opts     Options
	evs      []*event
	cpus     []int
	threads  []int // -1 for "all threads" (CPU targets)
	counters [][]counter
	rings    []*mmapRing
	readers  []*cpuReader
	epfds    []int
	kick     int
	wl       *workload
	fs       *tracefs.FS
	pages    int
	pipe     bool
	stderr   io.Writer
	// sysFeat delivers the machine's header features, collected while
	// the session starts.
	sysFeat chan *perfdata.Features
	sys     *perfdata.Features
	closed  sync.Once
	sigc    chan os.Signal
}

// Run records the events of opts and writes the perf.data file.
func Run(opts Options) (*Result, error) {
	s := &session{opts: opts, kick: -1, stderr: opts.Stderr}
	if s.stderr == nil {
		s.stderr = os.Stderr
	}
	defer s.closed.Do(s.closeKernel)
	cmdline := opts.Cmdline
	if len(cmdline) == 0 {
		cmdline = os.Args
	}
	s.sysFeat = make(chan *perfdata.Features, 1)
	go func() {
		f := &perfdata.Features{}
		systemFeatures(f, cmdline, opts.Version)
		s.sysFeat <- f
	}()
	return s.run()
}

func (s *session) warnf(format string, args ...any) {
	if !s.opts.Quiet {
		fmt.Fprintf(s.stderr, format, args...)
	}
}

// lazyTracefs opens tracefs on first use, so sessions without
// tracepoints do not need it.
type lazyTracefs struct {
	s   *session
	err error
}

func (l *lazyTracefs) match(system, name string) ([]tracepoint, error) {
	if l.s.fs == nil && l.err == nil {
		l.s.fs, l.err = tracefs.Open()
	}
	if l.err != nil {
		return nil, fmt.Errorf("open tracefs: %w", l.err)
	}
	return tracefsEvents{l.s.fs}.match(system, name)
}

func (s *session) run() (res *Result, err error) {
	o := &s.opts
	// Signals are caught from the start: one that comes while the
	// session is set up ends it as soon as it runs, and no temporary
	// file is left behind.
	sigs := o.Signals
	if sigs == nil {
		sigs = []os.Signal{syscall.SIGINT, syscall.SIGTERM}
	}
	s.sigc = make(chan os.Signal, 2)
	signal.Notify(s.sigc, sigs...)
	defer signal.Stop(s.sigc)
	if o.Output == "" {
		o.Output = "perf.data"
	}
	s.pipe = o.Output == "-"
	targets := 0
	for _, t := range []bool{o.PIDs != "", o.TIDs != "", o.AllCPUs || o.CPUs != ""} {
		if t {
			targets++
		}
	}
	if targets > 1 && !(o.AllCPUs && o.CPUs != "") {
		return nil, fmt.Errorf("record: choose one target among -p, -t and -a/-C")
	}
	if targets == 0 && len(o.Command) == 0 {
		return nil, fmt.Errorf("record: no workload given: use -- COMMAND, -p PID, -t TID or -a")
	}
	cfg := attrConfig{
		inherit:   !o.NoInherit,
		workload:  targets == 0,
		cpuTarget: o.AllCPUs || o.CPUs != "",
		callchain: o.CallGraph != "",
	}
	if o.CallGraph != "" && o.CallGraph != "fp" {
		return nil, fmt.Errorf("record: call graph mode %q is not supported (only fp)", o.CallGraph)
	}
	if err := s.sampling(&cfg); err != nil {
		return nil, err
	}
	s.pages, err = s.ringPages()
	if err != nil {
		return nil, err
	}
	// CPUs: all online ones unless -C.
	online, err := parseCPUList(readTrim("/sys/devices/system/cpu/online"))
	if err != nil || len(online) == 0 {
		return nil, fmt.Errorf("record: read online cpus: %v", err)
	}
	s.cpus = online
	if o.CPUs != "" {
		want, err := parseCPUList(o.CPUs)
		if err != nil {
			return nil, fmt.Errorf("record: -C: %w", err)
		}
		for _, c := range want {
			if !contains(online, c) {
				return nil, fmt.Errorf("record: -C: cpu %d is not online (online: %s)", c, readTrim("/sys/devices/system/cpu/online"))
			}
		}
		s.cpus = want
	}
	// Fork the workload now: its start overlaps with finding the events.
	if len(o.Command) > 0 {
		s.wl, err = startWorkload(o.Command, s.pipe)
		if err != nil {
			return nil, fmt.Errorf("record: %w", err)
		}
		defer func() {
			if err != nil && s.wl.state == nil {
				s.wl.abort()
			}
		}()
	}
	evs, err := resolveEvents(o.Events, &lazyTracefs{s: s})
	if err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	s.evs = configure(evs, cfg)

	// Targets.
	switch {
	case cfg.cpuTarget:
		s.threads = []int{-1}
	case o.PIDs != "":
		pids, err := parseIDs(o.PIDs, "-p")
		if err != nil {
			return nil, err
		}
		for _, p := range pids {
			tids := tasks(p)
			if len(tids) == 0 {
				return nil, fmt.Errorf("record: -p %d: no such process", p)
			}
			s.threads = append(s.threads, tids...)
		}
	case o.TIDs != "":
		tids, err := parseIDs(o.TIDs, "-t")
		if err != nil {
			return nil, err
		}
		for _, t := range tids {
			if _, err := os.Stat(fmt.Sprintf("/proc/%d/status", t)); err != nil {
				return nil, fmt.Errorf("record: -t %d: no such thread", t)
			}
		}
		s.threads = tids
	}
	if s.wl != nil && targets == 0 {
		s.threads = []int{s.wl.pid}
	}
	return s.record()
}

// sampling applies -c and -F as record_opts__config does.
func (s *session) sampling(c *attrConfig) error {
	o := s.opts
	max := uint64(0)
	if v, err := strconv.ParseUint(readTrim("/proc/sys/kernel/perf_event_max_sample_rate"), 10, 64); err == nil {
		max = v
	}
	c.freq = defaultFreq
	if o.Freq != "" {
		c.userFreq = true
		if o.Freq == "max" {
			if max == 0 {
				return fmt.Errorf("record: -F max: cannot read /proc/sys/kernel/perf_event_max_sample_rate")
			}
			c.freq = max
		} else {
			v, err := strconv.ParseUint(o.Freq, 10, 64)
			if err != nil || v == 0 {
				return fmt.Errorf("record: -F %q: not a frequency", o.Freq)
			}
			c.freq = v
		}
		if max != 0 && c.freq > max {
			s.warnf("warning: Maximum frequency rate (%d Hz) exceeded, throttling from %d Hz to %d Hz.\n", max, c.freq, max)
			c.freq = max
		}
	} else if max != 0 && c.freq > max {
		s.warnf("Lowering default frequency rate from %d to %d.\n", c.freq, max)
		c.freq = max
	}
	if o.Count != 0 {
		c.period = o.Count
		c.userFreq = false
	}
	return nil
}

// ringPages returns the data pages per CPU ring: -m (pages, or a size
// with a B/K/M/G suffix, rounded up to a power of two as perf does), or
// by default a ring sized so that a busy CPU cannot fill it between two
// drains: perf's 512 KiB fills in a few milliseconds at a million
// tracepoint hits per second, which is how perf loses samples.
func (s *session) ringPages() (int, error) {
	pg := unix.Getpagesize()
	m := s.opts.MmapPages
	if m == "" {
		// perf's default: perf_event_mlock_kb (516 KiB) rounded down.
		pages := 128
		if kb, err := strconv.Atoi(readTrim("/proc/sys/kernel/perf_event_mlock_kb")); err == nil && kb > 0 {
			pages = rounddownPow2(kb * 1024 / pg)
		}
		// Privileged (CAP_IPC_LOCK) sessions are not held to the
		// mlock limit: give each CPU 8 MiB when memory allows.
		if os.Geteuid() == 0 {
			big := 8 << 20 / pg
			if mem := memTotal("/proc/meminfo") * 1024; mem > 0 {
				ncpu := uint64(countCPUList(readTrim("/sys/devices/system/cpu/online")))
				for big > pages && uint64(big*pg)*ncpu > mem/64 {
					big /= 2
				}
			}
			if big > pages {
				pages = big
			}
		}
		return pages, nil
	}
	var pages int
	if n, err := strconv.Atoi(m); err == nil {
		pages = n
	} else {
		mult := map[byte]int{'B': 1, 'K': 1 << 10, 'M': 1 << 20, 'G': 1 << 30}
		u := strings.ToUpper(m[len(m)-1:])[0]
		f, ok := mult[u]
		v, err := strconv.Atoi(m[:len(m)-1])
		if !ok || err != nil || v <= 0 {
			return 0, fmt.Errorf("record: -m %q: not a number of pages or a size", m)
		}
		pages = (v*f + pg - 1) / pg
	}
	if pages <= 0 || pages > 1<<20 {
		return 0, fmt.Errorf("record: -m %q: invalid number of mmap data pages", m)
	}
	if p := roundupPow2(pages); p != pages {
		s.warnf("rounding mmap pages size to %s (%d pages)\n", unitSize(p*pg), p)
		pages = p
	}
	return pages, nil
}

func rounddownPow2(n int) int {
	p := 1
	for p*2 <= n {
		p *= 2
	}
	return p
}

func roundupPow2(n int) int {
	p := 1
	for p < n {
		p *= 2
	}
	return p
}

// unitSize formats a size as perf's unit_number__scnprintf ("4M").
func unitSize(n int) string {
	units := "BKMGT"
	i := 0
	for n >= 1024 && i < len(units)-1 {
		n /= 1024
		i++
	}
	return fmt.Sprintf("%d%c", n, units[i])
}

func parseIDs(s, flag string) ([]int, error) {
	var ids []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("record: %s %q: not a list of ids", flag, s)
		}
		ids = append(ids, v)
	}
	return ids, nil
}

func contains(l []int, v int) bool {
	for _, x := range l {
		if x == v {
			return true
		}
	}
	return false
}

// openAll opens every counter, maps one ring per CPU and redirects the
// CPU's other counters into it, applies filters and sets up epoll.
func (s *session) openAll() error {
	s.counters = make([][]counter, len(s.evs))
	ringFD := make([]int, len(s.cpus))
	for i := range ringFD {
		ringFD[i] = -1
	}
	s.epfds = make([]int, len(s.cpus))
	for i := range s.epfds {
		s.epfds[i] = -1
	}
	var err error
	s.kick, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return fmt.Errorf("record: eventfd: %w", err)
	}
	for ci, cpu := range s.cpus {
		ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if err != nil {
			return fmt.Errorf("record: epoll_create: %w", err)
		}
		s.epfds[ci] = ep
		ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(s.kick)}
		if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, s.kick, &ev); err != nil {
			return fmt.Errorf("record: epoll_ctl: %w", err)
		}
		_ = cpu
	}
	// perf opens evsel by evsel, CPU by CPU, thread by thread
	// (evlist__open), and maps rings CPU by CPU (evlist__mmap_per_cpu).
	for ei, e := range s.evs {
		for ci, cpu := range s.cpus {
			for ti, tid := range s.threads {
				fd, id, err := openCounter(&e.attr, e.name, tid, cpu)
				if err != nil && len(s.counters[ei]) == 0 && (fallbackUser(e, err) || fallbackCycles(e, err)) {
					fd, id, err = openCounter(&e.attr, e.name, tid, cpu)
				}
				if err != nil {
					if errors.Is(err, unix.ESRCH) && len(s.threads) > 1 && s.wl == nil {
						continue // a thread of -p exited meanwhile
					}
					return fmt.Errorf("record: %w", err)
				}
				s.counters[ei] = append(s.counters[ei], counter{fd: fd, id: id, cpu: cpu, cpuIdx: ci, tid: tid, threadIdx: ti})
				if e.filter != "" {
					if err := setFilter(fd, e.filter); err != nil {
						return fmt.Errorf("record: filter %q on %s: %w", e.filter, e.name, err)
					}
				}
				if ringFD[ci] < 0 {
					ringFD[ci] = fd
				}
			}
		}
	}
	// The kernel allocates a ring's pages at mmap: map the CPUs' rings
	// in parallel.
	s.rings = make([]*mmapRing, len(s.cpus))
	errs := make([]error, len(s.cpus))
	var wg sync.WaitGroup
	for ci := range s.cpus {
		if ringFD[ci] < 0 {
			errs[ci] = fmt.Errorf("no event could be opened on cpu %d", s.cpus[ci])
			continue
		}
		wg.Add(1)
		go func(ci int) {
			defer wg.Done()
			s.rings[ci], errs[ci] = mapRing(ringFD[ci], s.pages)
		}(ci)
	}
	wg.Wait()
	for _, err := range errs {
		if err == nil {
			continue
		}
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.ENOMEM) {
			return fmt.Errorf("record: %w (limit: /proc/sys/kernel/perf_event_mlock_kb; use -m to ask for fewer pages)", err)
		}
		return fmt.Errorf("record: %w", err)
	}
	for ei, e := range s.evs {
		for _, c := range s.counters[ei] {
			if c.fd != ringFD[c.cpuIdx] {
				if err := ioctl(c.fd, unix.PERF_EVENT_IOC_SET_OUTPUT, uintptr(ringFD[c.cpuIdx])); err != nil {
					return fmt.Errorf("record: redirect event %s to the cpu %d ring: %w", e.name, c.cpu, err)
				}
			}
			ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(c.fd)}
			if err := unix.EpollCtl(s.epfds[c.cpuIdx], unix.EPOLL_CTL_ADD, c.fd, &ev); err != nil {
				return fmt.Errorf("record: epoll_ctl: %w", err)
			}
		}
	}
	for ei, e := range s.evs {
		for _, c := range s.counters[ei] {
			e.attr.IDs = append(e.attr.IDs, c.id)
		}
		e.attr.Name = e.name
	}
	return nil
}

// fallbackUser is perf's evsel__fallback for a refused event when
// perf_event_paranoid is above 1: count user space only, named NAME:u.
func fallbackUser(e *event, err error) bool {
	a := &e.attr
	if !errors.Is(err, ErrPermission) || a.Type == perfdata.TypeTracepoint ||
		a.Flags&(perfdata.AttrExcludeKernel|perfdata.AttrExcludeUser) != 0 {
		return false
	}
	if p, perr := strconv.Atoi(readTrim("/proc/sys/kernel/perf_event_paranoid")); perr != nil || p <= 1 {
		return false
	}
	a.Flags |= perfdata.AttrExcludeKernel | perfdata.AttrExcludeHV
	if strings.ContainsAny(e.name, ":/") {
		e.name += "u"
	} else {
		e.name += ":u"
	}
	return true
}

// fallbackCycles is perf's fallback from the cycles hardware event to
// cpu-clock when there is no PMU (a VM): the name becomes "cpu-clock"
// with the modifiers it had.
func fallbackCycles(e *event, err error) bool {
	a := &e.attr
	if a.Type != perfdata.TypeHardware || a.Config != 0 || !errors.Is(err, ErrNotSupported) {
		return false
	}
	a.Type, a.Config = perfdata.TypeSoftware, 0
	_, mods, _ := strings.Cut(e.name, ":")
	e.name = "cpu-clock"
	if mods != "" {
		e.name += ":" + mods
	}
	return true
}

// closeKernel releases the rings and counters.
func (s *session) closeKernel() {
	for _, r := range s.rings {
		if r != nil {
			r.close()
		}
	}
	s.rings = nil
	var fds []int
	for _, cs := range s.counters {
		for _, c := range cs {
			fds = append(fds, c.fd)
		}
	}
	release := handOff(fds)
	for _, fd := range fds {
		unix.Close(fd)
	}
	release()
	s.counters = nil
	for _, ep := range s.epfds {
		if ep >= 0 {
			unix.Close(ep)
		}
	}
	s.epfds = nil
	if s.kick >= 0 {
		unix.Close(s.kick)
		s.kick = -1
	}
}

// enable starts counters that do not wait for exec (evlist__enable).
func (s *session) enable() error {
	for ei, cs := range s.counters {
		if s.evs[ei].attr.Flags&perfdata.AttrDisabled == 0 {
			continue
		}
		for _, c := range cs {
			if err := ioctl(c.fd, unix.PERF_EVENT_IOC_ENABLE, 0); err != nil {
				return fmt.Errorf("record: enable %s: %w", s.evs[ei].name, err)
			}
		}
	}
	return nil
}

func (s *session) disable() {
	for _, cs := range s.counters {
		for _, c := range cs {
			ioctl(c.fd, unix.PERF_EVENT_IOC_DISABLE, 0)
		}
	}
}

// attrs returns the file's attrs in event order.
func (s *session) attrs() []*perfdata.EventAttr {
	l := make([]*perfdata.EventAttr, len(s.evs))
	for i, e := range s.evs {
		l[i] = &e.attr
	}
	return l
}

// synthesize builds the records perf writes before the first ring data
// (record__synthesize in builtin-record.c).
func (s *session) synthesize() *synth {
	sy := &synth{attr: &s.evs[0].attr}
	idx := &perfdata.IDIndex{}
	for ei := range s.evs {
		for _, c := range s.counters[ei] {
			idx.Entries = append(idx.Entries, perfdata.IDIndexEntry{ID: c.id, Idx: uint64(c.cpuIdx), CPU: uint64(int64(c.cpu)), Tid: uint64(int64(c.tid))})
		}
	}
	sy.addUser(idx)
	sy.kernelMmap()
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		sy.modules(unix.ByteSliceToString(u.Release[:]))
	}
	tm := &perfdata.ThreadMap{}
	for _, t := range s.threads {
		tm.Entries = append(tm.Entries, perfdata.ThreadMapEntry{Pid: uint64(int64(t))})
	}
	sy.addUser(tm)
	sy.addUser(&perfdata.CPUMap{Data: encodeCPUMap(s.cpus)})
	switch {
	case s.opts.AllCPUs || s.opts.CPUs != "":
		for _, p := range allPids() {
			sy.thread(p, true)
		}
	case s.opts.PIDs != "" || s.opts.TIDs != "":
		for _, t := range s.threads {
			sy.thread(t, false)
		}
	case s.wl != nil:
		sy.comm(s.wl.pid, s.wl.pid, "perf-exec")
	}
	sy.addUser(&perfdata.FinishedInit{})
	return sy
}

// addUser adds a record perf synthesizes without a sample_id trailer.
func (s *synth) addUser(r perfdata.Record) {
	if s.err != nil {
		return
	}
	s.buf, s.err = perfdata.EncodeRecord(s.buf, r)
	s.n++
}

// encodeCPUMap encodes a CPU map as perf 6.1's cpu_map_data__alloc picks:
// a range when the CPUs are contiguous, else a list or a mask, whichever
// is smaller.
func encodeCPUMap(cpus []int) []byte {
	var b []byte
	le := binary.LittleEndian
	contiguous := len(cpus) > 0 && cpus[len(cpus)-1]-cpus[0] == len(cpus)-1
	if contiguous && len(cpus) > 1 {
		// struct perf_record_range_cpu_map: type, any_cpu, start, end
		b = le.AppendUint16(b, cpuMapRangeCPUs)
		b = append(b, 0, 0) // any_cpu u8, __pad u8
		b = le.AppendUint16(b, uint16(cpus[0]))
		b = le.AppendUint16(b, uint16(cpus[len(cpus)-1]))
		return b
	}
	b = le.AppendUint16(b, 0) // PERF_CPU_MAP__CPUS
	b = le.AppendUint16(b, uint16(len(cpus)))
	for _, c := range cpus {
		b = le.AppendUint16(b, uint16(c))
	}
	for len(b)%8 != 0 {
		b = append(b, 0)
	}
	return b
}

const cpuMapRangeCPUs = 2

// record runs the session once the workload (if any) is forked.
func (s *session) record() (*Result, error) {
	o := &s.opts
	if err := s.openAll(); err != nil {
		return nil, err
	}
	out, err := s.createOutput()
	if err != nil {
		return nil, err
	}
	committed := false
	defer func() {
		if !committed {
			out.abort()
		}
	}()
	sy := s.synthesize()
	if sy.err != nil {
		return nil, fmt.Errorf("record: synthesize: %w", sy.err)
	}
	if err := out.w.WriteRaw(sy.buf); err != nil {
		return nil, fmt.Errorf("record: write %s: %w", o.Output, err)
	}
	if err := out.provisional(s.features(nil)); err != nil {
		return nil, fmt.Errorf("record: write %s: %w", o.Output, err)
	}

	// Readers and the writer.
	var (
		epoch    atomic.Uint64
		stop     atomic.Bool
		hups     atomic.Int64
		wg       sync.WaitGroup
		nfds     int64
		timeOff  = sampleTimeOffset(&s.evs[0].attr)
		ipOff    = 8 + sampleIPOffset(&s.evs[0].attr)
		chunks   = make(chan chunk, 1024)
		poolSize = chunkBuffers(len(s.cpus), s.pages*unix.Getpagesize())
	)
	for _, cs := range s.counters {
		nfds += int64(len(cs))
	}
	pool := newChunkPool(poolSize, 0)
	for ci, cpu := range s.cpus {
		fds := []int{}
		for _, cs := range s.counters {
			for _, c := range cs {
				if c.cpuIdx == ci {
					fds = append(fds, c.fd)
				}
			}
		}
		r := &cpuReader{
			cpu: cpu, ring: s.rings[ci], epfd: s.epfds[ci], fds: fds, out: chunks, pool: pool,
			epoch: &epoch, stop: &stop, kick: s.kick, hups: &hups,
			st: &stats{timeOff: timeOff, ipOff: ipOff, tidOff: ipOff + 8},
		}
		if s.evs[0].attr.SampleType&perfdata.SampleIP == 0 {
			r.st.tidOff = 8
		}
		s.readers = append(s.readers, r)
	}
	for _, r := range s.readers {
		wg.Add(1)
		go r.run(&wg)
	}
	wres := make(chan writerResult, 1)
	go func() { wres <- writeChunks(out.w, out.flush, chunks, pool, len(s.readers), &epoch) }()

	// Go.
	sigc := s.sigc
	if s.wl == nil || o.AllCPUs || o.CPUs != "" || o.PIDs != "" || o.TIDs != "" {
		if err := s.enable(); err != nil {
			stop.Store(true)
			s.kickReaders()
			wg.Wait()
			close(chunks)
			<-wres
			return nil, err
		}
	}
	var wlDone <-chan struct{}
	if s.wl != nil {
		if err := s.wl.release(); err != nil {
			stop.Store(true)
			s.kickReaders()
			wg.Wait()
			close(chunks)
			<-wres
			return nil, fmt.Errorf("record: %w", err)
		}
		wlDone = s.wl.done
	}
	// The session is under way: from here on an interruption leaves a
	// readable perf.data (the old one is kept as perf.data.old).
	if err := out.commit(); err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	committed = true

	res := &Result{Output: o.Output, Pipe: s.pipe}
	hupTick := time.NewTicker(50 * time.Millisecond)
	defer hupTick.Stop()
wait:
	for {
		select {
		case sig := <-sigc:
			res.Signal, _ = sig.(syscall.Signal)
			break wait
		case <-wlDone:
			break wait
		case <-hupTick.C:
			if s.wl == nil && hups.Load() >= nfds && nfds > 0 {
				break wait // every -p/-t thread is gone
			}
		}
	}
	if s.wl != nil && s.wl.state == nil {
		s.wl.cmd.Process.Signal(syscall.SIGTERM)
		<-s.wl.done
	}
	s.disable()
	stop.Store(true)
	s.kickReaders()
	wg.Wait()
	close(chunks)
	wr := <-wres

	// Per-event lost counts (read_format LOST) as LOST_SAMPLES records
	// (record__read_lost_samples in builtin-record.c).
	var tail []byte
	var lostSamples uint64
	for ei, cs := range s.counters {
		for _, c := range cs {
			var buf [24]byte
			n, err := unix.Read(c.fd, buf[:])
			if err != nil || n < 24 {
				continue
			}
			lost := binary.LittleEndian.Uint64(buf[16:])
			if lost == 0 {
				continue
			}
			lostSamples += lost
			r := &perfdata.LostSamples{Lost: lost}
			r.Attr = &s.evs[ei].attr
			r.SampleID.ID = c.id
			tail, err = perfdata.EncodeRecord(tail, r)
			if err != nil {
				return nil, fmt.Errorf("record: %w", err)
			}
			wr.records++
		}
	}
	if len(tail) > 0 {
		if err := out.w.WriteRaw(tail); err != nil {
			return nil, fmt.Errorf("record: write %s: %w", o.Output, err)
		}
	}
	// Closing a tracepoint's last event waits for an RCU grace period
	// (tracepoint_synchronize_unregister): tens of milliseconds, spent
	// while the file is finished rather than after.
	go s.closed.Do(s.closeKernel)

	// Totals and features.
	var st stats
	st.userHits = map[uint64]struct{}{}
	mmaps := sy.mmaps
	for _, r := range s.readers {
		res.Wakeups += r.wakeups
		st.samples += r.st.samples
		st.records += r.st.records
		st.lostRecords += r.st.lostRecords
		st.lost += r.st.lost
		if r.st.firstTime != 0 && (st.firstTime == 0 || r.st.firstTime < st.firstTime) {
			st.firstTime = r.st.firstTime
		}
		if r.st.lastTime > st.lastTime {
			st.lastTime = r.st.lastTime
		}
		st.kernelHit = st.kernelHit || r.st.kernelHit
		for k := range r.st.userHits {
			st.userHits[k] = struct{}{}
		}
		mmaps = append(mmaps, r.st.mmaps...)
	}
	res.Samples = st.samples
	res.LostRecs = st.lostRecords
	res.Lost = lostSamples
	if res.Lost == 0 {
		res.Lost = st.lost
	}
	res.Records = uint64(sy.n) + wr.records + st.records + uint64(out.provRecords)
	if wr.err != nil {
		s.warnf("gperf record: %v\n", wr.err)
	}

	feat := s.features(nil)
	feat.BuildIDs = buildIDTable(st.kernelHit, st.userHits, mmaps)
	feat.EventDesc = perfdata.EventDescs(s.attrs())
	if st.lastTime != 0 {
		feat.SampleTime = &perfdata.TimeRange{First: st.firstTime, Last: st.lastTime}
	}
	n, err := out.finish(feat)
	if err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	res.Bytes = n
	if s.wl != nil {
		ws := s.wl.status()
		res.Workload = &ws
	}
	return res, nil
}

// features collects the header features known before recording.
func (s *session) features(_ *stats) *perfdata.Features {
	if s.sys == nil {
		s.sys = <-s.sysFeat
	}
	feat := new(perfdata.Features)
	*feat = *s.sys
	if s.fs != nil {
		feat.TracingData = tracingData(s.fs, s.evs)
	}
	feat.EventDesc = perfdata.EventDescs(s.attrs())
	return feat
}

func (s *session) kickReaders() {
	var one [8]byte
	binary.LittleEndian.PutUint64(one[:], 1)
	unix.Write(s.kick, one[:])
}

// sampleTimeOffset is the offset of the time field in a sample record.
func sampleTimeOffset(a *perfdata.EventAttr) int {
	st := a.SampleType
	if st&perfdata.SampleTime == 0 {
		return -1
	}
	off := 8
	for _, f := range []perfdata.SampleFormat{perfdata.SampleIdentifier, perfdata.SampleIP, perfdata.SampleTID} {
		if st&f != 0 {
			off += 8
		}
	}
	return off
}

// sampleIPOffset is the offset of the ip field after the record header.
func sampleIPOffset(a *perfdata.EventAttr) int {
	if a.SampleType&perfdata.SampleIdentifier != 0 {
		return 8
	}
	return 0
}

// chunkBuffers is how many chunk buffers readers may fill ahead of the
// writer: enough that a reader of a small ring (-m 1) rarely waits for the
// writer, with at most about 64 MiB in flight for large rings.
func chunkBuffers(ncpu, ringBytes int) int {
	n := (64 << 20) / ringBytes
	if min := 2*ncpu + 2; n < min {
		n = min
	}
	if n > 512 {
		n = 512
	}
	return n
}

// writerResult is what the writer goroutine reports.
type writerResult struct {
	records uint64 // records written (ring records and rounds)
	err     error
}

// rawWriter is the part of the perf.data writer the drain loop uses.
type rawWriter interface {
	WriteRaw(b []byte) error
}

// finishedRound is PERF_RECORD_FINISHED_ROUND: a bare header.
var finishedRound = []byte{68, 0, 0, 0, 0, 0, 8, 0}

// writeChunks writes the readers' chunks in arrival order, and a
// FINISHED_ROUND whenever it is safe: once every reader has delivered a
// pass that started after the previous round marker was written, every
// later record was written to its ring after everything before that
// marker had been read, so perf's ordered-events queue (which flushes up
// to the previous round's maximum timestamp at each round) never sees an
// event older than what it flushed.
func writeChunks(w rawWriter, flush func() error, chunks <-chan chunk, pool *chunkPool, nreaders int, epoch *atomic.Uint64) writerResult {
	var res writerResult
	seen := map[*cpuReader]uint64{}
	done := map[*cpuReader]bool{}
	var cur uint64 // index of the last marker written
	dirty := false
	for c := range chunks {
		if c.err != nil && res.err == nil {
			res.err = c.err
		}
		if len(c.data) > 0 && res.err == nil {
			if err := w.WriteRaw(c.data); err != nil {
				res.err = err
			}
			dirty = true
		}
		if c.data != nil {
			pool.put(c.data)
		}
		if c.last {
			done[c.reader] = true
		}
		if e, ok := seen[c.reader]; !ok || c.epoch+1 > e {
			seen[c.reader] = c.epoch + 1 // +1: zero means "no pass yet"
		}
		if !dirty {
			continue
		}
		ready := len(seen) == nreaders
		for r, e := range seen {
			if e < cur+1 && !done[r] {
				ready = false
			}
		}
		if ready {
			if err := w.WriteRaw(finishedRound); err != nil && res.err == nil {
				res.err = err
			}
			res.records++
			cur++
			epoch.Store(cur)
			dirty = false
			// Keep the header's data size current, so a killed
			// gperf leaves a file perf reads up to this round.
			if err := flush(); err != nil && res.err == nil {
				res.err = err
			}
		}
	}
	if dirty {
		if err := w.WriteRaw(finishedRound); err != nil && res.err == nil {
			res.err = err
		}
		res.records++
	}
	return res
}
