package dwarfline

import (
	"debug/dwarf"
	"errors"
	"fmt"
)

// Field is one step of an argument's field chain: `->name`, `.name` or
// `[index]`.
type Field struct {
	Name    string // member name ("" for an index)
	Index   int64  // array index when IsIndex
	IsIndex bool
	Ref     bool // reached with "->"
}

// ArgSpec is a C-variable probe argument to translate.
type ArgSpec struct {
	Var    string
	Fields []Field
	// Type is the requested cast: "" for the default type, "string", or
	// any fetch type (u32, x64, s8, b3@2/8, ...) which is used as given.
	Type string
	// User marks `@user`: pointers are followed in user memory (+u).
	User bool
}

// TranslateOptions carry what the target kernel supports.
type TranslateOptions struct {
	// HexUnsigned is set when tracefs accepts x8..x64: perf then gives
	// unsigned values the x types (probe_type_is_available(PROBE_TYPE_X)).
	HexUnsigned bool
	// Uprobe writes loads of global variables as @+FILEOFFSET (the only
	// form uprobes accept) instead of @symbol+offset.
	Uprobe bool
}

// FetchArg is a translated argument: Value is the fetch-arg expression and
// Type the type suffix ("" for the kernel's default).
type FetchArg struct {
	Value string
	Type  string
}

// String is the argument as written in a probe definition, without name.
func (a FetchArg) String() string {
	if a.Type == "" {
		return a.Value
	}
	return a.Value + ":" + a.Type
}

// ArgError is a failure to translate an argument. Perf is perf's message
// for the same failure (what `perf probe` prints), Err one of ErrNotFound
// (no such variable), ErrNoLocation (optimized out), ErrNotSupported or
// ErrInvalid, and Reason gperf's own explanation.
type ArgError struct {
	Var    string
	Perf   string
	Reason string
	Err    error
}

func (e *ArgError) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("translate argument %s: %s", e.Var, e.Reason)
	}
	return fmt.Sprintf("translate argument %s: %v", e.Var, e.Err)
}

func (e *ArgError) Unwrap() error { return e.Err }

