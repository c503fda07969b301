package probe

import (
	"fmt"
	"strconv"
	"strings"
)

// Spec is a parsed probe definition (perf's struct perf_probe_event):
//
//	[[GROUP:]EVENT=]FUNC[@SRC][:RLN|+OFFS|%return|;PTN] [ARG ...]
//	[[GROUP:]EVENT=]SRC:ALN [ARG ...]
//	[[GROUP:]EVENT=]SRC;PTN [ARG ...]
//	%[GROUP:]SDT_EVENT[@TARGET]  (or sdt_PROVIDER:EVENT)
type Spec struct {
	// Group and Event are the names given with GROUP:EVENT=, or empty.
	// ParseSpec fills Event in as FUNC_L<line> for a function line probe,
	// as perf does.
	Group, Event string
	Point        Point
	Args         []Arg
	// SDT marks a statically defined tracepoint (%provider:name); Target is
	// the binary named after '@' in that form.
	SDT    bool
	Target string
}

// Point is where a probe goes (perf's struct perf_probe_point).
type Point struct {
	Function string // function name, or "0x..." for an absolute address
	File     string // source file (FUNC@SRC or SRC:LINE)
	Line     int    // relative to the function, or absolute with File alone
	Offset   uint64 // bytes from the function's entry
	Return   bool   // %return
	Lazy     string // the ;PTN pattern, escapes kept; "" when none
	HasLazy  bool
	// AbsAddress is the address of a "0x..." Function.
	AbsAddress uint64
}

// IsAbsolute reports whether the point is an absolute address ("0x1234").
func (p Point) IsAbsolute() bool { return strings.HasPrefix(p.Function, "0x") }

// ParseSpec parses a probe definition with perf's rules
// (parse_perf_probe_command in tools/perf/util/probe-event.c). Arguments
// are split at white space. Errors are *SemanticError with perf's words.
func ParseSpec(s string) (*Spec, error) {
	sp, _, err := parseSpec(s, nil)
	return sp, err
}

// parseSpec is ParseSpec writing perf's -v trace to tr (when not nil); it
// also returns the argument count perf reports ("N arguments"), which is
// known once the probe point parsed.
func parseSpec(s string, tr *strings.Builder) (*Spec, int, error) {
	if tr == nil {
		tr = &strings.Builder{}
	}
	argv := strings.Fields(s)
	if len(argv) == 0 {
		return nil, 0, semanticf(errInval, "Probe definition is empty.")
	}
	if len(argv)-1 > MaxArgs {
		return nil, 0, semanticf(errRange, "Too many probe arguments (%d).", len(argv)-1)
	}
	sp := &Spec{}
	if err := sp.parsePoint(argv[0]); err != nil {
		return nil, 0, err
	}
	p := &sp.Point
	if p.Function == "" && p.File == "" && !sp.SDT {
		return nil, 0, semanticf(errInval, "No function or source file is given.")
	}
	lazy := "(null)"
	if p.HasLazy {
		lazy = p.Lazy
	}
	if !sp.SDT {
		fmt.Fprintf(tr, "symbol:%s file:%s line:%d offset:%d return:%d lazy:%s\n",
			orNull(p.Function), orNull(p.File), p.Line, p.Offset, b2i(p.Return), lazy)
	}
	nargs := len(argv) - 1
	if sp.Event == "" && p.Function != "" && p.Line != 0 && !p.HasLazy && p.Offset == 0 {
		sp.Event = fmt.Sprintf("%s_L%d", p.Function, p.Line)
	}
	for _, s := range argv[1:] {
		a, err := parseArg(s, tr)
		if err != nil {
			return nil, nargs, err
		}
		if a.IsCVar() && p.Return {
			return nil, nargs, semanticf(errInval, "You can't specify local variable for kretprobe.")
		}
		sp.Args = append(sp.Args, a)
	}
	return sp, nargs, nil
}

// isSDT reports whether a point names an SDT event (perf's is_sdt_event).
func isSDT(s string) bool {
	return strings.HasPrefix(s, "%") ||
		strings.HasPrefix(s, "sdt_") && strings.Contains(s, ":") && !strings.Contains(s, "=")
}

// indexAnyEsc is strpbrk that skips characters escaped with '\'
// (perf's strpbrk_esc).
func indexAnyEsc(s, chars string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			continue
		}
		if strings.IndexByte(chars, s[i]) >= 0 {
			return i
		}
	}
	return -1
}

