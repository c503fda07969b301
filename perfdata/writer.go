package perfdata

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
)

// Writer writes a file-mode perf.data as perf record does
// (perf_session__write_header in tools/perf/util/header.c): the header,
// each attr's IDs, the attrs, then records, and at Close the feature
// sections after the data and the final header.
//
// Until Close the header on disk has no feature bits, and Flush updates its
// data size, so a file whose writer was killed is readable by perf up to
// the last Flush (perf ignores bytes past data.size; it refuses a data size
// of 0, which is what an interrupted perf record leaves).
type Writer struct {
	// Features are written at Close; they may be changed until then.
	Features *Features

	w        io.WriteSeeker
	closer   io.Closer
	bw       *bufio.Writer
	attrs    []*EventAttr
	header   FileHeader
	dataSize uint64
	flushed  uint64
	buf      []byte
	err      error
	closed   bool
}

// Create creates path and returns a Writer for it.
func Create(path string, attrs []*EventAttr, features *Features) (*Writer, error) {
	fh, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create perf.data: %w", err)
	}
	w, err := NewWriter(fh, attrs, features)
	if err != nil {
		fh.Close()
		os.Remove(path)
		return nil, err
	}
	w.closer = fh
	return w, nil
}

// NewWriter starts a perf.data file on w with the given attrs (their IDs
// are written now; attrs must all have the same size) and features
// (written at Close). It writes the header, IDs and attrs at once.
func NewWriter(w io.WriteSeeker, attrs []*EventAttr, features *Features) (*Writer, error) {
	if len(attrs) == 0 {
		return nil, errors.New("write perf.data: no event attrs")
	}
	if err := ValidateAttrs(attrs); err != nil {
		return nil, fmt.Errorf("write perf.data: %w", err)
	}
	if features == nil {
		features = &Features{}
	}
	wr := &Writer{Features: features, w: w, attrs: attrs}
	attrSize := attrs[0].attrSize()
	for i, a := range attrs {
		if a.attrSize() != attrSize {
			return nil, fmt.Errorf("write perf.data: attr %d has size %d, attr 0 has %d", i, a.attrSize(), attrSize)
		}
	}
	var e encoder
	e.zeros(fileHeaderSize)
	idOffs := make([]uint64, len(attrs))
	for i, a := range attrs {
		idOffs[i] = uint64(len(e.b))
		e.u64s(a.IDs)
	}
	attrOff := uint64(len(e.b))
	for i, a := range attrs {
		a.encode(&e)
		e.u64(idOffs[i])
		e.u64(uint64(8 * len(a.IDs)))
	}
	h := &wr.header
	h.Size = fileHeaderSize
	h.AttrSize = uint64(attrSize + 16)
	h.Attrs = Section{attrOff, uint64(len(attrs)) * h.AttrSize}
	h.Data = Section{uint64(len(e.b)), 0}
	var he encoder
	h.encode(&he)
	copy(e.b, he.b)
	if _, err := w.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("write perf.data header: %w", err)
	}
	if _, err := w.Write(e.b); err != nil {
		return nil, fmt.Errorf("write perf.data header: %w", err)
	}
	wr.bw = bufio.NewWriterSize(w, 1<<18)
	return wr, nil
}

// Attrs returns the attrs the writer was created with.
func (w *Writer) Attrs() []*EventAttr { return w.attrs }

// WriteRecord encodes and appends a record. For kernel records other than
// samples, the sample_id trailer is written from Common().SampleID when
// Common().Attr has sample_id_all.
func (w *Writer) WriteRecord(r Record) error {
	if w.err != nil {
		return w.err
	}
	b, err := EncodeRecord(w.buf[:0], r)
	if err != nil {
		return err
	}
	w.buf = b
	return w.WriteRaw(b)
}

// WriteRaw appends already-encoded records (whole records, as read from a
// kernel ring buffer or Reader.NextRaw).
func (w *Writer) WriteRaw(b []byte) error {
	if w.closed {
		return ErrClosed
	}
	if w.err != nil {
		return w.err
	}
	if _, err := w.bw.Write(b); err != nil {
		w.err = fmt.Errorf("write perf.data records: %w", err)
		return w.err
	}
	w.dataSize += uint64(len(b))
	return nil
}

// DataSize returns the bytes of records written so far.
func (w *Writer) DataSize() uint64 { return w.dataSize }

// Flush writes buffered records and updates the data size in the header,
// so the file is readable up to here should the writer die.
func (w *Writer) Flush() error {
	if w.closed {
		return ErrClosed
	}
	if w.err != nil {
		return w.err
	}
	if err := w.bw.Flush(); err != nil {
		w.err = fmt.Errorf("write perf.data records: %w", err)
		return w.err
	}
	if w.dataSize == w.flushed {
		return nil
	}
	var e encoder
	e.u64(w.dataSize)
	if err := w.pwrite(e.b, 48); err != nil {
		return err
	}
	w.flushed = w.dataSize
	return nil
}

// pwrite writes b at off and seeks back to the end of the data.
func (w *Writer) pwrite(b []byte, off int64) error {
	if _, err := w.w.Seek(off, io.SeekStart); err != nil {
		w.err = fmt.Errorf("write perf.data header: %w", err)
		return w.err
	}
	if _, err := w.w.Write(b); err != nil {
		w.err = fmt.Errorf("write perf.data header: %w", err)
		return w.err
	}
	if _, err := w.w.Seek(int64(w.header.Data.Offset+w.dataSize), io.SeekStart); err != nil {
		w.err = fmt.Errorf("write perf.data header: %w", err)
		return w.err
	}
	return nil
}

