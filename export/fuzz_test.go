package export

import (
	"encoding/binary"
	"testing"

	"github.com/gperf-dev/gperf/tracefs"
)

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
