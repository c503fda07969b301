package script

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"

	"github.com/gperf-dev/gperf/tracefs"
)

// This file evaluates a trace event's "print fmt" the way perf 6.1's
// built-in libtraceevent does (tools/lib/traceevent/event-parse.c):
// the same tokenizer, the same (quirky) operator precedence, the same
// unsigned 64-bit arithmetic, casts, __print_* helpers and printf
// conversions, and the same "[FAILED TO PARSE]" fallback when the format
// cannot be parsed. The format is compiled once per event; Append then
// formats one raw record without allocating.

// KernelSymbols resolves kernel addresses for %pS/%ps conversions, as perf's
// machine__resolve_kernel_addr does for libtraceevent.
type KernelSymbols interface {
	// KernelSymbol returns the symbol containing addr and its start.
	KernelSymbol(addr uint64) (name string, start uint64, ok bool)
}

// PrintEnv is what print fmts may consult besides the record: kernel
// symbols for %pS and the printk formats of the tracing data (for char *
// fields that point at constant kernel strings).
type PrintEnv struct {
	Syms   KernelSymbols
	Printk map[uint64]string
}

// ParsePrintk reads a printk_formats text ("0xaddr : \"fmt\"" lines) as
// libtraceevent's parse_ftrace_printk.
func ParsePrintk(text []byte) map[uint64]string {
	m := map[uint64]string{}
	for _, line := range strings.Split(string(text), "\n") {
		addr, f, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		a := strings.TrimSpace(addr)
		a = strings.TrimPrefix(strings.TrimPrefix(a, "0x"), "0X")
		v, err := strconv.ParseUint(a, 16, 64)
		if err != nil {
			continue
		}
		if len(f) > 0 {
			f = f[1:]
		}
		f = strings.TrimPrefix(f, "\"")
		f = strings.TrimSuffix(f, "\"")
		f = strings.TrimSuffix(f, "\\n")
		m[v] = f
	}
	return m
}

// PrintFmt is a compiled print fmt of one event.
type PrintFmt struct {
	format *tracefs.Format
	fields []pfField // the event's own fields, for the fallback
	parts  []pfPart
	// fast is parts as fastOps when every part is literal text or a
	// simple %d/%u/%x of a direct read; nil otherwise.
	fast   []fastOp
	failed bool
	// Err is why the format failed to parse, if it did (Append then
	// prints perf's "[FAILED TO PARSE]" line).
	Err error
	env PrintEnv
}

type pfField struct {
	name        string
	offset      int
	size        int
	elementSize int
	flags       fieldFlags
}

type fieldFlags uint16

const (
	fieldArray fieldFlags = 1 << iota
	fieldPointer
	fieldSigned
	fieldString
	fieldDynamic
	fieldLong
	fieldRelative
)

type partKind uint8

const (
	partString partKind = iota
	partDigit
	partPointer
	partStr
)

type pfPart struct {
	kind   partKind
	text   string // literal text, or the conversion spec ("%-10s")
	spec   convSpec
	arg    *pfArg
	lenArg *pfArg
	ls     int
	// direct: arg is a plain read of dsize bytes at doff (a field, or a
	// fixed-size array element at a constant index), evaluated without
	// walking the argument tree.
	direct      bool
	doff, dsize int
}

type argKind uint8

const (
	argNull argKind = iota
	argAtom
	argField
	argFlags
	argSymbol
	argHex
	argHexStr
	argIntArray
	argType
	argString
	argBitmask
	argDynArray
	argDynArrayLen
	argOp
)

type pfArg struct {
	kind  argKind
	val   uint64 // an atom's value (strtoull of text)
	text  string // atom, field name, type of a cast, op, delimiter
	field *pfField
	// op: left/right; cast: left is the item; ternary: right is the ":" op.
	left, right *pfArg
	prio        int
	hasDelim    bool
	syms        []flagSym
	a, b, c     *pfArg // hex: field, size; int array: field, count, el size
	next        *pfArg
}

type flagSym struct {
	value int64 // eval_flag of the value text
	str   string
}

// errParse marks a print fmt libtraceevent cannot parse.
var errParse = errors.New("print fmt does not parse")

// maxWidth bounds a field width taken from the record ("%*d").
const maxWidth = 1 << 14

// maxPrintFmtDepth bounds recursion on untrusted formats.
const maxPrintFmtDepth = 200

// CompilePrintFmt compiles the print fmt of f. It never fails: a format
// libtraceevent cannot parse compiles into the fallback perf prints
// ("[FAILED TO PARSE]" and every field), with the reason in Err.
func CompilePrintFmt(f *tracefs.Format, env *PrintEnv) *PrintFmt {
	p := &PrintFmt{format: f}
	if env != nil {
		p.env = *env
	}
	all := make([]pfField, 0, len(f.CommonFields)+len(f.Fields))
	for _, fd := range f.CommonFields {
		all = append(all, makeField(fd))
	}
	for _, fd := range f.Fields {
		all = append(all, makeField(fd))
	}
	p.fields = all[len(f.CommonFields):]
	c := &compiler{fields: all, common: len(f.CommonFields)}
	c.tok.init(f.PrintFmt)
	format, args, err := c.readPrint()
	if err == nil {
		p.parts, err = c.parseArgs(format, args)
	}
	if err == nil && c.failed != nil {
		err = c.failed
	}
	if err != nil {
		p.failed = true
		p.Err = fmt.Errorf("event %s: %w", f.Name, err)
		p.parts = nil
	}
	for i := range p.parts {
		p.parts[i].setDirect()
	}
	p.fast = compileFast(p.parts)
	return p
}

// fastOp is one step of a print fmt made only of literal text and plain
// integer conversions of direct reads.
type fastOp struct {
	kind      fastKind
	off, size int
	text      string
}

type fastKind uint8

const (
	fastText fastKind = iota
	fastHex64
	fastHex32
	fastUint64
	fastUint32
	fastInt64
	fastInt32
)

func compileFast(parts []pfPart) []fastOp {
	if len(parts) == 0 {
		return nil
	}
	ops := make([]fastOp, 0, len(parts))
	for i := range parts {
		pt := &parts[i]
		switch pt.kind {
		case partString:
			if n := len(ops); n > 0 && ops[n-1].kind == fastText {
				ops[n-1].text += pt.text
				continue
			}
			ops = append(ops, fastOp{kind: fastText, text: pt.text})
			continue
		case partDigit:
		default:
			return nil
		}
		if !pt.direct || pt.lenArg != nil || !pt.spec.simple {
			return nil
		}
		// The cases appendInt's simple path handles.
		var k fastKind
		wide := pt.ls == 1 || pt.ls == 2
		if !wide && pt.ls != 0 {
			return nil
		}
		switch pt.spec.conv {
		case 'x':
			k = fastHex32
			if wide {
				k = fastHex64
			}
		case 'u':
			k = fastUint32
			if wide {
				k = fastUint64
			}
		case 'd', 'i':
			k = fastInt32
			if wide {
				k = fastInt64
			}
		default:
			return nil
		}
		ops = append(ops, fastOp{kind: k, off: pt.doff, size: pt.dsize})
	}
	return ops
}

// appendFast is Append for a print fmt compiled to fastOps.
func appendFast(dst []byte, ops []fastOp, data []byte) []byte {
	for i := range ops {
		op := &ops[i]
		if op.kind == fastText {
			dst = append(dst, op.text...)
			continue
		}
		v := readNum(data, op.off, op.size)
		switch op.kind {
		case fastHex64:
			dst = appendHex(dst, v)
		case fastHex32:
			dst = appendHex(dst, uint64(uint32(v)))
		case fastUint64:
			dst = appendDec(dst, v)
		case fastUint32:
			dst = appendDec(dst, uint64(uint32(v)))
		case fastInt64:
			dst = appendDecInt(dst, int64(v))
		case fastInt32:
			dst = appendDecInt(dst, int64(int32(v)))
		}
	}
	return dst
}

