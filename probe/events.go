package probe

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/gperf-dev/gperf/tracefs"
	"golang.org/x/sys/unix"
)

// DefaultListFilter is what -l lists without a filter (perf's
// DEFAULT_LIST_FILTER).
const DefaultListFilter = "*"

// combineFilters ORs perf string filters together, as repeated -l, -d and
// --filter options are (strfilter__or).
func combineFilters(filters []string, def string) (*Filter, error) {
	if len(filters) == 0 {
		filters = []string{def}
	}
	f := &Filter{}
	for _, s := range filters {
		if err := f.Or(s); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// filterError reports a filter that does not parse, as perf does.
func filterError(err error) error {
	var fe *FilterError
	if errors.As(err, &fe) {
		// perf prints the error and its usage, and exits 129.
		return &Error{Detail: fe.Perf(), Errno: errInval, Err: err, Status: 129}
	}
	return err
}

// matchEvent reports whether a filter selects group:event, by the event
// name alone or with its group (filter_probe_trace_event).
func matchEvent(f *Filter, group, event string) bool {
	return f.Match(event) || f.Match(group+":"+event)
}

// listed is one probe read back from the kernel.
type listed struct {
	raw  string
	kind tracefs.ProbeKind
	def  *Definition
}

// kernelProbes reads kprobe_events then uprobe_events, each sorted by its
// text as perf's rawlist is; a kind the kernel lacks is skipped, and it is
// an error only if both are missing.
func kernelProbes(fs *tracefs.FS) ([]listed, error) {
	var out []listed
	var errs []error
	for _, kind := range []tracefs.ProbeKind{tracefs.Kprobe, tracefs.Uprobe} {
		ps, err := fs.Probes(kind)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var part []listed
		for _, p := range ps {
			raw := p.String()
			d, err := ParseDefinition(raw)
			if err != nil {
				continue
			}
			d.Uprobe = kind == tracefs.Uprobe
			part = append(part, listed{raw: raw, kind: kind, def: d})
		}
		sort.SliceStable(part, func(i, j int) bool { return part[i].raw < part[j].raw })
		out = append(out, part...)
	}
	if len(errs) == 2 {
		return nil, errs[0]
	}
	return out, nil
}

// List prints the probes in the kernel matching the filters (default
// "*") on Stdout as perf probe -l does: each resolved back to a source
// place through the probed binary's DWARF, or to symbol+offset:
//
//	probe_ldlm:ldlm_res_hash_dump_L6 (on ldlm_res_hash_dump:6@src/ldlm.c in /bin/ldlm with lr_refcount name)
func List(filters []string, o Options) error {
	if o.Exec != "" {
		return &Error{Detail: "  Error: Don't use --list with --exec.\n", Errno: errInval}
	}
	f, err := combineFilters(filters, DefaultListFilter)
	if err != nil {
		return filterError(err)
	}
	fs, err := o.tracefs()
	if err != nil {
		return &Error{Summary: "Failed to show event list.", Errno: errNoent, Err: err, Detail: err.Error() + "\n"}
	}
	probes, err := kernelProbes(fs)
	if err != nil {
		return &Error{Summary: "Failed to show event list.", Errno: errNoent, Err: err, Detail: err.Error() + "\n"}
	}
	cache := map[string]debugInfo{}
	bins := map[string]*binary{}
	defer func() {
		for _, d := range cache {
			if d != nil {
				d.Close()
			}
		}
		for _, b := range bins {
			if b != nil {
				b.Close()
			}
		}
	}()
	for _, l := range probes {
		d := l.def
		if !matchEvent(f, d.Group, d.Event) {
			continue
		}
		p := pointOf(d, cache, bins)
		var names []string
		for i, a := range d.Args {
			if a.Name != "" {
				names = append(names, a.Name)
			} else {
				names = append(names, fmt.Sprintf("arg%d", i+1))
			}
		}
		fmt.Fprintln(o.stdout(), showEvent(d.Group, d.Event, p, d.Path, names))
	}
	return nil
}

// pointOf maps a listed probe back to a probe point (perf's
// convert_to_perf_probe_point): DWARF first, then the symbol table, then
// the raw address.
func pointOf(d *Definition, cache map[string]debugInfo, bins map[string]*binary) Point {
	p := Point{Return: d.Return}
	if d.Uprobe {
		b, ok := bins[d.Path]
		if !ok {
			b, _ = openBinary(d.Path)
			bins[d.Path] = b
		}
		if b != nil {
			vaddr, ok := b.vaddrOf(d.Address)
			if ok {
				dbg, seen := cache[d.Path]
				if !seen {
					dbg = nil
					if b.hasDebug {
						if di, err := openDebugInfo(d.Path); err == nil {
							dbg = di
						}
					}
					cache[d.Path] = dbg
				}
				if dbg != nil {
					if q, ok := dbg.PointAt(vaddr); ok {
						q.Return = d.Return
						return q
					}
				}
				if i := b.symbolAt(vaddr); i >= 0 {
					p.Function, p.Offset = b.syms[i].Name, vaddr-b.syms[i].Addr
					return p
				}
			}
		}
		p.Function = fmt.Sprintf("0x%x", d.Address)
		return p
	}
	p.Function, p.Offset = d.Symbol, d.Offset
	if strings.HasPrefix(d.Symbol, "0x") {
		p.Offset = 0
		return p
	}
	// Without DWARF, perf finds the symbol holding the address in
	// /proc/kallsyms: _text+OFF shows as the function (+offset).
	if name, off, ok := kallsyms().resolve(d.Symbol, d.Offset); ok {
		p.Function, p.Offset = name, off
	}
	return p
}

// Delete removes the probes whose names match the filters
// ("[GROUP:]EVENT" globs; perf probe -d), printing "Removed event:
// group:event" for each on Stderr. With DryRun nothing is removed.
func Delete(filters []string, o Options) error {
	f, err := combineFilters(filters, "")
	if err != nil {
		return filterError(err)
	}
	o.debug("Delete filter: '%s'\n", f.String())
	fs, err := o.tracefs()
	if err != nil {
		return &Error{Summary: "Failed to delete events.", Errno: errNoent, Err: err, Detail: err.Error() + "\n"}
	}
	hit := false
	var missing []error
	for _, kind := range []tracefs.ProbeKind{tracefs.Kprobe, tracefs.Uprobe} {
		ps, err := fs.Probes(kind)
		if err != nil {
			missing = append(missing, err)
			continue
		}
		set := map[string]bool{}
		var names []string
		for _, p := range ps {
			n := p.Group + ":" + p.Event
			if !set[n] && matchEvent(f, p.Group, p.Event) {
				set[n] = true
				names = append(names, n)
			}
		}
		sort.Strings(names)
		for _, n := range names {
			o.info("Removed event: %s\n", n)
		}
		for _, n := range names {
			hit = true
			if o.DryRun {
				continue
			}
			g, e, _ := strings.Cut(n, ":")
			o.debug("Writing event: -:%s/%s\n", g, e)
			if err := fs.RemoveProbe(kind, g, e); err != nil && !errors.Is(err, os.ErrNotExist) {
				return &Error{
					Warning: fmt.Sprintf("Failed to delete event: %s\n", strerror(errnoOr(err, errInval))),
					Detail:  deleteExplanation(err),
					Summary: "Failed to delete events.",
					Errno:   errnoOr(err, errInval),
					Err:     err,
				}
			}
		}
	}
	if len(missing) == 2 {
		return &Error{Summary: "Failed to delete events.", Errno: errNoent, Err: missing[0], Detail: missing[0].Error() + "\n"}
	}
	if !hit {
		return &Error{Warning: fmt.Sprintf("\"%s\" does not hit any event.\n", f.String()), Summary: "Failed to delete events.", Errno: errNoent}
	}
	return nil
}

func errnoOr(err error, def unix.Errno) unix.Errno {
	if e := errnoOf(err); e != 0 {
		return e
	}
	return def
}

// deleteExplanation says why the kernel kept an event.
func deleteExplanation(err error) string {
	if errors.Is(err, tracefs.ErrBusy) {
		return "The event is in use (enabled, or open by perf record); stop its users and retry.\n"
	}
	return ""
}