// TranslateArg turns a C variable with its field chain into a fetch-arg at
// the probe, as perf 6.1 writes it (convert_variable in
// tools/perf/util/probe-finder.c) where perf is right, and correctly where
// it is not: computed locations (DW_OP_stack_value) are not loaded from
// memory, DWARF 5 bitfields are fetched, DWARF 4 bit offsets are counted
// from the least significant bit, constants and entry values are fetched
// when possible. A value no fetch-arg can express is an *ArgError.
func (b *Binary) TranslateArg(p *Probe, a ArgSpec, o TranslateOptions) (FetchArg, error) {
	fail := func(kind error, perfMsg, reason string) (FetchArg, error) {
		return FetchArg{}, &ArgError{Var: a.Var, Perf: perfMsg, Reason: reason, Err: kind}
	}
	v, err := b.findVariable(p, a.Var)
	if err != nil {
		return FetchArg{}, err
	}
	if v == nil {
		// perf 6.1 says this of an unknown variable too.
		return fail(ErrNotFound, fmt.Sprintf("Failed to find the location of the '%s' variable at this address.\n"+
			" Perhaps it has been optimized out.\n"+
			" Use -V with the --range option to show '%s' location range.", a.Var, a.Var), "no variable "+a.Var+" in scope")
	}
	optimized := fmt.Sprintf("Failed to find the location of the '%s' variable at this address.\n"+
		" Perhaps it has been optimized out.\n"+
		" Use -V with the --range option to show '%s' location range.", a.Var, a.Var)
	sorry := "Sorry, we don't support this variable location yet."
	pl, err := b.varPlace(p, v)
	if err != nil {
		switch {
		case errors.Is(err, ErrNoLocation), errors.Is(err, ErrNotFound):
			return fail(ErrNoLocation, optimized, err.Error())
		case errors.Is(err, ErrNotSupported):
			return fail(ErrNotSupported, sorry, err.Error())
		}
		return fail(ErrInvalid, sorry, err.Error())
	}
	cur := v
	curName := a.Var
	user := false
	bitfield := (*bitField)(nil)
	for i, f := range a.Fields {
		t := b.realType(cur)
		if t == nil {
			return fail(ErrNotFound, fmt.Sprintf("Failed to get the type of %s.", curName), "")
		}
		if f.IsIndex && (t.Tag == dwarf.TagArrayType || t.Tag == dwarf.TagPointerType) {
			elem := b.realType(t)
			if elem == nil {
				return fail(ErrNotFound, fmt.Sprintf("Failed to get the type of %s.", curName), "")
			}
			size := byteSize(elem)
			if size < 0 {
				return fail(ErrInvalid, fmt.Sprintf("Failed to get the type of %s.", curName), "element size unknown")
			}
			if t.Tag == dwarf.TagPointerType {
				pl = place{mem: true, t: pl.load(user).plus(size * f.Index)}
				user = a.User
			} else {
				if !pl.mem {
					return fail(ErrNotSupported, "Structure on a register is not supported yet.", "an array held in a register")
				}
				pl.t = pl.t.plus(size * f.Index)
			}
			cur = t
			continue
		}
		if f.IsIndex {
			if t.Tag != dwarf.TagStructType && t.Tag != dwarf.TagUnionType {
				return fail(ErrInvalid, fmt.Sprintf("%s is not a data structure nor a union.", curName), "")
			}
			return fail(ErrInvalid, fmt.Sprintf("Semantic error: %s is not a pointer nor array.", curName), "")
		}
		st := t
		if t.Tag == dwarf.TagPointerType {
			if !f.Ref {
				return fail(ErrInvalid, fmt.Sprintf("Semantic error: %s must be referred by '->'", f.Name), "")
			}
			st = b.realType(t)
			if st == nil {
				return fail(ErrNotFound, fmt.Sprintf("Failed to get the type of %s.", curName), "")
			}
			if st.Tag != dwarf.TagStructType && st.Tag != dwarf.TagUnionType {
				return fail(ErrInvalid, fmt.Sprintf("%s is not a data structure nor a union.", curName), "")
			}
			pl = place{mem: true, t: pl.load(user)}
			user = a.User
		} else {
			if t.Tag != dwarf.TagStructType && t.Tag != dwarf.TagUnionType {
				return fail(ErrInvalid, fmt.Sprintf("%s is not a data structure nor a union.", curName), "")
			}
			if f.Ref && b.name(cur) != "" {
				return fail(ErrInvalid, fmt.Sprintf("Semantic error: %s must be referred by '.'", f.Name), "")
			}
			if !pl.mem {
				return fail(ErrNotSupported, "Structure on a register is not supported yet.", "a structure held in a register")
			}
		}
		chain, err := b.findMember(st, f.Name, 0)
		if err != nil {
			return FetchArg{}, err
		}
		if chain == nil {
			tn, _ := st.Val(dwarf.AttrName).(string)
			return fail(ErrInvalid, fmt.Sprintf("%s(type:%s) has no member %s.", curName, tn, f.Name), "")
		}
		parent := st
		for _, m := range chain {
			off, bitOff, hasBit, err := memberOffset(m)
			switch {
			case parent.Tag == dwarf.TagUnionType:
				off, hasBit = 0, false
			case err != nil:
				return fail(ErrNotFound, fmt.Sprintf("Failed to get the offset of %s.", f.Name), err.Error())
			}
			if hasBit {
				bf, err := b.dwarf5BitField(m, bitOff)
				if err != nil {
					return fail(ErrNotSupported, fmt.Sprintf("Failed to get the offset of %s.", f.Name), err.Error())
				}
				off = bf.byteOff
				bitfield = bf
			}
			pl.t = pl.t.plus(off)
			parent = b.realType(m)
			if parent == nil {
				parent = st
			}
		}
		cur = chain[len(chain)-1]
		curName = f.Name
		if i < len(a.Fields)-1 {
			bitfield = nil
		}
	}
	return b.finishArg(p, a, o, cur, pl, user, bitfield)
}

