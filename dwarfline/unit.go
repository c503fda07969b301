package dwarfline

import (
	"debug/dwarf"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
)

// unit is one compilation unit, decoded lazily.
type unit struct {
	start, end int          // the unit in .debug_info, header included
	off        dwarf.Offset // offset of the CU DIE

	openOnce sync.Once
	openErr  error
	data     *dwarf.Data  // this unit alone: offsets relative to start
	raw      *dwarf.Entry // the CU DIE as data decodes it
	entry    *dwarf.Entry // the CU DIE, offsets in .debug_info
	name     string
	compDir  string
	lowPC    uint64
	hasLow   bool
	version  int // 0 when unknown

	linesOnce sync.Once
	lines     []lineRow // sorted by address (libdw order)
	files     []string  // file table: index -> full path ("" for none)
	linesErr  error

	funcsOnce sync.Once
	funcs     []funcRange
}

// lineRow is one row of a line table.
type lineRow struct {
	addr   uint64
	file   int32
	line   int32
	stmt   bool
	endSeq bool
}

// units lists the compilation units (only their top DIE is decoded).
func (b *Binary) getUnits() ([]*unit, error) {
	if err := b.needDWARF(); err != nil {
		return nil, err
	}
	b.unitsMu.Do(func() {
		b.units, b.unitsErr = b.readUnits()
	})
	return b.units, b.unitsErr
}

// readUnits lists the units from their headers alone.
func (b *Binary) readUnits() (us []*unit, err error) {
	if b.skim == nil {
		b.skim = b.newSkimmer()
	}
	s := b.skim
	released := 0
	for off := 0; off < len(s.info); {
		h, err := s.header(off)
		if err != nil {
			return us, fmt.Errorf("read compilation units: %w", err)
		}
		// DWARF 5 unit types: compile (1) and partial (3) units only.
		if h.version < 5 || h.unitType == 1 || h.unitType == 3 {
			us = append(us, &unit{start: h.start, end: h.end, off: dwarf.Offset(h.dies)})
		}
		off = h.end
		// The walk faults in a page (and its neighbours) per unit:
		// let them go as it goes.
		if len(us)%32 == 0 {
			s.releaseRange(released, off)
			released = off
		}
	}
	s.releaseRange(released, len(s.info))
	return us, nil
}

// open decodes the unit's top DIE with a debug/dwarf Data of its own.
func (b *Binary) open(u *unit) error {
	u.openOnce.Do(func() { u.openErr = b.openUnit(u) })
	return u.openErr
}

func (b *Binary) openUnit(u *unit) (err error) {
	defer recoverDWARF(&err)
	s := b.dw
	d, err := dwarf.New(s.abbrev, nil, nil, s.info[u.start:u.end], s.line, nil, s.ranges, s.str)
	if err != nil {
		return fmt.Errorf("read unit at %#x: %w", u.start, err)
	}
	for _, x := range []struct {
		name string
		data []byte
	}{{".debug_addr", s.addr}, {".debug_line_str", s.lineStr}, {".debug_loclists", s.loclists},
		{".debug_rnglists", s.rnglists}, {".debug_str_offsets", s.strOff}} {
		if len(x.data) > 0 {
			if err := d.AddSection(x.name, x.data); err != nil {
				return fmt.Errorf("read unit at %#x: section %s: %w", u.start, x.name, err)
			}
		}
	}
	u.data = d
	e, err := d.Reader().Next()
	if err != nil || e == nil {
		return fmt.Errorf("read unit at %#x: %v", u.start, err)
	}
	u.raw = e
	c := *e
	c.Field = append([]dwarf.Field(nil), e.Field...)
	u.entry = u.fix(&c)
	u.name, _ = e.Val(dwarf.AttrName).(string)
	u.compDir, _ = e.Val(dwarf.AttrCompDir).(string)
	if lo, ok := e.Val(dwarf.AttrLowpc).(uint64); ok {
		u.lowPC, u.hasLow = lo, true
	}
	return nil
}

// fix turns the unit-relative offsets of an entry its Data decoded into
// offsets in .debug_info.
func (u *unit) fix(e *dwarf.Entry) *dwarf.Entry {
	base := dwarf.Offset(u.start)
	e.Offset += base
	for i := range e.Field {
		if e.Field[i].Class == dwarf.ClassReference {
			if v, ok := e.Field[i].Val.(dwarf.Offset); ok {
				e.Field[i].Val = v + base
			}
		}
	}
	return e
}

