package perfdata

import (
	"encoding/binary"
	"fmt"
	"math/bits"
)

// decoder is a sticky-error cursor over an in-memory piece of a perf.data
// file (std debug/dwarf's buf): the first failure records a *FormatError
// naming the section and absolute offset, empties the data, and every later
// read returns zero, so callers decode a whole structure and check err once.
type decoder struct {
	section string
	base    int64 // absolute file offset of data[0]
	data    []byte
	off     int
	swap    bool // file is big-endian (magic read as "2ELIFREP")
	err     error
}

func newDecoder(section string, base int64, data []byte, swap bool) *decoder {
	return &decoder{section: section, base: base, data: data, swap: swap}
}

// reset points d at new data, clearing the error.
func (d *decoder) reset(section string, base int64, data []byte) {
	d.section, d.base, d.data, d.off, d.err = section, base, data, 0, nil
}

func (d *decoder) pos() int64 { return d.base + int64(d.off) }

func (d *decoder) left() int { return len(d.data) - d.off }

// fail records the first error at the current offset.
func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = &FormatError{Section: d.section, Offset: d.pos(), Msg: fmt.Sprintf(format, args...)}
	}
	d.data, d.off = nil, 0
}

func (d *decoder) underflow(n int) {
	if d.err == nil {
		d.err = &FormatError{Section: d.section, Offset: d.pos(),
			Msg: fmt.Sprintf("need %d bytes, have %d", n, d.left()), Err: ErrTruncated}
	}
	d.data, d.off = nil, 0
}

func (d *decoder) u8() uint8 {
	if d.left() < 1 {
		d.underflow(1)
		return 0
	}
	v := d.data[d.off]
	d.off++
	return v
}

func (d *decoder) u16() uint16 {
	if d.left() < 2 {
		d.underflow(2)
		return 0
	}
	v := binary.LittleEndian.Uint16(d.data[d.off:])
	d.off += 2
	if d.swap {
		v = bits.ReverseBytes16(v)
	}
	return v
}

func (d *decoder) u32() uint32 {
	if d.left() < 4 {
		d.underflow(4)
		return 0
	}
	v := binary.LittleEndian.Uint32(d.data[d.off:])
	d.off += 4
	if d.swap {
		v = bits.ReverseBytes32(v)
	}
	return v
}

func (d *decoder) u64() uint64 {
	if d.left() < 8 {
		d.underflow(8)
		return 0
	}
	v := binary.LittleEndian.Uint64(d.data[d.off:])
	d.off += 8
	if d.swap {
		v = bits.ReverseBytes64(v)
	}
	return v
}

// bytes returns the next n bytes, aliasing the decoder's data.
func (d *decoder) bytes(n int) []byte {
	if n < 0 || d.left() < n {
		d.underflow(n)
		return nil
	}
	b := d.data[d.off : d.off+n : d.off+n]
	d.off += n
	return b
}

func (d *decoder) skip(n int) { d.bytes(n) }

// rest returns all remaining bytes.
func (d *decoder) rest() []byte { return d.bytes(d.left()) }

// cstring returns the bytes of a NUL-padded string field of n bytes, up to
// the first NUL.
func (d *decoder) cstring(n int) string {
	b := d.bytes(n)
	return cstr(b)
}

func cstr(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// count reads a u64 (or u32) element count and checks that count elements
// of elemSize bytes can fit in what is left, so no allocation is driven by
// an absurd number.
func (d *decoder) checkCount(n uint64, elemSize int, what string) int {
	if d.err != nil {
		return 0
	}
	if elemSize <= 0 {
		elemSize = 1
	}
	if n > uint64(d.left()/elemSize) {
		d.fail("%s count %d exceeds the %d bytes left", what, n, d.left())
		return 0
	}
	return int(n)
}

// u64s reads n u64 values into dst (reused when large enough).
func (d *decoder) u64s(dst []uint64, n int) []uint64 {
	if n < 0 || n > d.left()/8 {
		d.underflow(n * 8)
		return dst[:0]
	}
	if cap(dst) < n {
		dst = make([]uint64, n)
	}
	dst = dst[:n]
	b := d.data[d.off:]
	if d.swap {
		for i := range dst {
			dst[i] = bits.ReverseBytes64(binary.LittleEndian.Uint64(b[8*i:]))
		}
	} else {
		for i := range dst {
			dst[i] = binary.LittleEndian.Uint64(b[8*i:])
		}
	}
	d.off += 8 * n
	return dst
}
