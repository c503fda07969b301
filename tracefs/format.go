package tracefs

import (
	"fmt"
	"strconv"
	"strings"
)

// Format is a parsed events/<system>/<event>/format file: the layout of an
// event's raw record and how the kernel prints it.
type Format struct {
	System string // the event's system (group), when known; ParseFormat leaves it empty
	Name   string // from the "name:" line
	ID     int    // from the "ID:" line; the perf_event_attr.config of the tracepoint

	// CommonFields are the fields before the first blank line
	// (common_type, common_flags, ...); Fields are the event's own.
	CommonFields, Fields []Field

	// PrintFmt is the text after "print fmt: ", verbatim.
	PrintFmt string
	// PrintFmtString is the quoted format of PrintFmt with adjacent
	// strings concatenated and the escapes \n, \t, \r and \\ replaced
	// as libtraceevent's printer does; any other escaped character stands
	// for itself (\" is "). Beware that a literal \% thus becomes %.
	PrintFmtString string
	// PrintFmtArgs are the arguments after the format, split at top-level
	// commas and trimmed, e.g. "REC->prev_comm", "__get_str(s)".
	PrintFmtArgs []string
}

// Field is one "field:" line of a format file.
type Field struct {
	// Decl is the declaration as written after "field:", e.g.
	// "char prev_comm[16]" or "__data_loc char[] s".
	Decl string
	// Name is the field name ("prev_comm"); Type its C type without the
	// name, array brackets and __data_loc/__rel_loc ("char",
	// "unsigned long", "const char *").
	Name, Type string
	Offset     int
	Size       int
	Signed     bool
	// Array is true for a declaration with brackets: "long args[6]",
	// "u8 arr[]", "__data_loc char[] s".
	Array bool
	// ArrayLen is the element count written in the brackets (the product
	// for several dimensions), 0 when it is not an array or the brackets
	// hold no plain number (as libtraceevent's arraylen).
	ArrayLen int
	DataLoc  bool // __data_loc: the field holds a u32 (len<<16 | offset from the record start)
	RelLoc   bool // __rel_loc: like __data_loc, offset relative to the field's end
}

// String returns the field as it appears in a format file, without the
// leading tab.
func (f Field) String() string {
	s := 0
	if f.Signed {
		s = 1
	}
	return fmt.Sprintf("field:%s;\toffset:%d;\tsize:%d;\tsigned:%d;", f.Decl, f.Offset, f.Size, s)
}

// IsString reports whether the field holds characters (a char array or a
// dynamic char array), as libtraceevent's TEP_FIELD_IS_STRING.
func (f Field) IsString() bool {
	return f.Array && strings.Contains(f.Type, "char")
}

// IsPointer reports whether the field's type is a pointer.
func (f Field) IsPointer() bool { return strings.HasSuffix(f.Type, "*") }

// Field returns the named field, looking at the event's own fields first,
// then the common ones; nil if there is none.
func (f *Format) Field(name string) *Field {
	for i := range f.Fields {
		if f.Fields[i].Name == name {
			return &f.Fields[i]
		}
	}
	for i := range f.CommonFields {
		if f.CommonFields[i].Name == name {
			return &f.CommonFields[i]
		}
	}
	return nil
}

// SyntaxError is a format file that does not parse. Line counts from 1.
type SyntaxError struct {
	Event string // the name: line if already read, else empty
	Line  int
	Msg   string
}

func (e *SyntaxError) Error() string {
	if e.Event != "" {
		return fmt.Sprintf("parse format of %s: line %d: %s", e.Event, e.Line, e.Msg)
	}
	return fmt.Sprintf("parse format: line %d: %s", e.Line, e.Msg)
}

// maxFormatSize bounds the input ParseFormat accepts; real format files are
// a few kilobytes (sched_switch is under 2 KiB).
const maxFormatSize = 1 << 20