// reader returns a reader of u positioned at the DIE at off, and a next
// function returning entries with .debug_info offsets.
func (b *Binary) reader(u *unit, off dwarf.Offset) (*dwarf.Reader, func() (*dwarf.Entry, error), error) {
	if err := b.open(u); err != nil {
		return nil, nil, err
	}
	r := u.data.Reader()
	r.Seek(off - dwarf.Offset(u.start))
	next := func() (*dwarf.Entry, error) {
		e, err := r.Next()
		if e != nil {
			u.fix(e)
		}
		return e, err
	}
	return r, next, nil
}

func recoverDWARF(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("malformed DWARF: %v", r)
	}
}

// unitOf returns the unit containing the DIE at off.
func (b *Binary) unitOf(off dwarf.Offset) *unit {
	us, _ := b.getUnits()
	i := sort.Search(len(us), func(i int) bool { return dwarf.Offset(us[i].start) > off })
	if i == 0 || off >= dwarf.Offset(us[i-1].end) {
		return nil
	}
	return us[i-1]
}

// loadLines decodes the unit's line table once.
func (b *Binary) loadLines(u *unit) error {
	u.linesOnce.Do(func() {
		u.linesErr = b.readLines(u)
	})
	return u.linesErr
}

func (b *Binary) readLines(u *unit) (err error) {
	defer recoverDWARF(&err)
	if err := b.open(u); err != nil {
		return err
	}
	lr, err := u.data.LineReader(u.raw)
	if err != nil {
		return fmt.Errorf("line table of %s: %w", u.name, err)
	}
	if lr == nil {
		return nil
	}
	fileIdx := map[*dwarf.LineFile]int32{}
	for i, f := range lr.Files() {
		if f != nil {
			fileIdx[f] = int32(i)
		}
	}
	files := lr.Files()
	u.files = make([]string, len(files))
	for i, f := range files {
		if f != nil {
			u.files[i] = f.Name
		}
	}
	var e dwarf.LineEntry
	for {
		if err := lr.Next(&e); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return fmt.Errorf("line table of %s: %w", u.name, err)
		}
		fi := int32(-1)
		if e.File != nil {
			idx, ok := fileIdx[e.File]
			if !ok {
				// Files defined by DW_LNE_define_file appear late.
				for i, f := range lr.Files() {
					if f == e.File {
						idx = int32(i)
						for len(u.files) <= i {
							u.files = append(u.files, "")
						}
						u.files[i] = f.Name
						fileIdx[f] = idx
						break
					}
				}
			}
			fi = idx
		}
		u.lines = append(u.lines, lineRow{addr: e.Address, file: fi, line: int32(e.Line), stmt: e.IsStmt, endSeq: e.EndSequence})
	}
	// libdw sorts rows by address; an end_sequence precedes a normal row
	// at the same address; otherwise the order is kept.
	sort.SliceStable(u.lines, func(i, j int) bool {
		a, c := u.lines[i], u.lines[j]
		if a.addr != c.addr {
			return a.addr < c.addr
		}
		return a.endSeq && !c.endSeq
	})
	return nil
}

func (u *unit) fileName(i int32) string {
	if i < 0 || int(i) >= len(u.files) {
		return ""
	}
	return u.files[i]
}

// funcRange is a top-level subprogram of a unit with its address ranges.
type funcRange struct {
	e      *dwarf.Entry
	ranges [][2]uint64
}

// realFuncs lists the unit's top-level subprograms with code, once.
func (b *Binary) realFuncs(u *unit) []funcRange {
	u.funcsOnce.Do(func() {
		b.cuFuncs(u, func(e *dwarf.Entry) (bool, error) {
			if rs := b.ranges(e); len(rs) > 0 {
				u.funcs = append(u.funcs, funcRange{e: e, ranges: rs})
			}
			return true, nil
		})
	})
	return u.funcs
}

// realFunc is perf's die_find_realfunc: the first top-level subprogram of
// u whose ranges contain pc.
func (b *Binary) realFunc(u *unit, pc uint64) *dwarf.Entry {
	for _, f := range b.realFuncs(u) {
		for _, r := range f.ranges {
			if pc >= r[0] && pc < r[1] {
				return f.e
			}
		}
	}
	return nil
}

// lineInfo is perf's cu_find_lineinfo (see srcLineAt).
func (b *Binary) lineInfo(u *unit, addr uint64) (file string, line int, ok bool) {
	file, line = b.srcLineAt(u, addr)
	return file, line, line != 0 && file != ""
}
