package perfdata

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
)

// ReaderOptions selects how Records delivers records.
type ReaderOptions struct {
	// Next replaces PERF_RECORD_COMPRESSED records (perf record -z) with
	// the records they hold, each with the COMPRESSED record's Offset, as
	// perf delivers them; NextRaw returns them as they are.
	//
	// TimeOrder delivers records as perf script and perf report do
	// (tools/perf/util/ordered-events.c): records with a timestamp are
	// queued and released sorted by time, ties in file order, when a
	// FINISHED_ROUND record arrives (up to the largest timestamp queued
	// before the previous round) and at the end of the data; records
	// without a timestamp (and perf's own records, type 64 and up) are
	// delivered as soon as they are read. Only the records of the current
	// rounds are held in memory. Without TimeOrder, records come in file
	// order.
	TimeOrder bool
}

// Reader streams a file's records. Records returned by Next, and the
// slices they hold, are reused by later calls to Next: copy what must
// outlive the next call.
type Reader struct {
	f    *File
	src  source
	opts ReaderOptions
	recs [recordTypeCache]Record // reused records by type
	more map[RecordType]Record
	d    decoder
	err  error
	ord  *orderer
	// prefix replay (pipe mode)
	prefix []pipeRecord
	z      *decompressor
	// fromSrc: the last record came from src (not the prefix or z).
	fromSrc bool
}

// source yields raw records: the header, the record's bytes (header
// included, followed by any out-of-record payload such as tracing data),
// and its offset. The bytes are valid until the next call.
type source interface {
	next() (RecordHeader, []byte, int64, error)
	// chunk returns the chunk the last record returned lies in and its
	// position there; nil when it lies elsewhere.
	chunk() (*chunk, uint32)
	chunks() *chunkPool
}

// Records returns a reader of the file's records. In file mode it may be
// called any number of times, each reader starting at the beginning of the
// data section; in pipe mode only once.
func (f *File) Records(opts ReaderOptions) *Reader {
	r := &Reader{f: f, opts: opts}
	r.d.swap = f.BigEndian
	if f.Pipe {
		if f.pipeReader {
			r.err = errors.New("perf.data: pipe-mode records can be read only once")
			return r
		}
		f.pipeReader = true
		r.prefix = f.prefix
		f.prefix = nil
		r.src = f.pipeSrc
	} else {
		end := int64(f.Header.Data.Offset + f.Header.Data.Size)
		if f.Interrupted {
			end = f.size
		}
		if end > f.size {
			// Records past EOF fail as truncated when reached.
			end = f.size + 1
		}
		sr := io.NewSectionReader(f.r, int64(f.Header.Data.Offset), end-int64(f.Header.Data.Offset))
		r.src = &streamSource{rd: sr, off: int64(f.Header.Data.Offset),
			end: end, fileEnd: f.size, swap: f.BigEndian, section: "data section"}
	}
	if opts.TimeOrder {
		r.ord = &orderer{pool: r.src.chunks()}
	}
	return r
}

// Next returns the next record, or io.EOF after the last one. A decode
// error is a *FormatError naming the offset; it is sticky.
func (r *Reader) Next() (Record, error) {
	if r.err != nil {
		return nil, r.err
	}
	var rec Record
	var err error
	if r.ord == nil {
		var h RecordHeader
		var b []byte
		var off int64
		h, b, off, err = r.nextRecord()
		if err == nil {
			rec, err = r.decode(h, b, off)
		}
	} else {
		rec, err = r.nextOrdered()
	}
	if err != nil {
		r.err = err
		return nil, err
	}
	return rec, nil
}

// NextRaw returns the bytes of the next record in file order (header
// included; for HEADER_TRACING_DATA and AUXTRACE followed by their payload),
// its header and offset, without decoding it: the fast path for copying
// records. The bytes are valid until the next call. It cannot be mixed
// with TimeOrder.
func (r *Reader) NextRaw() (RecordHeader, []byte, int64, error) {
	if r.err != nil {
		return RecordHeader{}, nil, 0, r.err
	}
	if r.ord != nil {
		return RecordHeader{}, nil, 0, errors.New("perf.data: NextRaw needs a file-order reader")
	}
	h, b, off, err := r.nextRaw()
	if err != nil {
		r.err = err
	}
	return h, b, off, err
}

