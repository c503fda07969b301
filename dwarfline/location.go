package dwarfline

import (
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strconv"

	"github.com/go-delve/delve/pkg/dwarf/frame"
	"github.com/go-delve/delve/pkg/dwarf/loclist"
)

// ErrNotSupported is returned (wrapped) for locations or values that no
// fetch-arg can express.
var ErrNotSupported = errors.New("not supported")

// ErrInvalid is returned (wrapped) for a request that does not fit the
// types (a member of a non-structure, '.' on a pointer...).
var ErrInvalid = errors.New("invalid argument")

// A term is a symbolic value built while translating a DWARF expression:
// reg+off, a constant (an address, maybe of a symbol), or the memory at
// another term, plus an offset.
type term struct {
	kind   termKind
	reg    int    // tReg
	c      uint64 // tConst
	sym    string // tConst: name of the object at c, for @sym
	signed bool   // tConst: written as a signed number (DW_AT_const_value)
	addr   bool   // tConst: an address (DW_OP_addr), relocated in a module or PIE
	inner  *term  // tMem: the address loaded from
	user   bool   // tMem: user-space memory (+u)
	off    int64  // added to the value
}

type termKind int

const (
	tReg termKind = iota
	tConst
	tMem
)

func (t *term) plus(n int64) *term {
	c := *t
	c.off += n
	return &c
}

// place is where a variable (or member) lives: in memory at an address, or
// as a value (a register, a computed value, a constant).
type place struct {
	mem bool  // true: memory at addr; false: the value val
	t   *term // address (mem) or value
}

func (p place) load(user bool) *term {
	if p.mem {
		return &term{kind: tMem, inner: p.t, user: user}
	}
	return p.t
}

// regName maps a DWARF register number to its tracefs name.
func (b *Binary) regName(n int) (string, error) {
	var names []string
	switch b.elf.Machine {
	case elf.EM_X86_64:
		names = x86_64Regs[:]
	case elf.EM_386:
		names = x86Regs[:]
	case elf.EM_AARCH64:
		if n >= 0 && n <= 30 {
			return "%x" + strconv.Itoa(n), nil
		}
		if n == 31 {
			return "%sp", nil
		}
	}
	if n >= 0 && n < len(names) {
		return names[n], nil
	}
	return "", fmt.Errorf("mapping for the register number %d missing on this architecture: %w", n, ErrNotSupported)
}

// exprCtx is what a DWARF expression is evaluated against.
type exprCtx struct {
	b       *Binary
	u       *unit
	pc      uint64
	fb      func() (*term, error) // frame base
	atEntry bool                  // pc is the function's entry: entry values are live
	varSize int64                 // size of the variable, 0 when unknown
}