// setDirect finds the arguments evalCtx.num would evaluate as one
// readNum: a field, or an element of a fixed-size array field at a
// constant index (num's "[" case gives the same result: readNum is 0
// past the data).
func (pt *pfPart) setDirect() {
	a := pt.arg
	if pt.kind != partDigit || a == nil {
		return
	}
	switch {
	case a.kind == argField && a.field != nil:
		pt.direct, pt.doff, pt.dsize = true, a.field.offset, a.field.size
	case a.kind == argOp && a.text == "[" && a.left != nil && a.left.kind == argField && a.left.field != nil &&
		a.right != nil && a.right.kind == argAtom:
		f := a.left.field
		if a.right.val >= 1<<20 || f.elementSize < 0 || f.elementSize > 1<<10 || f.offset < 0 {
			return
		}
		pt.direct, pt.doff, pt.dsize = true, f.offset+int(a.right.val)*f.elementSize, f.elementSize
	}
}

func makeField(fd tracefs.Field) pfField {
	f := pfField{name: fd.Name, offset: fd.Offset, size: fd.Size}
	if fd.Array {
		f.flags |= fieldArray
	}
	if fd.IsPointer() {
		f.flags |= fieldPointer
	}
	if fd.Signed {
		f.flags |= fieldSigned
	}
	if fd.DataLoc || fd.RelLoc {
		f.flags |= fieldDynamic
	}
	if fd.RelLoc {
		f.flags |= fieldRelative
	}
	if strings.Contains(fd.Type, "long") {
		f.flags |= fieldLong
	}
	// field_is_string: arrays of char, u8 or s8.
	if fd.Array && (strings.Contains(fd.Type, "char") || strings.Contains(fd.Type, "u8") || strings.Contains(fd.Type, "s8")) {
		f.flags |= fieldString
	}
	switch {
	case !fd.Array:
		f.elementSize = fd.Size
	case fd.ArrayLen > 0:
		f.elementSize = fd.Size / fd.ArrayLen
	case f.flags&fieldDynamic != 0:
		f.elementSize = typeSize(fd.Type)
	case f.flags&fieldString != 0:
		f.elementSize = 1
	case f.flags&fieldLong != 0:
		f.elementSize = 8
	}
	return f
}

func typeSize(t string) int {
	switch t {
	case "u8", "s8", "char":
		return 1
	case "u16", "s16":
		return 2
	case "u32", "s32":
		return 4
	case "u64", "s64":
		return 8
	}
	return 0
}

// ---- tokenizer (event-parse.c __read_token) ----

type tokType uint8

const (
	tokError tokType = iota
	tokNone
	tokSpace
	tokNewline
	tokOp
	tokDelim
	tokItem
	tokDquote
	tokSquote
)

type tokenizer struct {
	s   string
	pos int
}

func (t *tokenizer) init(s string) { t.s, t.pos = s, 0 }

func (t *tokenizer) readChar() int {
	if t.pos >= len(t.s) {
		return -1
	}
	c := t.s[t.pos]
	t.pos++
	return int(c)
}

func (t *tokenizer) peekChar() int {
	if t.pos >= len(t.s) {
		return -1
	}
	return int(t.s[t.pos])
}

func isSpaceC(c int) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func isAlnumC(c int) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func charType(c int) tokType {
	switch {
	case c < 0:
		return tokNone
	case c == '\n':
		return tokNewline
	case isSpaceC(c):
		return tokSpace
	case isAlnumC(c) || c == '_':
		return tokItem
	case c == '\'':
		return tokSquote
	case c == '"':
		return tokDquote
	case c < 0x20 || c > 0x7e:
		return tokNone
	case c == '(' || c == ')' || c == ',':
		return tokDelim
	}
	return tokOp
}

func (t *tokenizer) rawToken() (tokType, string) {
	ch := t.readChar()
	if ch < 0 {
		return tokNone, ""
	}
	typ := charType(ch)
	if typ == tokNone {
		return typ, ""
	}
	start := t.pos - 1
	switch typ {
	case tokNewline, tokDelim:
		return typ, t.s[start:t.pos]
	case tokOp:
		testEqual := false
		switch ch {
		case '-':
			if t.peekChar() == '>' {
				t.pos++
				return typ, t.s[start:t.pos]
			}
			fallthrough
		case '+', '|', '&', '>', '<':
			last := ch
			if t.peekChar() != last {
				testEqual = true
				break
			}
			t.pos++
			if last == '>' || last == '<' {
				testEqual = true
			}
		case '!', '=':
			testEqual = true
		}
		if testEqual && t.peekChar() == '=' {
			t.pos++
		}
		return typ, t.s[start:t.pos]
	case tokDquote, tokSquote:
		var b strings.Builder
		quote := ch
	concat:
		last := 0
		for {
			c := t.readChar()
			if c < 0 {
				return tokError, ""
			}
			if c == quote && last != '\\' {
				break
			}
			b.WriteByte(byte(c))
			if c == '\\' && last == '\\' {
				last = 0
			} else {
				last = c
			}
		}
		if typ == tokDquote {
			save := t.pos
			c := t.readChar()
			for isSpaceC(c) {
				c = t.readChar()
			}
			if c == '"' {
				goto concat
			}
			t.pos = save
		}
		return typ, b.String()
	}
	for charType(t.peekChar()) == typ {
		t.pos++
	}
	return typ, t.s[start:t.pos]
}

// read skips spaces (read_token).
func (t *tokenizer) read() (tokType, string) {
	for {
		typ, s := t.rawToken()
		if typ != tokSpace {
			return typ, s
		}
	}
}

// readItem skips spaces and newlines (read_token_item).
func (t *tokenizer) readItem() (tokType, string) {
	for {
		typ, s := t.rawToken()
		if typ != tokSpace && typ != tokNewline {
			return typ, s
		}
	}
}

func isItemType(t tokType) bool {
	return t == tokItem || t == tokDquote || t == tokSquote
}

// ---- parser (event_read_print, process_arg, process_op, ...) ----

type compiler struct {
	tok    tokenizer
	fields []pfField
	common int
	depth  int
	failed error
}

func (c *compiler) field(name string) *pfField {
	// tep_find_any_field: common fields first, then the event's own.
	for i := 0; i < c.common; i++ {
		if c.fields[i].name == name {
			return &c.fields[i]
		}
	}
	for i := c.common; i < len(c.fields); i++ {
		if c.fields[i].name == name {
			return &c.fields[i]
		}
	}
	return nil
}

func (c *compiler) ownField(name string) *pfField {
	// tep_find_field: the event's own fields only.
	for i := c.common; i < len(c.fields); i++ {
		if c.fields[i].name == name {
			return &c.fields[i]
		}
	}
	return nil
}

func syntaxErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errParse, fmt.Sprintf(format, a...))
}

func (c *compiler) readPrint() (string, *pfArg, error) {
	typ, s := c.tok.read()
	if typ != tokDquote {
		return "", nil, syntaxErr("expected a quoted format")
	}
	format := s
	for {
		typ, s = c.tok.readItem()
		if typ != tokDquote {
			break
		}
		format += s
	}
	if typ == tokNone {
		return format, nil, nil
	}
	if typ != tokDelim || s != "," {
		return "", nil, syntaxErr("expected ',' after the format, got %q", s)
	}
	args, err := c.readArgs()
	return format, args, err
}