func (r *Reader) nextRaw() (RecordHeader, []byte, int64, error) {
	if len(r.prefix) > 0 {
		p := r.prefix[0]
		r.prefix = r.prefix[1:]
		r.fromSrc = false
		h := headerOf(p.b, r.f.BigEndian)
		return h, p.b, p.off, nil
	}
	h, b, off, err := r.src.next()
	r.fromSrc = true
	if err == nil && r.f.Pipe && h.Type >= recordKernelTypeLimit {
		// Header records after the first event (new attrs, features).
		if err := r.f.applyHeaderRecord(h, b, off); err != nil {
			return h, nil, off, err
		}
	}
	return h, b, off, err
}

// nextRecord is nextRaw with PERF_RECORD_COMPRESSED records replaced by
// the records they hold, as perf delivers them: each with the offset of
// the COMPRESSED record it came from.
func (r *Reader) nextRecord() (RecordHeader, []byte, int64, error) {
	for {
		if r.z != nil {
			h, b, ok, err := r.z.next(r.f.BigEndian)
			if err != nil {
				return h, nil, r.z.off, err
			}
			if ok {
				r.fromSrc = false
				return h, b, r.z.off, nil
			}
		}
		h, b, off, err := r.nextRaw()
		if err == io.EOF && r.z != nil && r.z.pos < len(r.z.out) {
			return h, nil, r.z.off, &FormatError{Section: "data section", Offset: r.z.off,
				Msg: "compressed data ends inside a record", Err: ErrTruncated}
		}
		if err != nil || h.Type != RecordCompressed {
			return h, b, off, err
		}
		if r.z == nil {
			r.z = &decompressor{}
		}
		if err := r.z.feed(b[8:h.Size], off); err != nil {
			return h, nil, off, err
		}
	}
}

// chunkOf returns the source chunk the last record read lies in, nil when
// it does not lie in one.
func (r *Reader) chunkOf() (*chunk, uint32) {
	if !r.fromSrc {
		return nil, 0
	}
	return r.src.chunk()
}

func headerOf(b []byte, swap bool) RecordHeader {
	if len(b) < 8 {
		d := decoder{data: b, swap: swap}
		return RecordHeader{Type: RecordType(d.u32()), Misc: d.u16(), Size: d.u16()}
	}
	t, m, z := binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint16(b[4:]), binary.LittleEndian.Uint16(b[6:])
	if swap {
		t, m, z = bits.ReverseBytes32(t), bits.ReverseBytes16(m), bits.ReverseBytes16(z)
	}
	return RecordHeader{Type: RecordType(t), Misc: m, Size: z}
}

const recordTypeCache = 128

func (r *Reader) record(t RecordType) Record {
	if t < recordTypeCache {
		if r.recs[t] == nil {
			r.recs[t] = newRecord(t)
		}
		return r.recs[t]
	}
	rec, ok := r.more[t]
	if !ok {
		if r.more == nil {
			r.more = map[RecordType]Record{}
		}
		rec = newRecord(t)
		r.more[t] = rec
	}
	return rec
}

// attrFor returns the attr a record belongs to (perf's
// evlist__event2evsel): with one attr, that one; else the attr whose IDs
// hold the record's ID, found at the first attr's id position (samples) or
// position from the end (other records with sample_id_all); a zero ID
// (synthesized records) means the first attr. nil if the ID is unknown.
func (f *File) attrFor(t RecordType, body []byte) *EventAttr {
	if len(f.Attrs) == 0 {
		return nil
	}
	first := f.Attrs[0]
	if len(f.Attrs) == 1 {
		return first
	}
	n := len(body) / 8
	var i int
	if t == RecordSample {
		pos := first.idPos()
		if pos < 0 {
			return first
		}
		if pos >= n {
			return nil
		}
		i = pos
	} else {
		if first.Flags&AttrSampleIDAll == 0 {
			return first
		}
		pos := first.isPos()
		if pos < 0 {
			return first
		}
		if pos > n {
			return nil
		}
		i = n - pos
	}
	id := leU64(body[8*i:], f.BigEndian)
	if id == 0 {
		return first
	}
	return f.ids[id]
}

