package tracefs

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ProbeKind selects kprobe_events or uprobe_events.
type ProbeKind int

const (
	Kprobe ProbeKind = iota + 1 // kernel probe (Documentation/trace/kprobetrace.rst)
	Uprobe                      // user-space probe (Documentation/trace/uprobetracer.rst)
)

// ErrInvalidKind is returned for a ProbeKind that is neither Kprobe nor
// Uprobe.
var ErrInvalidKind = errors.New("invalid probe kind")

func (k ProbeKind) valid() bool { return k == Kprobe || k == Uprobe }

// String returns "kprobe" or "uprobe".
func (k ProbeKind) String() string {
	switch k {
	case Kprobe:
		return "kprobe"
	case Uprobe:
		return "uprobe"
	}
	return "ProbeKind(" + strconv.Itoa(int(k)) + ")"
}

// File returns the tracefs file holding the kind's definitions.
func (k ProbeKind) File() string { return k.String() + "_events" }

// Config returns the kernel option that provides the kind.
func (k ProbeKind) Config() string {
	switch k {
	case Kprobe:
		return "CONFIG_KPROBE_EVENTS"
	case Uprobe:
		return "CONFIG_UPROBE_EVENTS"
	}
	return ""
}

// Probe is one probe definition, as written to or listed by
// kprobe_events/uprobe_events:
//
//	p[:[GRP/]EVENT] TARGET [ARGS]     a probe
//	r[MAXACTIVE][:[GRP/]EVENT] TARGET [ARGS]   a return probe
//
// The kernel lists each probe with group and event filled in and uprobe
// offsets zero-padded: "p:grp/ev /bin/true:0x0000000000001000 a=%di".
type Probe struct {
	Kind      ProbeKind
	Return    bool   // "r": a return probe
	MaxActive int    // the N of a kretprobe "rN:", 0 when absent
	Group     string // empty when the definition leaves it to the kernel
	Event     string // empty when the definition leaves it to the kernel
	// Target is the probed place: "/path:0xOFF[(0xREF)]" for uprobes,
	// "[MOD:]SYM[+OFF]" or an address for kprobes.
	Target string
	// Args are the fetch arguments, verbatim: "a=+0(%di):u64".
	Args []string
}

// String returns the definition line, without a newline.
func (p Probe) String() string {
	var b strings.Builder
	if p.Return {
		b.WriteByte('r')
		if p.MaxActive > 0 {
			b.WriteString(strconv.Itoa(p.MaxActive))
		}
	} else {
		b.WriteByte('p')
	}
	if p.Group != "" || p.Event != "" {
		b.WriteByte(':')
		if p.Group != "" {
			b.WriteString(p.Group + "/")
		}
		b.WriteString(p.Event)
	}
	b.WriteString(" " + p.Target)
	for _, a := range p.Args {
		b.WriteString(" " + a)
	}
	return b.String()
}

// TraceEvent returns the probe's event; meaningful once the group and event are
// known (always, for probes listed by the kernel).
func (p Probe) TraceEvent() Event { return Event{System: p.Group, Name: p.Event} }

// ParseProbe parses one definition line of kind.
func ParseProbe(kind ProbeKind, line string) (Probe, error) {
	p := Probe{Kind: kind}
	fail := func(msg string) (Probe, error) {
		return Probe{}, fmt.Errorf("parse %s definition %q: %s", kind, clip(line), msg)
	}
	if !kind.valid() {
		return fail("invalid probe kind")
	}
	f := strings.Fields(line)
	if len(f) < 2 {
		return fail("want a probe type and a target")
	}
	head, name, hasName := strings.Cut(f[0], ":")
	switch {
	case head == "p":
	case strings.HasPrefix(head, "r"):
		p.Return = true
		if n := head[1:]; n != "" {
			v, err := strconv.Atoi(n)
			if err != nil || v <= 0 {
				return fail("bad return probe type " + strconv.Quote(head))
			}
			p.MaxActive = v
		}
	default:
		return fail("type " + strconv.Quote(head) + " is not p or r")
	}
	if hasName {
		grp, ev, ok := strings.Cut(name, "/")
		if !ok {
			grp, ev = "", name
		}
		if ev == "" || (ok && grp == "") || strings.Contains(ev, "/") {
			return fail("bad event name " + strconv.Quote(name))
		}
		p.Group, p.Event = grp, ev
	}
	p.Target = f[1]
	p.Args = f[2:]
	return p, nil
}