// unescape removes the backslashes of escaped characters (strdup_esc).
func unescape(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func (sp *Spec) parseEventName(s string) error {
	if i := indexAnyEsc(s, ":"); i >= 0 {
		g := s[:i]
		if !sp.SDT && !isCName(g) {
			return semanticf(errInval, "%s is bad for event name -it must follow C symbol-naming rule.", g)
		}
		sp.Group = unescape(g)
		s = s[i+1:]
	}
	sp.Event = unescape(s)
	if !sp.SDT && !isCName(sp.Event) {
		sp.Group, sp.Event = "", ""
		return semanticf(errInval, "%s is bad for event name -it must follow C symbol-naming rule.", s)
	}
	return nil
}

func (sp *Spec) parsePoint(arg string) error {
	p := &sp.Point
	if isSDT(arg) {
		sp.SDT = true
		arg = strings.TrimPrefix(arg, "%")
		if i := indexAnyEsc(arg, ";=@+%"); i >= 0 {
			if arg[i] != '@' {
				return semanticf(errInval, "%s must be an SDT name.", arg)
			}
			sp.Target = unescape(arg[i+1:])
			arg = arg[:i]
		}
		if err := sp.parseEventName(arg); err != nil {
			return err
		}
		p.Function = "%" + sp.Event
		return nil
	}

	if i := indexAnyEsc(arg, ";=@+%"); i >= 0 && arg[i] == '=' {
		if err := sp.parseEventName(arg[:i]); err != nil {
			return err
		}
		arg = arg[i+1:]
	}

	// arg is a file spec only if it has none of "+@%", has one of ":;",
	// and has a '.' before it.
	fileSpec := false
	if indexAnyEsc(arg, "+@%") < 0 {
		if i := indexAnyEsc(arg, ";:"); i >= 0 && strings.Contains(arg[:i], ".") {
			fileSpec = true
		}
	}

	head, rest, sep := cutAnyEsc(arg, ";:+@%")
	var name string
	if head != "" {
		name = unescape(head)
	}
	if fileSpec {
		p.File = name
	} else {
		p.Function = name
		if strings.HasPrefix(name, "0x") {
			a, err := strconv.ParseUint(name[2:], 16, 64)
			if err != nil || name == "0x" {
				return semanticf(errInval, "Invalid absolute address.")
			}
			p.AbsAddress = a
		}
	}

	for sep != 0 {
		c := sep
		if c == ';' { // the lazy pattern is the last part
			p.Lazy, p.HasLazy = rest, true
			break
		}
		var part string
		part, rest, sep = cutAnyEsc(rest, ";:+@%")
		switch c {
		case ':':
			n, ok := parseCULong(part)
			if !ok {
				return semanticf(errInval, "There is non-digit char in line number.")
			}
			p.Line = int(int32(n))
		case '+':
			n, ok := parseCULong(part)
			if !ok {
				return semanticf(errInval, "There is non-digit character in offset.")
			}
			p.Offset = n
		case '@':
			if p.File != "" {
				return semanticf(errInval, "SRC@SRC is not allowed.")
			}
			p.File = unescape(part)
		case '%':
			if part != "return" {
				return semanticf(errNotsup, "%%%s is not supported.", part)
			}
			p.Return = true
		}
	}

	switch {
	case p.HasLazy && p.Line != 0:
		return semanticf(errInval, "Lazy pattern can't be used with line number.")
	case p.HasLazy && p.Offset != 0:
		return semanticf(errInval, "Lazy pattern can't be used with offset.")
	case p.Line != 0 && p.Offset != 0:
		return semanticf(errInval, "Offset can't be used with line number.")
	case p.Line == 0 && !p.HasLazy && p.File != "" && p.Function == "":
		return semanticf(errInval, "File always requires line number or lazy pattern.")
	case p.Offset != 0 && p.Function == "":
		return semanticf(errInval, "Offset requires an entry function.")
	case (p.Offset != 0 || p.Line != 0 || p.HasLazy) && p.Return:
		return semanticf(errInval, "Offset/Line/Lazy pattern can't be used with return probe.")
	}
	return nil
}

// cutAnyEsc splits s at the first unescaped character of chars, returning
// what precedes it, what follows it, and the character (0 when none).
func cutAnyEsc(s, chars string) (before, after string, sep byte) {
	i := indexAnyEsc(s, chars)
	if i < 0 {
		return s, "", 0
	}
	return s[:i], s[i+1:], s[i]
}

// parseCULong parses s as strtoul(s, &end, 0) with *end required to be the
// terminating NUL: an empty string is 0, as in perf.
func parseCULong(s string) (uint64, bool) {
	if s == "" {
		return 0, true
	}
	if s[0] == '+' {
		s = s[1:]
	}
	if s == "" || strings.ContainsAny(s, "_+-") || strings.HasPrefix(s, "0b") || strings.HasPrefix(s, "0o") ||
		strings.HasPrefix(s, "0B") || strings.HasPrefix(s, "0O") {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 0, 64)
	return n, err == nil
}

// String formats the point as perf shows it (synthesize_perf_probe_point):
// `func+off`, `func:line`, `func%return`, then `@file` (its last 30 bytes
// at most) and, for a file alone, `:line`. A lazy pattern is not shown.
func (p Point) String() string {
	var b strings.Builder
	if p.Function != "" {
		b.WriteString(p.Function)
		switch {
		case p.Offset != 0:
			fmt.Fprintf(&b, "+%d", p.Offset)
		case p.Line != 0:
			fmt.Fprintf(&b, ":%d", p.Line)
		case p.Return:
			b.WriteString("%return")
		}
	}
	if p.File != "" {
		f := p.File
		if len(f) > 30 {
			tail := f[len(f)-30:]
			if i := strings.IndexByte(tail, '/'); i >= 0 {
				f = tail[i+1:]
			} else {
				f = tail
			}
		}
		b.WriteString("@" + f)
		if p.Function == "" && p.Line != 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
	}
	return b.String()
}

// String formats the whole definition as perf does for its probe cache
// (synthesize_perf_probe_command): `group:event=point args...`.
func (sp *Spec) String() string {
	var b strings.Builder
	if sp.Event != "" {
		g := sp.Group
		if g == "" {
			g = DefaultGroup
		}
		b.WriteString(g + ":" + sp.Event + "=")
	}
	b.WriteString(sp.Point.String())
	for _, a := range sp.Args {
		b.WriteString(" " + a.String())
	}
	return b.String()
}

// NeedsDebuginfo reports whether the definition can only be resolved with
// DWARF (perf_probe_event_need_dwarf): a file, a line, a lazy pattern or a
// C variable argument.
func (sp *Spec) NeedsDebuginfo() bool {
	p := sp.Point
	if p.File != "" || p.Line != 0 || p.HasLazy {
		return true
	}
	return sp.hasVars()
}

// hasVars reports whether any argument is a C variable, $vars or $params
// (perf_probe_with_var).
func (sp *Spec) hasVars() bool {
	for _, a := range sp.Args {
		if a.NeedsDebuginfo() {
			return true
		}
	}
	return false
}