// finishArg is convert_variable_type plus rendering.
func (b *Binary) finishArg(p *Probe, a ArgSpec, o TranslateOptions, cur *dwarf.Entry, pl place, user bool, bf *bitField) (FetchArg, error) {
	fail := func(kind error, perfMsg, reason string) (FetchArg, error) {
		return FetchArg{}, &ArgError{Var: a.Var, Perf: perfMsg, Reason: reason, Err: kind}
	}
	rc := &renderCtx{uprobe: o.Uprobe, probeAddr: p.Addr}
	if o.Uprobe {
		if off, err := b.FileOffset(p.Addr); err == nil {
			rc.probeFileOff = off
		}
	}
	var typ string
	value := pl.load(user)
	switch {
	case a.Type != "" && a.Type != "string":
		typ = a.Type
	case bf != nil || cur.AttrField(dwarf.AttrBitSize) != nil && cur.Tag == dwarf.TagMember:
		if bf == nil {
			var err error
			bf, err = b.dwarf4BitField(cur)
			if err != nil {
				return fail(ErrNotFound, "", err.Error())
			}
		}
		typ = fmt.Sprintf("b%d@%d/%d", bf.width, bf.offset, bf.container)
	default:
		t := b.realType(cur)
		if t == nil {
			return fail(ErrNotFound, fmt.Sprintf("Failed to get a type information of %s.", b.name(cur)), "")
		}
		if a.Type == "string" {
			if t.Tag != dwarf.TagPointerType && t.Tag != dwarf.TagArrayType {
				return fail(ErrInvalid, fmt.Sprintf("Failed to cast into string: %s(%s) is not a pointer nor array.", b.name(cur), b.name(t)), "")
			}
			elem := b.realType(t)
			if elem == nil {
				return fail(ErrNotFound, "Failed to get a type information.", "")
			}
			if t.Tag == dwarf.TagPointerType {
				value = &term{kind: tMem, inner: value, user: a.User}
			} else {
				if !pl.mem {
					return fail(ErrNotSupported, "Sorry, we don't support this variable location yet.", "a character array held in a register")
				}
				value = &term{kind: tMem, inner: pl.t, user: user}
			}
			en, _ := elem.Val(dwarf.AttrName).(string)
			if en != "char" && en != "unsigned char" {
				return fail(ErrInvalid, fmt.Sprintf("Failed to cast into string: %s is not (unsigned) char *.", b.name(cur)), "")
			}
			typ = "string"
			break
		}
		size := byteSize(t)
		if size <= 0 {
			break
		}
		bits := size * 8
		if bits > 64 {
			bits = 64
		}
		prefix := "u"
		if isSigned(t) {
			prefix = "s"
		} else if o.HexUnsigned {
			prefix = "x"
		}
		typ = fmt.Sprintf("%s%d", prefix, bits)
	}
	s, err := b.render(value, rc)
	if err != nil {
		return fail(ErrNotSupported, "Sorry, we don't support this variable location yet.", err.Error())
	}
	return FetchArg{Value: s, Type: typ}, nil
}

// bitField is a bitfield as a fetch type b<width>@<offset>/<container>,
// offset counted from the least significant bit of a container at byteOff.
type bitField struct {
	width, offset, container int64
	byteOff                  int64
}

// dwarf5BitField places a member described with DW_AT_data_bit_offset in
// a naturally aligned container of its type's size.
func (b *Binary) dwarf5BitField(m *dwarf.Entry, dataBitOff int64) (*bitField, error) {
	w, ok := attrInt(m, dwarf.AttrBitSize)
	if !ok {
		// A whole member placed by bit offset.
		if dataBitOff%8 != 0 {
			return nil, fmt.Errorf("member at bit %d: %w", dataBitOff, ErrNotSupported)
		}
		return &bitField{byteOff: dataBitOff / 8, width: -1}, nil
	}
	size := byteSize(b.realType(m))
	for _, s := range []int64{size, 8} {
		if s <= 0 || s > 8 {
			continue
		}
		cb := s * 8
		start := dataBitOff / cb * cb
		if dataBitOff-start+w <= cb {
			return &bitField{width: w, offset: dataBitOff - start, container: cb, byteOff: start / 8}, nil
		}
	}
	return nil, fmt.Errorf("bitfield of %d bits at bit %d fits no container: %w", w, dataBitOff, ErrNotSupported)
}

// dwarf4BitField converts DW_AT_bit_offset, counted from the most
// significant bit of a DW_AT_byte_size container, to the kernel's offset
// from the least significant bit (little endian).
func (b *Binary) dwarf4BitField(m *dwarf.Entry) (*bitField, error) {
	w, _ := attrInt(m, dwarf.AttrBitSize)
	bo, ok := attrInt(m, dwarf.AttrBitOffset)
	if !ok {
		return nil, fmt.Errorf("bitfield %s without bit offset: %w", b.name(m), ErrNotFound)
	}
	size, ok := attrInt(m, dwarf.AttrByteSize)
	if !ok {
		size = byteSize(b.realType(m))
	}
	if size <= 0 {
		return nil, fmt.Errorf("bitfield %s without size: %w", b.name(m), ErrNotFound)
	}
	off := bo
	if b.order.String() == "LittleEndian" {
		off = size*8 - bo - w
	}
	if off < 0 {
		return nil, fmt.Errorf("bitfield %s: bad bit offset %d: %w", b.name(m), bo, ErrInvalid)
	}
	return &bitField{width: w, offset: off, container: size * 8}, nil
}