// Probes lists the probes of kind defined in the kernel, in its order.
func (fs *FS) Probes(kind ProbeKind) ([]Probe, error) {
	if err := fs.Supports(kind); err != nil {
		return nil, fmt.Errorf("list %ss: %w", kind, err)
	}
	b, err := os.ReadFile(fs.path(kind.File()))
	if err != nil {
		return nil, fmt.Errorf("list %ss: %w", kind, err)
	}
	var ps []Probe
	for _, l := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(l) == "" {
			continue
		}
		p, err := ParseProbe(kind, l)
		if err != nil {
			return nil, fmt.Errorf("list %ss: %w", kind, err)
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// AddProbe appends one definition to kprobe_events or uprobe_events, as
// Documentation/trace/{kprobetrace,uprobetracer}.rst describe, e.g.
//
//	p:grp/ev /bin/true:0x1000 a=+0(%di):u64 s=+0(%si):string
//	r:grp/ev_ret /bin/true:0x1000 ret=$retval
//
// A refusal is a *KernelError carrying the kernel's error_log explanation;
// a duplicate wraps os.ErrExist. A kernel without the kind gives an
// *UnsupportedFeatureError (wrapping ErrNotSupported).
func (fs *FS) AddProbe(kind ProbeKind, def string) error {
	op := "add " + kind.String()
	def = strings.TrimSpace(def)
	if err := fs.Supports(kind); err != nil {
		return fmt.Errorf("%s \"%s\": %w", op, def, err)
	}
	if strings.ContainsAny(def, "\n\x00") {
		return fmt.Errorf("%s %q: a definition is one line", op, clip(def))
	}
	if _, err := ParseProbe(kind, def); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return fs.writeDef(op, kind.File(), def)
}

// RemoveProbe deletes the probe group/event ("-:group/event"). A missing
// event wraps os.ErrNotExist; an event in use matches ErrBusy.
func (fs *FS) RemoveProbe(kind ProbeKind, group, event string) error {
	op := "remove " + kind.String()
	for _, n := range [][2]string{{"group", group}, {"event", event}} {
		if err := validName(n[0], n[1]); err != nil || strings.ContainsAny(n[1], " \t") {
			return fmt.Errorf("%s %s/%s: bad %s name %q", op, group, event, n[0], n[1])
		}
	}
	if err := fs.Supports(kind); err != nil {
		return fmt.Errorf("%s %s/%s: %w", op, group, event, err)
	}
	return fs.writeDef(op, kind.File(), "-:"+group+"/"+event)
}

// writeDef appends line to the probe file and, when the kernel refuses it,
// returns a *KernelError with the error_log entry the write caused.
func (fs *FS) writeDef(op, file, line string) error {
	before := fs.errorLogEntries()
	// O_APPEND: opening for write without it truncates the file, which
	// deletes every probe (trace_uprobe.c, probes_open: O_TRUNC).
	f, err := os.OpenFile(fs.path(file), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("%s \"%s\": %w", op, line, err)
	}
	_, werr := f.WriteString(line + "\n")
	f.Close()
	if werr == nil {
		return nil
	}
	ke := &KernelError{Op: op, Def: line, Err: errnoOf(werr)}
	if e := newLogEntry(before, fs.errorLogEntries(), line); e != "" {
		ke.Log, ke.Reason = e, logReason(e)
	}
	return ke
}