func (c *compiler) readArgs() (*pfArg, error) {
	var first, last *pfArg
	typ := tokError
	var s string
	for {
		if typ == tokNewline {
			typ, s = c.tok.readItem()
			if typ == tokNone {
				break
			}
			continue
		}
		arg := &pfArg{}
		var err error
		typ, s, err = c.processArg(arg)
		if err != nil {
			return nil, err
		}
		if first == nil {
			first = arg
		} else {
			last.next = arg
		}
		last = arg
		if typ == tokOp {
			typ, s, err = c.processOp(arg, s)
			if err != nil {
				return nil, err
			}
			if typ == tokNone {
				break
			}
			continue
		}
		if typ == tokDelim && s == "," {
			continue
		}
		break
	}
	_ = s
	return first, nil
}

func (c *compiler) enter() error {
	c.depth++
	if c.depth > maxPrintFmtDepth {
		return syntaxErr("expression nested too deep")
	}
	return nil
}

func (c *compiler) processArg(arg *pfArg) (tokType, string, error) {
	typ, s := c.tok.read()
	return c.processArgToken(arg, typ, s)
}

func (c *compiler) processArgToken(arg *pfArg, typ tokType, s string) (tokType, string, error) {
	if err := c.enter(); err != nil {
		return tokError, "", err
	}
	defer func() { c.depth-- }()
	switch typ {
	case tokItem:
		if s == "REC" {
			return c.processEntry(arg)
		}
		atom := s
		typ, s = c.tok.readItem()
		if typ == tokDelim && s == "(" {
			return c.processFunction(arg, atom)
		}
		for typ == tokItem {
			atom += " " + s
			typ, s = c.tok.readItem()
		}
		arg.kind, arg.text, arg.val = argAtom, atom, strtoull(atom)
		return typ, s, nil
	case tokDquote, tokSquote:
		arg.kind, arg.text, arg.val = argAtom, s, strtoull(s)
		typ, s = c.tok.readItem()
		return typ, s, nil
	case tokDelim:
		if s == "(" {
			return c.processParen(arg)
		}
		fallthrough
	case tokOp:
		arg.kind, arg.text, arg.left = argOp, s, nil
		return c.processOp(arg, s)
	}
	return tokError, "", syntaxErr("unexpected token %q", s)
}

func (c *compiler) processEntry(arg *pfArg) (tokType, string, error) {
	typ, s := c.tok.readItem()
	if typ != tokOp || s != "->" {
		return tokError, "", syntaxErr("expected -> after REC")
	}
	typ, s = c.tok.read()
	if typ != tokItem {
		return tokError, "", syntaxErr("expected a field name after REC->")
	}
	arg.kind, arg.text = argField, s
	arg.field = c.field(s)
	typ, s = c.tok.read()
	return typ, s, nil
}

func (c *compiler) processParen(arg *pfArg) (tokType, string, error) {
	typ, s, err := c.processArg(arg)
	if err != nil {
		return typ, s, err
	}
	if typ == tokOp {
		if typ, s, err = c.processOp(arg, s); err != nil {
			return typ, s, err
		}
	}
	if typ != tokDelim || s != ")" {
		return tokError, "", syntaxErr("expected ')', got %q", s)
	}
	typ, s = c.tok.readItem()
	if isItemType(typ) || (typ == tokDelim && s == "(") {
		// A typecast.
		if arg.kind != argAtom {
			return tokError, "", syntaxErr("cast needs a type")
		}
		item := &pfArg{}
		typ, s, err = c.processArgToken(item, typ, s)
		if err != nil {
			return typ, s, err
		}
		arg.kind, arg.left = argType, item
		arg.field = nil
	}
	return typ, s, nil
}

func opPrio(op string) int {
	if len(op) == 1 {
		switch op[0] {
		case '~', '!':
			return 4
		case '*', '/', '%':
			return 6
		case '+', '-':
			return 7
		case '<', '>':
			return 9
		case '&':
			return 11
		case '^':
			return 12
		case '|':
			return 13
		case '?':
			return 16
		}
		return -1
	}
	switch op {
	case "++", "--":
		return 3
	case ">>", "<<":
		return 8
	case ">=", "<=":
		return 9
	case "==", "!=":
		return 10
	case "&&":
		return 14
	case "||":
		return 15
	}
	return -1
}

var binaryOps = map[string]bool{
	">>": true, "<<": true, "&": true, "|": true, "&&": true, "||": true,
	"-": true, "+": true, "*": true, "^": true, "/": true, "%": true,
	"<": true, ">": true, "<=": true, ">=": true, "==": true, "!=": true,
}

func (c *compiler) processOp(arg *pfArg, tok string) (tokType, string, error) {
	if err := c.enter(); err != nil {
		return tokError, "", err
	}
	defer func() { c.depth-- }()
	var right *pfArg
	var typ tokType
	var s string
	var err error
	switch {
	case arg.kind == argOp && arg.left == nil:
		if len(tok) != 1 || !strings.ContainsRune("~!+-", rune(tok[0])) {
			return tokError, "", syntaxErr("bad op token %q", tok)
		}
		arg.left = &pfArg{kind: argNull}
		right = &pfArg{}
		arg.right = right
		typ, s, err = c.processArg(right)
		if err != nil {
			return typ, s, err
		}
	case tok == "?":
		left := &pfArg{}
		*left = *arg
		*arg = pfArg{kind: argOp, text: tok, left: left, next: left.next}
		left.next = nil
		typ, s, err = c.processCond(arg)
		if err != nil {
			return typ, s, err
		}
	case binaryOps[tok]:
		left := &pfArg{}
		*left = *arg
		*arg = pfArg{kind: argOp, text: tok, left: left, next: left.next}
		left.next = nil
		arg.prio = opPrio(tok)
		if left.kind == argNull {
			arg.prio = 0
		}
		typ, s = c.tok.readItem()
		if tok == "*" && typ == tokDelim && s == ")" {
			// A pointer type: "(char *)".
			if left.kind != argAtom {
				return tokError, "", syntaxErr("bad pointer type")
			}
			next := arg.next
			*arg = *left
			arg.text += " *"
			arg.next = next
			return typ, s, nil
		}
		right = &pfArg{}
		typ, s, err = c.processArgToken(right, typ, s)
		if err != nil {
			return typ, s, err
		}
		if right.kind == argOp && opPrio(arg.text) < opPrio(right.text) {
			// Rotate by priority, as libtraceevent does (even across
			// parentheses).
			arg.right = right.left
			tmp := *arg
			next := arg.next
			*arg = *right
			*right = tmp
			right.next = nil
			arg.next = next
			arg.left = right
		} else {
			arg.right = right
		}
	case tok == "[":
		left := &pfArg{}
		*left = *arg
		*arg = pfArg{kind: argOp, text: tok, left: left, next: left.next}
		left.next = nil
		idx := &pfArg{}
		typ, s, err = c.processArg(idx)
		if err != nil {
			return typ, s, err
		}
		if typ != tokOp || s != "]" {
			return tokError, "", syntaxErr("expected ']'")
		}
		arg.right = idx
		typ, s = c.tok.readItem()
	default:
		return tokError, "", syntaxErr("unknown op %q", tok)
	}
	if typ == tokOp && s != ":" {
		prio := opPrio(s)
		if prio > arg.prio {
			return c.processOp(arg, s)
		}
		if right == nil {
			return tokError, "", syntaxErr("bad op %q", s)
		}
		return c.processOp(right, s)
	}
	return typ, s, nil
}

