package tracefs

import (
	"errors"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrNotSupported is wrapped by every error saying the running kernel lacks
// a feature (see UnsupportedFeatureError).
var ErrNotSupported = errors.New("not supported by this kernel")

// ErrBusy matches (errors.Is) a KernelError whose cause is EBUSY: the event
// is enabled in tracefs or open by a perf_event_open user, so the kernel
// refuses to remove it (kernel/trace/trace_uprobe.c, unregister_trace_uprobe:
// trace_probe_is_enabled / trace_event_dyn_busy).
var ErrBusy = errors.New("event is in use")

// UnsupportedFeatureError says the kernel was built without a feature gperf
// needs. It matches ErrNotSupported with errors.Is.
type UnsupportedFeatureError struct {
	Feature string // the tracefs file or facility: "kprobe_events", "tracefs"
	Config  string // the kernel option providing it: "CONFIG_KPROBE_EVENTS"
}

func (e *UnsupportedFeatureError) Error() string {
	what := strings.TrimSuffix(e.Feature, "_events")
	if e.Config == "" {
		return "this kernel has no " + what + " support"
	}
	return "this kernel has no " + what + " support (" + e.Config + ")"
}

// Is makes errors.Is(err, ErrNotSupported) true.
func (e *UnsupportedFeatureError) Is(target error) bool { return target == ErrNotSupported }

// KernelError is a write the kernel refused: a probe definition, a removal,
// an enable. Log holds the kernel's own explanation from tracefs error_log
// when it wrote one (kernel/trace/trace.c, tracing_log_err): the
// "[time] trace_uprobe: error: <reason>" line, the "  Command: <def>" line
// and the caret line pointing at the offending position.
type KernelError struct {
	Op     string // "add uprobe", "remove uprobe", "enable event", ...
	Def    string // what was written, e.g. "p:grp/ev /bin/true:0x1000 a=%di"
	Reason string // the reason from error_log ("Unknown type is specified"), or ""
	Log    string // the whole error_log entry, lines joined with "\n", or ""
	Err    error  // the errno of the write (a unix.Errno)
}

func (e *KernelError) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	b.WriteString(" \"")
	b.WriteString(e.Def)
	b.WriteString("\": ")
	switch {
	case e.Reason != "":
		b.WriteString(e.Reason)
		b.WriteString(" (")
		b.WriteString(errText(e.Err))
		b.WriteString(")")
	default:
		b.WriteString(e.meaning())
	}
	// The Command and caret lines, without the timestamped header.
	if _, rest, ok := strings.Cut(e.Log, "\n"); ok && rest != "" {
		b.WriteString("\n")
		b.WriteString(rest)
	}
	return b.String()
}

// meaning turns the errno of a refused write into what it means for
// tracefs writes.
func (e *KernelError) meaning() string {
	var errno unix.Errno
	if !errors.As(e.Err, &errno) {
		return errText(e.Err)
	}
	switch errno {
	case unix.EEXIST:
		return "event already exists (" + errText(e.Err) + ")"
	case unix.ENOENT:
		if strings.HasPrefix(e.Op, "remove") {
			return "no such event (" + errText(e.Err) + ")"
		}
	case unix.EBUSY:
		return "event is in use: enabled, or open by perf (" + errText(e.Err) + ")"
	case unix.EPERM, unix.EACCES:
		return errText(e.Err) + " (tracefs writes need root)"
	case unix.EINVAL:
		return "the kernel rejected it (" + errText(e.Err) + "; no error_log explanation)"
	}
	return errText(e.Err)
}

func errText(err error) string {
	if err == nil {
		return "unknown error"
	}
	return err.Error()
}

// Unwrap returns the errno, so errors.Is(err, os.ErrExist) holds for a
// duplicate and errors.Is(err, os.ErrNotExist) for a missing event.
func (e *KernelError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrBusy) true for EBUSY.
func (e *KernelError) Is(target error) bool {
	return target == ErrBusy && errors.Is(e.Err, unix.EBUSY)
}
