package record

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/gperf-dev/gperf/perfdata"
)

// output is the perf.data being written: a temporary file beside the
// target until the session is under way (so a failed start leaves the
// old perf.data alone), then renamed to the target with the old file
// moved to <target>.old, as perf does.
type output struct {
	path    string // the target, "-" for a pipe
	tmp     string // the temporary name while not committed
	f       *os.File
	w       recWriter
	fw      *perfdata.Writer // file mode
	renamed bool

	// Provisional features (file mode): see provisional.
	dataOff   int64
	prov      []perfdata.Section // RESERVED first
	provBits  perfdata.FeatureSet
	lastFlush time.Time
	// provRecords counts the provisional records written.
	provRecords int
	provPending []provBody
}

func (s *session) createOutput() (*output, error) {
	o := &output{path: s.opts.Output}
	attrs := s.attrs()
	if s.pipe {
		out := s.opts.Stdout
		if out == nil {
			out = os.Stdout
		}
		w, err := perfdata.NewPipeWriter(out, attrs, s.features(nil))
		if err != nil {
			return nil, fmt.Errorf("record: write pipe: %w", err)
		}
		o.w = w
		return o, nil
	}
	dir := filepath.Dir(o.path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(o.path)+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("record: create %s: %w", o.path, err)
	}
	o.f, o.tmp = f, f.Name()
	w, err := perfdata.NewWriter(f, attrs, nil)
	if err != nil {
		f.Close()
		os.Remove(o.tmp)
		return nil, fmt.Errorf("record: write %s: %w", o.path, err)
	}
	o.w, o.fw = w, w
	// NewWriter has written header, IDs and attrs: data starts here.
	if o.dataOff, err = f.Seek(0, io.SeekCurrent); err != nil {
		f.Close()
		os.Remove(o.tmp)
		return nil, fmt.Errorf("record: write %s: %w", o.path, err)
	}
	return o, nil
}

// commit moves the file to its name: from now on it is perf.data.
func (o *output) commit() error {
	if o.f == nil {
		return nil
	}
	// No flush here: the writer goroutine owns the file's offset and
	// buffer by now (its periodic flush keeps the header current).
	if st, err := os.Stat(o.path); err == nil && st.Size() > 0 {
		if err := os.Rename(o.path, o.path+".old"); err != nil {
			return fmt.Errorf("move %s to %s.old: %w", o.path, o.path, err)
		}
	}
	if err := os.Rename(o.tmp, o.path); err != nil {
		return fmt.Errorf("rename %s to %s: %w", o.tmp, o.path, err)
	}
	o.renamed = true
	return nil
}

// abort removes a file that never became perf.data.
func (o *output) abort() {
	if o.f == nil {
		return
	}
	o.f.Close()
	if !o.renamed {
		os.Remove(o.tmp)
	}
}

// finish writes the features, rewrites the header and closes the file,
// returning its size.
func (o *output) finish(feat *perfdata.Features) (int64, error) {
	if o.fw != nil {
		o.fw.Features = feat
	}
	if err := o.w.Close(); err != nil {
		return 0, fmt.Errorf("write %s: %w", o.path, err)
	}
	if o.f == nil {
		return 0, nil
	}
	st, err := o.f.Stat()
	o.f.Close()
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// recWriter is what file and pipe writers have in common.
type recWriter interface {
	WriteRaw(b []byte) error
	Flush() error
	Close() error
}

// provisional makes the file readable by perf while it is being written,
// should gperf be killed before Close writes the real feature sections.
// perf needs HEADER_TRACING_DATA to read tracepoint samples, and feature
// sections live after the data, whose end moves. So the features known at
// the start (tracing data, cmdline, event names) are written once into the
// data stream, each as the payload of a FINISHED_INIT record (perf reads
// it whatever its size and does nothing with it outside perf inject; a
// FINISHED_ROUND would flush perf's ordered-events queue early), and at
// each flush another FINISHED_INIT holds the feature section table
// pointing at them:
// the header then says the data ends just before that record, so perf
// finds the table right after the data (tools/perf/util/header.c,
// perf_header__process_sections). The table's first entry is the
// HEADER_RESERVED bit's, whose 16 bytes double as the record header and
// which perf ignores. Records written after it are appended, so the table a
// flushed header points at is never overwritten; at Close the real
// features and header replace all this.
func (o *output) provisional(feat *perfdata.Features) error {
	if o.fw == nil {
		return nil
	}
	// The copies are written at the first flush, 100ms into the
	// session: a short recording has none, and its file is perf's
	// record for record.
	o.lastFlush = time.Now()
	for _, f := range []perfdata.Feature{perfdata.FeatureTracingData, perfdata.FeatureCmdline, perfdata.FeatureEventDesc} {
		if !feat.Set().Has(f) {
			continue
		}
		b, err := feat.Encode(f)
		if err != nil || len(b)+8+7 > 0xffff {
			continue // too big for one record: no provisional copy
		}
		o.provPending = append(o.provPending, provBody{f, b})
	}
	return nil
}

// provBody is a feature section waiting to be written provisionally.
type provBody struct {
	feat perfdata.Feature
	b    []byte
}

// writeProvisional writes the pending feature copies into the data
// stream, each in a FINISHED_INIT record.
func (o *output) writeProvisional() error {
	o.prov = []perfdata.Section{{}}
	o.provBits.Set(perfdata.FeatureReserved)
	for _, p := range o.provPending {
		n := 8 + (len(p.b)+7)&^7
		rec := make([]byte, n)
		binary.LittleEndian.PutUint32(rec, recordFinishedInit)
		binary.LittleEndian.PutUint16(rec[6:], uint16(n))
		copy(rec[8:], p.b)
		off := uint64(o.dataOff) + o.fw.DataSize() + 8
		if err := o.w.WriteRaw(rec); err != nil {
			return err
		}
		o.prov = append(o.prov, perfdata.Section{Offset: off, Size: uint64(len(p.b))})
		o.provRecords++
		o.provBits.Set(p.feat)
	}
	o.provPending = nil
	return nil
}

// flush makes what was written so far readable should gperf die: at most
// every 100ms it writes the provisional feature table and points the
// header at it.
func (o *output) flush() error {
	if o.fw == nil || time.Since(o.lastFlush) < 100*time.Millisecond {
		return nil
	}
	o.lastFlush = time.Now()
	if o.prov == nil {
		if err := o.writeProvisional(); err != nil {
			return err
		}
	}
	if len(o.prov) < 2 {
		return nil
	}
	end := o.fw.DataSize()
	n := 16 * len(o.prov)
	rec := make([]byte, n)
	binary.LittleEndian.PutUint32(rec, recordFinishedInit)
	binary.LittleEndian.PutUint16(rec[6:], uint16(n))
	for i, s := range o.prov[1:] {
		binary.LittleEndian.PutUint64(rec[16+16*i:], s.Offset)
		binary.LittleEndian.PutUint64(rec[24+16*i:], s.Size)
	}
	if err := o.w.WriteRaw(rec); err != nil {
		return err
	}
	o.provRecords++
	if err := o.w.Flush(); err != nil {
		return err
	}
	// struct perf_file_header: data.size at 48, adds_features at 72.
	var hdr [8 + 32]byte
	binary.LittleEndian.PutUint64(hdr[:], end)
	for i, w := range o.provBits {
		binary.LittleEndian.PutUint64(hdr[8+8*i:], w)
	}
	if _, err := o.f.WriteAt(hdr[:8], 48); err != nil {
		return err
	}
	_, err := o.f.WriteAt(hdr[8:], 72)
	return err
}