func (c *compiler) processCond(top *pfArg) (tokType, string, error) {
	arg := &pfArg{kind: argOp}
	left, right := &pfArg{}, &pfArg{}
	arg.left, arg.right = left, right
	typ, s, err := c.processArg(left)
	for err == nil && typ == tokOp && s != ":" {
		typ, s, err = c.processOp(left, s)
	}
	if err != nil {
		return typ, s, err
	}
	if typ != tokOp || s != ":" {
		return tokError, "", syntaxErr("expected ':' in a conditional")
	}
	arg.text = s
	typ, s, err = c.processArg(right)
	if err != nil {
		return typ, s, err
	}
	top.right = arg
	return typ, s, nil
}

func (c *compiler) processFunction(arg *pfArg, name string) (tokType, string, error) {
	switch name {
	case "__print_flags":
		return c.processFlags(arg, true)
	case "__print_symbolic":
		return c.processFlags(arg, false)
	case "__print_hex":
		return c.processHex(arg, argHex)
	case "__print_hex_str":
		return c.processHex(arg, argHexStr)
	case "__print_array":
		*arg = pfArg{kind: argIntArray}
		var err error
		if arg.a, err = c.delimArg(","); err != nil {
			return tokError, "", err
		}
		if arg.b, err = c.delimArg(","); err != nil {
			return tokError, "", err
		}
		if arg.c, err = c.delimArg(")"); err != nil {
			return tokError, "", err
		}
		typ, s := c.tok.readItem()
		return typ, s, nil
	case "__get_str", "__get_rel_str", "__get_bitmask", "__get_rel_bitmask":
		typ, s := c.tok.readItem()
		if typ != tokItem {
			return tokError, "", syntaxErr("%s needs a field name", name)
		}
		kind := argString
		if strings.HasSuffix(name, "_bitmask") {
			kind = argBitmask
		}
		*arg = pfArg{kind: kind, text: s, field: c.field(s)}
		if typ, s = c.tok.readItem(); typ != tokDelim || s != ")" {
			return tokError, "", syntaxErr("expected ')' after %s", name)
		}
		typ, s = c.tok.read()
		return typ, s, nil
	case "__get_dynamic_array", "__get_rel_dynamic_array", "__get_dynamic_array_len", "__get_rel_dynamic_array_len":
		typ, s := c.tok.readItem()
		if typ != tokItem {
			return tokError, "", syntaxErr("%s needs a field name", name)
		}
		f := c.ownField(s)
		if f == nil {
			return tokError, "", syntaxErr("%s: no field %s", name, s)
		}
		kind := argDynArray
		if strings.HasSuffix(name, "_len") {
			kind = argDynArrayLen
		}
		*arg = pfArg{kind: kind, text: s, field: f}
		if typ, s = c.tok.readItem(); typ != tokDelim || s != ")" {
			return tokError, "", syntaxErr("expected ')' after %s", name)
		}
		typ, s = c.tok.readItem()
		if kind == argDynArray && typ == tokOp && s == "[" {
			return tokError, "", syntaxErr("indexed %s", name)
		}
		return typ, s, nil
	case "__builtin_expect":
		typ, s, err := c.processArg(arg)
		for err == nil && typ == tokOp {
			typ, s, err = c.processOp(arg, s)
		}
		if err != nil {
			return typ, s, err
		}
		if typ != tokDelim || s != "," {
			return tokError, "", syntaxErr("expected ',' in __builtin_expect")
		}
		if typ, _ = c.tok.readItem(); typ != tokItem {
			return tokError, "", syntaxErr("bad __builtin_expect value")
		}
		if typ, s = c.tok.readItem(); typ != tokDelim || s != ")" {
			return tokError, "", syntaxErr("expected ')' after __builtin_expect")
		}
		typ, s = c.tok.readItem()
		return typ, s, nil
	}
	return tokError, "", syntaxErr("function %s not defined", name)
}

func (c *compiler) delimArg(delim string) (*pfArg, error) {
	a := &pfArg{}
	typ, s, err := c.processArg(a)
	if err != nil {
		return nil, err
	}
	if typ != tokDelim || s != delim {
		return nil, syntaxErr("expected %q, got %q", delim, s)
	}
	return a, nil
}

func (c *compiler) processHex(arg *pfArg, kind argKind) (tokType, string, error) {
	*arg = pfArg{kind: kind}
	var err error
	if arg.a, err = c.delimArg(","); err != nil {
		return tokError, "", err
	}
	if arg.b, err = c.delimArg(")"); err != nil {
		return tokError, "", err
	}
	typ, s := c.tok.readItem()
	return typ, s, nil
}

func (c *compiler) processFlags(arg *pfArg, flags bool) (tokType, string, error) {
	*arg = pfArg{kind: argSymbol}
	if flags {
		arg.kind = argFlags
	}
	field := &pfArg{}
	typ, s, err := c.processArg(field)
	if err == nil && typ == tokOp {
		typ, s, err = c.processOp(field, s)
	}
	for err == nil && flags && typ == tokOp {
		typ, s, err = c.processOp(field, s)
	}
	if err != nil {
		return typ, s, err
	}
	if typ != tokDelim || s != "," {
		return tokError, "", syntaxErr("expected ',' after the flags value")
	}
	arg.left = field
	if flags {
		typ, s = c.tok.readItem()
		if isItemType(typ) {
			arg.text, arg.hasDelim = s, true
			typ, s = c.tok.readItem()
		}
		if typ != tokDelim || s != "," {
			return tokError, "", syntaxErr("expected ',' after the flags delimiter")
		}
	}
	// process_fields
	for {
		typ, s = c.tok.readItem()
		if typ != tokOp || s != "{" {
			break
		}
		v := &pfArg{}
		typ, s, err = c.processArg(v)
		if err == nil && typ == tokOp {
			typ, s, err = c.processOp(v, s)
		}
		if err != nil {
			return typ, s, err
		}
		if typ != tokDelim || s != "," {
			return tokError, "", syntaxErr("expected ',' in a flag")
		}
		vs, ok := argEval(v)
		if !ok {
			return tokError, "", syntaxErr("flag value does not evaluate")
		}
		str := &pfArg{}
		typ, s, err = c.processArg(str)
		if err != nil {
			return typ, s, err
		}
		if typ != tokOp || s != "}" {
			return tokError, "", syntaxErr("expected '}' in a flag")
		}
		ss, ok := argEval(str)
		if !ok {
			return tokError, "", syntaxErr("flag name does not evaluate")
		}
		arg.syms = append(arg.syms, flagSym{value: evalFlag(vs), str: ss})
		typ, s = c.tok.readItem()
		if typ != tokDelim || s != "," {
			break
		}
	}
	if typ != tokDelim || s != ")" {
		return tokError, "", syntaxErr("expected ')' after the flags")
	}
	typ, s = c.tok.readItem()
	return typ, s, nil
}

// argEval is libtraceevent's arg_eval: the text of a flag's value or name.
func argEval(a *pfArg) (string, bool) {
	switch a.kind {
	case argAtom:
		return a.text, true
	case argType:
		return argEval(a.left)
	case argOp:
		v, ok := argNumEval(a, 0)
		if !ok {
			return "", false
		}
		return strconv.FormatInt(v, 10), true
	}
	return "", false
}

