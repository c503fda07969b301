package export

import (
	"encoding/binary"
	"fmt"
	"io"
	"strings"

	"github.com/google/pprof/profile"

	"github.com/gperf-dev/gperf/perfdata"
)

// pprofBuilder turns samples into a profile.proto.
type pprofBuilder struct {
	s       *session
	p       *profile.Profile
	ncols   int
	samples map[string]*profile.Sample
	locs    map[locKey]*profile.Location
	funcs   map[funcKey]*profile.Function
	maps    map[*mapping]*profile.Mapping
	kernMap *profile.Mapping
	key     []byte
	frames  []Frame
	fields  []FieldValue
}

type locKey struct {
	m    *mapping
	kern bool
	addr uint64
}

type funcKey struct{ name, file string }

// WritePprof writes the input as a gzipped profile.proto for `go tool
// pprof`: per event, a sample count column and, where the period means
// something, a period column (cpu/nanoseconds for cpu-clock and
// task-clock, events/count for counters); locations from the callchains
// with function names and, where DWARF line tables are found, source
// files and lines; mappings from MMAP/MMAP2 records with build IDs;
// labels comm (string), pid, tid and cpu (numbers) and, for tracepoints
// and probes, each field of the event.
func WritePprof(w io.Writer, opts Options) error {
	s, err := openSession(opts)
	if err != nil {
		return err
	}
	defer s.close()
	b := &pprofBuilder{s: s, p: &profile.Profile{}, samples: map[string]*profile.Sample{},
		locs: map[locKey]*profile.Location{}, funcs: map[funcKey]*profile.Function{}, maps: map[*mapping]*profile.Mapping{}}
	evs := s.events
	if s.sel != nil {
		evs = []*event{s.sel}
	}
	b.columns(evs)
	err = s.walk(handlers{sample: b.add})
	if err != nil {
		return err
	}
	if s.samples == 0 {
		return fmt.Errorf("export %s: %w (after filters)", opts.Input, errNoSamples)
	}
	b.p.DurationNanos = int64(s.lastTime - s.firstTime)
	if cd := s.f.Features.ClockData; cd != nil && cd.ClockNS > 0 {
		b.p.TimeNanos = int64(cd.WallClockNS) + int64(s.firstTime) - int64(cd.ClockNS)
	}
	b.p.Comments = append(b.p.Comments, "perf.data: "+opts.Input)
	if h := s.f.Features.Hostname; h != "" {
		b.p.Comments = append(b.p.Comments, "hostname: "+h+", kernel "+s.f.Features.OSRelease)
	}
	if c := s.f.Features.Cmdline; len(c) > 0 {
		b.p.Comments = append(b.p.Comments, "recorded with: "+strings.Join(c, " "))
	}
	b.mainFirst()
	if err := b.p.CheckValid(); err != nil {
		return fmt.Errorf("export %s: build profile: %w", opts.Input, err)
	}
	if err := b.p.Write(w); err != nil {
		return fmt.Errorf("export %s: write profile: %w", opts.Input, err)
	}
	return nil
}

// columns lays out the sample value columns. With one event they are
// named as Go's own profiles are ("samples/count", "cpu/nanoseconds"); with
// several, each name starts with the event's.
func (b *pprofBuilder) columns(evs []*event) {
	for _, ev := range evs {
		ev.colCount, ev.colPeriod = -1, -1
	}
	multi := len(evs) > 1
	add := func(ev *event, typ, unit string) int {
		if multi {
			typ = ev.name + "_" + typ
		}
		b.p.SampleType = append(b.p.SampleType, &profile.ValueType{Type: typ, Unit: unit})
		return len(b.p.SampleType) - 1
	}
	for _, ev := range evs {
		ev.colCount = add(ev, "samples", "count")
		switch {
		case isClock(ev.attr):
			ev.colPeriod = add(ev, "cpu", "nanoseconds")
		case ev.attr.Type != perfdata.TypeTracepoint:
			ev.colPeriod = add(ev, "events", "count")
		}
	}
	b.ncols = len(b.p.SampleType)
	ev := evs[0]
	if ev.colPeriod >= 0 {
		b.p.PeriodType = &profile.ValueType{Type: b.p.SampleType[ev.colPeriod].Type, Unit: b.p.SampleType[ev.colPeriod].Unit}
		if ev.attr.Flags&perfdata.AttrFreq == 0 {
			b.p.Period = int64(ev.attr.SamplePeriod)
		} else if isClock(ev.attr) && ev.attr.SamplePeriod > 0 {
			b.p.Period = int64(1e9 / ev.attr.SamplePeriod)
		}
	}
	b.p.DefaultSampleType = b.p.SampleType[ev.colCount].Type
	if ev.colPeriod >= 0 {
		b.p.DefaultSampleType = b.p.SampleType[ev.colPeriod].Type
	}
}

