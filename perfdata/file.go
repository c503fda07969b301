package perfdata

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// File is an open perf.data file: its header, event attrs and feature
// sections, decoded when opened; records are read with Records.
type File struct {
	// Header is the file header; in pipe mode only Data.Offset (16) is set.
	Header FileHeader
	// Pipe is true for pipe-mode input (perf record -o -).
	Pipe bool
	// BigEndian is true when the file was written on a big-endian machine.
	BigEndian bool
	// Interrupted is true when the header's data size is 0 and no feature
	// sections follow: the writer (perf record) was killed. Records are
	// then read up to the end of the file; a record cut short at the end
	// gives an error wrapping ErrTruncated.
	Interrupted bool
	// Attrs are the recorded events, in file order, with IDs and Name.
	Attrs []*EventAttr
	// Features are the header feature sections (in pipe mode, those of the
	// HEADER_FEATURE and HEADER_TRACING_DATA records read so far).
	Features Features

	r      io.ReaderAt
	size   int64
	closer io.Closer
	closed bool
	ids    map[uint64]*EventAttr

	// pipe mode
	pipe       *bufio.Reader
	pipeOff    int64
	prefix     []pipeRecord // header records read by OpenPipe, replayed by Records
	pipeReader bool         // Records was called
	pipeSrc    *streamSource
}

type pipeRecord struct {
	off int64
	b   []byte
}

// Open opens a perf.data file (file or pipe mode, as its header says).
func Open(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open perf.data: %w", err)
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("open perf.data: %w", err)
	}
	var hdr [16]byte
	if _, err := fh.ReadAt(hdr[:], 0); err == nil && leU64(hdr[8:], false) == pipeHeaderSize {
		f, err := NewPipe(fh)
		if err != nil {
			fh.Close()
			return nil, err
		}
		f.closer = fh
		return f, nil
	}
	f, err := NewFile(fh, st.Size())
	if err != nil {
		fh.Close()
		return nil, err
	}
	f.closer = fh
	return f, nil
}

// Close closes the underlying file if Open opened it. A second Close
// returns ErrClosed.
func (f *File) Close() error {
	if f.closed {
		return ErrClosed
	}
	f.closed = true
	if f.closer != nil {
		return f.closer.Close()
	}
	return nil
}

// readSection reads n bytes at off for a named section, checking bounds.
func (f *File) readSection(name string, off, n uint64) ([]byte, error) {
	if off > uint64(f.size) || n > uint64(f.size)-off {
		return nil, &FormatError{Section: name, Offset: int64(off),
			Msg: fmt.Sprintf("section of %d bytes ends past the end of the file (%d bytes)", n, f.size), Err: ErrTruncated}
	}
	if n > maxAlloc {
		return nil, &FormatError{Section: name, Offset: int64(off), Msg: fmt.Sprintf("section size %d too large", n)}
	}
	b := make([]byte, n)
	if _, err := f.r.ReadAt(b, int64(off)); err != nil && !(errors.Is(err, io.EOF) && len(b) == int(n)) {
		return nil, &FormatError{Section: name, Offset: int64(off), Msg: "read", Err: err}
	}
	return b, nil
}

