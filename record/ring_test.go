package record

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// fakeRing is a ring buffer in memory: the test plays the kernel.
type fakeRing struct {
	buf        []byte
	hd, tl     uint64
	tailStores int
}

func (r *fakeRing) head() uint64     { return r.hd }
func (r *fakeRing) tail() uint64     { return r.tl }
func (r *fakeRing) setTail(t uint64) { r.tl = t; r.tailStores++ }
func (r *fakeRing) data() []byte     { return r.buf }
func newFakeRing(size int) *fakeRing { return &fakeRing{buf: make([]byte, size)} }

// produce writes a record at head, wrapping as the kernel does.
func (r *fakeRing) produce(rec []byte) {
	mask := uint64(len(r.buf) - 1)
	for i, b := range rec {
		r.buf[(r.hd+uint64(i))&mask] = b
	}
	r.hd += uint64(len(rec))
}

// rec builds a record of the given type and total size, its body filled
// with a marker byte.
func rec(typ uint32, size int, fill byte) []byte {
	b := make([]byte, size)
	binary.LittleEndian.PutUint32(b, typ)
	binary.LittleEndian.PutUint16(b[6:], uint16(size))
	for i := 8; i < size; i++ {
		b[i] = fill
	}
	return b
}

func TestDrainRingWrapAround(t *testing.T) {
	r := newFakeRing(64)
	var want []byte
	var got []byte
	// Records of 24 bytes in a 64-byte ring wrap at every third one;
	// drain after each pair so the ring never overflows.
	for i := 0; i < 20; i++ {
		a, b := rec(recordSample, 24, byte(2*i)), rec(recordSample, 24, byte(2*i+1))
		r.produce(a)
		r.produce(b)
		want = append(append(want, a...), b...)
		var err error
		got, err = drainRing(r, got)
		if err != nil {
			t.Fatal(err)
		}
		if r.tl != r.hd {
			t.Fatalf("pass %d: tail %d, head %d: the ring was not handed back", i, r.tl, r.hd)
		}
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("drained bytes differ from produced ones:\n got %x\nwant %x", got, want)
	}
	var s stats
	s.timeOff = -1
	if err := s.scan(got); err != nil {
		t.Fatal(err)
	}
	if s.samples != 40 || s.records != 40 {
		t.Errorf("scan: %d samples, %d records, want 40", s.samples, s.records)
	}
}

func TestDrainRingEmptyAndOverrun(t *testing.T) {
	r := newFakeRing(64)
	out, err := drainRing(r, nil)
	if err != nil || len(out) != 0 || r.tailStores != 0 {
		t.Fatalf("empty ring: %d bytes, err %v, %d tail stores", len(out), err, r.tailStores)
	}
	r.hd = 200 // more than the ring holds past the tail: corrupt
	if _, err := drainRing(r, nil); err == nil {
		t.Fatal("a head more than a ring past the tail was accepted")
	}
}

func TestScanAccounting(t *testing.T) {
	var b []byte
	b = append(b, rec(recordSample, 40, 0)...)
	lost := rec(recordLost, 24, 0)
	binary.LittleEndian.PutUint64(lost[8:], 7)   // id
	binary.LittleEndian.PutUint64(lost[16:], 42) // lost
	b = append(b, lost...)
	b = append(b, rec(recordComm, 32, 'x')...)
	s := stats{timeOff: -1, ipOff: 8, tidOff: 16}
	if err := s.scan(b); err != nil {
		t.Fatal(err)
	}
	if s.samples != 1 || s.lostRecords != 1 || s.lost != 42 || s.records != 3 {
		t.Errorf("scan: %+v", s)
	}
	if err := s.scan(rec(recordSample, 40, 0)[:20]); err == nil {
		t.Error("a truncated record was accepted")
	}
	short := rec(recordSample, 8, 0)
	binary.LittleEndian.PutUint16(short[6:], 4)
	if err := s.scan(short); err == nil {
		t.Error("a record shorter than its header was accepted")
	}
}

// memWriter collects what the drain loop writes.
type memWriter struct{ b []byte }

func (w *memWriter) WriteRaw(b []byte) error { w.b = append(w.b, b...); return nil }

func TestWriteChunksRounds(t *testing.T) {
	a, b := &cpuReader{cpu: 0}, &cpuReader{cpu: 1}
	pool := &chunkPool{free: make(chan []byte, 8)} // room for the test's buffers
	ch := make(chan chunk, 16)
	var epoch atomic.Uint64
	w := &memWriter{}
	flushes := 0
	sample := rec(recordSample, 16, 1)
	// Reader a delivers data in epoch 0; b has not reported: no round.
	ch <- chunk{reader: a, data: append([]byte(nil), sample...), epoch: 0}
	// b reports an empty pass in epoch 0: now both have passed since
	// the start, and the round can close.
	ch <- chunk{reader: b, epoch: 0}
	// a delivers more in epoch 0 (started before the round was
	// written): not enough for the next round.
	ch <- chunk{reader: a, data: append([]byte(nil), sample...), epoch: 0}
	// Both pass again in epoch 1: the second round.
	ch <- chunk{reader: a, data: append([]byte(nil), sample...), epoch: 1}
	ch <- chunk{reader: b, epoch: 1, last: true}
	ch <- chunk{reader: a, epoch: 1, last: true}
	close(ch)
	res := writeChunks(w, func() error { flushes++; return nil }, ch, pool, 2, &epoch)
	if res.err != nil {
		t.Fatal(res.err)
	}
	var kinds []string
	for b := w.b; len(b) > 0; b = b[readHeader(b).Size:] {
		switch readHeader(b).Type {
		case recordSample:
			kinds = append(kinds, "S")
		case recordFinishedRound:
			kinds = append(kinds, "R")
		}
	}
	want := "S R S S R"
	if got := joinKinds(kinds); got != want {
		t.Errorf("records written: %q, want %q", got, want)
	}
	if epoch.Load() != 2 || flushes != 2 {
		t.Errorf("epoch %d, %d flushes; want 2 and 2", epoch.Load(), flushes)
	}
}

