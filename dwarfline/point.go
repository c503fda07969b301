package dwarfline

import (
	"fmt"
	"sort"
)

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
		if b.open(c) == nil && b.hasPC(c.entry, addr) {
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
	fname, lineno := b.srcLineAt(u, addr)
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

// srcLineAt is perf's cu_find_lineinfo: at a function's entry its
// declaration, elsewhere the statement row at or before addr
// (cu_getsrc_die: the last row not after addr, the first of its address,
// then forward to a statement row that is not after addr either).
func (b *Binary) srcLineAt(u *unit, addr uint64) (string, int) {
	if f := b.realFunc(u, addr); f != nil {
		if pc, ok := b.dieEntryPC(f); ok && pc == addr {
			l, _ := b.declLine(f)
			return b.declFile(u, f), l
		}
	}
	if b.loadLines(u) != nil {
		return "", 0
	}
	rows := u.lines
	i := sort.Search(len(rows), func(i int) bool { return rows[i].addr > addr }) - 1
	for i > 0 && rows[i-1].addr == addr {
		i--
	}
	if i <= 0 {
		// perf steps below the first row and finds nothing.
		return "", 0
	}
	for ; i < len(rows); i++ {
		if rows[i].addr > addr {
			return "", 0
		}
		if rows[i].stmt {
			break
		}
	}
	if i == len(rows) {
		return "", 0
	}
	f := u.fileName(rows[i].file)
	if f == "" {
		return "", 0
	}
	return f, int(rows[i].line)
}
