package probe

import (
	"cmp"
	"debug/elf"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// debugInfo is the DWARF side of a target: it finds the probe points of a
// definition and translates its arguments into fetch-args, and maps
// addresses back to source for -l.
type debugInfo interface {
	// ProbePoints resolves a definition's point and arguments.
	ProbePoints(sp *Spec, o *Options, uprobe bool) ([]probePoint, error)
	// PointAt describes an address in source terms
	// (debuginfo__find_probe_point); ok is false when DWARF has nothing.
	PointAt(vaddr uint64) (p Point, ok bool)
	// SymbolAt names the function symbol holding an address.
	SymbolAt(vaddr uint64) (name string, start uint64, ok bool)
	Close() error
}

// probePoint is one address a definition resolved to, with its arguments.
type probePoint struct {
	VAddr  uint64     // the address, as DWARF and the symbols see it
	Func   string     // the function (symbol) the address is in
	Name   string     // the scope's name, for event names (perf's realname)
	Offset uint64     // VAddr - Func's entry
	Args   []FetchArg // the translated arguments
}

func sortSymbols(s []symbol) {
	slices.SortStableFunc(s, func(a, b symbol) int { return cmp.Compare(a.Addr, b.Addr) })
}

// resolve turns one definition into kprobe/uprobe definitions (perf's
// convert_to_probe_trace_events): an absolute address as is, then DWARF,
// then the symbol table.
func (t *target) resolve(sp *Spec, o *Options) ([]*Definition, error) {
	group := sp.Group
	if group == "" || sp.SDT {
		if t.uprobe {
			g, err := ExecGroup(t.path)
			if err != nil {
				return nil, err
			}
			group = g
		} else {
			group = DefaultGroup
		}
	}
	if sp.SDT {
		return nil, &Error{
			Detail:  "gperf: SDT events come from perf's probe cache (perf buildid-cache --add), which gperf does not read.\n",
			Summary: "Failed to add events.",
			Errno:   errNoent,
		}
	}
	for _, a := range sp.Args {
		if a.User && !strings.Contains(o.readme(), "u]<offset>") {
			return nil, semanticf(errInval, "ftrace does not support user access")
		}
	}
	var defs []*Definition
	var err error
	switch {
	case sp.Point.IsAbsolute() && !sp.NeedsDebuginfo():
		defs, err = t.absolute(sp)
	case sp.Point.Return:
		// perf 6.1 places return probes from the symbol table even with
		// DWARF (a workaround for gcc's -fpatchable-function-entry).
		defs, err = t.fromSymbols(sp, o)
	default:
		defs, err = t.fromDebugInfo(sp, o)
	}
	if err != nil {
		return nil, err
	}
	for _, d := range defs {
		d.Group = group
	}
	return defs, nil
}

// rawArgs copies arguments that need no DWARF (registers, $retval,
// @symbol, +off(%reg) ...) into fetch-args, as perf's
// copy_to_probe_trace_arg: a name is written only when one was given.
func rawArgs(sp *Spec) []FetchArg {
	var out []FetchArg
	for _, a := range sp.Args {
		fa := FetchArg{Value: a.Var, Type: a.Type}
		if a.HasName {
			fa.Name = a.Name
		}
		out = append(out, fa)
	}
	return out
}

func (t *target) absolute(sp *Spec) ([]*Definition, error) {
	addr := sp.Point.AbsAddress
	d := &Definition{
		Return: sp.Point.Return,
		Uprobe: t.uprobe,
		Func:   fmt.Sprintf("abs_%x", addr),
		Point:  sp.Point,
		Args:   rawArgs(sp),
	}
	if t.uprobe {
		d.Path, d.Address = t.path, addr
	} else {
		d.Path, d.Address, d.Symbol = t.module, addr, fmt.Sprintf("0x%x", addr)
	}
	return []*Definition{d}, nil
}

// fromDebugInfo resolves with DWARF, falling back to the symbol table when
// the definition does not need DWARF (perf's try_to_find_probe_trace_events
// then find_probe_trace_events_from_map).
func (t *target) fromDebugInfo(sp *Spec, o *Options) ([]*Definition, error) {
	need := sp.NeedsDebuginfo()
	if t.dbg == nil {
		if need {
			if t.path == "" {
				return nil, &Error{
					Detail:  "Failed to find the path for the kernel: No such file or directory\n",
					Summary: "Failed to add events.",
					Errno:   errNoent,
				}
			}
			return nil, noDebugError(t.path, !t.uprobe)
		}
		o.debug("Could not open debuginfo. Try to use symbols.\n")
		return t.fromSymbols(sp, o)
	}
	o.debug("Try to find probe point from debuginfo.\n")
	pts, err := t.dbg.ProbePoints(sp, o, t.uprobe)
	if err != nil {
		if need || t.bin == nil {
			return nil, err
		}
		// perf falls back to the symbol table when DWARF analysis fails
		// and the definition does not need it.
		// perf has printed its warning about the failure by then.
		var pe *Error
		if errors.As(err, &pe) && pe.Warning != "" {
			o.info("%s", pe.Warning)
		}
		o.debug("An error occurred in debuginfo analysis: %v\nTrying to use symbols.\n", err)
		return t.fromSymbols(sp, o)
	}
	if len(pts) == 0 {
		p := sp.Point
		if !need && p.File == "" && t.bin != nil && len(t.bin.matchSymbols(p.Function)) > 0 {
			// A function the symbol table has and DWARF does not
			// (assembly, aliases): gperf probes the symbol.
			return t.fromSymbols(sp, o)
		}
		warn := ""
		if p.Function != "" && p.File == "" && !isGlob(p.Function) && t.uprobe {
			// perf retries with the symbol's address
			// (find_alternative_probe_point), which it takes as a file
			// offset; where that is not an address DWARF knows, it says
			// so.
			if idx := t.bin.matchSymbols(p.Function); len(idx) > 0 {
				if fo, err := t.bin.fileOffset(t.bin.syms[idx[0]].Addr); err == nil {
					if _, ok := t.dbg.PointAt(fo); !ok {
						warn = fmt.Sprintf("Failed to find debug information for address %x\n", fo)
					}
				}
			}
		}
		return nil, &Error{Warning: warn + fmt.Sprintf("Probe point '%s' not found.\n", sp.Point.String()), Summary: "Failed to add events.", Errno: errNoent}
	}
	if len(pts) > o.maxProbes() {
		return nil, &Error{Warning: fmt.Sprintf("Too many( > %d) probe point found.\n", o.maxProbes()), Summary: "Failed to add events.", Errno: errRange}
	}
	o.debug("Found %d probe_trace_events.\n", len(pts))
	var defs []*Definition
	for _, pt := range pts {
		d := &Definition{Return: sp.Point.Return, Uprobe: t.uprobe, Func: pt.Name, VAddr: pt.VAddr, Point: sp.Point, Args: pt.Args}
		if err := t.place(d, pt.VAddr, pt.Func, pt.Offset); err != nil {
			return nil, err
		}
		defs = append(defs, d)
	}
	return defs, nil
}

// place fills in where a definition probes, given the probed address and
// the function it is in.
func (t *target) place(d *Definition, vaddr uint64, fn string, off uint64) error {
	switch {
	case t.uprobe:
		fo, err := t.bin.fileOffset(vaddr)
		if err != nil {
			return &Error{Detail: err.Error() + "\n", Summary: "Failed to add events.", Errno: errInval, Err: err}
		}
		d.Path, d.Address = t.path, fo
	case t.online && t.kallsyms != nil && t.bin == nil:
		d.Symbol, d.Offset = "_text", vaddr-t.textAddr
	case t.bin.f.Type == elf.ET_REL:
		// A module: the ELF symbol holding the address in dwarfline's
		// layout of its sections (gcc's .constprop/.isra clones are not
		// in DWARF), as perf's post_process_probe_trace_point; else the
		// function DWARF found.
		if t.dbg != nil {
			if name, start, ok := t.dbg.SymbolAt(vaddr); ok {
				fn, off = name, vaddr-start
			}
		}
		d.Path, d.Symbol, d.Offset = t.module, fn, off
	default:
		// An offline vmlinux: the ELF symbol holding the address, as
		// perf's post_process_probe_trace_point (gcc's .isra/.constprop
		// clones are not in DWARF).
		if i := t.bin.symbolAt(vaddr); i >= 0 {
			fn, off = t.bin.syms[i].Name, vaddr-t.bin.syms[i].Addr
		}
		d.Path, d.Symbol, d.Offset = t.module, fn, off
	}
	return nil
}

// fromSymbols places the probe from the symbol table alone (perf's
// find_probe_trace_events_from_map).
func (t *target) fromSymbols(sp *Spec, o *Options) ([]*Definition, error) {
	p := sp.Point
	syms := t.bin
	where := t.path
	if t.online && t.kallsyms != nil {
		syms, where = t.kallsyms, "kernel"
	}
	if syms == nil {
		return nil, &Error{Detail: "Failed to find the path for the kernel: No such file or directory\n", Summary: "Failed to add events.", Errno: errNoent}
	}
	if where == "" {
		where = "kernel"
	}
	idx := syms.matchSymbols(p.Function)
	if len(idx) == 0 {
		return nil, &Error{Detail: fmt.Sprintf("Failed to find symbol %s in %s\n", p.Function, where), Summary: "Failed to add events.", Errno: errNoent}
	}
	if len(idx) > o.maxProbes() {
		return nil, &Error{Detail: fmt.Sprintf("Too many functions matched in %s\n", where), Summary: "Failed to add events.", Errno: err2big}
	}
	var defs []*Definition
	for _, i := range idx {
		s := syms.syms[i]
		if s.Type != elf.STT_FUNC && syms != t.kallsyms {
			continue
		}
		if size := syms.symbolEnd(i) - s.Addr; p.Offset > size && syms != t.kallsyms {
			return nil, &Error{Warning: fmt.Sprintf("Offset %d is bigger than the size of %s\n", p.Offset, s.Name), Summary: "Failed to add events.", Errno: errNoent}
		}
		d := &Definition{Return: p.Return, Uprobe: t.uprobe, Func: s.Name, VAddr: s.Addr + p.Offset, Point: p, Args: rawArgs(sp)}
		switch {
		case t.uprobe:
			fo, err := t.bin.fileOffset(s.Addr)
			if err != nil {
				return nil, &Error{Detail: err.Error() + "\n", Summary: "Failed to add events.", Errno: errInval, Err: err}
			}
			d.Path, d.Address = t.path, fo+p.Offset
		case syms == t.kallsyms:
			if p.Return && !strings.Contains(o.readme(), "place (kretprobe): ") {
				d.Symbol, d.Offset = s.Name, p.Offset
			} else {
				d.Symbol, d.Offset = "_text", s.Addr+p.Offset-t.textAddr
			}
		default:
			d.Path, d.Symbol, d.Offset = t.module, s.Name, p.Offset
		}
		defs = append(defs, d)
	}
	if len(defs) == 0 {
		return nil, &Error{Detail: fmt.Sprintf("Failed to find symbol %s in %s\n", p.Function, where), Summary: "Failed to add events.", Errno: errNoent}
	}
	return defs, nil
}