// NewFile reads a file-mode perf.data from r (size bytes long): header,
// attrs with their IDs, and feature sections (perf_session__read_header in
// tools/perf/util/header.c).
func NewFile(r io.ReaderAt, size int64) (*File, error) {
	f := &File{r: r, size: size}
	hb := make([]byte, fileHeaderSize)
	n, err := r.ReadAt(hb, 0)
	if n < 16 {
		if err == nil || err == io.EOF {
			err = ErrTruncated
		}
		return nil, &FormatError{Section: "file header", Offset: 0, Msg: fmt.Sprintf("file is %d bytes, too short for a header", n), Err: err}
	}
	switch leU64(hb, false) {
	case magic:
	case magicSwapped:
		f.BigEndian = true
	default:
		return nil, &FormatError{Section: "file header", Offset: 0, Msg: fmt.Sprintf("bad magic %q: not a perf.data file", hb[:8])}
	}
	if leU64(hb[8:], f.BigEndian) == pipeHeaderSize {
		return nil, &FormatError{Section: "file header", Offset: 8, Msg: "pipe-mode data: use NewPipe"}
	}
	if n < fileHeaderSize {
		return nil, &FormatError{Section: "file header", Offset: int64(n), Msg: fmt.Sprintf("file is %d bytes, too short for a header", n), Err: ErrTruncated}
	}
	d := newDecoder("file header", 0, hb, f.BigEndian)
	f.Header = decodeFileHeader(d)
	h := &f.Header
	switch h.Size {
	case fileHeaderSize:
	case fileHeaderSize - 32:
		// Before adds_features existed: no features.
		h.Features = FeatureSet{}
	default:
		return nil, &FormatError{Section: "file header", Offset: 8, Msg: fmt.Sprintf("header size %d unsupported", h.Size)}
	}
	if h.AttrSize == 0 && h.Attrs.Size != 0 {
		return nil, &FormatError{Section: "file header", Offset: 16, Msg: "attr_size is 0"}
	}
	if h.Attrs.Size != 0 && (h.AttrSize < AttrSizeVer0+16 || h.AttrSize > 4096+16) {
		return nil, &FormatError{Section: "file header", Offset: 16, Msg: fmt.Sprintf("attr_size %d out of range", h.AttrSize)}
	}
	if h.Data.Offset > uint64(size) {
		return nil, &FormatError{Section: "file header", Offset: 40, Msg: fmt.Sprintf("data offset %#x past the end of the file (%d bytes)", h.Data.Offset, size), Err: ErrTruncated}
	}
	if err := f.readAttrs(); err != nil {
		return nil, err
	}
	if err := ValidateAttrs(f.Attrs); err != nil {
		return nil, &FormatError{Section: "attrs", Offset: int64(h.Attrs.Offset), Msg: err.Error()}
	}
	if h.Data.Size == 0 {
		// perf record writes data.size at exit: 0 means it was killed
		// (its feature bits are set but no sections were written), unless
		// a valid feature table follows an empty data section.
		if bad, err := f.readFeatures(); err != nil || bad > 0 {
			f.Interrupted = true
			f.Features = Features{}
		}
		if len(h.Features.List()) == 0 {
			f.Interrupted = true
		}
	} else if _, err := f.readFeatures(); err != nil {
		return nil, err
	}
	f.applyEventDesc()
	f.indexIDs()
	return f, nil
}

// readAttrs reads the attrs section: nr = attrs.size / attr_size entries,
// each a perf_event_attr of its own size and a perf_file_section of IDs
// (read_attr in header.c).
func (f *File) readAttrs() error {
	h := &f.Header
	if h.Attrs.Size == 0 {
		return nil
	}
	b, err := f.readSection("attrs", h.Attrs.Offset, h.Attrs.Size)
	if err != nil {
		return err
	}
	nr := h.Attrs.Size / h.AttrSize
	d := newDecoder("attrs", int64(h.Attrs.Offset), b, f.BigEndian)
	for i := uint64(0); i < nr; i++ {
		start := d.off
		a := decodeAttr(d, int(h.AttrSize)-16)
		ids := Section{d.u64(), d.u64()}
		if d.err != nil {
			return d.err
		}
		// perf reads entries back to back; they are attr_size apart.
		d.off = start + int(h.AttrSize)
		if ids.Size%8 != 0 {
			return &FormatError{Section: "attrs", Offset: int64(h.Attrs.Offset) + int64(start), Msg: fmt.Sprintf("event %d: ids size %d not a multiple of 8", i, ids.Size)}
		}
		if ids.Size > 0 {
			ib, err := f.readSection(fmt.Sprintf("ids of event %d", i), ids.Offset, ids.Size)
			if err != nil {
				return err
			}
			idd := newDecoder("ids", int64(ids.Offset), ib, f.BigEndian)
			a.IDs = idd.u64s(nil, len(ib)/8)
		}
		f.Attrs = append(f.Attrs, a)
	}
	return nil
}

