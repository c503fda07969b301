package perfdata_test

import (
	"io"
	"path/filepath"
	"testing"

	"github.com/gperf-dev/gperf/perfdata"
)

// benchFile writes n samples with callchains in rounds of 1000.
func benchFile(b *testing.B, n int) string {
	path := filepath.Join(b.TempDir(), "bench.data")
	attrs := synthAttrs()
	attrs[0].SampleType |= perfdata.SampleCallchain
	attrs[1].SampleType |= perfdata.SampleCallchain
	w, err := perfdata.Create(path, attrs, nil)
	if err != nil {
		b.Fatal(err)
	}
	chain := []uint64{0xffffffffffffff80, 0xffffffff81000000, 0xffffffff81000100, 0xfffffffffffffe00, 0x401000, 0x401100, 0x401200, 0x401300}
	for i := 0; i < n; i++ {
		s := &perfdata.Sample{IP: 0x401000, Pid: 1, Tid: 1, Time: uint64(1000 + i - i%7), ID: 101 + uint64(i%2), CPU: uint32(i % 2), Period: 1, Callchain: chain}
		s.Attr = attrs[0]
		w.WriteRecord(s)
		if i%1000 == 999 {
			w.WriteRecord(&perfdata.FinishedRound{})
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

func BenchmarkReader(b *testing.B) {
	path := benchFile(b, 200000)
	for _, ord := range []bool{false, true} {
		name := "FileOrder"
		if ord {
			name = "TimeOrder"
		}
		b.Run(name, func(b *testing.B) {
			f, err := perfdata.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			b.SetBytes(int64(f.Header.Data.Size))
			for b.Loop() {
				r := f.Records(perfdata.ReaderOptions{TimeOrder: ord})
				for {
					_, err := r.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
