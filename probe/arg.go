package probe

import (
	"fmt"
	"strconv"
	"strings"
)

// MaxArgs is how many arguments one probe definition may have (perf's
// MAX_PROBE_ARGS).
const MaxArgs = 128

// Special argument names that expand to several variables at resolve time.
const (
	ArgVars   = "$vars"   // all local variables and parameters in scope
	ArgParams = "$params" // all parameters of the function
)

// Arg is one probe argument, `[NAME=]VAR[FIELDS][@user][:TYPE]`, as perf's
// struct perf_probe_arg (tools/perf/util/probe-event.h).
type Arg struct {
	// Name is what the fetched value is called in the event. It is the
	// NAME= prefix when given (possibly empty); otherwise, for a field
	// chain, perf names it after the last member that is not an array
	// index (`res->lr_name.name[0]` is called `name`). HasName is false
	// when neither applies.
	Name    string
	HasName bool
	// Var is a C variable, a register (%di), a symbol (@sym), $retval,
	// $comm, $vars, $params, or any raw fetch-arg (+8(%si)).
	Var string
	// Fields are the member and index accesses after Var, in order.
	Fields []Field
	// Type is the cast after ':' (u32, string, x64, b3@0/32 ...); HasType
	// is true also for an empty cast ("var:").
	Type    string
	HasType bool
	// User is set by the `@user` suffix: dereference user memory.
	User bool
}

// Field is one step of a field chain: `->name`, `.name` or `[index]`.
type Field struct {
	// Name is the member name, or "[N]" as written for an array index.
	Name  string
	Index int64 // the array index when Name starts with '['
	Ref   bool  // true for `->` and `[N]` (the step dereferences)
}

// IsIndex reports whether the field is an array index.
func (f Field) IsIndex() bool { return strings.HasPrefix(f.Name, "[") }

// IsCVar reports whether the argument names a C variable (perf's
// is_c_varname: it starts with a letter or '_').
func (a Arg) IsCVar() bool { return isCVarname(a.Var) }

// NeedsDebuginfo reports whether resolving the argument needs DWARF: C
// variables, $vars and $params.
func (a Arg) NeedsDebuginfo() bool {
	return a.IsCVar() || a.Var == ArgVars || a.Var == ArgParams
}

func isCVarname(s string) bool {
	return s != "" && (isAlpha(s[0]) || s[0] == '_')
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isCName reports whether s follows the C identifier rules perf requires
// of event, group and function names (is_c_func_name).
func isCName(s string) bool {
	if s == "" || !(isAlpha(s[0]) || s[0] == '_') {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isAlpha(c) && !isDigit(c) && c != '_' {
			return false
		}
	}
	return true
}

// ParseArg parses one probe argument with perf's rules
// (parse_perf_probe_arg in tools/perf/util/probe-event.c). The returned
// errors are *SemanticError with perf's wording.
func ParseArg(s string) (Arg, error) { return parseArg(s, nil) }

// parseArg is ParseArg writing perf's -v trace of the parse to tr (when
// not nil).
func parseArg(s string, tr *strings.Builder) (Arg, error) {
	if tr == nil {
		tr = &strings.Builder{}
	}
	var a Arg
	str := s
	fmt.Fprintf(tr, "parsing arg: %s into ", str)
	if i := strings.IndexByte(str, '='); i >= 0 {
		a.Name, a.HasName = str[:i], true
		str = str[i+1:]
		fmt.Fprintf(tr, "name:%s ", a.Name)
	}
	if i := strings.IndexByte(str, '@'); i > 0 && str[i+1:] == "user" {
		a.User = true
		str = str[:i]
		tr.WriteString("user_access ")
	}
	if i := strings.IndexByte(str, ':'); i >= 0 {
		a.Type, a.HasType = str[i+1:], true
		str = str[:i]
		fmt.Fprintf(tr, "type:%s ", a.Type)
	}
	t := strings.IndexAny(str, "-.[")
	if !isCVarname(str) || t < 0 {
		// A variable, register, symbol or special value.
		a.Var = str
		fmt.Fprintf(tr, "%s\n", a.Var)
		return a, nil
	}

	// Structure fields or array elements.
	a.Var = str[:t]
	goodname := a.Var
	fmt.Fprintf(tr, "%s, ", a.Var)
	for {
		var f Field
		if str[t] == '[' {
			str = str[t:]
			end := 1
			for end < len(str) && str[end] != ']' {
				end++
			}
			idx, ok := parseCLong(str[1:end])
			if end >= len(str) || end == 1 || !ok {
				return Arg{}, semanticf(errInval, "Array index must be a number.")
			}
			f.Index, f.Ref = idx, true
			t = end + 1
			if t == len(str) {
				t = -1
			}
		} else {
			switch {
			case str[t] == '.':
				str = str[t+1:]
			case t+1 < len(str) && str[t+1] == '>':
				str = str[t+2:]
				f.Ref = true
			default:
				return Arg{}, semanticf(errInval, "Argument parse error: %s", str)
			}
			t = strings.IndexAny(str, "-.[")
		}
		if t < 0 {
			f.Name = str
			if !strings.HasPrefix(str, "[") {
				goodname = f.Name
			}
			a.Fields = append(a.Fields, f)
			fmt.Fprintf(tr, "%s(%d)\n", f.Name, b2i(f.Ref))
			break
		}
		f.Name = str[:t]
		if !strings.HasPrefix(str, "[") {
			goodname = f.Name
		}
		a.Fields = append(a.Fields, f)
		fmt.Fprintf(tr, "%s(%d), ", f.Name, b2i(f.Ref))
	}
	if !a.HasName {
		a.Name, a.HasName = goodname, true
	}
	return a, nil
}

// parseCLong parses an integer as strtol(s, &end, 0) does when the whole
// of s must be consumed: optional sign, then decimal, 0x hex or 0 octal.
func parseCLong(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	neg := false
	switch s[0] {
	case '+', '-':
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" || s[0] == '+' || s[0] == '-' {
		return 0, false
	}
	u, err := strconv.ParseUint(s, 0, 64)
	if err != nil || strings.Contains(s, "_") || strings.HasPrefix(s, "0b") || strings.HasPrefix(s, "0o") {
		return 0, false
	}
	if neg {
		return -int64(u), true
	}
	return int64(u), true
}

// String formats the argument as perf does when it shows an event
// (synthesize_perf_probe_arg): `name=var->field[1]:type`, or just the
// variable when the name adds nothing.
func (a Arg) String() string {
	var b strings.Builder
	switch {
	case a.HasName:
		b.WriteString(a.Name)
		b.WriteByte('=')
		b.WriteString(a.Var)
	default:
		b.WriteString(a.Var)
	}
	for _, f := range a.Fields {
		if f.IsIndex() {
			b.WriteString(f.Name)
		} else if f.Ref {
			b.WriteString("->" + f.Name)
		} else {
			b.WriteString("." + f.Name)
		}
	}
	if a.HasType {
		b.WriteString(":" + a.Type)
	}
	return b.String()
}

// EventArgName is the name the argument gets in the trace event when the
// user gave none: perf writes the argument itself with ':' turned into '_'
// (probe-finder.c find_variable), so `level:x32` is called `level_x32`.
func (a Arg) EventArgName() string {
	if a.HasName {
		return a.Name
	}
	return strings.Replace(a.String(), ":", "_", 1)
}
