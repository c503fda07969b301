package probe

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/gperf-dev/gperf/tracefs"
	"golang.org/x/sys/unix"
)

// MaxProbes is the default limit of probe points one definition may
// resolve to, and of definitions in one command (perf's MAX_PROBES).
const MaxProbes = 128

// Options are the settings of a probe command, as perf probe's options.
type Options struct {
	// Exec is the user binary of -x: probes are uprobes on it.
	Exec string
	// Module is the kernel module of -m: a name (loaded module) or the
	// path of a .ko (offline).
	Module string
	// Vmlinux is the kernel image with DWARF of -k.
	Vmlinux string
	// SourceDir is the source tree of -s.
	SourceDir string

	Force     bool // -f: add events with existing names (suffix _N)
	DryRun    bool // -n: resolve and name, but write nothing
	MaxProbes int  // --max-probes; 0 means MaxProbes
	NoInlines bool // --no-inlines: ignore inlined instances
	Verbose   int  // -v count; -1 is -q

	// Tracefs is where probes are added, listed and deleted; nil finds
	// the system's (tracefs.Open).
	Tracefs *tracefs.FS

	// Stdout and Stderr receive what perf prints there; nil discards.
	Stdout, Stderr io.Writer
}

func (o *Options) maxProbes() int {
	if o.MaxProbes <= 0 {
		return MaxProbes
	}
	return o.MaxProbes
}

func (o *Options) stdout() io.Writer {
	if o.Stdout == nil {
		return io.Discard
	}
	return o.Stdout
}

// info prints a message perf prints with pr_info or pr_warning (hidden by
// -q).
func (o *Options) info(format string, args ...any) {
	if o.Verbose >= 0 && o.Stderr != nil {
		fmt.Fprintf(o.Stderr, format, args...)
	}
}

// debug prints a message perf prints with pr_debug (shown by -v).
func (o *Options) debug(format string, args ...any) {
	if o.Verbose > 0 && o.Stderr != nil {
		fmt.Fprintf(o.Stderr, format, args...)
	}
}

func (o *Options) tracefs() (*tracefs.FS, error) {
	if o.Tracefs != nil {
		return o.Tracefs, nil
	}
	fs, err := tracefs.Open()
	if err != nil {
		return nil, err
	}
	o.Tracefs = fs
	return fs, nil
}

// readme returns the tracefs README, or "" when there is none; perf
// checks it for optional kernel features.
func (o *Options) readme() string {
	fs, err := o.tracefs()
	if err != nil {
		return ""
	}
	s, err := fs.Readme()
	if err != nil {
		return ""
	}
	return s
}

// multiprobe reports whether the kernel can append probes to an existing
// event (README "Create/append/", Linux 5.6+): then every point of one
// definition shares its event name (perf's multiprobe_event_is_supported).
func (o *Options) multiprobe() bool { return strings.Contains(o.readme(), "Create/append/") }

// Request is what to probe: the probe definitions of -a/-D options and of
// the positional arguments.
type Request struct {
	// Specs are definitions given one per option (-a, -D).
	Specs []string
	// Args are the positional arguments, which perf joins with spaces into
	// one more definition; a first argument that is an absolute path is
	// the target binary (or module, for a .ko), as in
	// `perf probe /bin/foo main`.
	Args []string
}

// Event is one probe added (or, in a dry run, that would be).
type Event struct {
	Def  *Definition
	Spec *Spec
}

// parseRequest parses the definitions of a request, moving an absolute
// path out of the positional arguments into the target.
func parseRequest(r Request, o *Options) ([]*Spec, error) {
	specs := append([]string(nil), r.Specs...)
	args := r.Args
	if len(args) > 0 && o.Exec == "" && o.Module == "" && strings.HasPrefix(args[0], "/") {
		if strings.HasSuffix(args[0], ".ko") {
			o.Module = args[0]
		} else {
			o.Exec = args[0]
		}
		args = args[1:]
	}
	if len(args) > 0 {
		// perf binds the arguments up with a space after each.
		specs = append(specs, strings.Join(args, " ")+" ")
	}
	if len(specs) >= MaxProbes {
		return nil, &Error{Detail: fmt.Sprintf("Too many probes (> %d) were specified.", MaxProbes), Summary: "Command Parse Error.", Errno: err2big}
	}
	var out []*Spec
	for i, s := range specs {
		o.debug("probe-definition(%d): %s\n", i, s)
		var tr strings.Builder
		sp, nargs, err := parseSpec(s, &tr)
		var se *SemanticError
		if errors.As(err, &se) && o.Verbose > 0 {
			// perf prints its parse trace, the error, then the count.
			se.Trace = tr.String()
			se.After = fmt.Sprintf("%d arguments\n", nargs)
		}
		if err != nil {
			return nil, err
		}
		o.debug("%s%d arguments\n", tr.String(), nargs)
		out = append(out, sp)
	}
	if len(out) == 0 {
		return nil, semanticf(errInval, "No probe definition is given.")
	}
	return out, nil
}

