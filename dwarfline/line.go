package dwarfline

import (
	"debug/dwarf"
	"errors"
	"fmt"
	"math"
	"sort"
)

// errStop ends a walk early without error.
var errStop = errors.New("stop walk")

type lineCB func(file string, line int, addr uint64) error

// inlineIndex finds the inlined subroutines of a function containing an
// address, as perf's die_find_inlinefunc does (pre-order, then deeper).
type inlineIndex struct {
	b    *Binary
	root *node
	memo map[*node][][2]uint64
}

func (ix *inlineIndex) rangesOf(n *node) [][2]uint64 {
	if r, ok := ix.memo[n]; ok {
		return r
	}
	r := ix.b.ranges(n.e)
	ix.memo[n] = r
	return r
}

func (ix *inlineIndex) has(n *node, pc uint64) bool {
	for _, r := range ix.rangesOf(n) {
		if pc >= r[0] && pc < r[1] {
			return true
		}
	}
	return false
}

// top is die_find_top_inlinefunc from n.
func (ix *inlineIndex) top(n *node, pc uint64) *node {
	return findChild(n, func(c *node) int {
		if c.e.Tag == dwarf.TagInlinedSubroutine && ix.has(c, pc) {
			return cbEnd
		}
		return cbContinue
	})
}

// deepest is die_find_inlinefunc from n.
func (ix *inlineIndex) deepest(n *node, pc uint64) *node {
	f := ix.top(n, pc)
	if f == nil {
		return nil
	}
	for {
		g := ix.top(f, pc)
		if g == nil {
			return f
		}
		f = g
	}
}

// walkFuncLines is perf's die_walk_lines on a function or inlined
// instance: its statement rows not inside other inlined code, then its
// declaration line and the call sites of inlined functions in it.
func (b *Binary) walkFuncLines(u *unit, rt *dwarf.Entry, cb lineCB) error {
	if err := b.loadLines(u); err != nil {
		return err
	}
	decl, _ := b.declLine(rt)
	decf := b.declFile(u, rt)
	if decf == "" {
		return fmt.Errorf("walk lines of %s: no declaring file", b.name(rt))
	}
	t, err := b.tree(rt.Offset)
	if err != nil {
		return err
	}
	ix := &inlineIndex{b: b, root: t, memo: map[*node][][2]uint64{}}
	rs := b.ranges(rt)
	in := func(pc uint64) bool {
		for _, r := range rs {
			if pc >= r[0] && pc < r[1] {
				return true
			}
		}
		return false
	}
	for _, row := range u.lines {
		if row.endSeq || !row.stmt || !in(row.addr) {
			continue
		}
		if inl := ix.deepest(t, row.addr); inl != nil {
			if f := b.callFile(u, inl.e); !(f != "" && f == decf && callLine(inl.e) == int(row.line)) {
				l, _ := b.declLine(inl.e)
				if l != decl || b.declFile(u, inl.e) != decf {
					continue
				}
			}
		}
		if err := cb(u.fileName(row.file), int(row.line), row.addr); err != nil {
			return err
		}
	}
	return b.walkFuncDeclLines(u, t, false, cb)
}

// walkFuncDeclLines is perf's __die_walk_funclines.
func (b *Binary) walkFuncDeclLines(u *unit, t *node, recursive bool, cb lineCB) error {
	if f := b.declFile(u, t.e); f != "" {
		if l, ok := b.declLine(t.e); ok {
			if pc, ok := b.dieEntryPC(t.e); ok {
				if err := cb(f, l, pc); err != nil {
					return err
				}
			}
		}
	}
	var err error
	findChild(t, func(c *node) int {
		var addr uint64
		if c.e.Tag == dwarf.TagInlinedSubroutine {
			f, l := b.callFile(u, c.e), callLine(c.e)
			if pc, ok := b.dieEntryPC(c.e); ok && f != "" && l > 0 {
				addr = pc
				if err = cb(f, l, pc); err != nil {
					return cbEnd
				}
			}
			if !recursive {
				return cbSibling
			}
		}
		if addr != 0 {
			if f := b.declFile(u, c.e); f != "" {
				if l, ok := b.declLine(c.e); ok {
					if err = cb(f, l, addr); err != nil {
						return cbEnd
					}
				}
			}
		}
		return cbContinue
	})
	return err
}

// walkUnitLines is perf's die_walk_lines on a compilation unit: every
// statement row, then each function's declaration line and inlined call
// sites.
func (b *Binary) walkUnitLines(u *unit, cb lineCB) error {
	if err := b.loadLines(u); err != nil {
		return err
	}
	for _, row := range u.lines {
		if row.endSeq || !row.stmt {
			continue
		}
		if err := cb(u.fileName(row.file), int(row.line), row.addr); err != nil {
			return err
		}
	}
	return b.cuFuncs(u, func(e *dwarf.Entry) (bool, error) {
		t, err := b.tree(e.Offset)
		if err != nil {
			return false, err
		}
		if err := b.walkFuncDeclLines(u, t, true, cb); err != nil {
			return false, err
		}
		return true, nil
	})
}