// eval translates a location expression into a place, symbolically.
func (x *exprCtx) eval(expr []byte) (place, error) {
	var stack []*term
	var regLoc *term
	pieces := 0
	pop := func() (*term, error) {
		if len(stack) == 0 {
			return nil, fmt.Errorf("expression %x: stack underflow: %w", expr, ErrInvalid)
		}
		t := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		return t, nil
	}
	unsupported := func(op byte) (place, error) {
		return place{}, fmt.Errorf("DW_OP %#x in location %x: %w", op, expr, ErrNotSupported)
	}
	ptr := 8
	if x.b.elf.Class == elf.ELFCLASS32 {
		ptr = 4
	}
	order := x.b.order
	for i := 0; i < len(expr); {
		op := expr[i]
		i++
		rest := expr[i:]
		switch {
		case op == 0x03: // DW_OP_addr
			if len(rest) < ptr {
				return place{}, fmt.Errorf("expression %x: truncated: %w", expr, ErrInvalid)
			}
			var a uint64
			if ptr == 8 {
				a = order.Uint64(rest)
			} else {
				a = uint64(order.Uint32(rest))
			}
			i += ptr
			stack = append(stack, &term{kind: tConst, c: a, addr: true})
		case op >= 0x30 && op <= 0x4f: // DW_OP_lit0..31
			stack = append(stack, &term{kind: tConst, c: uint64(op - 0x30)})
		case op >= 0x08 && op <= 0x11: // DW_OP_const*
			v, n, err := readConst(op, rest, order)
			if err != nil {
				return place{}, fmt.Errorf("expression %x: %w", expr, err)
			}
			i += n
			stack = append(stack, &term{kind: tConst, c: v})
		case op >= 0x50 && op <= 0x6f: // DW_OP_reg0..31
			regLoc = &term{kind: tReg, reg: int(op - 0x50)}
		case op == 0x90: // DW_OP_regx
			r, n := uleb(rest)
			if n == 0 {
				return place{}, fmt.Errorf("expression %x: truncated: %w", expr, ErrInvalid)
			}
			i += n
			regLoc = &term{kind: tReg, reg: int(r)}
		case op >= 0x70 && op <= 0x8f: // DW_OP_breg0..31
			off, n := sleb(rest)
			if n == 0 {
				return place{}, fmt.Errorf("expression %x: truncated: %w", expr, ErrInvalid)
			}
			i += n
			stack = append(stack, &term{kind: tReg, reg: int(op - 0x70), off: off})
		case op == 0x92: // DW_OP_bregx
			r, n := uleb(rest)
			off, m := sleb(rest[n:])
			if n == 0 || m == 0 {
				return place{}, fmt.Errorf("expression %x: truncated: %w", expr, ErrInvalid)
			}
			i += n + m
			stack = append(stack, &term{kind: tReg, reg: int(r), off: off})
		case op == 0x91: // DW_OP_fbreg
			off, n := sleb(rest)
			if n == 0 {
				return place{}, fmt.Errorf("expression %x: truncated: %w", expr, ErrInvalid)
			}
			i += n
			if x.fb == nil {
				return place{}, fmt.Errorf("frame base: %w", ErrNotSupported)
			}
			fb, err := x.fb()
			if err != nil {
				return place{}, err
			}
			stack = append(stack, fb.plus(off))
		case op == 0x9c: // DW_OP_call_frame_cfa
			cfa, err := x.b.cfa(x.pc)
			if err != nil {
				return place{}, err
			}
			stack = append(stack, cfa)
		case op == 0x23: // DW_OP_plus_uconst
			v, n := uleb(rest)
			if n == 0 {
				return place{}, fmt.Errorf("expression %x: truncated: %w", expr, ErrInvalid)
			}
			i += n
			t, err := pop()
			if err != nil {
				return place{}, err
			}
			stack = append(stack, t.plus(int64(v)))
		case op == 0x22 || op == 0x1c: // DW_OP_plus, DW_OP_minus
			r, err := pop()
			if err != nil {
				return place{}, err
			}
			l, err := pop()
			if err != nil {
				return place{}, err
			}
			switch {
			case r.kind == tConst && op == 0x22:
				stack = append(stack, l.plus(int64(r.c)))
			case r.kind == tConst:
				stack = append(stack, l.plus(-int64(r.c)))
			case l.kind == tConst && op == 0x22:
				stack = append(stack, r.plus(int64(l.c)))
			default:
				return unsupported(op)
			}
		case op == 0x06: // DW_OP_deref
			t, err := pop()
			if err != nil {
				return place{}, err
			}
			stack = append(stack, &term{kind: tMem, inner: t})
		case op == 0x94: // DW_OP_deref_size
			if len(rest) < 1 {
				return place{}, fmt.Errorf("expression %x: truncated: %w", expr, ErrInvalid)
			}
			if int(rest[0]) != ptr {
				return unsupported(op)
			}
			i++
			t, err := pop()
			if err != nil {
				return place{}, err
			}
			stack = append(stack, &term{kind: tMem, inner: t})
		case op == 0x9f: // DW_OP_stack_value
			t, err := pop()
			if err != nil {
				return place{}, err
			}
			if i != len(expr) {
				// Followed by a piece: only a single whole piece.
				if expr[i] != 0x93 {
					return unsupported(op)
				}
			}
			return place{t: t}, nil
		case op == 0x9e: // DW_OP_implicit_value
			n, m := uleb(rest)
			if m == 0 || uint64(len(rest)-m) < n || n > 8 {
				return unsupported(op)
			}
			var buf [8]byte
			copy(buf[:], rest[m:m+int(n)])
			i += m + int(n)
			return place{t: &term{kind: tConst, c: binary.LittleEndian.Uint64(buf[:])}}, nil
		case op == 0xa3 || op == 0xf3: // DW_OP_entry_value, DW_OP_GNU_entry_value
			n, m := uleb(rest)
			if m == 0 || uint64(len(rest)-m) < n {
				return place{}, fmt.Errorf("expression %x: truncated: %w", expr, ErrInvalid)
			}
			blk := rest[m : m+int(n)]
			i += m + int(n)
			reg := -1
			if len(blk) == 1 && blk[0] >= 0x50 && blk[0] <= 0x6f {
				reg = int(blk[0] - 0x50)
			} else if len(blk) >= 2 && blk[0] == 0x90 {
				if r, k := uleb(blk[1:]); k == len(blk)-1 {
					reg = int(r)
				}
			}
			if reg < 0 || !x.atEntry {
				return place{}, fmt.Errorf("entry value of a register, away from the function entry: %w", ErrNotSupported)
			}
			stack = append(stack, &term{kind: tReg, reg: reg})
		case op == 0x93: // DW_OP_piece
			size, n := uleb(rest)
			if n == 0 {
				return place{}, fmt.Errorf("expression %x: truncated: %w", expr, ErrInvalid)
			}
			i += n
			pieces++
			if x.varSize > 0 && int64(size) < x.varSize {
				return place{}, fmt.Errorf("a piece of %d bytes of a %d-byte value: %w", size, x.varSize, ErrNotSupported)
			}
			if pieces > 1 || i != len(expr) {
				return place{}, fmt.Errorf("a value in several pieces: %w", ErrNotSupported)
			}
		default:
			return unsupported(op)
		}
	}
	if regLoc != nil {
		if len(stack) != 0 {
			return unsupported(expr[0])
		}
		return place{t: regLoc}, nil
	}
	if len(stack) == 0 {
		return place{}, fmt.Errorf("empty location: %w", ErrNotFound)
	}
	return place{mem: true, t: stack[len(stack)-1]}, nil
}

