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
	off     dwarf.Offset // offset of the CU DIE
	entry   *dwarf.Entry
	name    string
	compDir string
	lowPC   uint64
	hasLow  bool
	version int // 0 when unknown

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

func (b *Binary) readUnits() (us []*unit, err error) {
	defer recoverDWARF(&err)
	r := b.dw.Reader()
	for {
		e, err := r.Next()
		if err != nil {
			return us, fmt.Errorf("read compilation units: %w", err)
		}
		if e == nil {
			break
		}
		if e.Tag == dwarf.TagCompileUnit || e.Tag == dwarf.TagPartialUnit {
			u := &unit{off: e.Offset, entry: e}
			u.name, _ = e.Val(dwarf.AttrName).(string)
			u.compDir, _ = e.Val(dwarf.AttrCompDir).(string)
			if lo, ok := e.Val(dwarf.AttrLowpc).(uint64); ok {
				u.lowPC, u.hasLow = lo, true
			}
			us = append(us, u)
		}
		r.SkipChildren()
	}
	return us, nil
}

func recoverDWARF(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("malformed DWARF: %v", r)
	}
}

// unitOf returns the unit containing the DIE at off.
func (b *Binary) unitOf(off dwarf.Offset) *unit {
	us, _ := b.getUnits()
	i := sort.Search(len(us), func(i int) bool { return us[i].off > off })
	if i == 0 {
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
	lr, err := b.dw.LineReader(u.entry)
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