func joinKinds(k []string) string {
	s := ""
	for i, x := range k {
		if i > 0 {
			s += " "
		}
		s += x
	}
	return s
}

func TestParseMapsLine(t *testing.T) {
	m, ok := parseMapsLine("7f11eb4a3000-7f11eb5f9000 r-xp 00026000 fe:00 326269                     /usr/lib/x86_64-linux-gnu/libc.so.6")
	if !ok || m.Addr != 0x7f11eb4a3000 || m.Len != 0x156000 || m.Pgoff != 0x26000 || m.Maj != 0xfe || m.Ino != 326269 ||
		m.Prot != 5 || m.Flags != 2 || m.Filename != "/usr/lib/x86_64-linux-gnu/libc.so.6" {
		t.Errorf("libc line: %+v", m)
	}
	m, ok = parseMapsLine("7fadb4ab8000-7fadb4b8b000 r-xp 0000a000 00:01 24   /memfd:sealed-91173221a7ea (deleted)")
	if !ok || m.Filename != "/memfd:sealed-91173221a7ea (deleted)" {
		t.Errorf("deleted memfd: %+v", m)
	}
	m, ok = parseMapsLine("7f0000000000-7f0000001000 rw-s 00000000 00:00 0")
	if !ok || m.Filename != "//anon" || m.Flags != 1 {
		t.Errorf("anonymous shared: %+v", m)
	}
	for _, bad := range []string{"", "zz-1 r-xp 0 0:0 0", "2-1 r-xp 0 0:0 0 x", "1-2 r 0 0:0 0"} {
		if _, ok := parseMapsLine(bad); ok {
			t.Errorf("parseMapsLine(%q) accepted", bad)
		}
	}
}

func TestParseCPUList(t *testing.T) {
	l, err := parseCPUList("0-3,5,7-8")
	if err != nil || len(l) != 7 || l[4] != 5 || l[6] != 8 {
		t.Errorf("parseCPUList: %v %v", l, err)
	}
	for _, bad := range []string{"a", "3-1", "-1", "1-"} {
		if _, err := parseCPUList(bad); err == nil {
			t.Errorf("parseCPUList(%q) accepted", bad)
		}
	}
}

func TestSplitEvents(t *testing.T) {
	got := splitEvents("a:b,cpu-clock,{x,y},p/a=1,b=2/")
	want := []string{"a:b", "cpu-clock", "{x,y}", "p/a=1,b=2/"}
	if len(got) != len(want) {
		t.Fatalf("splitEvents: %q", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("splitEvents[%d] = %q, want %q", i, got[i], want[i])
		}
	}
}

func FuzzParseMapsLine(f *testing.F) {
	if testing.Short() {
		f.Skip("fuzzing is skipped with -short")
	}
	f.Add("7f11eb4a3000-7f11eb5f9000 r-xp 00026000 fe:00 326269 /usr/lib/libc.so.6")
	f.Add("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]")
	f.Fuzz(func(t *testing.T, l string) {
		if m, ok := parseMapsLine(l); ok && m.Filename == "" {
			t.Errorf("%q: accepted with no file name", l)
		}
	})
}

func FuzzParseNotes(f *testing.F) {
	if testing.Short() {
		f.Skip("fuzzing is skipped with -short")
	}
	n := make([]byte, 12+4+20)
	binary.LittleEndian.PutUint32(n, 4)
	binary.LittleEndian.PutUint32(n[4:], 20)
	binary.LittleEndian.PutUint32(n[8:], 3)
	copy(n[12:], "GNU\x00")
	f.Add(n)
	f.Fuzz(func(t *testing.T, b []byte) {
		if id := parseNotes(b); len(id) > len(b) {
			t.Errorf("build-id longer than its notes")
		}
	})
}

func FuzzScan(f *testing.F) {
	if testing.Short() {
		f.Skip("fuzzing is skipped with -short")
	}
	f.Add(append(rec(recordSample, 40, 0), rec(recordLost, 24, 0)...))
	f.Add(rec(recordMmap2, 96, 4))
	f.Fuzz(func(t *testing.T, b []byte) {
		s := stats{timeOff: 24, ipOff: 8, tidOff: 16}
		s.scan(b)
	})
}

func TestModulePaths(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"kernel/fs/ext4/ext4.ko", "extra/ldlm-demo.ko.xz", "extra/not_a_module.kobj", "extra/ext4.ko"} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m := modulePaths(dir)
	if len(m) != 2 || m["ldlm_demo"] != filepath.Join(dir, "extra/ldlm-demo.ko.xz") || !strings.HasSuffix(m["ext4"], "ext4.ko") {
		t.Errorf("modulePaths: %v", m)
	}
}