// decode turns raw bytes into the reader's record of that type.
func (r *Reader) decode(h RecordHeader, b []byte, off int64) (Record, error) {
	if h.Type == RecordSample && len(r.f.Attrs) == 1 {
		// The common case, without interface calls.
		return r.decodeSample(h, b, off)
	}
	rec := r.record(h.Type)
	body := b[8:h.Size]
	c := rec.Common()
	*c = RecordCommon{Misc: h.Misc, Size: h.Size, Offset: off}
	if u, ok := rec.(*Unknown); ok {
		u.Header = h
		u.Data = body
		return u, nil
	}
	switch {
	case h.Type == RecordSample:
		a := r.f.attrFor(h.Type, body)
		if a == nil {
			// perf counts and skips samples of unknown events; keep it raw.
			u := &Unknown{Header: h, Data: body}
			u.Misc, u.Size, u.Offset = h.Misc, h.Size, off
			return u, nil
		}
		c.Attr = a
	case h.Type < recordKernelTypeLimit:
		a := r.f.attrFor(h.Type, body)
		if a != nil && a.Flags&AttrSampleIDAll != 0 {
			n := a.sampleIDSize()
			if n > len(body) {
				return nil, &FormatError{Section: "data section", Offset: off,
					Msg: fmt.Sprintf("%s record of %d bytes too short for its %d-byte sample_id", h.Type, h.Size, n)}
			}
			r.d.reset("data section", off+8+int64(len(body)-n), body[len(body)-n:])
			c.SampleID.decode(&r.d, a.SampleType)
			body = body[:len(body)-n]
			c.Attr = a
		}
	}
	r.d.reset("data section", off+8, body)
	rec.decode(&r.d)
	if r.d.err != nil {
		if fe, ok := r.d.err.(*FormatError); ok {
			fe.Msg = h.Type.String() + " record: " + fe.Msg
		}
		return nil, r.d.err
	}
	switch x := rec.(type) {
	case *HeaderTracingData:
		x.Data = b[h.Size:]
	case *Auxtrace:
		x.Data = b[h.Size:]
	}
	return rec, nil
}

// decodeSample is decode for a sample of a file with one attr.
func (r *Reader) decodeSample(h RecordHeader, b []byte, off int64) (Record, error) {
	s, _ := r.recs[RecordSample].(*Sample)
	if s == nil {
		s = &Sample{}
		r.recs[RecordSample] = s
	}
	s.RecordCommon = RecordCommon{Misc: h.Misc, Size: h.Size, Offset: off, Attr: r.f.Attrs[0]}
	r.d.reset("data section", off+8, b[8:h.Size])
	s.decode(&r.d)
	if r.d.err != nil {
		if fe, ok := r.d.err.(*FormatError); ok {
			fe.Msg = h.Type.String() + " record: " + fe.Msg
		}
		return nil, r.d.err
	}
	return s, nil
}

// timestamp returns the record's time as perf's ordered events see it
// (evlist__parse_sample_timestamp), or false when it has none.
func (f *File) timestamp(h RecordHeader, b []byte) (uint64, bool) {
	if h.Type >= recordKernelTypeLimit {
		return 0, false
	}
	body := b[8:h.Size]
	a := f.attrFor(h.Type, body)
	if a == nil || a.SampleType&SampleTime == 0 {
		return 0, false
	}
	var off int
	if h.Type == RecordSample {
		for _, bit := range []SampleFormat{SampleIdentifier, SampleIP, SampleTID} {
			if a.SampleType&bit != 0 {
				off += 8
			}
		}
	} else {
		if a.Flags&AttrSampleIDAll == 0 {
			return 0, false
		}
		off = len(body) - a.sampleIDSize()
		if a.SampleType&SampleTID != 0 {
			off += 8
		}
	}
	if off < 0 || off+8 > len(body) {
		return 0, false
	}
	t := leU64(body[off:], f.BigEndian)
	if t == 0 || t == math.MaxUint64 {
		return 0, false
	}
	return t, true
}

