package probe

import (
	"debug/elf"
	"errors"
	"fmt"
	"strings"

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

// ProbePoints resolves a definition with DWARF (perf's
// debuginfo__find_trace_events): the addresses of the point, then each
// argument translated at each address. No address is not an error: the
// caller decides (perf tries the symbol table, then gives up).
func (d *dwarfInfo) ProbePoints(sp *Spec, o *Options, uprobe bool) ([]probePoint, error) {
	p := sp.Point
	if p.HasLazy {
		ps, err := d.lazyPoints(sp, o, uprobe)
		if err != nil {
			return nil, err
		}
		return d.points(ps, sp, o)
	}
	ps, err := d.b.Resolve(dwarfline.PointSpec{
		Function:  p.Function,
		File:      p.File,
		Line:      p.Line,
		Offset:    p.Offset,
		Return:    p.Return,
		NoInlines: o.NoInlines,
		Uprobe:    uprobe,
		WithVars:  sp.hasVars(),
		MaxProbes: o.maxProbes(),
	})
	var sl *dwarfline.SharedLineError
	if errors.Is(err, dwarfline.ErrNotFound) && !errors.As(err, &sl) {
		return nil, nil
	}
	if err != nil {
		return nil, resolveError(sp, err)
	}
	return d.points(ps, sp, o)
}

// points translates the arguments at each probe address.
func (d *dwarfInfo) points(ps []*dwarfline.Probe, sp *Spec, o *Options) ([]probePoint, error) {
	uprobe := o.Exec != ""
	topts := dwarfline.TranslateOptions{
		HexUnsigned: strings.Contains(o.readme(), "x8/16/32/64"),
		Uprobe:      uprobe,
	}
	var pts []probePoint
	for _, pr := range ps {
		if pr.SkippedPrologue {
			o.info("Target program is compiled without optimization. Skipping prologue.\n"+
				"Probe on address 0x%x to force probing at the function entry.\n\n", pr.EntryAddr)
		}
		o.debug("Probe point found: %s+%d\n", pr.Symbol, pr.Offset)
		args, err := d.translateArgs(pr, sp, topts, o)
		if err != nil {
			return nil, err
		}
		name := pr.Realname
		if name == "" {
			name = pr.Symbol
		}
		pts = append(pts, probePoint{VAddr: pr.Addr, Func: pr.Symbol, Name: name, Offset: pr.Offset, Args: args})
	}
	return pts, nil
}

// translateArgs turns the arguments of a definition into fetch-args at one
// probe address: raw ones are copied, $vars and $params expand to the
// variables in scope, C variables are translated by dwarfline.
func (d *dwarfInfo) translateArgs(pr *dwarfline.Probe, sp *Spec, topts dwarfline.TranslateOptions, o *Options) ([]FetchArg, error) {
	var out []FetchArg
	for _, a := range sp.Args {
		switch {
		case a.Var == ArgVars || a.Var == ArgParams:
			names, err := d.b.ScopeVars(pr, a.Var == ArgVars)
			if err != nil {
				return nil, &Error{Warning: "Debuginfo analysis failed.\n", Summary: "Failed to add events.", Errno: errInval, Err: err}
			}
			for _, n := range names {
				fa, err := d.b.TranslateArg(pr, dwarfline.ArgSpec{Var: n}, topts)
				if err != nil {
					// Not fetchable here (perf skips what has no
					// location; gperf also what no fetch-arg can
					// express, which perf would fetch wrongly).
					o.debug("%s: skipping %s: %v\n", a.Var, n, err)
					continue
				}
				out = append(out, FetchArg{Name: n, Value: fa.Value, Type: fa.Type})
			}
		case !a.IsCVar():
			fa := FetchArg{Value: a.Var, Type: a.Type}
			if a.HasName {
				fa.Name = a.Name
			}
			out = append(out, fa)
		default:
			o.debug("Searching '%s' variable in context.\n", a.Var)
			var fs []dwarfline.Field
			for _, f := range a.Fields {
				fs = append(fs, dwarfline.Field{Name: f.Name, Index: f.Index, IsIndex: f.IsIndex(), Ref: f.Ref})
			}
			fa, err := d.b.TranslateArg(pr, dwarfline.ArgSpec{Var: a.Var, Fields: fs, Type: a.Type, User: a.User}, topts)
			if err != nil {
				return nil, argError(err)
			}
			out = append(out, FetchArg{Name: a.EventArgName(), Value: fa.Value, Type: fa.Type})
		}
	}
	return out, nil
}

// resolveError turns a dwarfline failure to place a probe into perf's
// report of it.
func resolveError(sp *Spec, err error) error {
	var sl *dwarfline.SharedLineError
	var tm *dwarfline.TooManyError
	switch {
	case errors.As(err, &tm):
		return &Error{Warning: tm.Perf(), Summary: "Failed to add events.", Errno: err2big, Err: err}
	case errors.As(err, &sl):
		return &Error{Warning: sl.Perf(), Summary: "Failed to add events.", Errno: errNoent, Err: err}
	case errors.Is(err, dwarfline.ErrNotFound):
		return &Error{Warning: fmt.Sprintf("Probe point '%s' not found.\n", sp.Point.String()), Summary: "Failed to add events.", Errno: errNoent, Err: err}
	case errors.Is(err, dwarfline.ErrNotSupported):
		return &Error{Detail: "gperf: " + err.Error() + "\n", Summary: "Failed to add events.", Errno: errNotsup, Err: err}
	}
	return &Error{Detail: "gperf: " + err.Error() + "\n", Summary: "Failed to add events.", Errno: errInval, Err: err}
}

// argError turns a failed argument translation into perf's report of it,
// with gperf's own reason when it refuses what perf would fetch wrongly.
func argError(err error) error {
	var ae *dwarfline.ArgError
	if !errors.As(err, &ae) {
		return &Error{Warning: "Debuginfo analysis failed.\n", Detail: "gperf: " + err.Error() + "\n", Summary: "Failed to add events.", Errno: errInval, Err: err}
	}
	pe := &Error{Summary: "Failed to add events.", Err: err}
	switch {
	case errors.Is(err, dwarfline.ErrNotFound), errors.Is(err, dwarfline.ErrNoLocation):
		pe.Errno = errNoent
	case errors.Is(err, dwarfline.ErrNotSupported):
		pe.Errno = errNotsup
	default:
		pe.Errno = errInval
	}
	msg := ae.Perf
	if msg != "" && !strings.HasSuffix(msg, "\n") {
		msg += "\n"
	}
	if strings.HasPrefix(msg, "Failed to find the location") {
		pe.Detail = msg
	} else {
		pe.Warning = msg
	}
	if ae.Reason != "" {
		// Name the variable: a probe may have several arguments.
		pe.Detail += "gperf: " + ae.Var + ": " + ae.Reason + "\n"
	}
	return pe
}

// PointAt maps an address back to a source point as perf -l shows it
// (debuginfo__find_probe_point).
func (d *dwarfInfo) PointAt(vaddr uint64) (Point, bool) {
	loc, err := d.b.PointAt(vaddr)
	if err != nil || loc.Function == "" && loc.File == "" {
		return Point{}, false
	}
	return Point{Function: loc.Function, File: loc.File, Line: loc.Line, Offset: loc.Offset}, true
}

// SymbolAt names the function symbol holding an address, in dwarfline's
// address layout (which places a module's sections apart). Of aliases at
// one address perf takes the first of the symbol table (probe keeps
// aliases: symbol_conf.allow_aliases), so gperf does too.
func (d *dwarfInfo) SymbolAt(vaddr uint64) (string, uint64, bool) {
	syms, err := d.b.Symbols()
	if err != nil {
		return "", 0, false
	}
	for _, s := range syms {
		if s.Type != elf.STT_FUNC || s.Value > vaddr {
			continue
		}
		if vaddr < s.Value+s.Size || vaddr == s.Value {
			return s.Name, s.Value, true
		}
	}
	return "", 0, false
}
