package perfdata

import "fmt"

// decompressor expands PERF_RECORD_COMPRESSED records (perf record -z):
// their payloads form a Zstandard stream whose content is a stream of
// records; perf flushes the stream at each COMPRESSED record, and a record
// may still be split across two of them (session.c carries a partial
// record over to the next chunk).
type decompressor struct {
	zs  zstdStream
	out []byte // decompressed records
	pos int    // next record in out
	off int64  // offset of the COMPRESSED record they came from
}

// feed adds one COMPRESSED record's payload.
func (z *decompressor) feed(payload []byte, off int64) error {
	if z.pos > 0 {
		n := copy(z.out, z.out[z.pos:])
		z.out, z.pos = z.out[:n], 0
	}
	z.off = off
	z.zs.pending = append(z.zs.pending, payload...)
	out, err := z.zs.decode(z.out)
	z.out = out
	if err != nil {
		return &FormatError{Section: "data section", Offset: off, Msg: "COMPRESSED record", Err: err}
	}
	if len(z.zs.pending) > zstdMaxFrameOut {
		return &FormatError{Section: "data section", Offset: off, Msg: "compressed block larger than 256 MiB"}
	}
	return nil
}

// next returns the next whole decompressed record, or ok false.
func (z *decompressor) next(swap bool) (RecordHeader, []byte, bool, error) {
	if len(z.out)-z.pos < 8 {
		return RecordHeader{}, nil, false, nil
	}
	h := headerOf(z.out[z.pos:], swap)
	if h.Size < 8 {
		return h, nil, false, &FormatError{Section: "data section", Offset: z.off,
			Msg: fmt.Sprintf("COMPRESSED record: decompressed record size %d smaller than its header", h.Size)}
	}
	if len(z.out)-z.pos < int(h.Size) {
		return h, nil, false, nil
	}
	b := z.out[z.pos : z.pos+int(h.Size) : z.pos+int(h.Size)]
	z.pos += int(h.Size)
	return h, b, true, nil
}