func orNull(s string) string {
	if s == "" {
		return "(null)"
	}
	return s
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Resolve turns probe definitions into kprobe/uprobe definitions without
// naming or adding them: it only reads the target binary (or the running
// kernel's symbols), so it needs no privileges. Each result's Group is set
// and Event is the base name before collision suffixes.
func Resolve(r Request, o Options) ([]Event, error) {
	specs, err := parseRequest(r, &o)
	if err != nil {
		return nil, err
	}
	return resolveAll(specs, &o, false)
}

// resolveAll resolves the specs on one target; adding is set for Add,
// whose kernel probes perf places relative to _text (textRelative).
func resolveAll(specs []*Spec, o *Options, adding bool) ([]Event, error) {
	t, err := openTarget(o)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	var evs []Event
	for _, sp := range specs {
		defs, err := t.resolve(sp, o)
		if err != nil {
			return nil, err
		}
		for _, d := range defs {
			evs = append(evs, Event{Def: d, Spec: sp})
		}
	}
	t.textRelative(evs, o, adding)
	return evs, nil
}

// ShowDefinitions resolves and names the definitions and prints each as it
// would be written to k/uprobe_events, one per line on Stdout, touching
// nothing (perf probe -D). Names are made unique among themselves only.
func ShowDefinitions(r Request, o Options) ([]Event, error) {
	oneShot()
	specs, err := parseRequest(r, &o)
	if err != nil {
		return nil, err
	}
	evs, err := resolveAll(specs, &o, false)
	if err != nil {
		return nil, err
	}
	if err := nameEvents(evs, Names{}, true, o.multiprobe()); err != nil {
		return nil, err
	}
	for _, ev := range evs {
		fmt.Fprintln(o.stdout(), ev.Def.String())
	}
	return evs, nil
}

// nameEvents gives each event its group and a free name (perf's
// probe_trace_event__set_name): the first point of a definition may take
// a suffix only if force is set; later points of the same definition
// always may. With multiprobe, names chosen here are not added to used,
// so all points of a definition share one event.
func nameEvents(evs []Event, used Names, force, multiprobe bool) error {
	var last *Spec
	allow := force
	for _, ev := range evs {
		if ev.Spec != last {
			last, allow = ev.Spec, force
		}
		d := ev.Def
		base := eventBase(ev.Spec, d.Func)
		name, err := newEventName(base, used, d.Return, allow)
		if err != nil {
			return err
		}
		d.Event = name
		if ev.Spec.Group != "" && !ev.Spec.SDT {
			d.Group = ev.Spec.Group
		}
		if !multiprobe {
			used[name] = true
		}
		allow = true
	}
	return nil
}

// Add resolves the probe definitions, names the events and writes them to
// kprobe_events or uprobe_events (nothing with DryRun), then prints what
// perf prints: "Added new event:", one line per event, and how to use
// it. If the kernel refuses one definition, the events added before it by
// this call are removed again, so a failed Add leaves nothing behind.
func Add(r Request, o Options) ([]Event, error) {
	oneShot()
	specs, err := parseRequest(r, &o)
	if err != nil {
		return nil, err
	}
	evs, err := resolveAll(specs, &o, true)
	if err != nil {
		return nil, err
	}
	if err := apply(evs, &o); err != nil {
		return nil, err
	}
	o.info("Added new event%s\n", map[bool]string{true: "s:", false: ":"}[len(evs) > 1])
	var last *Definition
	for _, ev := range evs {
		o.info("%s\n", showEvent(ev.Def.Group, ev.Def.Event, ev.Spec.Point, showModule(ev.Def), specArgs(ev.Spec)))
		last = ev.Def
	}
	if last != nil {
		o.info("\nYou can now use it in all perf tools, such as:\n\n")
		o.info("\tperf record -e %s:%s -aR sleep 1\n\n", last.Group, last.Event)
	}
	return evs, nil
}

// showModule is the " in ..." part of an event line: the binary of a
// uprobe, the module of a kprobe, nothing for the kernel.
func showModule(d *Definition) string { return d.Path }

func specArgs(sp *Spec) []string {
	var s []string
	for _, a := range sp.Args {
		s = append(s, a.String())
	}
	return s
}

// showEvent formats an event as perf shows it after adding it and in -l
// (perf_probe_event__sprintf):
//
//	probe_ldlm:ldlm_res_hash_dump_L6 (on ldlm_res_hash_dump:6 in /bin/ldlm with res level)
func showEvent(group, event string, p Point, module string, args []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  %-20s (on %s", group+":"+event, p.String())
	if module != "" {
		b.WriteString(" in " + module)
	}
	if len(args) > 0 {
		b.WriteString(" with")
		for _, a := range args {
			b.WriteString(" " + a)
		}
	}
	b.WriteByte(')')
	return b.String()
}

// apply names the events against those already in the kernel and writes
// them, undoing its own writes on failure.
func apply(evs []Event, o *Options) error {
	if len(evs) == 0 {
		return nil
	}
	kind := tracefs.Kprobe
	if evs[0].Def.Uprobe {
		kind = tracefs.Uprobe
	}
	fs, err := o.tracefs()
	if err != nil && !o.DryRun {
		return addError(err)
	}
	used := Names{}
	if fs != nil {
		o.debug("Opening %s write=%d\n", filepath.Join(fs.Dir, kind.File()), b2i(!o.DryRun))
		probes, err := fs.Probes(kind)
		switch {
		case err == nil:
			for _, p := range probes {
				used[p.Event] = true
			}
		case o.DryRun && errors.Is(err, tracefs.ErrNotSupported):
			// A dry run for a kernel without this probe kind (an
			// offline vmlinux or .ko): no names are taken.
		default:
			return addError(err)
		}
	}
	multi := o.multiprobe()
	// Name each definition's points, then write them. Naming all first
	// would differ from perf only when writing fails.
	var added []*Definition
	undo := func() {
		for i := len(added) - 1; i >= 0; i-- {
			d := added[i]
			if err := fs.RemoveProbe(kind, d.Group, d.Event); err != nil && !errors.Is(err, os.ErrNotExist) {
				o.info("Failed to remove event %s after a failed add: %v\n", d.GroupEvent(), err)
			}
		}
	}
	for i := range evs {
		if err := nameEvents(evs[i:i+1], used, o.Force || (i > 0 && evs[i-1].Spec == evs[i].Spec), multi); err != nil {
			undo()
			return err
		}
		d := evs[i].Def
		def := d.String()
		o.debug("Writing event: %s\n", def)
		if o.DryRun {
			continue
		}
		if err := fs.AddProbe(kind, def); err != nil {
			undo()
			return addError(err)
		}
		// Several points of one definition share an event (multiprobe):
		// remove it once.
		if len(added) == 0 || added[len(added)-1].GroupEvent() != d.GroupEvent() {
			added = append(added, d)
		}
	}
	return nil
}

// addError wraps a tracefs failure as perf's "Failed to add events."
func addError(err error) error {
	var ue *tracefs.UnsupportedFeatureError
	var ke *tracefs.KernelError
	pe := &Error{Summary: "Failed to add events.", Err: err}
	switch {
	case errors.As(err, &ue):
		// perf's words (probe-file.c, print_open_warning), then ours.
		pe.Errno = errNoent
		pe.Warning = fmt.Sprintf("%s file does not exist - please rebuild kernel with %s.\n", ue.Feature, ue.Config)
		pe.Detail = "gperf: " + ue.Error() + ".\n"
	case errors.As(err, &ke):
		pe.Errno = errInval
		if errno := errnoOf(ke.Err); errno != 0 {
			pe.Errno = errno
		}
		pe.Warning = fmt.Sprintf("Failed to write event: %s\n", strerror(pe.Errno))
		if ke.Reason != "" || ke.Log != "" {
			pe.Detail = kernelExplanation(ke)
		}
	default:
		pe.Errno = errnoOf(err)
		pe.Detail = err.Error() + "\n"
	}
	return pe
}

// errnoOf returns the errno inside err, or 0.
func errnoOf(err error) unix.Errno {
	var errno unix.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return 0
}

// kernelExplanation is the kernel's error_log entry for a refused
// definition, without its timestamp: the reason, the command and the caret
// under the offending word.
func kernelExplanation(ke *tracefs.KernelError) string {
	var b strings.Builder
	if ke.Reason != "" {
		b.WriteString("The kernel says: " + ke.Reason + "\n")
	}
	if _, rest, ok := strings.Cut(ke.Log, "\n"); ok && rest != "" {
		b.WriteString(strings.TrimRight(rest, "\n") + "\n")
	}
	return b.String()
}
