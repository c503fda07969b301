package dwarfline

import (
	"debug/dwarf"
	"fmt"
)

// Types are read lazily from their DIEs (no type graph is built), with
// perf's helpers' semantics (tools/perf/util/dwarf-aux.c).

func (b *Binary) cachedEntry(off dwarf.Offset) (*dwarf.Entry, error) {
	if b.ecache == nil || len(b.ecache) > 4096 {
		b.ecache = map[dwarf.Offset]*dwarf.Entry{}
	}
	if e, ok := b.ecache[off]; ok {
		return e, nil
	}
	e, err := b.entryAt(off)
	if err != nil {
		return nil, err
	}
	b.ecache[off] = e
	return e, nil
}

// typeOf is die_get_type: the DIE of e's DW_AT_type (integrated), or nil.
func (b *Binary) typeOf(e *dwarf.Entry) *dwarf.Entry {
	f, _ := b.integrate(e, dwarf.AttrType)
	if f == nil {
		return nil
	}
	off, ok := f.Val.(dwarf.Offset)
	if !ok {
		return nil
	}
	t, err := b.cachedEntry(off)
	if err != nil {
		return nil
	}
	return t
}

// typeSkipCV is __die_get_real_type: the type with qualifiers skipped.
func (b *Binary) typeSkipCV(e *dwarf.Entry) *dwarf.Entry {
	t := b.typeOf(e)
	for i := 0; t != nil && i < 64; i++ {
		switch t.Tag {
		case dwarf.TagConstType, dwarf.TagRestrictType, dwarf.TagVolatileType, dwarf.TagSharedType, dwarf.TagAtomicType:
			t = b.typeOf(t)
		default:
			return t
		}
	}
	return t
}

// realType is die_get_real_type: qualifiers and typedefs skipped.
func (b *Binary) realType(e *dwarf.Entry) *dwarf.Entry {
	t := b.typeSkipCV(e)
	for i := 0; t != nil && t.Tag == dwarf.TagTypedef && i < 64; i++ {
		t = b.typeSkipCV(t)
	}
	return t
}

// typeName is die_get_typename: perf's name of e's type ("struct
// ldlm_resource*", "int", "FILE*", "(function_type)"), or ok=false.
func (b *Binary) typeName(e *dwarf.Entry) (string, bool) {
	for depth := 0; depth < 64; depth++ {
		t := b.typeSkipCV(e)
		if t == nil {
			return "", false
		}
		switch t.Tag {
		case dwarf.TagArrayType, dwarf.TagPointerType:
			inner, ok := b.typeName(t)
			if !ok {
				return "", false
			}
			return inner + "*", true
		case dwarf.TagSubroutineType:
			return "(function_type)", true
		}
		n, _ := t.Val(dwarf.AttrName).(string)
		if n == "" {
			return "", false
		}
		switch t.Tag {
		case dwarf.TagUnionType:
			return "union " + n, true
		case dwarf.TagStructType:
			return "struct " + n, true
		case dwarf.TagEnumerationType:
			return "enum " + n, true
		}
		return n, true
	}
	return "", false
}

// varName is die_get_varname: "TYPE\tNAME", with "(unknown_type)" for a
// type perf cannot name.
func (b *Binary) varName(e *dwarf.Entry) string {
	t, ok := b.typeName(e)
	if !ok {
		t = "(unknown_type)"
	}
	return t + "\t" + b.name(e)
}

// byteSize is dwarf_bytesize (-1 when unknown).
func byteSize(t *dwarf.Entry) int64 {
	if t == nil {
		return -1
	}
	if v, ok := attrInt(t, dwarf.AttrByteSize); ok {
		return v
	}
	if v, ok := attrInt(t, dwarf.AttrBitSize); ok {
		return (v + 7) / 8
	}
	return -1
}

// isSigned is die_is_signed_type.
func isSigned(t *dwarf.Entry) bool {
	enc, ok := attrInt(t, dwarf.AttrEncoding)
	if !ok {
		return false
	}
	const (
		ateSigned      = 0x5
		ateSignedChar  = 0x6
		ateSignedFixed = 0xd
	)
	return enc == ateSigned || enc == ateSignedChar || enc == ateSignedFixed
}

// findMember is die_find_member: the member named name in the struct or
// union t, looking into unnamed members. It returns the chain of members
// from t down to the named one (unnamed ones first).
func (b *Binary) findMember(t *dwarf.Entry, name string, depth int) ([]*dwarf.Entry, error) {
	if depth > 16 {
		return nil, nil
	}
	kids, err := b.children(t.Offset)
	if err != nil {
		return nil, err
	}
	for _, k := range kids {
		if k.Tag != dwarf.TagMember {
			continue
		}
		kn, _ := k.Val(dwarf.AttrName).(string)
		if kn == name {
			return []*dwarf.Entry{k}, nil
		}
		if kn == "" {
			if st := b.realType(k); st != nil && (st.Tag == dwarf.TagStructType || st.Tag == dwarf.TagUnionType) {
				sub, err := b.findMember(st, name, depth+1)
				if err != nil {
					return nil, err
				}
				if sub != nil {
					return append([]*dwarf.Entry{k}, sub...), nil
				}
			}
		}
	}
	return nil, nil
}

// memberOffset is die_get_data_member_location, plus DWARF 5's
// DW_AT_data_bit_offset (in bits) for bitfields.
func memberOffset(m *dwarf.Entry) (byteOff int64, bitOff int64, hasBit bool, err error) {
	f := m.AttrField(dwarf.AttrDataMemberLoc)
	if f == nil {
		if v, ok := attrInt(m, dwarf.AttrDataBitOffset); ok {
			return 0, v, true, nil
		}
		// Members of unions often have no location: offset 0.
		return 0, 0, false, errNoMemberLocation
	}
	switch v := f.Val.(type) {
	case int64:
		return v, 0, false, nil
	case uint64:
		return int64(v), 0, false, nil
	case []byte:
		// DW_OP_plus_uconst N
		if len(v) >= 2 && v[0] == 0x23 {
			n, sz := uleb(v[1:])
			if sz > 0 && 1+sz == len(v) {
				return int64(n), 0, false, nil
			}
		}
		return 0, 0, false, fmt.Errorf("member location expression %x: %w", v, ErrNotSupported)
	}
	return 0, 0, false, errNoMemberLocation
}

var errNoMemberLocation = fmt.Errorf("no member location: %w", ErrNotFound)

func uleb(b []byte) (uint64, int) {
	var v uint64
	var shift uint
	for i, c := range b {
		if shift < 64 {
			v |= uint64(c&0x7f) << shift
		}
		shift += 7
		if c&0x80 == 0 {
			return v, i + 1
		}
	}
	return 0, 0
}

func sleb(b []byte) (int64, int) {
	var v int64
	var shift uint
	for i, c := range b {
		if shift < 64 {
			v |= int64(c&0x7f) << shift
		}
		shift += 7
		if c&0x80 == 0 {
			if shift < 64 && c&0x40 != 0 {
				v |= -1 << shift
			}
			return v, i + 1
		}
	}
	return 0, 0
}
