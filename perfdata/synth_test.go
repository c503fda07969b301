package perfdata_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/gperf-dev/gperf/internal/testutil"
	"github.com/gperf-dev/gperf/perfdata"
)

// synthAttrs returns two software events (cpu-clock, task-clock) sampling
// IP, TID, TIME, ID, CPU and PERIOD with sample_id_all, as perf record
// sets them up for two events.
func synthAttrs() []*perfdata.EventAttr {
	mk := func(config uint64, name string, ids ...uint64) *perfdata.EventAttr {
		return &perfdata.EventAttr{
			Type: perfdata.TypeSoftware, Size: perfdata.AttrSizeVer7, Config: config,
			SamplePeriod: 100000,
			SampleType: perfdata.SampleIP | perfdata.SampleTID | perfdata.SampleTime |
				perfdata.SampleID | perfdata.SampleCPU | perfdata.SamplePeriod,
			ReadFormat: perfdata.FormatID,
			Flags: perfdata.AttrDisabled | perfdata.AttrInherit | perfdata.AttrMmap |
				perfdata.AttrComm | perfdata.AttrSampleIDAll | perfdata.AttrMmap2 |
				perfdata.AttrCommExec,
			IDs: ids, Name: name,
		}
	}
	return []*perfdata.EventAttr{mk(0, "cpu-clock", 101, 102), mk(1, "task-clock", 103, 104)}
}

func synthFeatures(attrs []*perfdata.EventAttr) *perfdata.Features {
	return &perfdata.Features{
		Hostname: "synth", OSRelease: "6.1.0", Version: "6.1.187", Arch: "x86_64",
		NrCPUs:    &perfdata.NrCPUs{Available: 2, Online: 2},
		Cmdline:   []string{"gperf", "test"},
		EventDesc: perfdata.EventDescs(attrs),
	}
}

// synthRecords makes a stream of samples in rounds, as a 2-CPU recording
// would: each round mixes both CPUs' events, timestamps within a CPU
// increase, CPUs interleave and overlap across rounds, ties occur, and a
// few records carry no timestamp.
func synthRecords(attrs []*perfdata.EventAttr, rounds, perRound int, seed int64) []perfdata.Record {
	rng := rand.New(rand.NewSource(seed))
	var recs []perfdata.Record
	comm := &perfdata.Comm{Pid: 42, Tid: 42, Comm: "synth"}
	comm.Attr = attrs[0]
	recs = append(recs, comm)
	ts := [2]uint64{1000, 1000}
	for r := 0; r < rounds; r++ {
		for i := 0; i < perRound; i++ {
			cpu := rng.Intn(2)
			if rng.Intn(7) > 0 {
				ts[cpu] += uint64(rng.Intn(40))
			}
			a := attrs[rng.Intn(2)]
			s := &perfdata.Sample{IP: uint64(0x400000 + rng.Intn(4096)), Pid: 42, Tid: uint32(42 + cpu),
				Time: ts[cpu], ID: a.IDs[cpu], CPU: uint32(cpu), Period: 100000}
			if rng.Intn(50) == 0 {
				s.Time = 0 // delivered at once by perf
			}
			s.Attr = a
			recs = append(recs, s)
			if rng.Intn(40) == 0 {
				m := &perfdata.Comm{Pid: 42, Tid: uint32(42 + cpu), Comm: fmt.Sprintf("t%d", i)}
				m.Attr = a
				m.SampleID = perfdata.SampleIDTrailer{Pid: 42, Tid: uint32(42 + cpu), Time: ts[cpu], ID: a.IDs[cpu], CPU: uint32(cpu)}
				recs = append(recs, m)
			}
		}
		// The other CPU lags behind: its events of this round may be
		// older than the last round's maximum.
		if rng.Intn(2) == 0 {
			ts[rng.Intn(2)] -= uint64(rng.Intn(200))
		}
		recs = append(recs, &perfdata.FinishedRound{})
	}
	return recs
}

