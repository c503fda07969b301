package dwarfline

import "fmt"

// Location is a probe address mapped back to source, as `perf probe -l`
// shows it: FUNC:LINE (line relative to the function) or FUNC+OFFSET, and
// the file.
type Location struct {
	Function string
	Line     int    // relative to Function's declaration; 0 when unknown
	Offset   uint64 // from Function's entry, when Line is 0
	File     string
}

// PointAt maps an address back to a location with perf's rules
// (debuginfo__find_probe_point in tools/perf/util/probe-finder.c): inside
// inlined code the line is relative to the inlined function, and at an
// inlined function's entry it is the call site.
func (b *Binary) PointAt(addr uint64) (Location, error) {
	us, err := b.getUnits()
	if err != nil {
		return Location{}, err
	}
	var u *unit
	for _, c := range us {
		if b.hasPC(c.entry, addr) {
			u = c
			break
		}
	}
	if u == nil {
		return Location{}, fmt.Errorf("debug information for address %#x: %w", addr, ErrNotFound)
	}
	if err := b.loadLines(u); err != nil {
		return Location{}, err
	}
	fname, lineno, _ := b.lineInfo(u, addr)
	var loc Location
	var baseFunc string
	var baseAddr uint64
	baseline := 0
	if sp := b.realFunc(u, addr); sp != nil {
		fn := b.name(sp)
		baseFunc = fn
		ba, okA := b.dieEntryPC(sp)
		bl, okL := b.declLine(sp)
		baseAddr = ba
		if fn == "" || !okA || !okL {
			lineno = 0
		} else {
			baseline = bl
			fname = b.declFile(u, sp)
			if addr == ba {
				lineno = bl
			} else {
				t, err := b.tree(sp.Offset)
				if err != nil {
					return Location{}, err
				}
				ix := &inlineIndex{b: b, root: t, memo: map[*node][][2]uint64{}}
				cur := t
				for {
					in := ix.top(cur, addr)
					if in == nil {
						break
					}
					if pc, ok := b.dieEntryPC(in.e); ok && pc == addr {
						lineno = callLine(in.e)
						fname = b.callFile(u, in.e)
						break
					}
					n := b.name(in.e)
					l, ok := b.declLine(in.e)
					if n == "" || !ok {
						break
					}
					fn, baseline, cur = n, l, in
				}
				if f := b.declFile(u, cur.e); f == "" || f != fname {
					lineno = 0
				}
			}
		}
		loc.Function = fn
	}
	if lineno != 0 {
		loc.Line = lineno - baseline
	} else if baseFunc != "" {
		loc.Offset = addr - baseAddr
		loc.Function = baseFunc
	}
	loc.File = fname
	if loc.Function == "" && fname == "" {
		return Location{}, fmt.Errorf("probe point at %#x: %w", addr, ErrNotFound)
	}
	return loc, nil
}
