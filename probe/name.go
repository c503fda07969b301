package probe

import (
	"fmt"
	"path/filepath"
	"strings"
)

// DefaultGroup is the group of kernel probes (perf's PERFPROBE_GROUP).
const DefaultGroup = "probe"

// maxEventIndex bounds the _N suffixes tried for a free event name
// (perf's MAX_EVENT_INDEX).
const maxEventIndex = 1024

// maxNameLen is the size of the buffers perf formats group and event names
// into; a name must be shorter (e_snprintf fails at 64).
const maxNameLen = 64

// ExecGroup returns the group perf gives to probes on a user binary:
// "probe_" followed by the file's base name up to its first character
// that is not a letter, digit or '_' (convert_exec_to_group), so
// /usr/lib/libc.so.6 gives probe_libc and ldlm-O2 gives probe_ldlm.
func ExecGroup(path string) (string, error) {
	base := filepath.Base(path)
	for i := 0; i < len(base); i++ {
		c := base[i]
		if !isAlpha(c) && !isDigit(c) && c != '_' {
			base = base[:i]
			break
		}
	}
	g := DefaultGroup + "_" + base
	if len(g) >= maxNameLen {
		return "", &Error{Warning: "Failed to make a group name.\n", Summary: "Failed to add events.", Errno: err2big}
	}
	return g, nil
}

// isGlob reports whether s has glob metacharacters (perf's strisglob).
func isGlob(s string) bool { return strings.ContainsAny(s, "*?[") }

// eventBase is the name an event gets before collision suffixes
// (probe_trace_event__set_name): the name given by the user, else the
// function of the spec when it is a plain name, else the name of the
// function the probe landed in (realName: a symbol, or abs_<hex> for an
// absolute address).
func eventBase(sp *Spec, realName string) string {
	switch {
	case sp.Event != "" && !sp.SDT:
		return sp.Event
	case sp.Point.Function != "" && !strings.HasPrefix(sp.Point.Function, "0x") && !isGlob(sp.Point.Function):
		return sp.Point.Function
	}
	return realName
}

// Names is a set of event names already in use, per group-less event name
// as perf checks them (probe_file__get_namelist).
type Names map[string]bool

// newEventName returns a free event name for base (get_new_event_name in
// tools/perf/util/probe-event.c): a leading '.' and any suffix from the
// first '.' or '@' are dropped (gcc's .isra.0, .constprop.1, symbol
// versions), "__return" is added for return probes, and when the name is
// taken, _1, _2, ... is appended if allowSuffix, else it is an error.
func newEventName(base string, used Names, ret, allowSuffix bool) (string, error) {
	base = strings.TrimPrefix(base, ".")
	if i := strings.IndexAny(base, ".@"); i > 0 {
		base = base[:i]
	}
	name := base
	if ret {
		name += "__return"
	}
	if len(name) >= maxNameLen {
		return "", &Error{Warning: fmt.Sprintf("Event name %q is too long.\n", name), Summary: "Failed to add events.", Errno: err2big}
	}
	if used[name] {
		if !allowSuffix {
			return "", &Error{
				Warning: fmt.Sprintf("Error: event \"%s\" already exists.\n"+
					" Hint: Remove existing event by 'perf probe -d'\n"+
					"       or force duplicates by 'perf probe -f'\n"+
					"       or set 'force=yes' in BPF source.\n", name),
				Summary: "Failed to add events.",
				Errno:   errExist,
			}
		}
		i := 1
		for ; i < maxEventIndex; i++ {
			name = fmt.Sprintf("%s_%d", base, i)
			if len(name) >= maxNameLen {
				return "", &Error{Warning: fmt.Sprintf("Event name %q is too long.\n", name), Summary: "Failed to add events.", Errno: err2big}
			}
			if !used[name] {
				break
			}
		}
		if i == maxEventIndex {
			return "", &Error{Warning: "Too many events are on the same function.\n", Summary: "Failed to add events.", Errno: errRange}
		}
	}
	if !isCName(name) {
		return "", &Error{Warning: fmt.Sprintf("Internal error: \"%s\" is an invalid event name.\n", name), Summary: "Failed to add events.", Errno: errInval}
	}
	return name, nil
}