// readFeatures reads the feature section table at data.offset+data.size
// (one perf_file_section per set bit) and decodes each section. It returns
// how many sections lay outside the file.
func (f *File) readFeatures() (int, error) {
	h := &f.Header
	list := h.Features.List()
	if len(list) == 0 {
		return 0, nil
	}
	featOff := h.Data.Offset + h.Data.Size
	tb, err := f.readSection("feature table", featOff, uint64(len(list))*16)
	if err != nil {
		return 0, err
	}
	bad := 0
	d := newDecoder("feature table", int64(featOff), tb, f.BigEndian)
	f.Features.Raw = map[Feature][]byte{}
	tableEnd := featOff + uint64(len(list))*16
	minOff := uint64(math.MaxUint64)
	for _, feat := range list {
		s := Section{d.u64(), d.u64()}
		if feat == FeatureReserved {
			continue // perf skips its entry without reading it
		}
		if s.Size > 0 && s.Offset < minOff {
			minOff = s.Offset
		}
		name := "feature " + feat.String()
		b, err := f.readSection(name, s.Offset, s.Size)
		if err != nil {
			// perf warns about a section it cannot read and goes on.
			if f.Features.Errors == nil {
				f.Features.Errors = map[Feature]error{}
			}
			f.Features.Errors[feat] = err
			bad++
			continue
		}
		f.Features.Raw[feat] = b
		f.decodeFeature(feat, newDecoder(name, int64(s.Offset), b, f.BigEndian))
	}
	if minOff != math.MaxUint64 && minOff > tableEnd && minOff-tableEnd <= 16*256 && (minOff-tableEnd)%16 == 0 {
		if gap, err := f.readSection("feature table", tableEnd, minOff-tableEnd); err == nil && allZero(gap) {
			f.Features.slack = len(gap)
		}
	}
	return bad, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func (f *File) decodeFeature(feat Feature, d *decoder) {
	f.Features.decode(feat, d)
	if d.err != nil {
		if f.Features.Errors == nil {
			f.Features.Errors = map[Feature]error{}
		}
		f.Features.Errors[feat] = d.err
	}
}

// applyEventDesc names attrs from HEADER_EVENT_DESC, matching by sample ID
// as perf does (perf_evlist__set_event_name), else by position.
func (f *File) applyEventDesc() {
	for i, ed := range f.Features.EventDesc {
		var target *EventAttr
		if len(ed.IDs) > 0 {
		find:
			for _, a := range f.Attrs {
				for _, id := range a.IDs {
					if id == ed.IDs[0] {
						target = a
						break find
					}
				}
			}
		} else if i < len(f.Attrs) {
			target = f.Attrs[i]
		}
		if target != nil && target.Name == "" {
			target.Name = ed.Name
		}
	}
}

func (f *File) indexIDs() {
	f.ids = make(map[uint64]*EventAttr)
	for _, a := range f.Attrs {
		for _, id := range a.IDs {
			if _, dup := f.ids[id]; !dup {
				f.ids[id] = a
			}
		}
	}
}

// AttrForID returns the attr whose IDs include id, or nil.
func (f *File) AttrForID(id uint64) *EventAttr { return f.ids[id] }

// NewPipe reads pipe-mode perf.data (perf record -o -) from r: the 16-byte
// pipe header, then the header records (HEADER_ATTR, HEADER_FEATURE,
// HEADER_TRACING_DATA, ...) up to the first event record, which fill Attrs
// and Features. Records then streams everything after the pipe header,
// those header records included.
func NewPipe(r io.Reader) (*File, error) {
	f := &File{Pipe: true, pipe: bufio.NewReaderSize(r, 1<<17)}
	var hb [pipeHeaderSize]byte
	if n, err := io.ReadFull(f.pipe, hb[:]); err != nil {
		return nil, &FormatError{Section: "pipe header", Offset: int64(n), Msg: "short header", Err: ErrTruncated}
	}
	switch leU64(hb[:], false) {
	case magic:
	case magicSwapped:
		f.BigEndian = true
	default:
		return nil, &FormatError{Section: "pipe header", Offset: 0, Msg: fmt.Sprintf("bad magic %q: not perf.data", hb[:8])}
	}
	if sz := leU64(hb[8:], f.BigEndian); sz != pipeHeaderSize {
		return nil, &FormatError{Section: "pipe header", Offset: 8, Msg: fmt.Sprintf("header size %d is not a pipe header", sz)}
	}
	f.pipeOff = pipeHeaderSize
	f.Header.Size = pipeHeaderSize
	f.Header.Data.Offset = pipeHeaderSize
	f.Features.Raw = map[Feature][]byte{}
	src := &streamSource{br: f.pipe, off: pipeHeaderSize, swap: f.BigEndian, section: "pipe data"}
	const maxPrefix = 512 << 20
	total := 0
	for {
		h, b, off, err := src.peek()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if h.Type < recordKernelTypeLimit || h.Type == RecordFinishedRound || h.Type == RecordFinishedInit {
			break
		}
		src.consume()
		total += len(b)
		if total > maxPrefix {
			return nil, &FormatError{Section: "pipe data", Offset: off, Msg: "header records exceed 512 MiB"}
		}
		c := append([]byte(nil), b...)
		f.prefix = append(f.prefix, pipeRecord{off: off, b: c})
		if err := f.applyHeaderRecord(h, c, off); err != nil {
			return nil, err
		}
	}
	f.pipeSrc = src
	return f, nil
}

// applyHeaderRecord folds a pipe-mode header record into the File.
func (f *File) applyHeaderRecord(h RecordHeader, b []byte, off int64) error {
	d := newDecoder("pipe data", off+8, b[8:h.Size], f.BigEndian)
	switch h.Type {
	case RecordHeaderAttr:
		var r HeaderAttr
		r.decode(d)
		if d.err != nil {
			return d.err
		}
		f.Attrs = append(f.Attrs, r.Attr)
		f.indexIDs()
	case RecordHeaderFeature:
		var r HeaderFeature
		r.decode(d)
		if d.err != nil {
			return d.err
		}
		data := append([]byte(nil), r.Data...)
		f.Features.Raw[r.Feature] = data
		f.decodeFeature(r.Feature, newDecoder("feature "+r.Feature.String(), off+16, data, f.BigEndian))
		if r.Feature == FeatureEventDesc {
			f.applyEventDesc()
		}
	case RecordHeaderTracingData:
		payload := b[h.Size:]
		td, err := ParseTracingData(payload)
		if err != nil {
			if fe, ok := err.(*FormatError); ok {
				fe.Offset += off + int64(h.Size)
			}
			if f.Features.Errors == nil {
				f.Features.Errors = map[Feature]error{}
			}
			f.Features.Errors[FeatureTracingData] = err
			f.Features.Raw[FeatureTracingData] = append([]byte(nil), payload...)
			return nil
		}
		td.trimPadding()
		f.Features.TracingData = td
	case RecordEventUpdate:
		var r EventUpdate
		r.decode(d)
		if d.err == nil && r.UpdateType == EventUpdateName {
			if a := f.ids[r.ID]; a != nil {
				a.Name = cstr(r.Data)
			}
		}
	}
	return nil
}

// trimPadding drops the zero padding pipe mode adds after tracing data.
func (t *TracingData) trimPadding() {
	if len(t.Trailing) < 8 {
		for _, c := range t.Trailing {
			if c != 0 {
				return
			}
		}
		t.Trailing = nil
	}
}

// ValidateAttrs applies perf's checks on a file's events
// (perf_session__open in tools/perf/util/session.c): with more than one
// attr, every attr must put the sample ID at the same place in samples and
// in sample_id trailers (so records can be matched to their attr), agree
// on sample_id_all, and PERF_SAMPLE_READ needs PERF_FORMAT_ID. perf refuses
// files that fail them.
func ValidateAttrs(attrs []*EventAttr) error {
	if len(attrs) == 0 {
		return nil
	}
	first := attrs[0]
	if len(attrs) > 1 {
		if first.idPos() < 0 || first.isPos() < 0 {
			return fmt.Errorf("%d events but event 0 (%s) has no sample ID (PERF_SAMPLE_ID or IDENTIFIER)", len(attrs), first.Name)
		}
		for i, a := range attrs[1:] {
			if a.idPos() != first.idPos() || a.isPos() != first.isPos() {
				return fmt.Errorf("non matching sample_type: event %d (%s) puts its sample ID elsewhere than event 0", i+1, a.Name)
			}
		}
	}
	for i, a := range attrs[1:] {
		if a.Flags&AttrSampleIDAll != first.Flags&AttrSampleIDAll {
			return fmt.Errorf("non matching sample_id_all: event %d (%s) differs from event 0", i+1, a.Name)
		}
	}
	if first.SampleType&SampleRead != 0 && first.ReadFormat&FormatID == 0 {
		return errors.New("non matching read_format: PERF_SAMPLE_READ without PERF_FORMAT_ID")
	}
	return nil
}