func readConst(op byte, b []byte, order binary.ByteOrder) (uint64, int, error) {
	need := map[byte]int{0x08: 1, 0x09: 1, 0x0a: 2, 0x0b: 2, 0x0c: 4, 0x0d: 4, 0x0e: 8, 0x0f: 8}
	if n, ok := need[op]; ok {
		if len(b) < n {
			return 0, 0, fmt.Errorf("truncated constant: %w", ErrInvalid)
		}
		switch op {
		case 0x08:
			return uint64(b[0]), 1, nil
		case 0x09:
			return uint64(int64(int8(b[0]))), 1, nil
		case 0x0a:
			return uint64(order.Uint16(b)), 2, nil
		case 0x0b:
			return uint64(int64(int16(order.Uint16(b)))), 2, nil
		case 0x0c:
			return uint64(order.Uint32(b)), 4, nil
		case 0x0d:
			return uint64(int64(int32(order.Uint32(b)))), 4, nil
		default:
			return order.Uint64(b), 8, nil
		}
	}
	if op == 0x10 {
		v, n := uleb(b)
		if n == 0 {
			return 0, 0, fmt.Errorf("truncated constant: %w", ErrInvalid)
		}
		return v, n, nil
	}
	v, n := sleb(b)
	if n == 0 {
		return 0, 0, fmt.Errorf("truncated constant: %w", ErrInvalid)
	}
	return uint64(v), n, nil
}

// perfAccepts is perf's own test in convert_variable_location: only the
// first operation counts, and it must be an address, a frame-base offset
// or a register (plus offset). -V lists exactly what perf lists.
func perfAccepts(expr []byte, haveFB bool, b *Binary) bool {
	if len(expr) == 0 {
		return false
	}
	op := expr[0]
	var reg uint64
	switch {
	case op == 0x03:
		return true
	case op == 0x91:
		return haveFB
	case op >= 0x70 && op <= 0x8f:
		reg = uint64(op - 0x70)
	case op >= 0x50 && op <= 0x6f:
		reg = uint64(op - 0x50)
	case op == 0x92 || op == 0x90:
		r, n := uleb(expr[1:])
		if n == 0 {
			return false
		}
		reg = r
	default:
		return false
	}
	_, err := b.regName(int(reg))
	return err == nil
}

