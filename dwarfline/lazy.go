package dwarfline

import (
	"debug/dwarf"
	"fmt"
)

// LazyLines returns the absolute line numbers of a source file that match
// a lazy pattern. ResolveLazy calls it with the file's name as DWARF gives
// it and the unit's DW_AT_comp_dir; the caller reads the source.
type LazyLines func(file, compDir string) (map[int]bool, error)

// ResolveLazy finds the probe addresses of a lazy pattern, FUNC;PTN or
// SRC;PTN, with perf's rules (find_probe_point_lazy and
// probe_point_lazy_walker in tools/perf/util/probe-finder.c): every
// statement row of the function (its inlined instances too, unless
// NoInlines) or of the file's units whose line matches, in line-table
// order, each in its best scope. spec.Line and spec.Offset are ignored.
// It fails with an error wrapping ErrNotFound when nothing matches.
func (b *Binary) ResolveLazy(spec PointSpec, lines LazyLines) (out []*Probe, err error) {
	defer recoverDWARF(&err)
	us, err := b.getUnits()
	if err != nil {
		return nil, err
	}
	r := &resolver{b: b, spec: spec, max: spec.MaxProbes}
	r.spec.Line, r.spec.Offset = 0, 0
	if r.max <= 0 {
		r.max = 128
	}
	cache := map[string]map[int]bool{}
	matched := func(file, compDir string) (map[int]bool, error) {
		if m, ok := cache[compDir+"\x00"+file]; ok {
			return m, nil
		}
		m, err := lines(file, compDir)
		if err != nil {
			return nil, err
		}
		cache[compDir+"\x00"+file] = m
		return m, nil
	}
	walker := func(u *unit, fname string, set map[int]bool) lineCB {
		return func(f string, l int, addr uint64) error {
			if !set[l] || !strtailcmp(f, fname) {
				return nil
			}
			r.lno, r.fname = l, fname
			sc := r.bestScope(u, addr)
			if sc == nil {
				return fmt.Errorf("scope of probe point %s:%d: %w", f, l, ErrNotFound)
			}
			return r.add(sc, addr, nil)
		}
	}
	for _, u := range us {
		r.u = u
		if spec.Function == "" {
			fname := b.unitHasFile(u, spec.File)
			if fname == "" {
				continue
			}
			set, err := matched(fname, u.compDir)
			if err != nil {
				return nil, err
			}
			if err := b.walkUnitLines(u, walker(u, fname, set)); err != nil {
				return nil, err
			}
			continue
		}
		if spec.File != "" && b.unitHasFile(u, spec.File) == "" {
			continue
		}
		glob := isGlob(spec.Function)
		err := b.cuFuncs(u, func(e *dwarf.Entry) (bool, error) {
			if !isFuncDef(e) || !b.matchName(e, spec.Function) {
				return true, nil
			}
			decf := b.declFile(u, e)
			if spec.File != "" && !strtailcmp(spec.File, decf) {
				return true, nil
			}
			set, err := matched(decf, u.compDir)
			if err != nil {
				return false, err
			}
			switch {
			case isFuncInstance(e):
				err = b.walkFuncLines(u, e, walker(u, decf, set))
			case !spec.NoInlines:
				err = b.walkInstances(u, e, func(in *dwarf.Entry) error {
					return b.walkFuncLines(u, in, walker(u, decf, set))
				})
			}
			if err != nil {
				return false, err
			}
			return glob, nil
		})
		if err != nil {
			return nil, err
		}
	}
	if len(r.out) == 0 {
		what := spec.Function
		if what == "" {
			what = spec.File
		}
		return nil, fmt.Errorf("probe point %s;%s: %w", what, spec.Lazy, ErrNotFound)
	}
	return r.out, nil
}