func argNumEval(a *pfArg, depth int) (int64, bool) {
	if depth > maxPrintFmtDepth {
		return 0, false
	}
	depth++
	switch a.kind {
	case argAtom:
		return strtoll(a.text), true
	case argType:
		v, ok := argNumEval(a.left, depth)
		if !ok {
			return 0, false
		}
		return int64(evalTypeStr(uint64(v), a.text, false)), true
	case argOp:
	default:
		return 0, false
	}
	op := a.text
	var l, r int64
	var ok bool
	both := func() bool {
		if l, ok = argNumEval(a.left, depth); !ok {
			return false
		}
		r, ok = argNumEval(a.right, depth)
		return ok
	}
	b2i := func(b bool) int64 {
		if b {
			return 1
		}
		return 0
	}
	switch op[0] {
	case '|':
		if !both() {
			return 0, false
		}
		if len(op) > 1 {
			return b2i(l != 0 || r != 0), true
		}
		return l | r, true
	case '&':
		if !both() {
			return 0, false
		}
		if len(op) > 1 {
			return b2i(l != 0 && r != 0), true
		}
		return l & r, true
	case '<', '>':
		if !both() {
			return 0, false
		}
		lt := op[0] == '<'
		switch {
		case len(op) == 1 && lt:
			return b2i(l < r), true
		case len(op) == 1:
			return b2i(l > r), true
		case op[1] == '<':
			return l << uint64(r&63), true
		case op[1] == '>':
			return l >> uint64(r&63), true
		case lt:
			return b2i(l <= r), true
		default:
			return b2i(l >= r), true
		}
	case '=':
		if op != "==" || !both() {
			return 0, false
		}
		return b2i(l == r), true
	case '!':
		if op != "!=" || !both() {
			return 0, false
		}
		return b2i(l != r), true
	case '-', '+':
		if a.left.kind != argNull {
			if l, ok = argNumEval(a.left, depth); !ok {
				return 0, false
			}
		}
		if r, ok = argNumEval(a.right, depth); !ok {
			return 0, false
		}
		if op[0] == '-' {
			return l - r, true
		}
		return l + r, true
	case '~':
		if r, ok = argNumEval(a.right, depth); !ok {
			return 0, false
		}
		return ^r, true
	}
	return 0, false
}

// strtoll/strtoull with base 0: leading digits only, 0 on none.
func strtoull(s string) uint64 {
	s = strings.TrimLeft(s, " \t\n")
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	base := uint64(10)
	switch {
	case len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && hexDigit(s[2]) >= 0:
		base, s = 16, s[2:]
	case len(s) > 0 && s[0] == '0':
		base = 8
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		d := hexDigit(s[i])
		if d < 0 || uint64(d) >= base {
			break
		}
		v = v*base + uint64(d)
	}
	if neg {
		v = -v
	}
	return v
}

func strtoll(s string) int64 { return int64(strtoull(s)) }

func hexDigit(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// evalFlag is libtraceevent's eval_flag.
func evalFlag(s string) int64 {
	if s != "" && s[0] >= '0' && s[0] <= '9' {
		return int64(strtoull(s))
	}
	switch s {
	case "HI_SOFTIRQ", "HRTIMER_NORESTART":
		return 0
	case "TIMER_SOFTIRQ", "HRTIMER_RESTART":
		return 1
	case "NET_TX_SOFTIRQ":
		return 2
	case "NET_RX_SOFTIRQ":
		return 3
	case "BLOCK_SOFTIRQ":
		return 4
	case "IRQ_POLL_SOFTIRQ":
		return 5
	case "TASKLET_SOFTIRQ":
		return 6
	case "SCHED_SOFTIRQ":
		return 7
	case "HRTIMER_SOFTIRQ":
		return 8
	case "RCU_SOFTIRQ":
		return 9
	}
	return -1
}

// evalTypeStr is eval_type_str: casts mask to the type's size (the sign
// flag of the original is never set, so nothing is sign-extended).
func evalTypeStr(v uint64, typ string, pointer bool) uint64 {
	if pointer {
		if !strings.HasSuffix(typ, "*") || len(typ) < 2 {
			return v
		}
		return evalTypeStr(v, typ[:len(typ)-2], false)
	}
	if strings.HasSuffix(typ, "*") || strings.HasPrefix(typ, "struct") {
		return v
	}
	switch typ {
	case "u8", "s8":
		return v & 0xff
	case "u16", "s16":
		return v & 0xffff
	case "u32", "s32":
		return v & 0xffffffff
	case "u64", "s64":
		return v
	}
	typ = strings.TrimPrefix(typ, "unsigned ")
	switch typ {
	case "char":
		return v & 0xff
	case "short":
		return v & 0xffff
	case "int":
		return v & 0xffffffff
	}
	return v
}

// ---- print parse (parse_args) ----

func (c *compiler) parseArgs(format string, arg *pfArg) ([]pfPart, error) {
	var parts []pfPart
	for i := 0; i < len(format); {
		if format[i] == '%' && (i+1 >= len(format) || format[i+1] != '%') {
			n, err := c.parseArgFormat(&parts, format[i:], &arg)
			if err != nil {
				return nil, err
			}
			i += n
			continue
		}
		// parse_arg_string
		var b strings.Builder
		j := i
		for ; j < len(format); j++ {
			ch := format[j]
			if ch == '\\' {
				j++
				if j >= len(format) {
					break
				}
				switch format[j] {
				case 'n':
					b.WriteByte('\n')
				case 't':
					b.WriteByte('\t')
				case 'r':
					b.WriteByte('\r')
				default:
					b.WriteByte(format[j])
				}
				continue
			}
			if ch == '%' {
				if j+1 < len(format) && format[j+1] == '%' {
					b.WriteByte('%')
					j++
					continue
				}
				break
			}
			b.WriteByte(ch)
		}
		parts = append(parts, pfPart{kind: partString, text: b.String()})
		i = j
	}
	return parts, nil
}

func (c *compiler) parseArgFormat(parts *[]pfPart, f string, arg **pfArg) (int, error) {
	var lenArg *pfArg
	ls := 0
	fail := func(msg string) (int, error) { return 0, syntaxErr("%s", msg) }
	for i := 1; i < len(f); i++ {
		switch ch := f[i]; {
		case ch == '#', ch == '.', ch == 'z', ch == 'Z', ch == '-', ch >= '0' && ch <= '9':
		case ch == 'h':
			ls--
		case ch == 'l':
			ls++
		case ch == 'L':
			ls = 2
		case ch == '*':
			if *arg == nil {
				return fail("no argument match")
			}
			if lenArg != nil {
				return fail("argument already matched")
			}
			lenArg = *arg
			*arg = (*arg).next
		case ch == 'p':
			if *arg == nil {
				return fail("no argument match")
			}
			n := pointerExt(f[i+1:])
			end := i + 1 + n
			spec := f[:end]
			if len(spec) > 31 {
				return fail("bad format")
			}
			*parts = append(*parts, pfPart{kind: partPointer, text: spec, arg: *arg, lenArg: lenArg, ls: ls})
			*arg = (*arg).next
			return end, nil
		case ch == 'd' || ch == 'u' || ch == 'i' || ch == 'x' || ch == 'X' || ch == 'o':
			if *arg == nil {
				return fail("no argument match")
			}
			spec := f[:i+1]
			if len(spec) > 30 {
				return fail("bad format")
			}
			if ls < -2 || ls > 2 {
				return fail(fmt.Sprintf("bad count (%d)", ls))
			}
			*parts = append(*parts, pfPart{kind: partDigit, text: spec, spec: parseSpec(spec), arg: *arg, lenArg: lenArg, ls: ls})
			*arg = (*arg).next
			return i + 1, nil
		case ch == 's':
			if *arg == nil {
				return fail("no argument match")
			}
			spec := f[:i+1]
			if len(spec) > 31 {
				return fail("bad format")
			}
			*parts = append(*parts, pfPart{kind: partStr, text: spec, spec: parseSpec(spec), arg: *arg, lenArg: lenArg})
			*arg = (*arg).next
			return i + 1, nil
		default:
			*parts = append(*parts, pfPart{kind: partString, text: ">" + string(ch) + "<"})
			return i + 1, nil
		}
	}
	return len(f), nil
}

// pointerExt is parse_arg_format_pointer: how many characters after 'p'
// belong to the conversion.
func pointerExt(f string) int {
	at := func(i int) byte {
		if i < len(f) {
			return f[i]
		}
		return 0
	}
	ret := 0
	switch at(0) {
	case 'F', 'S', 'f', 's':
		ret++
	case 'M', 'm':
		if at(1) == 'R' || at(1) == 'F' {
			ret++
		}
		ret++
	case 'I', 'i':
		index := 2
		switch at(1) {
		case 'S':
			for at(index) == 'p' || at(index) == 'f' || at(index) == 's' {
				ret++
				index++
			}
			fallthrough
		case '4':
			switch at(index) {
			case 'h', 'n', 'l', 'b':
				ret++
				index++
			}
			if at(1) == '4' {
				ret++
				break
			}
			fallthrough
		case '6':
			if at(index) == 'c' {
				ret++
			}
			ret++
		}
		ret++
	case 'U':
		switch at(1) {
		case 'L', 'l', 'B', 'b':
			ret++
		}
		ret++
	case 'h':
		switch at(1) {
		case 'C', 'D', 'N':
			ret++
		}
		ret++
	}
	return ret
}

// convSpec is a parsed printf conversion.
type convSpec struct {
	minus, plus, space, alt, zero bool
	width                         int
	widthStar                     bool
	prec                          int // -1: none
	precStar                      bool
	z                             bool
	conv                          byte
	simple                        bool // no flags, width or precision
}

func parseSpec(s string) convSpec {
	sp := convSpec{prec: -1}
	i := 1
	for ; i < len(s); i++ {
		switch s[i] {
		case '-':
			sp.minus = true
		case '+':
			sp.plus = true
		case ' ':
			sp.space = true
		case '#':
			sp.alt = true
		case '0':
			sp.zero = true
		default:
			goto width
		}
	}
width:
	if i < len(s) && s[i] == '*' {
		sp.widthStar = true
		i++
	}
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if sp.width < maxWidth {
			sp.width = sp.width*10 + int(s[i]-'0')
		}
	}
	if i < len(s) && s[i] == '.' {
		i++
		sp.prec = 0
		if i < len(s) && s[i] == '*' {
			sp.precStar = true
			i++
		}
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			if sp.prec < maxWidth {
				sp.prec = sp.prec*10 + int(s[i]-'0')
			}
		}
	}
	for ; i < len(s); i++ {
		switch s[i] {
		case 'z', 'Z':
			sp.z = true
		case 'h', 'l', 'L', 'q', 'j', 't':
		default:
			sp.conv = s[i]
		}
	}
	sp.simple = !sp.minus && !sp.plus && !sp.space && !sp.alt && !sp.zero && sp.width == 0 &&
		!sp.widthStar && sp.prec < 0 && !sp.precStar && !sp.z
	return sp
}