// locExpr returns the location expression of a DW_AT_location (or frame
// base) field valid at pc: exprloc, or the matching location-list entry.
func (b *Binary) locExpr(u *unit, f *dwarf.Field, pc uint64) (expr []byte, ok bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			expr, ok, err = nil, false, fmt.Errorf("malformed location list: %v", r)
		}
	}()
	switch f.Class {
	case dwarf.ClassExprLoc, dwarf.ClassBlock:
		e, _ := f.Val.([]byte)
		return e, true, nil
	case dwarf.ClassLocListPtr, dwarf.ClassLocList:
		off, _ := f.Val.(int64)
		var rd loclist.Reader
		if b.loc5 != nil && (f.Class == dwarf.ClassLocList || b.loc == nil) {
			rd = b.loc5
		} else if b.loc != nil {
			rd = b.loc
		}
		if rd == nil {
			return nil, false, fmt.Errorf("location list at %#x: no location list section", off)
		}
		var addrBase uint64
		if v, ok := u.entry.Val(dwarf.AttrAddrBase).(int64); ok {
			addrBase = uint64(v)
		}
		ent, err := rd.Find(int(off), 0, u.lowPC, pc, b.addr.GetSubsection(addrBase))
		if err != nil {
			return nil, false, fmt.Errorf("location list at %#x: %w", off, err)
		}
		if ent == nil {
			return nil, false, nil
		}
		return ent.Instr, true, nil
	}
	return nil, false, fmt.Errorf("location of class %v: %w", f.Class, ErrNotSupported)
}

// cfa returns the canonical frame address at pc from .eh_frame or
// .debug_frame, as reg+offset.
func (b *Binary) cfa(pc uint64) (*term, error) {
	fde := b.quickFDE(pc)
	if fde == nil {
		b.frameMu.Do(func() { b.fdes, b.fdesErr = b.loadFrames() })
		if b.fdesErr != nil && len(b.fdes) == 0 {
			return nil, fmt.Errorf("call frame at %#x: %w", pc, b.fdesErr)
		}
		var err error
		fde, err = b.fdes.FDEForPC(pc)
		if err != nil {
			return nil, fmt.Errorf("call frame at %#x: %v: %w", pc, err, ErrNotFound)
		}
	}
	var err error
	var fc *frame.FrameContext
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("malformed call frame information: %v", r)
			}
		}()
		fc, err = fde.EstablishFrame(pc)
	}()
	if err != nil {
		return nil, fmt.Errorf("call frame at %#x: %w", pc, err)
	}
	if fc.CFA.Rule == frame.RuleExpression {
		// DW_CFA_def_cfa_expression: the expression computes the CFA.
		x := &exprCtx{b: b, pc: pc}
		pl, err := x.eval(fc.CFA.Expression)
		if err != nil {
			return nil, &cfaExprError{expr: fc.CFA.Expression, err: err}
		}
		return pl.t, nil
	}
	if fc.CFA.Rule != frame.RuleCFA {
		return nil, fmt.Errorf("call frame at %#x: CFA rule %d: %w", pc, fc.CFA.Rule, ErrNotSupported)
	}
	return &term{kind: tReg, reg: int(fc.CFA.Reg), off: fc.CFA.Offset}, nil
}

// cfaExprError is a CFA given by an expression gperf cannot use; perf
// takes the expression's first operation as the frame base.
type cfaExprError struct {
	expr []byte
	err  error
}

func (e *cfaExprError) Error() string { return fmt.Sprintf("CFA expression %x: %v", e.expr, e.err) }
func (e *cfaExprError) Unwrap() error { return e.err }

// hasCFI reports whether the binary has call frame information at all
// (perf uses the CFA only when it does).
func (b *Binary) hasCFI() bool {
	for _, n := range []string{".eh_frame", ".debug_frame"} {
		if s := b.elf.Section(n); s != nil && s.Type != elf.SHT_NOBITS && s.Size > 0 {
			return true
		}
	}
	return false
}

func (b *Binary) loadFrames() (fdes frame.FrameDescriptionEntries, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed call frame information: %v", r)
		}
	}()
	ptr := addrSize(b.elf)
	if s := b.elf.Section(".eh_frame"); s != nil && s.Type != elf.SHT_NOBITS {
		d, err := b.section(".eh_frame")
		if b.relSects != nil {
			d, err = b.relSects[".eh_frame"], nil
		}
		if err == nil && len(d) > 0 {
			f, err := frame.Parse(d, b.order, 0, ptr, s.Addr)
			if err == nil {
				fdes = append(fdes, f...)
			}
		}
	}
	d, _ := b.section(".debug_frame")
	if b.relSects != nil {
		d = b.relSects[".debug_frame"]
	}
	if len(d) > 0 {
		f, err := frame.Parse(d, b.order, 0, ptr, 0)
		if err == nil {
			fdes = fdes.Append(f)
		}
	}
	if len(fdes) == 0 {
		return nil, fmt.Errorf("no call frame information: %w", ErrNotFound)
	}
	sort.SliceStable(fdes, func(i, j int) bool { return fdes[i].Begin() < fdes[j].Begin() })
	return fdes, nil
}

