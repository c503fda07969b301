package export

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"

	"github.com/gperf-dev/gperf/tracefs"
)

// FuzzParseKallsyms: kallsyms files come from perf's build-id cache or the
// user; any input parses without panicking, and lookups stay inside the
// symbols' extents.
func FuzzParseKallsyms(f *testing.F) {
	if testing.Short() {
		f.Skip("fuzzing is skipped with -short")
	}
	f.Add([]byte("ffffffff81000000 T _text\nffffffff81000000 T startup_64\nffffffff81000100 t x\tmod\nffffffffc0000000 t m\t[mod]\n"))
	f.Add([]byte("0000000000000000 T a\n"))
	if b, err := os.ReadFile("/proc/kallsyms"); err == nil && len(b) > 4096 {
		f.Add(b[:4096])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		st, _, err := parseKallsyms(bytes.NewReader(data))
		if err != nil {
			return
		}
		for i, s := range st.syms {
			if s.end < s.start && s.end != 0 {
				t.Fatalf("symbol %d %q ends before it starts: %#x-%#x", i, s.name, s.start, s.end)
			}
			if i > 0 && st.syms[i-1].start >= s.start {
				t.Fatalf("symbols not sorted and unique at %d", i)
			}
			if got, ok := st.lookup(s.start); !ok || got.start != s.start {
				t.Fatalf("lookup(%#x) = %v, %v", s.start, got, ok)
			}
		}
	})
}

// FuzzDecodeFields: raw sample data is untrusted; decoding it with any
// format never panics and never reads outside it.
func FuzzDecodeFields(f *testing.F) {
	if testing.Short() {
		f.Skip("fuzzing is skipped with -short")
	}
	const format = `name: ev
ID: 1234
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:unsigned long __probe_ip;	offset:8;	size:8;	signed:0;
	field:s32 level;	offset:16;	size:4;	signed:1;
	field:char comm[16];	offset:20;	size:16;	signed:0;
	field:__data_loc char[] name;	offset:36;	size:4;	signed:0;
	field:u16 arr[3];	offset:40;	size:6;	signed:0;
	field:__rel_loc u32[] ids;	offset:46;	size:4;	signed:0;

print fmt: "(%lx) level=%d", REC->__probe_ip, REC->level
`
	ft, err := tracefs.ParseFormat([]byte(format))
	if err != nil {
		f.Fatal(err)
	}
	raw := make([]byte, 64)
	binary.LittleEndian.PutUint32(raw[36:], 4<<16|56)
	copy(raw[56:], "abc\x00")
	f.Add(raw, []byte(format))
	f.Add([]byte{1, 2, 3}, []byte(format))
	f.Fuzz(func(t *testing.T, raw, text []byte) {
		fm := ft
		if g, err := tracefs.ParseFormat(text); err == nil {
			fm = g
		}
		for _, v := range decodeFields(fm, raw, binary.LittleEndian, nil) {
			_ = v.text()
		}
	})
}
