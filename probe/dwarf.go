package probe

import (
	"errors"
	"fmt"

	"github.com/gperf-dev/gperf/dwarfline"
)

// dwarfInfo is the debugInfo of a binary, from dwarfline.
type dwarfInfo struct {
	b *dwarfline.Binary
}

func openDebugInfo(path string) (debugInfo, error) {
	b, err := dwarfline.Open(path)
	if err != nil {
		return nil, err
	}
	if !b.HasDWARF() {
		b.Close()
		return nil, fmt.Errorf("open debuginfo %s: %w", path, dwarfline.ErrNoDWARF)
	}
	return &dwarfInfo{b: b}, nil
}

func (d *dwarfInfo) Close() error { return d.b.Close() }

// ProbePoints finds the addresses of a function probe: the entry of each
// out-of-line definition and inlined instance (plus the offset), in DWARF
// order, each attributed to the real function holding it.
func (d *dwarfInfo) ProbePoints(sp *Spec, o *Options, uprobe bool) ([]probePoint, error) {
	p := sp.Point
	if p.Line != 0 || p.HasLazy || p.Function == "" || sp.hasVars() {
		return nil, &Error{
			Detail:  fmt.Sprintf("Resolving '%s' needs line and variable lookups that gperf does not have yet.\n", sp.Point.String()),
			Summary: "Failed to add events.",
			Errno:   errNotsup,
		}
	}
	fns, err := d.b.FindFuncs(p.Function, p.File)
	if err != nil && !errors.Is(err, dwarfline.ErrNotFound) {
		return nil, &Error{Warning: "Debuginfo analysis failed.\n", Summary: "Failed to add events.", Errno: errInval, Err: err}
	}
	var pts []probePoint
	for _, f := range fns {
		if f.Entry == 0 || (o.NoInlines && f.Inlined) {
			continue
		}
		addr := f.Entry + p.Offset
		name, off := f.Name, p.Offset
		if s, ok := d.b.SymbolAt(addr); ok {
			name, off = s.Name, addr-s.Value
		}
		pts = append(pts, probePoint{VAddr: addr, Func: name, Offset: off, Args: rawArgs(sp)})
	}
	return pts, nil
}

// PointAt maps an address back to a function and offset.
func (d *dwarfInfo) PointAt(vaddr uint64) (Point, bool) {
	s, ok := d.b.SymbolAt(vaddr)
	if !ok {
		return Point{}, false
	}
	return Point{Function: s.Name, Offset: vaddr - s.Value}, true
}