// ---- evaluation ----

type evalCtx struct {
	p    *PrintFmt
	data []byte
}

func readNum(data []byte, off, size int) uint64 {
	if off < 0 || size <= 0 || off+size > len(data) || off+size < off {
		return 0
	}
	switch size {
	case 1:
		return uint64(data[off])
	case 2:
		return uint64(binary.LittleEndian.Uint16(data[off:]))
	case 4:
		return uint64(binary.LittleEndian.Uint32(data[off:]))
	case 8:
		return binary.LittleEndian.Uint64(data[off:])
	}
	return 0
}

func (e *evalCtx) num(a *pfArg, depth int) uint64 {
	if a == nil || depth > maxPrintFmtDepth {
		return 0
	}
	depth++
	switch a.kind {
	case argAtom:
		return a.val
	case argField:
		if a.field == nil {
			return 0
		}
		return readNum(e.data, a.field.offset, a.field.size)
	case argType:
		return evalTypeStr(e.num(a.left, depth), a.text, false)
	case argDynArrayLen:
		return readNum(e.data, a.field.offset, a.field.size) >> 16
	case argDynArray:
		// The address of the data in perf's memory: meaningless, and
		// never printed by the kernel's formats.
		return 0
	case argOp:
	default:
		return 0
	}
	switch a.text {
	case "[":
		right := e.num(a.right, depth)
		larg := a.left
		var typearg *pfArg
		for larg.kind == argType {
			if typearg == nil {
				typearg = larg
			}
			larg = larg.left
		}
		size := 8
		var off uint64
		switch larg.kind {
		case argDynArray:
			off = readNum(e.data, larg.field.offset, larg.field.size)
			if larg.field.elementSize != 0 {
				size = larg.field.elementSize
			}
			off = (off & 0xffff) + right
		case argField:
			if larg.field == nil {
				return 0
			}
			size = larg.field.elementSize
			off = uint64(larg.field.offset) + right*uint64(larg.field.elementSize)
		default:
			return e.binop(a, depth)
		}
		if off > uint64(len(e.data)) {
			return 0
		}
		v := readNum(e.data, int(off), size)
		if typearg != nil {
			v = evalTypeStr(v, typearg.text, true)
		}
		return v
	case "?":
		if e.num(a.left, depth) != 0 {
			return e.num(a.right.left, depth)
		}
		return e.num(a.right.right, depth)
	}
	return e.binop(a, depth)
}

func (e *evalCtx) binop(a *pfArg, depth int) uint64 {
	l := e.num(a.left, depth)
	r := e.num(a.right, depth)
	b := func(c bool) uint64 {
		if c {
			return 1
		}
		return 0
	}
	switch a.text {
	case "!":
		return b(r == 0)
	case "!=":
		return b(l != r)
	case "~":
		return ^r
	case "|":
		return l | r
	case "||":
		return b(l != 0 || r != 0)
	case "&":
		return l & r
	case "&&":
		return b(l != 0 && r != 0)
	case "<":
		return b(l < r)
	case "<<":
		if r >= 64 {
			return 0
		}
		return l << r
	case "<=":
		return b(l <= r)
	case ">":
		return b(l > r)
	case ">>":
		if r >= 64 {
			return 0
		}
		return l >> r
	case ">=":
		return b(l >= r)
	case "==":
		return b(l == r)
	case "-":
		return l - r
	case "+":
		return l + r
	case "/":
		if r == 0 {
			return 0
		}
		return l / r
	case "%":
		if r == 0 {
			return 0
		}
		return l % r
	case "*":
		return l * r
	}
	return 0
}

// dynLoc returns the offset and length of a __data_loc/__rel_loc field.
func dynLoc(data []byte, f *pfField) (int, int) {
	v := readNum(data, f.offset, f.size)
	off, n := int(v&0xffff), int(v>>16)
	if f.flags&fieldRelative != 0 {
		off += f.offset + f.size
	}
	return off, n
}

// cstr returns the NUL-terminated string at off, bounded by the record.
func cstr(data []byte, off int) []byte {
	if off < 0 || off >= len(data) {
		return nil
	}
	s := data[off:]
	for i, c := range s {
		if c == 0 {
			return s[:i]
		}
	}
	return s
}

// Append formats the record's payload (the tracepoint raw data) and
// appends the text to dst.
func (p *PrintFmt) Append(dst []byte, data []byte) []byte {
	if p.failed {
		dst = append(dst, "[FAILED TO PARSE]"...)
		return p.appendFields(dst, data)
	}
	if p.fast != nil {
		return appendFast(dst, p.fast, data)
	}
	e := evalCtx{p: p, data: data}
	for i := range p.parts {
		pt := &p.parts[i]
		lenArg := -1
		if pt.lenArg != nil {
			lenArg = int(int32(e.num(pt.lenArg, 0)))
			// Bound untrusted widths (C would print them all).
			if lenArg > maxWidth {
				lenArg = maxWidth
			} else if lenArg < -maxWidth {
				lenArg = -maxWidth
			}
		}
		switch pt.kind {
		case partString:
			dst = append(dst, pt.text...)
		case partDigit:
			var v uint64
			if pt.direct {
				v = readNum(data, pt.doff, pt.dsize)
			} else {
				v = e.num(pt.arg, 0)
			}
			dst = appendInt(dst, &pt.spec, v, pt.ls, lenArg)
		case partPointer:
			dst = e.pointer(dst, pt)
		case partStr:
			dst = e.str(dst, &pt.spec, lenArg, pt.arg, 0)
		}
	}
	return dst
}

