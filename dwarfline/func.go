package dwarfline

import (
	"debug/dwarf"
	"fmt"
)

// Func is a function found by name: an out-of-line definition, or an
// instance of an inlined function (perf walks them all).
type Func struct {
	Name    string
	File    string // declaring file, full path as in the line table
	Line    int    // declaration line
	Entry   uint64 // entry address (0 when it has none)
	Inlined bool   // a DW_TAG_inlined_subroutine instance
	CU      string // name of the compilation unit
	CompDir string // DW_AT_comp_dir of that unit

	off dwarf.Offset
	u   *unit
	e   *dwarf.Entry
}

// cuFuncs calls fn on each subprogram DIE at the top level of u, in order
// (libdw's dwarf_getfuncs), until fn returns false or an error.
func (b *Binary) cuFuncs(u *unit, fn func(e *dwarf.Entry) (bool, error)) (err error) {
	defer recoverDWARF(&err)
	r, next, err := b.reader(u, u.off)
	if err != nil {
		return err
	}
	cu, err := next()
	if err != nil || cu == nil {
		return fmt.Errorf("read unit %s: %v", u.name, err)
	}
	if !cu.Children {
		return nil
	}
	for {
		e, err := next()
		if err != nil {
			return fmt.Errorf("read unit %s: %w", u.name, err)
		}
		if e == nil || e.Tag == 0 {
			return nil
		}
		if e.Tag == dwarf.TagSubprogram {
			more, err := fn(e)
			if err != nil || !more {
				return err
			}
		}
		if e.Children {
			r.SkipChildren()
		}
	}
}

// cuFuncsMatching is cuFuncs restricted to the subprograms whose name
// may match glob: the skimmer lists them without decoding the others (a
// unit's types, variables and other functions), and only those are
// decoded. fn must still check the name (the list is a superset). When
// the unit cannot be skimmed, it falls back to cuFuncs.
func (b *Binary) cuFuncsMatching(u *unit, glob string, fn func(e *dwarf.Entry) (bool, error)) (err error) {
	if b.skim == nil {
		b.skim = b.newSkimmer()
	}
	s := b.skim
	if len(s.info) == 0 || len(s.abbrevs) == 0 {
		return b.cuFuncs(u, fn)
	}
	offs, err := s.matchingDIEs(u.start, glob)
	if err != nil {
		return b.cuFuncs(u, fn)
	}
	if len(offs) == 0 {
		return nil
	}
	defer recoverDWARF(&err)
	r, next, err := b.reader(u, u.off)
	if err != nil {
		return err
	}
	for _, o := range offs {
		if o < u.start || o >= u.end {
			return b.cuFuncs(u, fn)
		}
		r.Seek(dwarf.Offset(o - u.start))
		e, err := next()
		if err != nil {
			return fmt.Errorf("read unit %s: %w", u.name, err)
		}
		if e == nil || e.Tag != dwarf.TagSubprogram {
			return fmt.Errorf("read unit %s: no subprogram at %#x: %w", u.name, o, ErrInvalid)
		}
		more, err := fn(e)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// matchName is perf's die_match_name: the DIE name or linkage name
// matches the glob.
func (b *Binary) matchName(e *dwarf.Entry, glob string) bool {
	if n := b.name(e); n != "" && globMatch(n, glob) {
		return true
	}
	f, _ := b.integrate(e, dwarf.AttrLinkageName)
	if f != nil {
		if s, ok := f.Val.(string); ok && globMatch(s, glob) {
			return true
		}
	}
	return false
}

// walkInstances is perf's die_walk_instances: every concrete instance
// (out-of-line copy or inlined subroutine) of the abstract function at
// origin, in DIE order within its unit.
func (b *Binary) walkInstances(u *unit, origin *dwarf.Entry, fn func(e *dwarf.Entry) error) (err error) {
	defer recoverDWARF(&err)
	oLine, _ := b.declLine(origin)
	oFile, hasOFile := attrInt(origin, dwarf.AttrDeclFile)
	_, next, err := b.reader(u, u.off)
	if err != nil {
		return err
	}
	cu, err := next()
	if err != nil || cu == nil || !cu.Children {
		return err
	}
	depth := 1
	for depth > 0 {
		e, err := next()
		if err != nil {
			return fmt.Errorf("read unit %s: %w", u.name, err)
		}
		if e == nil {
			break
		}
		if e.Tag == 0 {
			depth--
			continue
		}
		if e.Children {
			depth++
		}
		if e.Tag != dwarf.TagSubprogram && e.Tag != dwarf.TagInlinedSubroutine {
			continue
		}
		if !isFuncInstance(e) {
			continue
		}
		if ref, ok := attrRef(e, dwarf.AttrAbstractOrigin); !ok || ref != origin.Offset {
			continue
		}
		if e.Tag == dwarf.TagInlinedSubroutine && callLine(e) == oLine {
			// perf ignores "redundant" instances called from the
			// line that declares the function.
			if cf, ok := attrInt(e, dwarf.AttrCallFile); ok && hasOFile && cf == oFile {
				continue
			}
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// unitHasFile is perf's cu_find_realpath: the full path of the file in u's
// file table whose tail is file, or "".
func (b *Binary) unitHasFile(u *unit, file string) string {
	if b.loadLines(u) != nil {
		return ""
	}
	for _, f := range u.files {
		if f != "" && strtailcmp(f, file) {
			return f
		}
	}
	return ""
}

func (b *Binary) newFunc(u *unit, e *dwarf.Entry) *Func {
	f := &Func{Name: b.name(e), File: b.declFile(u, e), CU: u.name, CompDir: u.compDir, off: e.Offset, u: u, e: e,
		Inlined: e.Tag == dwarf.TagInlinedSubroutine}
	f.Line, _ = b.declLine(e)
	f.Entry, _ = b.dieEntryPC(e)
	return f
}

// FindFuncs returns every definition and inlined instance of the
// functions matching name (a glob), optionally declared in a file whose
// path ends with file, across all compilation units, in DWARF order.
func (b *Binary) FindFuncs(name, file string) ([]*Func, error) {
	us, err := b.candidateUnits(name)
	if err != nil {
		return nil, err
	}
	var out []*Func
	for _, u := range us {
		if file != "" && b.unitHasFile(u, file) == "" {
			continue
		}
		err := b.cuFuncs(u, func(e *dwarf.Entry) (bool, error) {
			if !isFuncDef(e) || !b.matchName(e, name) {
				return true, nil
			}
			if file != "" && !strtailcmp(file, b.declFile(u, e)) {
				return true, nil
			}
			if isFuncInstance(e) {
				out = append(out, b.newFunc(u, e))
			} else if e.AttrField(dwarf.AttrAbstractOrigin) == nil {
				err := b.walkInstances(u, e, func(in *dwarf.Entry) error {
					out = append(out, b.newFunc(u, in))
					return nil
				})
				if err != nil {
					return false, err
				}
			}
			return true, nil
		})
		if err != nil {
			return out, err
		}
	}
	return out, nil
}