// streamSource reads records from a byte stream (a file's data section or
// a pipe) into chunks of memory that records are handed out from in
// place: a record stays valid while its chunk is referenced (the source
// holds its current chunk; the time orderer holds the chunks of queued
// records).
type streamSource struct {
	br      *bufio.Reader // pipe mode: the pipe
	rd      io.Reader     // file mode: the data section
	off     int64         // offset of the next record
	end     int64         // end of the data section; 0 for a pipe
	fileEnd int64
	swap    bool
	section string
	buf     []byte // records followed by a payload

	pool     chunkPool
	cur      *chunk
	pos, lim int   // unread bytes: cur.buf[pos:lim]
	rerr     error // sticky read error (io.EOF at the end of the input)
	// inChunk: the last record returned lies in cur at recPos (else in
	// buf).
	inChunk bool
	recPos  uint32

	peeked bool
	ph     RecordHeader
	pb     []byte
	poff   int64
	perr   error
}

func (s *streamSource) truncated(off int64, msg string) error {
	return &FormatError{Section: s.section, Offset: off, Msg: msg, Err: ErrTruncated}
}

func (s *streamSource) input() io.Reader {
	if s.rd != nil {
		return s.rd
	}
	return s.br
}

// fill makes at least n unread bytes available when the input has them,
// reading as much as the chunk holds, and returns how many are available.
func (s *streamSource) fill(n int) int {
	if s.lim-s.pos >= n || s.rerr != nil {
		return s.lim - s.pos
	}
	if s.cur == nil || len(s.cur.buf)-s.pos < n {
		// Move the unread tail to a fresh chunk; the old one is recycled
		// once nothing references it.
		c := s.pool.get(n)
		m := copy(c.buf, s.cur.bytes(s.pos, s.lim))
		if s.cur != nil {
			s.pool.drop(s.cur)
		}
		s.cur, s.pos, s.lim = c, 0, m
	}
	in := s.input()
	for zero := 0; s.lim-s.pos < n; {
		m, err := in.Read(s.cur.buf[s.lim:])
		s.lim += m
		if err != nil {
			s.rerr = err
			break
		}
		if m == 0 {
			if zero++; zero > 100 {
				s.rerr = io.ErrNoProgress
				break
			}
		}
	}
	return s.lim - s.pos
}

// readFull reads len(p) bytes: the buffered ones, then straight from the
// input.
func (s *streamSource) readFull(p []byte) (int, error) {
	n := copy(p, s.cur.bytes(s.pos, s.lim))
	s.pos += n
	if n == len(p) {
		return n, nil
	}
	if s.rerr != nil {
		return n, s.rerr
	}
	m, err := io.ReadFull(s.input(), p[n:])
	return n + m, err
}

