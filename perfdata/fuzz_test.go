package perfdata_test

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/gperf-dev/gperf/internal/testutil"
	"github.com/gperf-dev/gperf/perfdata"
)

// FuzzReader feeds mutated perf.data files to the reader. Seeds are
// synthetic files and, when perf can record here, files perf recorded at
// test time. Properties: no panic; what decodes, re-encoded and written
// back as a file, decodes to the same records and feature sections.
func FuzzReader(f *testing.F) {
	if testing.Short() {
		f.Skip("fuzzing is slow")
	}
	dir := f.TempDir()
	attrs := synthAttrs()
	p := filepath.Join(dir, "synth.data")
	writeSynth(f, p, synthRecords(attrs, 3, 10, 9))
	addFile(f, p)
	var pipe bytes.Buffer
	pw, err := perfdata.NewPipeWriter(&pipe, attrs, synthFeatures(attrs))
	if err != nil {
		f.Fatal(err)
	}
	for _, r := range synthRecords(attrs, 2, 10, 10) {
		pw.WriteRecord(r)
	}
	pw.Close()
	f.Add(pipe.Bytes())
	addFile(f, compressedSynth(f, dir))
	// Seeds must be the same in the fuzzing coordinator and its workers,
	// and perf recordings differ at each run: record them only when the
	// seeds are run as tests, not while fuzzing (-fuzz).
	if fz := flag.Lookup("test.fuzz"); canRecord() && (fz == nil || fz.Value.String() == "") {
		for _, rc := range recordings {
			if rc.name == "tracepoint" || rc.name == "callchain" || rc.name == "pipe" || rc.name == "multi" || rc.name == "zstd" {
				addFile(f, rc.record(f, dir))
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkStable(t, b) })
}

// canRecord reports whether perf can record here, for optional seeds.
func canRecord() bool {
	_, err := os.Stat(testutil.PerfPath())
	_, err2 := os.Stat(testutil.TracingDir + "/events")
	return os.Geteuid() == 0 && err == nil && err2 == nil
}

func addFile(f *testing.F, path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
}

// encodeAll decodes every record it can (in file order, and in time
// order) and returns their encodings in file order.
func encodeAll(t *testing.T, f *perfdata.File, timeOrder bool) ([][]byte, error) {
	var out [][]byte
	r := f.Records(perfdata.ReaderOptions{TimeOrder: timeOrder})
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			var fe *perfdata.FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is a %T, not a *FormatError", err, err)
			}
			return out, err
		}
		enc, err := perfdata.EncodeRecord(nil, rec)
		if err != nil {
			return out, err
		}
		out = append(out, enc)
	}
}

type memFile struct {
	b   []byte
	off int64
}

func (m *memFile) Write(p []byte) (int, error) {
	if need := int(m.off) + len(p); need > len(m.b) {
		m.b = append(m.b, make([]byte, need-len(m.b))...)
	}
	copy(m.b[m.off:], p)
	m.off += int64(len(p))
	return len(p), nil
}

func (m *memFile) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
		m.off = off
	case io.SeekCurrent:
		m.off += off
	case io.SeekEnd:
		m.off = int64(len(m.b)) + off
	}
	return m.off, nil
}

func checkStable(t *testing.T, b []byte) {
	if len(b) >= 16 && bytes.Equal(b[8:16], []byte{16, 0, 0, 0, 0, 0, 0, 0}) {
		f, err := perfdata.NewPipe(bytes.NewReader(b))
		if err != nil {
			return
		}
		encodeAll(t, f, true)
		return
	}
	f, err := perfdata.NewFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		var fe *perfdata.FormatError
		if !errors.As(err, &fe) {
			t.Fatalf("NewFile error %v is a %T, not a *FormatError", err, err)
		}
		return
	}
	encodeAll(t, f, true)
	recs, _ := encodeAll(t, f, false)
	var m memFile
	w, err := perfdata.NewWriter(&m, f.Attrs, &f.Features)
	if err != nil {
		return // e.g. attrs of different sizes: not writable
	}
	for _, r := range recs {
		w.WriteRaw(r)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	g, err := perfdata.NewFile(bytes.NewReader(m.b), int64(len(m.b)))
	if err != nil {
		t.Fatalf("file written back does not open: %v", err)
	}
	recs2, err := encodeAll(t, g, false)
	if err != nil {
		t.Fatalf("file written back: %v", err)
	}
	if len(recs2) != len(recs) {
		t.Fatalf("written back %d records, read %d", len(recs), len(recs2))
	}
	for i := range recs {
		if !bytes.Equal(recs[i], recs2[i]) {
			t.Fatalf("record %d: encoded\n%x\nthen\n%x", i, recs[i], recs2[i])
		}
	}
	for _, ft := range f.Features.Set().List() {
		want, err := f.Features.Encode(ft)
		if err != nil {
			continue
		}
		got, err := g.Features.Encode(ft)
		if err != nil {
			t.Fatalf("feature %s lost: %v", ft, err)
		}
		if !bytes.Equal(want, got) {
			t.Fatalf("feature %s: wrote %x, read back %x", ft, want, got)
		}
	}
}

// compressedSynth writes a synthetic file whose records are compressed
// with the zstd command into COMPRESSED records, as perf record -z does.
func compressedSynth(tb testing.TB, dir string) string {
	attrs := synthAttrs()
	var raw []byte
	for _, r := range synthRecords(attrs, 4, 30, 12) {
		var err error
		if raw, err = perfdata.EncodeRecord(raw, r); err != nil {
			tb.Fatal(err)
		}
	}
	zstd, err := exec.LookPath("zstd")
	if err != nil {
		tb.Fatal("the zstd command is needed (scripts/deps.sh installs it)")
	}
	cmd := exec.Command(zstd, "-q", "-c", "-3", "--no-check")
	cmd.Stdin = bytes.NewReader(raw)
	comp, err := cmd.Output()
	if err != nil {
		tb.Fatal(err)
	}
	feat := synthFeatures(attrs)
	feat.Compressed = &perfdata.Compressed{Version: 0, Type: 1, Level: 3, Ratio: 3, MmapLen: 1 << 20}
	path := filepath.Join(dir, "compressed.data")
	w, err := perfdata.Create(path, attrs, feat)
	if err != nil {
		tb.Fatal(err)
	}
	for len(comp) > 0 {
		n := min(len(comp), 700) // several records, split inside blocks
		rec := &perfdata.Unknown{Header: perfdata.RecordHeader{Type: perfdata.RecordCompressed}, Data: comp[:n]}
		if err := w.WriteRecord(rec); err != nil {
			tb.Fatal(err)
		}
		comp = comp[n:]
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}
