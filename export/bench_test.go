package export_test

import (
	"bytes"
	"debug/elf"
	"io"
	"path/filepath"
	"testing"

	"github.com/gperf-dev/gperf/export"
	"github.com/gperf-dev/gperf/internal/testutil"
	"github.com/gperf-dev/gperf/perfdata"
)

// writeBigFile writes a perf.data with n cpu-clock samples of hot.c: its
// mapping, and callchains main -> hot_caller -> hot_function (and
// main -> cold_function) at 64 distinct leaf addresses, as perf record -g
// would write them, timestamps increasing.
func writeBigFile(tb testing.TB, n int) string {
	tb.Helper()
	bin := testutil.BuildC(tb, testutil.FramePointer, "hot.c")
	ef, err := elf.Open(bin)
	if err != nil {
		tb.Fatal(err)
	}
	syms, err := ef.Symbols()
	ef.Close()
	if err != nil {
		tb.Fatal(err)
	}
	addr := map[string]uint64{}
	for _, s := range syms {
		addr[s.Name] = s.Value
	}
	for _, f := range []string{"main", "hot_caller", "hot_function", "cold_function"} {
		if addr[f] == 0 {
			tb.Fatalf("%s has no symbol %s", bin, f)
		}
	}
	attr := &perfdata.EventAttr{
		Type: perfdata.TypeSoftware, Config: 0, Size: perfdata.AttrSizeVer7, SamplePeriod: 250000,
		SampleType: perfdata.SampleIP | perfdata.SampleTID | perfdata.SampleTime | perfdata.SamplePeriod | perfdata.SampleCallchain,
		Flags:      perfdata.AttrSampleIDAll | perfdata.AttrMmap | perfdata.AttrComm | perfdata.AttrMmap2,
		IDs:        []uint64{1}, Name: "cpu-clock",
	}
	path := filepath.Join(tb.TempDir(), "big.data")
	w, err := perfdata.Create(path, []*perfdata.EventAttr{attr}, &perfdata.Features{})
	if err != nil {
		tb.Fatal(err)
	}
	const pid = 4242
	common := perfdata.RecordCommon{Attr: attr, Misc: perfdata.MiscUser}
	if err := w.WriteRecord(&perfdata.Comm{RecordCommon: common, Pid: pid, Tid: pid, Comm: "hot"}); err != nil {
		tb.Fatal(err)
	}
	// A non-PIE executable: text mapped at its link address.
	if err := w.WriteRecord(&perfdata.Mmap2{RecordCommon: common, Pid: pid, Tid: pid, Addr: 0x401000, Len: 0x1000, Pgoff: 0x1000, Prot: 5, Flags: 2, Filename: bin}); err != nil {
		tb.Fatal(err)
	}
	s := &perfdata.Sample{RecordCommon: common, Pid: pid, Tid: pid, Period: 250000}
	chain := make([]uint64, 5)
	for i := 0; i < n; i++ {
		s.Time = uint64(1e9 + i*250000)
		chain[0] = ^uint64(512 - 1) // PERF_CONTEXT_USER
		if i%10 == 9 {
			chain[1], chain[2], chain[3] = addr["cold_function"]+uint64(8+i%64), addr["main"]+0x40, 0
			s.Callchain = chain[:4]
		} else {
			chain[1], chain[2], chain[3], chain[4] = addr["hot_function"]+uint64(8+i%64), addr["hot_caller"]+0x10, addr["main"]+0x30, 0
			s.Callchain = chain[:5]
		}
		s.IP = chain[1]
		if err := w.WriteRecord(s); err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}

// BenchmarkFlameGraph1M draws a flame graph of a million samples:
// go test -run XXX -bench FlameGraph1M ./export
func BenchmarkFlameGraph1M(b *testing.B) {
	path := writeBigFile(b, 1_000_000)
	for b.Loop() {
		if err := export.WriteFlameGraph(io.Discard, export.Options{Input: path}, export.FlameGraphOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSyntheticFile checks the synthetic file of the benchmark against
// perf script, so that the benchmark measures a file perf reads the same.
func TestSyntheticFile(t *testing.T) {
	path := writeBigFile(t, 1000)
	want, samples := perfFolded(t, path)
	var buf bytes.Buffer
	if err := export.WriteFolded(&buf, export.Options{Input: path}); err != nil {
		t.Fatal(err)
	}
	got, total := parseFoldedText(t, buf.String())
	if total != samples || samples != 1000 {
		t.Errorf("%d samples folded, perf script shows %d, 1000 written", total, samples)
	}
	testutil.Same(t, "folded stacks of the synthetic file", "perf script", foldedText(want), "gperf", foldedText(got))
}