// LineRangeSpec is what `perf probe -L` asks for:
// FUNC[@SRC][:RLN[+NUM|-RLN2]] or SRC[:ALN[+NUM|-ALN2]].
type LineRangeSpec struct {
	Function string // "" for a source file range
	File     string // @SRC, or the SRC of a file range (matched by tail)
	Start    int    // relative to the function's declaration line, or absolute
	End      int    // inclusive; math.MaxInt32 for "to the end"
}

// LineRange is the answer to a LineRangeSpec, as perf's struct
// line_range after debuginfo__find_line_range.
type LineRange struct {
	Function string
	Path     string // source path from the DWARF line table
	CompDir  string // DW_AT_comp_dir of the unit
	Offset   int    // declaration line of the function (0 for a file)
	Start    int    // absolute first line
	End      int    // absolute last line (math.MaxInt32: open)
	Lines    []int  // probeable absolute lines, ascending
}

// FindLineRange finds the probeable lines of a function or a file range
// with perf's rules (debuginfo__find_line_range in
// tools/perf/util/probe-finder.c): statement rows that map back to the same
// line, lines of inlined code, declaration lines and inline call sites. Only
// the first matching function (in DWARF order) is used, as perf does. It
// returns an error wrapping ErrNotFound when no line matches.
func (b *Binary) FindLineRange(spec LineRangeSpec) (*LineRange, error) {
	us, err := b.getUnits()
	if err != nil {
		return nil, err
	}
	lr := &LineRange{Function: spec.Function, Start: spec.Start, End: spec.End}
	set := map[int]bool{}
	var fname string
	var lnoS, lnoE int
	var cur *unit
	walkCB := func(f string, l int, addr uint64) error {
		if !strtailcmp(f, fname) || l < lnoS || l > lnoE {
			return nil
		}
		if rf, rl, ok := b.lineInfo(cur, addr); ok && (rl != l || rf != f) {
			return nil
		}
		if lr.Path == "" {
			lr.Path = f
		}
		set[l] = true
		return nil
	}
	byLine := func(u *unit, rt *dwarf.Entry) error {
		cur = u
		if rt == nil {
			return b.walkUnitLines(u, walkCB)
		}
		return b.walkFuncLines(u, rt, walkCB)
	}
	perUnit := func(u *unit) (bool, error) {
		var cuFile string
		if spec.File != "" {
			if cuFile = b.unitHasFile(u, spec.File); cuFile == "" {
				return false, nil
			}
		}
		if spec.Function == "" {
			fname, lnoS, lnoE = cuFile, spec.Start, spec.End
			if err := byLine(u, nil); err != nil {
				return false, err
			}
		} else {
			err := b.cuFuncs(u, func(e *dwarf.Entry) (bool, error) {
				if spec.File != "" && !strtailcmp(spec.File, b.declFile(u, e)) {
					return true, nil
				}
				if !b.matchName(e, spec.Function) || !isFuncDef(e) {
					return true, nil
				}
				fname = b.declFile(u, e)
				lr.Offset, _ = b.declLine(e)
				lnoS = addSat(lr.Offset, spec.Start)
				lnoE = addSat(lr.Offset, spec.End)
				lr.Start, lr.End = lnoS, lnoE
				if isFuncInstance(e) {
					return false, byLine(u, e)
				}
				return false, b.walkInstances(u, e, func(in *dwarf.Entry) error {
					return byLine(u, in)
				})
			})
			if err != nil {
				return false, err
			}
		}
		if len(set) > 0 {
			lr.CompDir = u.compDir
			return true, nil
		}
		return false, nil
	}
	if spec.Function != "" {
		err = b.eachCandidate(spec.Function, perUnit)
	} else {
		for _, u := range us {
			var stop bool
			if stop, err = perUnit(u); err != nil || stop {
				break
			}
		}
	}
	if err != nil {
		return nil, err
	}
	if len(set) == 0 {
		what := spec.Function
		if what == "" {
			what = spec.File
		}
		return nil, fmt.Errorf("find line range %s: %w", what, ErrNotFound)
	}
	for l := range set {
		lr.Lines = append(lr.Lines, l)
	}
	sort.Ints(lr.Lines)
	return lr, nil
}

func addSat(a, b int) int {
	s := int64(a) + int64(b)
	if s > math.MaxInt32 || s < 0 {
		return math.MaxInt32
	}
	return int(s)
}