func (e *evalCtx) pointer(dst []byte, pt *pfPart) []byte {
	ext := byte(0)
	if i := strings.IndexByte(pt.text, 'p'); i >= 0 && i+1 < len(pt.text) {
		ext = pt.text[i+1]
	}
	v := e.num(pt.arg, 0)
	switch ext {
	case 'F', 'f', 'S', 's':
		if e.p.env.Syms != nil {
			if name, start, ok := e.p.env.Syms.KernelSymbol(v); ok {
				dst = append(dst, name...)
				if ext == 'F' || ext == 'S' {
					dst = append(dst, "+0x"...)
					dst = strconv.AppendUint(dst, v-start, 16)
				}
				return dst
			}
		}
		dst = append(dst, "0x"...)
		return strconv.AppendUint(dst, v, 16)
	}
	if v == 0 {
		return append(dst, "(nil)"...)
	}
	dst = append(dst, "0x"...)
	return strconv.AppendUint(dst, v, 16)
}

// str is print_str_arg.
func (e *evalCtx) str(dst []byte, sp *convSpec, lenArg int, a *pfArg, depth int) []byte {
	if a == nil || depth > maxPrintFmtDepth {
		return dst
	}
	depth++
	data := e.data
	switch a.kind {
	case argAtom:
		return appendStr(dst, sp, lenArg, []byte(a.text))
	case argField:
		f := a.field
		if f == nil {
			return dst
		}
		n := f.size
		if n == 0 {
			n = len(data) - f.offset
		}
		if f.flags&fieldArray == 0 && f.size == 8 {
			addr := readNum(data, f.offset, 8)
			if pk, ok := e.p.env.Printk[addr]; ok {
				return append(dst, pk...)
			}
			return strconv.AppendUint(dst, addr, 16)
		}
		if f.offset < 0 || f.offset > len(data) || n < 0 {
			return dst
		}
		end := f.offset + n
		if end > len(data) {
			end = len(data)
		}
		s := data[f.offset:end]
		for i, c := range s {
			if c == 0 {
				s = s[:i]
				break
			}
		}
		return appendStr(dst, sp, lenArg, s)
	case argFlags:
		val := e.num(a.left, depth)
		printed := false
		for _, f := range a.syms {
			if val == 0 && f.value < 0 {
				dst = appendStr(dst, sp, lenArg, []byte(f.str))
				break
			}
			fv := uint64(f.value)
			if f.value > 0 && val&fv == fv {
				if printed && a.hasDelim {
					dst = append(dst, a.text...)
				}
				dst = appendStr(dst, sp, lenArg, []byte(f.str))
				printed = true
				val &^= fv
			}
		}
		if val != 0 {
			if printed && a.hasDelim {
				dst = append(dst, a.text...)
			}
			dst = append(dst, "0x"...)
			dst = strconv.AppendUint(dst, val, 16)
		}
		return dst
	case argSymbol:
		val := e.num(a.left, depth)
		for _, f := range a.syms {
			if val == uint64(f.value) {
				return appendStr(dst, sp, lenArg, []byte(f.str))
			}
		}
		dst = append(dst, "0x"...)
		return strconv.AppendUint(dst, val, 16)
	case argHex, argHexStr:
		base, ok := e.arrayBase(a.a)
		if !ok {
			return dst
		}
		n := int64(e.num(a.b, depth))
		for i := int64(0); i < n; i++ {
			if i > 0 && a.kind == argHex {
				dst = append(dst, ' ')
			}
			var c byte
			if off := int64(base) + i; off < int64(len(data)) {
				c = data[off]
			}
			dst = append(dst, hexdig[c>>4], hexdig[c&15])
		}
		return dst
	case argIntArray:
		base, ok := e.arrayBase(a.a)
		if !ok {
			return dst
		}
		n := int64(int32(e.num(a.b, depth)))
		el := int(int32(e.num(a.c, depth)))
		off := base
		for i := int64(0); i < n && off <= len(data); i++ {
			if i > 0 {
				dst = append(dst, ' ')
			}
			switch el {
			case 1, 2, 4, 8:
				dst = strconv.AppendUint(dst, readNum(data, off, el), 10)
			default:
				dst = append(dst, "BAD SIZE:"...)
				dst = strconv.AppendInt(dst, int64(el), 10)
				dst = append(dst, " 0x"...)
				dst = strconv.AppendUint(dst, readNum(data, off, 1), 16)
				el = 1
			}
			off += el
		}
		return dst
	case argType:
		return e.str(dst, sp, lenArg, a.left, depth)
	case argString:
		if a.field == nil {
			return dst
		}
		off, n := dynLoc(data, a.field)
		if n == 0 {
			return dst
		}
		return appendStr(dst, sp, lenArg, cstr(data, off))
	case argBitmask:
		if a.field == nil {
			return dst
		}
		off, n := dynLoc(data, a.field)
		return appendBitmask(dst, sp, lenArg, data, off, n)
	case argOp:
		if a.text != "?" || a.right == nil {
			return dst
		}
		if e.num(a.left, depth) != 0 {
			return e.str(dst, sp, lenArg, a.right.left, depth)
		}
		return e.str(dst, sp, lenArg, a.right.right, depth)
	}
	return dst
}

func (e *evalCtx) arrayBase(a *pfArg) (int, bool) {
	switch {
	case a == nil:
		return 0, false
	case a.kind == argDynArray:
		v := readNum(e.data, a.field.offset, a.field.size)
		return int(v & 0xffff), true
	case a.kind == argField && a.field != nil:
		return a.field.offset, true
	}
	return 0, false
}

// appendBitmask prints a bitmask as libtraceevent's print_bitmask_to_seq:
// every byte as two hex digits, most significant first, with a comma
// every 32 bits.
func appendBitmask(dst []byte, sp *convSpec, lenArg int, data []byte, off, n int) []byte {
	if off < 0 || n <= 0 || off+n > len(data) {
		return dst
	}
	out := make([]byte, 0, n*2+n/4)
	for k := n - 1; k >= 0; k-- {
		c := data[off+k]
		out = append(out, hexdig[c>>4], hexdig[c&15])
		if k%4 == 0 && k > 0 {
			out = append(out, ',')
		}
	}
	return appendStr(dst, sp, lenArg, out)
}

const hexdig = "0123456789abcdef"

// appendHex appends v in lowercase hex without a prefix (strconv's
// general path is several times slower for base 16).
func appendHex(dst []byte, v uint64) []byte {
	n := (bits.Len64(v) + 3) / 4
	if n == 0 {
		return append(dst, '0')
	}
	l := len(dst)
	dst = slices.Grow(dst, n)[:l+n]
	b := dst[l:]
	for i := n - 1; i >= 0; i-- {
		b[i] = hexdig[v&15]
		v >>= 4
	}
	return dst
}

// pow10 are the powers of ten that fit a uint64.
var pow10 = [20]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

const digits2 = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"4041424344454647484950515253545556575859606162636465666768697071727374757677787980818283848586878889" +
	"90919293949596979899"