// ParseFormat parses the text of an event's format file, as the kernel
// writes it (kernel/trace/trace_events.c, f_show) and as perf stores it in
// perf.data's tracing data. The input is untrusted: any malformed input
// gives a *SyntaxError, never a panic.
func ParseFormat(data []byte) (*Format, error) {
	f := &Format{}
	fail := func(line int, format string, args ...any) (*Format, error) {
		return nil, &SyntaxError{Event: f.Name, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	if len(data) > maxFormatSize {
		return fail(1, "file is %d bytes, larger than %d", len(data), maxFormatSize)
	}
	lines := strings.Split(string(data), "\n")
	const (
		header = iota
		common
		own
		afterFields
	)
	state := header
	var haveName, haveID, haveFormat, havePrint bool
	for i, raw := range lines {
		ln := i + 1
		line := strings.TrimRight(raw, "\r")
		trimmed := strings.TrimSpace(line)
		switch {
		case havePrint:
			// consumed with the print fmt: line
		case strings.HasPrefix(line, "name:") && state == header:
			if haveName {
				return fail(ln, "second name: line")
			}
			f.Name = strings.TrimSpace(line[len("name:"):])
			haveName = true
		case strings.HasPrefix(line, "ID:") && state == header:
			if haveID {
				return fail(ln, "second ID: line")
			}
			id, err := strconv.Atoi(strings.TrimSpace(line[len("ID:"):]))
			if err != nil || id < 0 {
				return fail(ln, "bad ID %q", clip(strings.TrimSpace(line[len("ID:"):])))
			}
			f.ID, haveID = id, true
		case trimmed == "format:" && state == header:
			haveFormat = true
			state = common
		case strings.HasPrefix(trimmed, "field:"):
			if state != common && state != own {
				return fail(ln, "field outside the format: section")
			}
			fd, err := parseFieldLine(trimmed)
			if err != nil {
				return fail(ln, "%v", err)
			}
			if state == common {
				f.CommonFields = append(f.CommonFields, fd)
			} else {
				f.Fields = append(f.Fields, fd)
			}
		case trimmed == "":
			switch state {
			case common:
				if len(f.CommonFields) > 0 {
					state = own
				}
			case own:
				state = afterFields
			}
		case strings.HasPrefix(line, "print fmt:"):
			if !haveFormat {
				return fail(ln, "print fmt before format:")
			}
			// The format may hold raw newlines (ext4_fsmap_*), so
			// print fmt runs to the end of the file.
			rest := strings.Join(lines[i:], "\n")
			f.PrintFmt = strings.TrimSuffix(strings.TrimPrefix(rest[len("print fmt:"):], " "), "\n")
			s, args, err := splitPrintFmt(f.PrintFmt)
			if err != nil {
				return fail(ln, "print fmt: %v", err)
			}
			f.PrintFmtString, f.PrintFmtArgs = s, args
			havePrint = true
			state = afterFields
		default:
			return fail(ln, "unexpected line %q", clip(line))
		}
	}
	switch {
	case !haveName:
		return fail(1, "no name: line")
	case !haveID:
		return fail(1, "no ID: line")
	case !haveFormat:
		return fail(1, "no format: line")
	case !havePrint:
		return fail(len(lines), "no print fmt: line")
	}
	return f, nil
}

// clip shortens untrusted text quoted in an error message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// parseFieldLine parses
// "field:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:0;".
func parseFieldLine(line string) (Field, error) {
	var fd Field
	var haveOffset, haveSize bool
	for _, part := range strings.Split(line, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		key, val, ok := strings.Cut(part, ":")
		if !ok {
			return fd, fmt.Errorf("field attribute %q has no colon", clip(part))
		}
		switch key {
		case "field":
			if err := parseDecl(strings.TrimSpace(val), &fd); err != nil {
				return fd, err
			}
		case "offset", "size", "signed":
			n, err := strconv.Atoi(strings.TrimSpace(val))
			if err != nil || n < 0 {
				return fd, fmt.Errorf("field %s: bad %s %q", fd.Name, key, clip(val))
			}
			switch key {
			case "offset":
				fd.Offset, haveOffset = n, true
			case "size":
				fd.Size, haveSize = n, true
			default:
				fd.Signed = n != 0
			}
		default:
			// Unknown attributes are ignored, as libtraceevent does for
			// anything after size (older kernels lack signed:).
		}
	}
	switch {
	case fd.Decl == "":
		return fd, fmt.Errorf("field line has no declaration")
	case !haveOffset:
		return fd, fmt.Errorf("field %s: no offset", fd.Name)
	case !haveSize:
		return fd, fmt.Errorf("field %s: no size", fd.Name)
	}
	return fd, nil
}

// parseDecl splits a C declaration such as "unsigned long args[6]",
// "const char * name" or "__data_loc char[] s" into fd.
func parseDecl(decl string, fd *Field) error {
	fd.Decl = decl
	s := decl
	switch {
	case strings.HasPrefix(s, "__data_loc "):
		fd.DataLoc = true
		s = strings.TrimSpace(s[len("__data_loc "):])
	case strings.HasPrefix(s, "__rel_loc "):
		fd.RelLoc = true
		s = strings.TrimSpace(s[len("__rel_loc "):])
	}
	s, dims, err := cutDims(s)
	if err != nil {
		return fmt.Errorf("field %q: %w", clip(decl), err)
	}
	end := len(s)
	start := end
	for start > 0 && isIdent(s[start-1]) {
		start--
	}
	if start == end || (s[start] >= '0' && s[start] <= '9') {
		return fmt.Errorf("field %q: no field name", clip(decl))
	}
	fd.Name = s[start:end]
	typ := strings.TrimSpace(s[:start])
	// "__data_loc char[] s": the brackets sit on the type.
	typ, tdims, err := cutDims(typ)
	if err != nil {
		return fmt.Errorf("field %q: %w", clip(decl), err)
	}
	dims = append(tdims, dims...)
	if typ == "" {
		return fmt.Errorf("field %q: no type", clip(decl))
	}
	fd.Type = typ
	if len(dims) > 0 {
		fd.Array = true
		n := 1
		for _, d := range dims {
			v, err := strconv.ParseInt(strings.Trim(strings.TrimSpace(d), "()"), 0, 32)
			if err != nil || v <= 0 || int64(n)*v > 1<<30 {
				n = 0
				break
			}
			n *= int(v)
		}
		fd.ArrayLen = n
	}
	return nil
}

// cutDims removes trailing bracket groups ("[16]", "[]") from s and returns
// their contents in order.
func cutDims(s string) (string, []string, error) {
	var dims []string
	s = strings.TrimSpace(s)
	for strings.HasSuffix(s, "]") {
		depth := 0
		i := len(s) - 1
		for ; i >= 0; i-- {
			if s[i] == ']' {
				depth++
			} else if s[i] == '[' {
				depth--
				if depth == 0 {
					break
				}
			}
		}
		if i < 0 {
			return "", nil, fmt.Errorf("unbalanced brackets")
		}
		dims = append([]string{s[i+1 : len(s)-1]}, dims...)
		s = strings.TrimSpace(s[:i])
	}
	return s, dims, nil
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// splitPrintFmt splits `"fmt" "more", REC->a, f(b, c)` into the
// concatenated, unescaped format and its arguments. Strings are read as
// libtraceevent's tokenizer reads them (tools/lib/traceevent/event-parse.c,
// __read_token: a backslash protects the next character, "\\" cancels
// itself, adjacent strings are joined), then unescaped as its printer does.
func splitPrintFmt(s string) (string, []string, error) {
	i := skipSpace(s, 0)
	if i >= len(s) || s[i] != '"' {
		return "", nil, fmt.Errorf("does not start with a quoted string")
	}
	var raw strings.Builder
	for i < len(s) && s[i] == '"' {
		j := i + 1
		for {
			if j >= len(s) {
				return "", nil, fmt.Errorf("unterminated string")
			}
			if s[j] == '\\' {
				if j+1 >= len(s) {
					return "", nil, fmt.Errorf("unterminated string")
				}
				j += 2
				continue
			}
			if s[j] == '"' {
				break
			}
			j++
		}
		raw.WriteString(s[i+1 : j])
		i = skipSpace(s, j+1)
	}
	str := unescape(raw.String())
	if i >= len(s) {
		return str, nil, nil
	}
	if s[i] != ',' {
		return "", nil, fmt.Errorf("expected a comma after the format at column %d", i+1)
	}
	args, err := splitArgs(s[i+1:])
	if err != nil {
		return "", nil, err
	}
	return str, args, nil
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// unescape replaces the escapes libtraceevent's printer knows.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// splitArgs splits a C argument list at commas outside (), [], {} and
// quotes, and trims each argument.
func splitArgs(s string) ([]string, error) {
	var args []string
	var stack []byte
	start := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\'':
			j := i + 1
			for ; j < len(s) && s[j] != c; j++ {
				if s[j] == '\\' {
					j++
				}
			}
			if j >= len(s) {
				return nil, fmt.Errorf("unterminated quote in arguments")
			}
			i = j
		case '(', '[', '{':
			if len(stack) >= 1000 {
				return nil, fmt.Errorf("arguments nested too deep")
			}
			stack = append(stack, c)
		case ')', ']', '}':
			open := map[byte]byte{')': '(', ']': '[', '}': '{'}[c]
			if len(stack) == 0 || stack[len(stack)-1] != open {
				return nil, fmt.Errorf("unbalanced %q in arguments", c)
			}
			stack = stack[:len(stack)-1]
		case ',':
			if len(stack) == 0 {
				args = append(args, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	if len(stack) > 0 {
		return nil, fmt.Errorf("unclosed %q in arguments", stack[len(stack)-1])
	}
	args = append(args, strings.TrimSpace(s[start:]))
	for k, a := range args {
		if a == "" {
			return nil, fmt.Errorf("empty argument %d", k+1)
		}
	}
	return args, nil
}

// String renders the format file text again, as the kernel writes it; for a
// file ParseFormat accepted from the kernel the result is byte-identical.
func (f *Format) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "name: %s\nID: %d\nformat:\n", f.Name, f.ID)
	for _, fd := range f.CommonFields {
		b.WriteString("\t" + fd.String() + "\n")
	}
	b.WriteString("\n")
	for _, fd := range f.Fields {
		b.WriteString("\t" + fd.String() + "\n")
	}
	b.WriteString("\nprint fmt: " + f.PrintFmt + "\n")
	return b.String()
}