// add adds one sample: samples with the same event, task, CPU, stack and
// raw data share one profile sample.
func (b *pprofBuilder) add(c *sampleCtx) error {
	r := c.s
	k := b.s.chainKey(b.key[:0], r)
	k = binary.LittleEndian.AppendUint32(k, uint32(c.ev.idx))
	k = binary.LittleEndian.AppendUint32(k, r.Tid)
	k = binary.LittleEndian.AppendUint32(k, r.CPU)
	k = append(k, c.comm...)
	k = append(k, 0)
	if c.ev.format != nil {
		k = append(k, r.Raw...)
	}
	b.key = k
	ps := b.samples[string(k)]
	if ps == nil {
		ps = &profile.Sample{Value: make([]int64, b.ncols)}
		b.frames = b.s.stack(r, b.frames)
		for i := range b.frames {
			ps.Location = append(ps.Location, b.location(&b.frames[i], i > 0))
		}
		ps.Label = map[string][]string{"comm": {c.comm}}
		ps.NumLabel = map[string][]int64{"pid": {int64(int32(r.Pid))}, "tid": {int64(int32(r.Tid))}}
		if r.Attr.SampleType&perfdata.SampleCPU != 0 {
			ps.NumLabel["cpu"] = []int64{int64(r.CPU)}
		}
		if c.ev.format != nil {
			b.fields = decodeFields(c.ev.format, r.Raw, b.s.order, b.fields)
			for i := range b.fields {
				f := &b.fields[i]
				if f.Kind == FieldInt {
					v := int64(f.Uint)
					if f.Signed {
						v = f.Int
					}
					ps.NumLabel[f.Name] = []int64{v}
				} else {
					ps.Label[f.Name] = []string{f.text()}
				}
			}
		}
		b.samples[string(k)] = ps
		b.p.Sample = append(b.p.Sample, ps)
	}
	ps.Value[c.ev.colCount]++
	if c.ev.colPeriod >= 0 {
		ps.Value[c.ev.colPeriod] += int64(period(r))
	}
	return nil
}

