package export

import (
	"bytes"
	"encoding/binary"
	"strconv"

	"github.com/gperf-dev/gperf/tracefs"
)

// FieldValue is one decoded tracepoint or probe field of a sample's raw
// data: an integer (Int or Uint by the field's signedness), a string (char
// arrays and __data_loc strings), or a list of integers (other arrays).
type FieldValue struct {
	Name   string
	Kind   FieldKind
	Int    int64
	Uint   uint64
	Str    string
	Ints   []int64
	Uints  []uint64
	Signed bool
}

// FieldKind says which member of a FieldValue holds the value.
type FieldKind uint8

const (
	FieldInt    FieldKind = iota // Int (signed) or Uint (unsigned)
	FieldString                  // Str
	FieldArray                   // Ints (signed) or Uints (unsigned)
	FieldBytes                   // Str holds raw bytes of an odd-sized field, shown in hex
)

// text renders a value as a label value: decimal integers, strings as
// they are, arrays as "[a,b,c]".
func (v *FieldValue) text() string {
	switch v.Kind {
	case FieldInt:
		if v.Signed {
			return strconv.FormatInt(v.Int, 10)
		}
		return strconv.FormatUint(v.Uint, 10)
	case FieldArray:
		b := []byte{'['}
		n := len(v.Uints)
		if v.Signed {
			n = len(v.Ints)
		}
		for i := 0; i < n; i++ {
			if i > 0 {
				b = append(b, ',')
			}
			if v.Signed {
				b = strconv.AppendInt(b, v.Ints[i], 10)
			} else {
				b = strconv.AppendUint(b, v.Uints[i], 10)
			}
		}
		return string(append(b, ']'))
	}
	return v.Str
}

// decodeFields decodes an event's own fields (not the common_* ones) from
// raw sample data laid out as format says. Fields that fall outside the
// data are left out; nothing here panics on short or hostile data.
func decodeFields(f *tracefs.Format, raw []byte, order binary.ByteOrder, dst []FieldValue) []FieldValue {
	dst = dst[:0]
	for i := range f.Fields {
		fd := &f.Fields[i]
		v := FieldValue{Name: fd.Name, Signed: fd.Signed}
		if fd.Offset < 0 || fd.Size < 0 || fd.Offset > len(raw) || fd.Size > len(raw)-fd.Offset {
			continue
		}
		b := raw[fd.Offset : fd.Offset+fd.Size]
		switch {
		case fd.DataLoc || fd.RelLoc:
			if fd.Size != 4 {
				continue
			}
			w := order.Uint32(b)
			off, ln := int(w&0xffff), int(w>>16)
			if fd.RelLoc {
				off += fd.Offset + fd.Size
			}
			if off+ln > len(raw) {
				continue
			}
			data := raw[off : off+ln]
			if fd.IsString() {
				v.Kind, v.Str = FieldString, cString(data)
			} else {
				v.Kind = FieldArray
				decodeArray(&v, data, elemSize(fd.Type), order)
			}
		case fd.IsString():
			v.Kind, v.Str = FieldString, cString(b)
		case fd.Array:
			es := fd.Size
			if fd.ArrayLen > 0 {
				es = fd.Size / fd.ArrayLen
			}
			v.Kind = FieldArray
			decodeArray(&v, b, es, order)
		default:
			if !decodeInt(&v, b, order) {
				v.Kind, v.Str = FieldBytes, string(b)
			}
		}
		dst = append(dst, v)
	}
	return dst
}

func decodeInt(v *FieldValue, b []byte, order binary.ByteOrder) bool {
	var u uint64
	switch len(b) {
	case 1:
		u = uint64(b[0])
		if v.Signed {
			v.Int = int64(int8(b[0]))
		}
	case 2:
		u = uint64(order.Uint16(b))
		if v.Signed {
			v.Int = int64(int16(u))
		}
	case 4:
		u = uint64(order.Uint32(b))
		if v.Signed {
			v.Int = int64(int32(u))
		}
	case 8:
		u = order.Uint64(b)
		if v.Signed {
			v.Int = int64(u)
		}
	default:
		return false
	}
	v.Kind, v.Uint = FieldInt, u
	return true
}

func decodeArray(v *FieldValue, b []byte, es int, order binary.ByteOrder) {
	if es != 1 && es != 2 && es != 4 && es != 8 {
		es = 1
	}
	for i := 0; i+es <= len(b); i += es {
		e := FieldValue{Signed: v.Signed}
		decodeInt(&e, b[i:i+es], order)
		if v.Signed {
			v.Ints = append(v.Ints, e.Int)
		} else {
			v.Uints = append(v.Uints, e.Uint)
		}
	}
}

// elemSize guesses the element size of a __data_loc array from its C
// type.
func elemSize(t string) int {
	switch t {
	case "u16", "s16", "short", "unsigned short", "__u16", "__s16":
		return 2
	case "u32", "s32", "int", "unsigned int", "__u32", "__s32", "pid_t":
		return 4
	case "u64", "s64", "long", "unsigned long", "__u64", "__s64", "long long", "unsigned long long":
		return 8
	}
	return 1
}

func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