func writeSynth(t testing.TB, path string, recs []perfdata.Record) {
	attrs := synthAttrs()
	w, err := perfdata.Create(path, attrs, synthFeatures(attrs))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := w.WriteRecord(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestSyntheticOrder writes files whose rounds overlap, tie and carry
// untimed records, and checks that TimeOrder delivers them as perf report
// -D does.
func TestSyntheticOrder(t *testing.T) {
	testutil.Requires(t, testutil.Perf)
	dir := t.TempDir()
	for seed := int64(1); seed <= 4; seed++ {
		path := filepath.Join(dir, fmt.Sprintf("synth%d.data", seed))
		attrs := synthAttrs()
		writeSynth(t, path, synthRecords(attrs, 6, 40, seed))
		f, err := perfdata.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		checkOrder(t, f, path)
		checkStats(t, f, path)
		checkEvlist(t, f, path)
		checkHeader(t, f, path)
		f.Close()

		// The same records in pipe mode.
		pp := filepath.Join(dir, fmt.Sprintf("synth%d.pipe", seed))
		out, err := os.Create(pp)
		if err != nil {
			t.Fatal(err)
		}
		pw, err := perfdata.NewPipeWriter(out, attrs, synthFeatures(attrs))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range synthRecords(attrs, 6, 40, seed) {
			if err := pw.WriteRecord(r); err != nil {
				t.Fatal(err)
			}
		}
		if err := pw.Close(); err != nil {
			t.Fatal(err)
		}
		out.Close()
		g, err := perfdata.Open(pp)
		if err != nil {
			t.Fatal(err)
		}
		if !g.Pipe || len(g.Attrs) != 2 || g.Features.Hostname != "synth" {
			t.Fatalf("pipe: Pipe %v, %d attrs, hostname %q", g.Pipe, len(g.Attrs), g.Features.Hostname)
		}
		checkOrder(t, g, pp)
		g.Close()
	}
}

// TestInterrupted checks that a file whose writer died after Flush is
// read by perf and by this package up to the flushed records.
func TestInterrupted(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "live.data")
	attrs := synthAttrs()
	recs := synthRecords(attrs, 40, 200, 7)
	w, err := perfdata.Create(path, attrs, synthFeatures(attrs))
	if err != nil {
		t.Fatal(err)
	}
	half := len(recs) / 2
	for _, r := range recs[:half] {
		if err := w.WriteRecord(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	// Enough more to spill the writer's buffer, ending mid-record.
	for _, r := range recs[half:] {
		if err := w.WriteRecord(r); err != nil {
			t.Fatal(err)
		}
	}
	// "Kill" the writer: take the file as it is on disk now.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	dead := filepath.Join(dir, "dead.data")
	if err := os.WriteFile(dead, b, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := perfdata.Open(dead)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	readAll(t, f, perfdata.ReaderOptions{}, func(perfdata.Record) { n++ })
	if n != half {
		t.Errorf("read %d records from the interrupted file, want the %d flushed", n, half)
	}
	if _, err := os.Stat(testutil.PerfPath()); err == nil {
		checkStats(t, f, dead)
		checkOrder(t, f, dead)
	}
}

// TestBoundedMemory streams a file much larger than what TimeOrder may
// hold and checks the heap stays near one round's worth.
func TestBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a large file")
	}
	path := filepath.Join(t.TempDir(), "big.data")
	attrs := synthAttrs()
	w, err := perfdata.Create(path, attrs, nil)
	if err != nil {
		t.Fatal(err)
	}
	const rounds, perRound = 400, 5000 // 2M samples, 112 MB
	var buf []byte
	ts := uint64(1)
	for r := 0; r < rounds; r++ {
		for i := 0; i < perRound; i++ {
			s := &perfdata.Sample{IP: 0x401000, Pid: 1, Tid: 1, Time: ts + uint64(i%2)*3, ID: 101, Period: 1}
			s.Attr = attrs[0]
			ts++
			if buf, err = perfdata.EncodeRecord(buf[:0], s); err != nil {
				t.Fatal(err)
			}
			w.WriteRaw(buf)
		}
		buf, _ = perfdata.EncodeRecord(buf[:0], &perfdata.FinishedRound{})
		w.WriteRaw(buf)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	f, err := perfdata.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	runtime.GC()
	var ms runtime.MemStats
	var peak uint64
	n := 0
	var last uint64
	readAll(t, f, perfdata.ReaderOptions{TimeOrder: true}, func(rec perfdata.Record) {
		if s, ok := rec.(*perfdata.Sample); ok {
			if s.Time < last {
				t.Fatalf("time went back: %d after %d", s.Time, last)
			}
			last = s.Time
		}
		if n++; n%50000 == 0 {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak {
				peak = ms.HeapInuse
			}
		}
	})
	t.Logf("file %d MB, %d records, peak heap in use %d MB", st.Size()>>20, n, peak>>20)
	if peak > uint64(st.Size())/4 {
		t.Errorf("peak heap %d MB for a %d MB file: not streaming", peak>>20, st.Size()>>20)
	}
}

// TestBadInput checks that malformed files give a clear error, never a
// panic.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "good.data")
	attrs := synthAttrs()
	writeSynth(t, path, synthRecords(attrs, 3, 20, 3))
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	le := func(b []byte, off int, v uint64) []byte {
		c := append([]byte(nil), b...)
		for i := 0; i < 8; i++ {
			c[off+i] = byte(v >> (8 * i))
		}
		return c
	}
	dataOff := int(good[40]) | int(good[41])<<8
	cases := []struct {
		name  string
		b     []byte
		open  string // error from NewFile, or "" if it opens
		read  string // error from reading records
		trunc bool   // error wraps ErrTruncated
	}{
		{name: "empty", b: nil, open: "too short for a header", trunc: true},
		{name: "short header", b: good[:60], open: "too short for a header", trunc: true},
		{name: "bad magic", b: append([]byte("NOTPERF!"), good[8:]...), open: `bad magic "NOTPERF!"`},
		{name: "header size", b: le(good, 8, 77), open: "header size 77 unsupported"},
		{name: "attr_size 0", b: le(good, 16, 0), open: "attr_size is 0"},
		{name: "attr_size huge", b: le(good, 16, 1<<40), open: "attr_size 1099511627776 out of range"},
		{name: "attrs past EOF", b: le(good, 24, 1<<40), open: "attrs at offset 0x10000000000: section of", trunc: true},
		{name: "attrs size huge", b: le(good, 32, 1<<62), open: "past the end of the file", trunc: true},
		{name: "data past EOF", b: le(good, 40, 1<<40), open: "data offset 0x10000000000 past the end", trunc: true},
		{name: "features past EOF", b: le(good, 48, 1<<30), open: "feature table at offset", trunc: true},
		{name: "cut in data", b: good[:dataOff+100], open: "feature table", trunc: true},
		{name: "record size 0", b: le(good, dataOff, 0), read: "record size 0 smaller than its header"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := perfdata.NewFile(bytes.NewReader(c.b), int64(len(c.b)))
			if c.open != "" {
				if err == nil || !strings.Contains(err.Error(), c.open) {
					t.Fatalf("NewFile error %v, want one containing %q", err, c.open)
				}
				var fe *perfdata.FormatError
				if !errors.As(err, &fe) {
					t.Errorf("error %T is not a *FormatError", err)
				}
				if c.trunc != errors.Is(err, perfdata.ErrTruncated) {
					t.Errorf("errors.Is(%v, ErrTruncated) = %v", err, !c.trunc)
				}
				t.Log(err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r := f.Records(perfdata.ReaderOptions{TimeOrder: true})
			for {
				_, err = r.Next()
				if err != nil {
					break
				}
			}
			if err == io.EOF || !strings.Contains(err.Error(), c.read) {
				t.Fatalf("Next error %v, want one containing %q", err, c.read)
			}
			if _, err2 := r.Next(); err2 != err {
				t.Errorf("error not sticky: %v then %v", err, err2)
			}
			t.Log(err)
		})
	}
}

// TestTruncatedData cuts a file (with data.size 0, as perf record leaves
// it when killed) inside its last record.
func TestTruncatedData(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "good.data")
	attrs := synthAttrs()
	writeSynth(t, path, synthRecords(attrs, 3, 20, 5))
	good, _ := os.ReadFile(path)
	f, err := perfdata.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	end := int(f.Header.Data.Offset + f.Header.Data.Size)
	f.Close()
	b := append([]byte(nil), good[:end-5]...)
	for i := 48; i < 56; i++ {
		b[i] = 0 // data.size
	}
	for i := 72; i < 104; i++ {
		b[i] = 0 // features
	}
	g, err := perfdata.NewFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	r := g.Records(perfdata.ReaderOptions{})
	n := 0
	for {
		_, err = r.Next()
		if err != nil {
			break
		}
		n++
	}
	if !errors.Is(err, perfdata.ErrTruncated) {
		t.Fatalf("got %v after %d records, want ErrTruncated", err, n)
	}
	t.Logf("%d records, then %v", n, err)
}

// TestUnknownKept writes records of types this package does not know and
// an unknown feature bit, and checks they come back byte for byte.
func TestUnknownKept(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "unknown.data")
	attrs := synthAttrs()
	feat := synthFeatures(attrs)
	feat.Raw = map[perfdata.Feature][]byte{40: []byte("future feature section")}
	w, err := perfdata.Create(path, attrs, feat)
	if err != nil {
		t.Fatal(err)
	}
	var want [][]byte
	for _, r := range []perfdata.Record{
		&perfdata.Unknown{Header: perfdata.RecordHeader{Type: 30, Misc: 3}, Data: []byte("kernel future record....")},
		&perfdata.Unknown{Header: perfdata.RecordHeader{Type: 99}, Data: []byte{1, 2, 3, 4, 5, 6, 7, 8}},
		&perfdata.FinishedRound{},
	} {
		b, err := perfdata.EncodeRecord(nil, r)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, b)
		if err := w.WriteRaw(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := perfdata.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.Features.Raw[40]; string(got) != "future feature section" {
		t.Errorf("feature bit 40: %q", got)
	}
	i := 0
	readAll(t, f, perfdata.ReaderOptions{TimeOrder: true}, func(rec perfdata.Record) {
		b, err := perfdata.EncodeRecord(nil, rec)
		if err != nil {
			t.Fatal(err)
		}
		if i >= len(want) || !bytes.Equal(b, want[i]) {
			t.Errorf("record %d: %x", i, b)
		}
		i++
	})
	if i != len(want) {
		t.Errorf("read %d records, wrote %d", i, len(want))
	}
}

// TestBadPipe checks pipe-mode errors.
func TestBadPipe(t *testing.T) {
	attrs := synthAttrs()
	var good bytes.Buffer
	pw, err := perfdata.NewPipeWriter(&good, attrs, synthFeatures(attrs))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range synthRecords(attrs, 2, 5, 11) {
		pw.WriteRecord(r)
	}
	pw.Close()
	g := good.Bytes()
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"short", g[:10], "pipe header at offset 0xa: short header"},
		{"magic", append([]byte("PERFILE3"), g[8:]...), `bad magic "PERFILE3"`},
		{"size", append(append([]byte{}, g[:8]...), append([]byte{104, 0, 0, 0, 0, 0, 0, 0}, g[16:]...)...), "header size 104 is not a pipe header"},
		{"cut attr", g[:40], "pipe data at offset 0x10: ATTR record of 152 bytes cut after 24"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := perfdata.NewPipe(bytes.NewReader(c.b))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("NewPipe error %v, want one containing %q", err, c.want)
			}
		})
	}
	// A stream cut inside a record after the header records.
	f, err := perfdata.NewPipe(bytes.NewReader(g[:len(g)-3]))
	if err != nil {
		t.Fatal(err)
	}
	r := f.Records(perfdata.ReaderOptions{})
	for {
		_, err = r.Next()
		if err != nil {
			break
		}
	}
	if !errors.Is(err, perfdata.ErrTruncated) {
		t.Fatalf("cut stream: %v, want ErrTruncated", err)
	}
}