// location returns the profile location of a frame; caller says that its
// address is a return address (for the source line of the call).
func (b *pprofBuilder) location(f *Frame, caller bool) *profile.Location {
	k := locKey{m: f.mapping, kern: f.Kernel, addr: f.Addr}
	if l := b.locs[k]; l != nil {
		return l
	}
	l := &profile.Location{ID: uint64(len(b.p.Location) + 1), Address: f.Addr}
	if f.mapping != nil {
		l.Mapping = b.mapping(f.mapping, f.Kernel)
	} else if f.Kernel {
		l.Mapping = b.kernelMapping()
	}
	if f.Sym != "" {
		src, hasLine := b.s.sym.line(f, caller)
		fk := funcKey{f.Sym, f.DSO}
		fn := b.funcs[fk]
		if fn == nil {
			fn = &profile.Function{ID: uint64(len(b.p.Function) + 1), Name: f.Sym, SystemName: f.Sym}
			b.funcs[fk] = fn
			b.p.Function = append(b.p.Function, fn)
		}
		var chain []inlineFrame
		if b.s.opts.Inline {
			chain = b.s.sym.inlined(f, caller)
		}
		if hasLine && fn.Filename == "" && len(chain) == 0 {
			fn.Filename = src.file
		}
		l.Line = []profile.Line{{Function: fn, Line: int64(src.line)}}
		if len(chain) > 0 {
			// pprof lists a location's lines innermost first; each
			// enclosing function's line is where the next one was
			// inlined. The innermost one's file is the line's.
			lines := make([]profile.Line, 0, len(chain)+1)
			line := int64(src.line)
			for j := len(chain) - 1; j >= 0; j-- {
				file := ""
				if j == len(chain)-1 {
					file = src.file
				}
				lines = append(lines, profile.Line{Function: b.function(chain[j].name, f.DSO, file), Line: line})
				line = int64(chain[j].callLine)
			}
			l.Line = append(lines, profile.Line{Function: fn, Line: line})
		}
		if l.Mapping != nil {
			l.Mapping.HasFunctions = true
			if hasLine {
				l.Mapping.HasFilenames, l.Mapping.HasLineNumbers = true, true
			}
		}
	}
	b.locs[k] = l
	b.p.Location = append(b.p.Location, l)
	return l
}

func (b *pprofBuilder) mapping(m *mapping, kernel bool) *profile.Mapping {
	if pm := b.maps[m]; pm != nil {
		return pm
	}
	file := m.file
	if kernel && strings.HasPrefix(file, "[kernel.kallsyms]") {
		file = "[kernel.kallsyms]"
	}
	id := m.buildID
	if id == "" && !kernel {
		// The recording does not say (gperf record writes only the
		// kernel's): the build ID of the file the symbols came from.
		id = b.s.sym.dso(m).buildID
	}
	pm := &profile.Mapping{ID: uint64(len(b.p.Mapping) + 1), Start: m.start, Limit: m.end, Offset: m.pgoff, File: file, BuildID: id}
	if kernel {
		// Kernel addresses are not file offsets.
		pm.Offset = 0
	}
	b.maps[m] = pm
	b.p.Mapping = append(b.p.Mapping, pm)
	return pm
}

// function returns the profile function of a name in a file.
func (b *pprofBuilder) function(name, dso, file string) *profile.Function {
	fk := funcKey{name, dso}
	fn := b.funcs[fk]
	if fn == nil {
		fn = &profile.Function{ID: uint64(len(b.p.Function) + 1), Name: name, SystemName: name, Filename: file}
		b.funcs[fk] = fn
		b.p.Function = append(b.p.Function, fn)
	}
	return fn
}

// kernelMapping holds kernel addresses outside any recorded kernel map.
func (b *pprofBuilder) kernelMapping() *profile.Mapping {
	if b.kernMap == nil {
		b.kernMap = &profile.Mapping{ID: uint64(len(b.p.Mapping) + 1), Start: 1 << 63, Limit: ^uint64(0), File: "[kernel.kallsyms]"}
		b.p.Mapping = append(b.p.Mapping, b.kernMap)
	}
	return b.kernMap
}

// mainFirst moves the user-space mapping with the most samples to the
// front: pprof names a profile after its first mapping ("File:").
func (b *pprofBuilder) mainFirst() {
	hits := map[*profile.Mapping]int64{}
	for _, s := range b.p.Sample {
		if len(s.Location) > 0 && s.Location[0].Mapping != nil {
			hits[s.Location[0].Mapping] += s.Value[0]
		}
	}
	best := -1
	for i, m := range b.p.Mapping {
		if strings.HasPrefix(m.File, "[") {
			continue
		}
		if best < 0 || hits[m] > hits[b.p.Mapping[best]] {
			best = i
		}
	}
	if best <= 0 {
		return
	}
	m := b.p.Mapping[best]
	copy(b.p.Mapping[1:best+1], b.p.Mapping[:best])
	b.p.Mapping[0] = m
	for i, m := range b.p.Mapping {
		m.ID = uint64(i + 1)
	}
}