// render writes a value term as a fetch-arg, or fails when no fetch-arg
// can express it.
func (b *Binary) render(t *term, o *renderCtx) (string, error) {
	switch t.kind {
	case tReg:
		r, err := b.regName(t.reg)
		if err != nil {
			return "", err
		}
		if t.off != 0 {
			return "", fmt.Errorf("the value is computed (%s%+d), not stored: no fetch-arg can express it: %w", r, t.off, ErrNotSupported)
		}
		return r, nil
	case tConst:
		if t.addr && (b.elf.Type == elf.ET_REL || b.elf.Type == elf.ET_DYN) {
			// DW_OP_addr; DW_OP_stack_value: the value is an address,
			// which the loader moves in a module or a PIE; an immediate
			// would be wrong and perf's @sym loads memory instead.
			return "", fmt.Errorf("the value is the address %#x, relocated at load time: no fetch-arg can express it: %w", t.c+uint64(t.off), ErrNotSupported)
		}
		if t.signed {
			return "\\" + strconv.FormatInt(int64(t.c)+t.off, 10), nil
		}
		return "\\" + strconv.FormatUint(t.c+uint64(t.off), 10), nil
	case tMem:
		if t.off != 0 {
			return "", fmt.Errorf("the value is a loaded value %+d: no fetch-arg can express it: %w", t.off, ErrNotSupported)
		}
		a := t.inner
		u := ""
		if t.user {
			u = "u"
		}
		switch a.kind {
		case tReg:
			r, err := b.regName(a.reg)
			if err != nil {
				return "", err
			}
			return refString(u, a.off) + r + ")", nil
		case tConst:
			return b.renderStatic(a, o)
		case tMem:
			inner, err := b.render(&term{kind: tMem, inner: a.inner, user: a.user}, o)
			if err != nil {
				return "", err
			}
			return refString(u, a.off) + inner + ")", nil
		}
	}
	return "", fmt.Errorf("unknown term: %w", ErrInvalid)
}

// renderStatic writes a load from a fixed address: @sym+off for kprobes
// (perf's form), @+FILEOFFSET for uprobes.
func (b *Binary) renderStatic(a *term, o *renderCtx) (string, error) {
	addr := a.c + uint64(a.off)
	if o.uprobe {
		// The kernel resolves @+OFF against the probed mapping:
		// vaddr = probe_vaddr - probe_fileoff + OFF.
		off := addr - o.probeAddr + o.probeFileOff
		return fmt.Sprintf("@+0x%x", off), nil
	}
	sym := a.sym
	base := a.c
	if sym == "" {
		if s, ok := b.symbolNamed(a.c); ok {
			sym = s
		}
	}
	if sym == "" {
		return "", fmt.Errorf("no symbol at address %#x: %w", a.c, ErrNotSupported)
	}
	return fmt.Sprintf("@%s%+d", sym, int64(addr-base)), nil
}

// refString is perf's "%+ld(" or "+u%ld(" for user memory.
func refString(u string, off int64) string {
	if u != "" {
		return "+u" + strconv.FormatInt(off, 10) + "("
	}
	return fmt.Sprintf("%+d(", off)
}

type renderCtx struct {
	uprobe       bool
	probeAddr    uint64
	probeFileOff uint64
}

// symbolNamed returns the name of the data or function symbol at addr.
func (b *Binary) symbolNamed(addr uint64) (string, bool) {
	syms, _ := b.Symbols()
	for _, s := range syms {
		if s.Value == addr && (s.Type == elf.STT_OBJECT || s.Type == elf.STT_FUNC) && !s.Dyn {
			return s.Name, true
		}
	}
	return "", false
}

// x86_64Regs are perf's names for DWARF registers 0-16 on x86-64
// (tools/perf/arch/x86/util/dwarf-regs.c).
var x86_64Regs = [...]string{"%ax", "%dx", "%cx", "%bx", "%si", "%di", "%bp", "%sp",
	"%r8", "%r9", "%r10", "%r11", "%r12", "%r13", "%r14", "%r15"}

var x86Regs = [...]string{"%ax", "%cx", "%dx", "%bx", "$stack", "%bp", "%si", "%di"}