// Close writes the feature sections (in bit order, after the section
// table at data.offset+data.size), then the final header, and closes the
// file if Create opened it. A feature that fails to encode is left out, as
// perf does.
func (w *Writer) Close() error {
	if w.closed {
		return ErrClosed
	}
	err := w.finish()
	w.closed = true
	if w.closer != nil {
		if cerr := w.closer.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("close perf.data: %w", cerr)
		}
	}
	return err
}

func (w *Writer) finish() error {
	if w.err != nil {
		return w.err
	}
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("write perf.data records: %w", err)
	}
	h := &w.header
	h.Data.Size = w.dataSize
	set := w.Features.Set()
	set.Clear(FeatureLast) // pipe mode's end marker, not a file section
	var sections []Section
	var body encoder
	featOff := h.Data.Offset + h.Data.Size
	list := set.List()
	slack := w.Features.slack
	start := featOff + uint64(16*len(list)+slack)
	var final FeatureSet
	for _, f := range list {
		b, err := w.Features.Encode(f)
		if err != nil {
			continue
		}
		final.Set(f)
		sections = append(sections, Section{start + uint64(len(body.b)), uint64(len(b))})
		body.bytes(b)
	}
	// The table has one entry per set bit; bits dropped above shrink it,
	// so lay the sections out again if any were.
	if len(sections) != len(list) {
		slack += 16 * (len(list) - len(sections))
		start = featOff + uint64(16*len(sections)+slack)
		off := start
		for i := range sections {
			sections[i].Offset = off
			off += sections[i].Size
		}
	}
	var e encoder
	for _, s := range sections {
		e.u64(s.Offset)
		e.u64(s.Size)
	}
	e.zeros(slack)
	e.bytes(body.b)
	if _, err := w.w.Write(e.b); err != nil {
		return fmt.Errorf("write perf.data features: %w", err)
	}
	h.Features = final
	var he encoder
	h.encode(&he)
	if _, err := w.w.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("write perf.data header: %w", err)
	}
	if _, err := w.w.Write(he.b); err != nil {
		return fmt.Errorf("write perf.data header: %w", err)
	}
	return nil
}

// PipeWriter writes pipe-mode perf.data (perf record -o -): the pipe
// header, a HEADER_ATTR record per attr, a HEADER_FEATURE record per
// feature in bit order and an empty one for bit 32 (HEADER_LAST_FEATURE)
// ending them, tracing data as a HEADER_TRACING_DATA record, then records.
// Build IDs are not written as features in pipe mode (perf writes
// HEADER_BUILD_ID records instead).
type PipeWriter struct {
	bw     *bufio.Writer
	buf    []byte
	err    error
	closed bool
}

// NewPipeWriter writes the pipe header and header records to w.
func NewPipeWriter(w io.Writer, attrs []*EventAttr, features *Features) (*PipeWriter, error) {
	pw := &PipeWriter{bw: bufio.NewWriterSize(w, 1<<18)}
	var e encoder
	e.u64(magic)
	e.u64(pipeHeaderSize)
	for _, a := range attrs {
		var err error
		if e.b, err = EncodeRecord(e.b, &HeaderAttr{Attr: a}); err != nil {
			return nil, err
		}
	}
	if features == nil {
		features = &Features{}
	}
	for _, f := range features.Set().List() {
		if f == FeatureTracingData || f == FeatureBuildID || f == FeatureLast {
			continue
		}
		b, err := features.Encode(f)
		if err != nil {
			continue
		}
		if e.b, err = EncodeRecord(e.b, &HeaderFeature{Feature: f, Data: b}); err != nil {
			return nil, err
		}
	}
	// perf ends the feature records with an empty one for
	// HEADER_LAST_FEATURE (perf_event__synthesize_features), its cue to
	// print the header (perf script --header).
	var err error
	if e.b, err = EncodeRecord(e.b, &HeaderFeature{Feature: FeatureLast}); err != nil {
		return nil, err
	}
	if features.Set().Has(FeatureTracingData) {
		b, err := features.Encode(FeatureTracingData)
		if err == nil {
			if e.b, err = EncodeRecord(e.b, &HeaderTracingData{Data: b}); err != nil {
				return nil, err
			}
		}
	}
	if _, err := pw.bw.Write(e.b); err != nil {
		return nil, fmt.Errorf("write perf.data pipe header: %w", err)
	}
	return pw, nil
}

// WriteRecord encodes and writes a record.
func (w *PipeWriter) WriteRecord(r Record) error {
	if w.err != nil {
		return w.err
	}
	b, err := EncodeRecord(w.buf[:0], r)
	if err != nil {
		return err
	}
	w.buf = b
	return w.WriteRaw(b)
}

// WriteRaw writes already-encoded records.
func (w *PipeWriter) WriteRaw(b []byte) error {
	if w.closed {
		return ErrClosed
	}
	if w.err != nil {
		return w.err
	}
	if _, err := w.bw.Write(b); err != nil {
		w.err = fmt.Errorf("write perf.data records: %w", err)
	}
	return w.err
}

// Flush writes buffered records to the underlying writer.
func (w *PipeWriter) Flush() error {
	if w.err != nil {
		return w.err
	}
	if err := w.bw.Flush(); err != nil {
		w.err = fmt.Errorf("write perf.data records: %w", err)
	}
	return w.err
}

// Close flushes. It does not close the underlying writer.
func (w *PipeWriter) Close() error {
	if w.closed {
		return ErrClosed
	}
	err := w.Flush()
	w.closed = true
	return err
}