// findVariable is die_find_variable_at in the scope, then in the unit's
// globals.
func (b *Binary) findVariable(p *Probe, name string) (*dwarf.Entry, error) {
	t, err := b.scope(p)
	if err != nil {
		return nil, err
	}
	match := func(e *dwarf.Entry) bool {
		return (e.Tag == dwarf.TagFormalParameter || e.Tag == dwarf.TagVariable) && b.name(e) == name &&
			(e.AttrField(dwarf.AttrExternal) != nil || e.AttrField(dwarf.AttrLocation) != nil || e.AttrField(dwarf.AttrConstValue) != nil)
	}
	if n := findChild(t, func(n *node) int {
		if match(n.e) {
			return cbEnd
		}
		if b.hasPC(n.e, p.Addr) {
			return cbContinue
		}
		return cbSibling
	}); n != nil {
		return n.e, nil
	}
	kids, err := b.children(p.u.off)
	if err != nil {
		return nil, err
	}
	for _, k := range kids {
		if match(k) {
			return k, nil
		}
	}
	return nil, nil
}

// varPlace is where a variable lives at the probe.
func (b *Binary) varPlace(p *Probe, v *dwarf.Entry) (place, error) {
	static := func(addr uint64, ok bool) (place, error) {
		sym := b.name(v)
		if ok {
			if s, found := b.symbolNamed(addr); found {
				sym = s
			}
		} else {
			a, found := b.SymbolAddr(sym)
			if !found {
				return place{}, fmt.Errorf("address of %s: %w", sym, ErrNotFound)
			}
			addr = a
		}
		return place{mem: true, t: &term{kind: tConst, c: addr, sym: sym}}, nil
	}
	if v.AttrField(dwarf.AttrExternal) == nil {
		// perf: a constant is an immediate, whatever the location says.
		if c := v.AttrField(dwarf.AttrConstValue); c != nil {
			switch x := c.Val.(type) {
			case int64:
				return place{t: &term{kind: tConst, c: uint64(x), signed: true}}, nil
			case uint64:
				return place{t: &term{kind: tConst, c: x}}, nil
			}
			return place{}, fmt.Errorf("constant value of class %v: %w", c.Class, ErrNotSupported)
		}
	}
	expr, ok, err := b.varExpr(p, v)
	if err != nil {
		return place{}, err
	}
	if v.AttrField(dwarf.AttrExternal) != nil && (!ok || len(expr) == 0 || expr[0] == 0x03) {
		if ok && len(expr) >= 1+addrSize(b.elf) && expr[0] == 0x03 {
			x := &exprCtx{b: b, u: p.u, pc: p.Addr}
			pl, err := x.eval(expr)
			if err == nil && pl.mem && pl.t.kind == tConst {
				return static(pl.t.c, true)
			}
		}
		return static(0, false)
	}
	if !ok {
		return place{}, fmt.Errorf("no location at %#x: %w", p.Addr, ErrNoLocation)
	}
	if len(expr) == 0 {
		return place{}, fmt.Errorf("empty location at %#x: %w", p.Addr, ErrNoLocation)
	}
	entry, _ := entryPC(p.sp)
	x := &exprCtx{b: b, u: p.u, pc: p.Addr, atEntry: p.Addr == entry, varSize: byteSize(b.realType(v))}
	if p.fb != nil {
		x.fb = func() (*term, error) { return p.fb, nil }
	} else if p.fbErr != nil {
		err := p.fbErr
		x.fb = func() (*term, error) { return nil, err }
	}
	pl, err := x.eval(expr)
	if err != nil {
		return place{}, err
	}
	if pl.mem && pl.t.kind == tConst {
		if s, found := b.symbolNamed(pl.t.c); found {
			pl.t.sym = s
		} else {
			pl.t.sym = b.name(v)
		}
	}
	return pl, nil
}