// appendDec is strconv.AppendUint(dst, v, 10), written in place.
func appendDec(dst []byte, v uint64) []byte {
	if v < 10 {
		return append(dst, byte('0'+v))
	}
	t := bits.Len64(v) * 1233 >> 12
	n := t + 1
	if v < pow10[t] {
		n = t
	}
	l := len(dst)
	dst = slices.Grow(dst, n)[:l+n]
	b := dst[l:]
	i := n
	for v >= 100 {
		q := v / 100
		r := (v - q*100) * 2
		i -= 2
		b[i], b[i+1] = digits2[r], digits2[r+1]
		v = q
	}
	if v >= 10 {
		b[0], b[1] = digits2[v*2], digits2[v*2+1]
	} else {
		b[0] = byte('0' + v)
	}
	return dst
}

// appendDecInt is strconv.AppendInt(dst, v, 10).
func appendDecInt(dst []byte, v int64) []byte {
	if v < 0 {
		return appendDec(append(dst, '-'), uint64(-v))
	}
	return appendDec(dst, uint64(v))
}

// appendStr formats s as printf's %s with the spec's flags, width and
// precision.
func appendStr(dst []byte, sp *convSpec, lenArg int, s []byte) []byte {
	width, prec, minus := sp.width, sp.prec, sp.minus
	if sp.widthStar {
		width = lenArg
		if width < 0 {
			minus, width = true, -width
		}
	}
	if sp.precStar {
		prec = lenArg
	}
	if prec >= 0 && prec < len(s) {
		s = s[:prec]
	}
	pad := width - len(s)
	if !minus {
		for ; pad > 0; pad-- {
			dst = append(dst, ' ')
		}
	}
	dst = append(dst, s...)
	for ; pad > 0; pad-- {
		dst = append(dst, ' ')
	}
	return dst
}

// appendInt formats v as C's printf would after print_arg_number's cast:
// ls -2 char, -1 short, 0 int, 1 long, 2 long long.
func appendInt(dst []byte, sp *convSpec, v uint64, ls int, lenArg int) []byte {
	if sp.simple {
		switch sp.conv {
		case 'x':
			switch ls {
			case 1, 2:
				return appendHex(dst, v)
			case 0:
				return appendHex(dst, uint64(uint32(v)))
			}
		case 'u':
			switch ls {
			case 1, 2:
				return strconv.AppendUint(dst, v, 10)
			case 0:
				return strconv.AppendUint(dst, uint64(uint32(v)), 10)
			}
		case 'd', 'i':
			switch ls {
			case 1, 2:
				return strconv.AppendInt(dst, int64(v), 10)
			case 0:
				return strconv.AppendInt(dst, int64(int32(v)), 10)
			}
		}
	}
	bits := 64
	switch ls {
	case -2:
		bits = 8
	case -1:
		bits = 16
	case 0:
		bits = 32
	}
	if sp.z && ls <= 0 {
		// (int)val passed where size_t is read: zero-extended.
		v = v & (1<<uint(bits) - 1)
		bits = 64
	}
	var neg bool
	var mag uint64
	signed := sp.conv == 'd' || sp.conv == 'i'
	if bits < 64 {
		v &= 1<<uint(bits) - 1
	}
	if signed {
		sv := int64(v << uint(64-bits) >> uint(64-bits))
		if bits < 64 {
			sv = int64(v<<uint(64-bits)) >> uint(64-bits)
		}
		if sv < 0 {
			neg, mag = true, uint64(-sv)
		} else {
			mag = uint64(sv)
		}
	} else {
		mag = v
	}
	var digits [24]byte
	var num []byte
	switch sp.conv {
	case 'x':
		num = strconv.AppendUint(digits[:0], mag, 16)
	case 'X':
		num = strconv.AppendUint(digits[:0], mag, 16)
		for i := range num {
			if num[i] >= 'a' {
				num[i] -= 'a' - 'A'
			}
		}
	case 'o':
		num = strconv.AppendUint(digits[:0], mag, 8)
	default:
		num = strconv.AppendUint(digits[:0], mag, 10)
	}
	width, prec, minus := sp.width, sp.prec, sp.minus
	if sp.widthStar {
		width = lenArg
		if width < 0 {
			minus, width = true, -width
		}
	}
	if sp.precStar {
		prec = lenArg
		if prec < 0 {
			prec = -1
		}
	}
	if prec == 0 && mag == 0 {
		num = num[:0]
	}
	var prefix string
	switch {
	case neg:
		prefix = "-"
	case signed && sp.plus:
		prefix = "+"
	case signed && sp.space:
		prefix = " "
	}
	if sp.alt && mag != 0 {
		switch sp.conv {
		case 'x':
			prefix = "0x"
		case 'X':
			prefix = "0X"
		}
	}
	zeros := 0
	if prec >= 0 && prec > len(num) {
		zeros = prec - len(num)
	}
	if sp.alt && sp.conv == 'o' && zeros == 0 && (len(num) == 0 || num[0] != '0') {
		zeros = 1
	}
	total := len(prefix) + zeros + len(num)
	if sp.zero && !minus && prec < 0 && width > total {
		zeros += width - total
		total = width
	}
	pad := width - total
	if !minus {
		for ; pad > 0; pad-- {
			dst = append(dst, ' ')
		}
	}
	dst = append(dst, prefix...)
	for ; zeros > 0; zeros-- {
		dst = append(dst, '0')
	}
	dst = append(dst, num...)
	for ; pad > 0; pad-- {
		dst = append(dst, ' ')
	}
	return dst
}

// appendFields is tep_print_fields: " name=value" for each of the
// event's own fields.
func (p *PrintFmt) appendFields(dst []byte, data []byte) []byte {
	for i := range p.fields {
		f := &p.fields[i]
		dst = append(dst, ' ')
		dst = append(dst, f.name...)
		dst = append(dst, '=')
		dst = appendField(dst, data, f)
	}
	return dst
}

func appendField(dst []byte, data []byte, f *pfField) []byte {
	if f.flags&fieldArray != 0 {
		off, n := f.offset, f.size
		if f.flags&fieldDynamic != 0 {
			off, n = dynLoc(data, f)
		}
		if off < 0 || n < 0 || off > len(data) {
			off, n = 0, 0
		}
		if off+n > len(data) {
			n = len(data) - off
		}
		b := data[off : off+n]
		if f.flags&fieldString != 0 && isPrintableArray(b) {
			return append(dst, cstr(b, 0)...)
		}
		dst = append(dst, "ARRAY["...)
		for i, c := range b {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = append(dst, hexdig[c>>4], hexdig[c&15])
		}
		return append(dst, ']')
	}
	v := readNum(data, f.offset, f.size)
	switch {
	case f.flags&fieldPointer != 0:
		dst = append(dst, "0x"...)
		return strconv.AppendUint(dst, v, 16)
	case f.flags&fieldSigned != 0:
		switch f.size {
		case 4:
			if f.flags&fieldLong != 0 {
				dst = append(dst, "0x"...)
				return strconv.AppendUint(dst, uint64(uint32(v)), 16)
			}
			return strconv.AppendInt(dst, int64(int32(v)), 10)
		case 2:
			return fmt.Appendf(dst, "%2d", int16(v))
		case 1:
			return strconv.AppendInt(dst, int64(int8(v)), 10)
		}
		return strconv.AppendInt(dst, int64(v), 10)
	case f.flags&fieldLong != 0:
		dst = append(dst, "0x"...)
		return strconv.AppendUint(dst, v, 16)
	}
	return strconv.AppendUint(dst, v, 10)
}

// isPrintableArray is libtraceevent's is_printable_array.
func isPrintableArray(b []byte) bool {
	for _, c := range b {
		if c == 0 {
			return true
		}
		if !(c >= 0x20 && c <= 0x7e) && !isSpaceC(int(c)) {
			return false
		}
	}
	return true
}