func (s *streamSource) read() (RecordHeader, []byte, int64, error) {
	off := s.off
	s.inChunk = false
	if s.end > 0 && off >= s.end {
		return RecordHeader{}, nil, off, io.EOF
	}
	if m := s.fill(8); m < 8 {
		err := s.rerr
		if m == 0 && err == io.EOF {
			return RecordHeader{}, nil, off, io.EOF
		}
		if err != io.EOF {
			return RecordHeader{}, nil, off, &FormatError{Section: s.section, Offset: off, Msg: "read", Err: err}
		}
		return RecordHeader{}, nil, off, s.truncated(off, fmt.Sprintf("record header cut after %d bytes", m))
	}
	h := headerOf(s.cur.buf[s.pos:s.pos+8], s.swap)
	if h.Size < 8 {
		return h, nil, off, &FormatError{Section: s.section, Offset: off, Msg: fmt.Sprintf("record size %d smaller than its header (type %s)", h.Size, h.Type)}
	}
	if s.end > 0 && off+int64(h.Size) > s.end && s.end <= s.fileEnd {
		return h, nil, off, &FormatError{Section: s.section, Offset: off, Msg: fmt.Sprintf("%s record of %d bytes runs past the end of the data section at %#x", h.Type, h.Size, s.end)}
	}
	n := int(h.Size)
	if m := s.fill(n); m < n {
		if s.rerr != io.EOF {
			return h, nil, off, &FormatError{Section: s.section, Offset: off, Msg: "read", Err: s.rerr}
		}
		return h, nil, off, s.truncated(off, fmt.Sprintf("%s record of %d bytes cut after %d", h.Type, h.Size, m))
	}
	b := s.cur.buf[s.pos : s.pos+n : s.pos+n]
	s.recPos = uint32(s.pos)
	s.pos += n
	if h.Type != RecordHeaderTracingData && h.Type != RecordAuxtrace {
		s.off += int64(n)
		s.inChunk = true
		return h, b, off, nil
	}
	if cap(s.buf) < n {
		s.buf = make([]byte, n, 2*n)
	}
	b = append(s.buf[:0], b...)
	// Payload that follows the record outside its size.
	var extra uint64
	switch h.Type {
	case RecordHeaderTracingData:
		if n < 12 {
			return h, nil, off, &FormatError{Section: s.section, Offset: off, Msg: "tracing data record too short"}
		}
		extra = uint64(leU32(b[8:], s.swap))
	case RecordAuxtrace:
		if n < 16 {
			return h, nil, off, &FormatError{Section: s.section, Offset: off, Msg: "auxtrace record too short"}
		}
		extra = leU64(b[8:], s.swap)
	}
	if extra > 0 {
		if extra > maxAlloc || (s.end > 0 && uint64(off)+uint64(n)+extra > uint64(s.end)) {
			return h, nil, off, &FormatError{Section: s.section, Offset: off, Msg: fmt.Sprintf("%s payload of %d bytes runs past the end of the data", h.Type, extra)}
		}
		// Grow with what actually arrives: a pipe's claimed size is not
		// bounded by a file size.
		total := n + int(extra)
		for len(b) < total {
			chunk := total - len(b)
			if chunk > 1<<20 {
				chunk = 1 << 20
			}
			if cap(b)-len(b) < chunk {
				nb := make([]byte, len(b), len(b)+chunk+len(b)/2)
				copy(nb, b)
				b = nb
			}
			m, err := s.readFull(b[len(b) : len(b)+chunk])
			b = b[:len(b)+m]
			if err != nil {
				return h, nil, off, s.truncated(off, fmt.Sprintf("%s payload of %d bytes cut after %d", h.Type, extra, len(b)-n))
			}
		}
		s.buf = b
	}
	s.off += int64(len(b))
	return h, b, off, nil
}

func (s *streamSource) chunk() (*chunk, uint32) {
	if s.inChunk {
		return s.cur, s.recPos
	}
	return nil, 0
}

func (s *streamSource) chunks() *chunkPool { return &s.pool }

// peek reads the next record without consuming it.
func (s *streamSource) peek() (RecordHeader, []byte, int64, error) {
	if !s.peeked {
		s.ph, s.pb, s.poff, s.perr = s.read()
		s.peeked = true
	}
	return s.ph, s.pb, s.poff, s.perr
}

func (s *streamSource) consume() { s.peeked = false }

func (s *streamSource) next() (RecordHeader, []byte, int64, error) {
	if s.peeked {
		s.peeked = false
		return s.ph, s.pb, s.poff, s.perr
	}
	return s.read()
}

func leU32(b []byte, swap bool) uint32 {
	v := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
	if swap {
		v = v>>24 | v>>8&0xff00 | v<<8&0xff0000 | v<<24
	}
	return v
}
