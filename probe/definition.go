package probe

import (
	"fmt"
	"strconv"
	"strings"
)

// Definition is one kprobe or uprobe as written to kprobe_events or
// uprobe_events (perf's struct probe_trace_event). One Spec can give
// several: a line with several addresses, an inlined function's instances,
// a glob matching several functions.
type Definition struct {
	Group, Event string
	Return       bool // r: a return probe
	Uprobe       bool
	// Path is the binary of a uprobe (absolute), or the module of a kprobe
	// ("" for the kernel itself).
	Path string
	// Address is a uprobe's file offset in Path, or a kprobe's absolute
	// address when Symbol is "0x...".
	Address uint64
	// Symbol and Offset place a kprobe (symbol+offset).
	Symbol string
	Offset uint64
	// RefCtrOffset is a uprobe's semaphore (SDT) file offset, or 0.
	RefCtrOffset uint64
	Args         []FetchArg

	// Point is where the probe is in source terms, as perf shows it in
	// "(on ...)" and -l; Func is the function the probe landed in (the
	// event name of a SRC:LINE probe) and VAddr the probed address as
	// the binary's symbols and DWARF see it. They are not written to the
	// kernel.
	Point Point
	Func  string
	VAddr uint64
}

// FetchArg is one argument of a definition: name=value:type. An empty
// Name lets the kernel call it argN.
type FetchArg struct {
	Name  string
	Value string // the fetch-arg: %di, -8(%bp), +24(-8(%bp)), @sym+8, $retval
	Type  string // u32, string, b3@0/32, ... or "" for the kernel's default
}

// String writes the argument as in a definition, without the leading
// space (synthesize_probe_trace_arg).
func (a FetchArg) String() string {
	s := a.Value
	if a.Name != "" {
		s = a.Name + "=" + s
	}
	if a.Type != "" {
		s += ":" + a.Type
	}
	return s
}

// String returns the definition exactly as perf writes it
// (synthesize_probe_trace_command in tools/perf/util/probe-event.c):
//
//	p:probe_ldlm/ldlm_res_hash_dump_L6 /bin/ldlm:0x11f6 res=-8(%bp):u64
//	r:probe/vfs_read__return vfs_read+0 arg1=$retval
func (d *Definition) String() string {
	var b strings.Builder
	kind := 'p'
	if d.Return {
		kind = 'r'
	}
	fmt.Fprintf(&b, "%c:%s/%s ", kind, d.Group, d.Event)
	b.WriteString(d.Place())
	for _, a := range d.Args {
		b.WriteByte(' ')
		b.WriteString(a.String())
	}
	return b.String()
}

// Place is the probed location part of the definition: path:0xoffset for
// a uprobe, [module:]symbol+offset or [module:]0xaddress for a kprobe.
func (d *Definition) Place() string {
	if d.Uprobe {
		s := fmt.Sprintf("%s:0x%x", d.Path, d.Address)
		if d.RefCtrOffset != 0 {
			s += fmt.Sprintf("(0x%x)", d.RefCtrOffset)
		}
		return s
	}
	mod := ""
	if d.Path != "" {
		mod = d.Path + ":"
	}
	if strings.HasPrefix(d.Symbol, "0x") {
		return fmt.Sprintf("%s0x%x", mod, d.Address)
	}
	return fmt.Sprintf("%s%s+%d", mod, d.Symbol, d.Offset)
}

// ParseDefinition parses a line of kprobe_events or uprobe_events as the
// kernel lists it (parse_probe_trace_command): only the names, the place
// and the arguments are read back; Point, Func and VAddr are left empty.
func ParseDefinition(line string) (*Definition, error) {
	argv := strings.Fields(line)
	if len(argv) < 2 {
		return nil, fmt.Errorf("parse probe definition %q: too few fields", line)
	}
	head := argv[0]
	kind, rest, ok := strings.Cut(head, ":")
	group, event, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || kind == "" || group == "" || event == "" {
		return nil, fmt.Errorf("parse probe definition %q: bad event name %q", line, head)
	}
	if kind != "p" && (kind[0] != 'r' || strings.Trim(kind[1:], "0123456789") != "") {
		return nil, fmt.Errorf("parse probe definition %q: bad probe type %q", line, kind)
	}
	d := &Definition{Group: group, Event: event, Return: kind[0] == 'r'}
	place := argv[1]
	if i := strings.IndexByte(place, ':'); i >= 0 {
		d.Path = place[:i]
		d.Uprobe = strings.HasPrefix(d.Path, "/")
		place = place[i+1:]
	}
	if d.Uprobe {
		if i := strings.IndexByte(place, '('); i >= 0 {
			ref := strings.TrimSuffix(place[i+1:], ")")
			n, err := strconv.ParseUint(ref, 0, 64)
			if err != nil {
				return nil, fmt.Errorf("parse probe definition %q: bad ref_ctr_offset %q", line, ref)
			}
			d.RefCtrOffset = n
			place = place[:i]
		}
	}
	sym, off, hasOff := strings.Cut(place, "+")
	if strings.HasPrefix(sym, "0") {
		n, err := strconv.ParseUint(sym, 0, 64)
		if err != nil {
			return nil, fmt.Errorf("parse probe definition %q: bad address %q", line, sym)
		}
		d.Address = n
		if !d.Uprobe {
			d.Symbol = fmt.Sprintf("0x%x", n)
		}
	} else {
		d.Symbol = sym
		if hasOff {
			n, err := strconv.ParseUint(off, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("parse probe definition %q: bad offset %q", line, off)
			}
			d.Offset = n
		}
	}
	for _, a := range argv[2:] {
		var fa FetchArg
		if name, val, ok := strings.Cut(a, "="); ok {
			fa.Name, fa.Value = name, val
		} else {
			fa.Value = a
		}
		// The type follows the first ':' outside parentheses.
		if i := typeColon(fa.Value); i >= 0 {
			fa.Value, fa.Type = fa.Value[:i], fa.Value[i+1:]
		}
		if fa.Value == "" {
			return nil, fmt.Errorf("parse probe definition %q: empty argument %q", line, a)
		}
		d.Args = append(d.Args, fa)
	}
	return d, nil
}

// typeColon returns the index of the ':' that starts a fetch-arg's type,
// or -1. A ':' inside parentheses or after '@' (an address like
// @sym) belongs to the value only in odd cases; the kernel lists types last.
func typeColon(v string) int {
	depth := 0
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '(':
			depth++
		case ')':
			depth--
		case ':':
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// GroupEvent returns "group:event".
func (d *Definition) GroupEvent() string { return d.Group + ":" + d.Event }
