package perfdata

import "encoding/binary"

// encoder appends little-endian values to a byte slice. gperf writes
// little-endian (native on amd64/arm64) files only.
type encoder struct {
	b []byte
}

func (e *encoder) u8(v uint8)   { e.b = append(e.b, v) }
func (e *encoder) u16(v uint16) { e.b = binary.LittleEndian.AppendUint16(e.b, v) }
func (e *encoder) u32(v uint32) { e.b = binary.LittleEndian.AppendUint32(e.b, v) }
func (e *encoder) u64(v uint64) { e.b = binary.LittleEndian.AppendUint64(e.b, v) }
func (e *encoder) bytes(v []byte) {
	e.b = append(e.b, v...)
}
func (e *encoder) zeros(n int) {
	for i := 0; i < n; i++ {
		e.b = append(e.b, 0)
	}
}

// cstringPad writes s, a NUL, and zeros up to a multiple of align bytes
// (the layout of the string fields of MMAP, COMM, ...).
func (e *encoder) cstringPad(s string, align int) {
	e.b = append(e.b, s...)
	n := len(s) + 1
	pad := (n+align-1)/align*align - len(s)
	e.zeros(pad)
}

// u64s writes the values.
func (e *encoder) u64s(v []uint64) {
	for _, x := range v {
		e.u64(x)
	}
}

// putU16 patches a u16 at off.
func (e *encoder) putU16(off int, v uint16) { binary.LittleEndian.PutUint16(e.b[off:], v) }
func (e *encoder) putU32(off int, v uint32) { binary.LittleEndian.PutUint32(e.b[off:], v) }
func (e *encoder) putU64(off int, v uint64) { binary.LittleEndian.PutUint64(e.b[off:], v) }

func align8(n int) int { return (n + 7) &^ 7 }