// TestAttrSizes writes attrs of every perf_event_attr size (VER0 to VER8
// and a future one) and reads them back; perf evlist -v must agree on the
// sizes perf 6.1 knows.
func TestAttrSizes(t *testing.T) {
	dir := t.TempDir()
	full := perfdata.EventAttr{
		Type: perfdata.TypeSoftware, Config: 2, SamplePeriod: 4000, SampleType: perfdata.SampleIP | perfdata.SampleTID,
		ReadFormat: perfdata.FormatID, Flags: perfdata.AttrDisabled | perfdata.AttrFreq | perfdata.AttrSampleIDAll,
		WakeupEvents: 3, BPType: 4, Config1: 5, Config2: 6, BranchSampleType: 7, SampleRegsUser: 0x183,
		SampleStackUser: 8192, ClockID: 1, SampleRegsIntr: 0x3, AuxWatermark: 9, SampleMaxStack: 10,
		AuxSampleSize: 11, SigData: 12, Config3: 13, IDs: []uint64{7}, Name: "x",
	}
	for _, size := range []uint32{0, 72, 80, 96, 104, 112, 120, 128, 136, 152} {
		want := full
		want.Size = size
		// Zero what does not fit the size.
		off := int(size)
		if off == 0 {
			off = perfdata.AttrSizeVer0
			want.Config2 = 0
		}
		fallthroughCut(&want, off)
		path := filepath.Join(dir, fmt.Sprintf("attr%d.data", size))
		a := want
		w, err := perfdata.Create(path, []*perfdata.EventAttr{&a}, &perfdata.Features{EventDesc: perfdata.EventDescs([]*perfdata.EventAttr{&a})})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		f, err := perfdata.Open(path)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		got := *f.Attrs[0]
		got.Extra, want.Extra = nil, nil
		if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
			t.Errorf("size %d: read\n%+v\nwrote\n%+v", size, got, want)
		}
		if size != 0 && size <= perfdata.AttrSizeVer7 {
			if _, err := os.Stat(testutil.PerfPath()); err == nil {
				checkEvlist(t, f, path)
			}
		}
		f.Close()
	}
}

// fallthroughCut zeroes the attr fields at and past byte offset off.
func fallthroughCut(a *perfdata.EventAttr, off int) {
	if off <= 72 {
		a.BranchSampleType = 0
	}
	if off <= 80 {
		a.SampleRegsUser, a.SampleStackUser, a.ClockID = 0, 0, 0
	}
	if off <= 96 {
		a.SampleRegsIntr = 0
	}
	if off <= 104 {
		a.AuxWatermark, a.SampleMaxStack = 0, 0
	}
	if off <= 112 {
		a.AuxSampleSize = 0
	}
	if off <= 120 {
		a.SigData = 0
	}
	if off <= 128 {
		a.Config3 = 0
	}
}
