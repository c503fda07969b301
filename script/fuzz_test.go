package script

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gperf-dev/gperf/tracefs"
)

// fuzzFields is the field layout print fmts are fuzzed against: common
// fields, numbers of each size, a char array, a pointer, an array and a
// __data_loc string.
const fuzzFields = `name: fuzz
ID: 1
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:unsigned long ip;	offset:8;	size:8;	signed:0;
	field:int n;	offset:16;	size:4;	signed:1;
	field:short h;	offset:20;	size:2;	signed:1;
	field:u8 c;	offset:22;	size:1;	signed:0;
	field:char comm[16];	offset:24;	size:16;	signed:0;
	field:const char * s;	offset:40;	size:8;	signed:0;
	field:long args[6];	offset:48;	size:48;	signed:1;
	field:__data_loc char[] name;	offset:96;	size:4;	signed:1;
	field:__rel_loc u32[] rel;	offset:100;	size:4;	signed:1;

print fmt: `

// seedFormats are print fmts of the kinds the kernel generates.
var seedFormats = []string{
	`"NR %ld (%lx, %lx, %lx, %lx, %lx, %lx)", REC->n, REC->args[0], REC->args[1], REC->args[2], REC->args[3], REC->args[4], REC->args[5]`,
	`"comm=%s pid=%d prio=%d target_cpu=%03d", REC->comm, REC->n, REC->h, REC->c`,
	`"(%lx) arg1=%d arg2=\"%s\" x=0x%Lx", REC->ip, REC->n, __get_str(name), REC->args[1]`,
	`"state=%s%s", (REC->n & 255) ? __print_flags(REC->n & 255, "|", { 0x01, "S" }, { 0x02, "D" }, { 0x80, "I" }) : "R", REC->n & 256 ? "+" : ""`,
	`"vec=%u [action=%s]", REC->c, __print_symbolic(REC->c, { 0, "HI" }, { 1, "TIMER" }, { HRTIMER_RESTART, "R" })`,
	`"f=%ps %pS %p %pF", REC->ip, REC->ip, REC->args[0], REC->ip`,
	`"%s", REC->s`,
	`"[timeout=%ld] cpu=%u idx=%u", (long)REC->args[0] - REC->args[1], REC->n & 0x0003FFFF, REC->n >> 22`,
	`"buf=%s arr=%s", __print_hex(__get_dynamic_array(name), __get_dynamic_array_len(name)), __print_array(__get_dynamic_array(rel), 2, 4)`,
	`"%-10s|%10s|%.3s|%*d|%-*u|%#x|%#o|%+d|% d|%05d|%.4x", REC->comm, REC->comm, REC->comm, 6, REC->n, 4, REC->c, REC->n, REC->h, REC->n, REC->n, REC->n, REC->n`,
	`"%hhd %hd %hu %zu %c %e %%", REC->n, REC->n, REC->h, REC->n, REC->c`,
	`"0x%lx", ((unsigned long)(REC->args[2]))`,
	`"%d", sizeof(int)`,
	`"%d %d", REC->n`,
	`"mask=%s", __get_bitmask(rel)`,
}

func fuzzFormat(t testing.TB, pf string) *tracefs.Format {
	f, err := tracefs.ParseFormat([]byte(fuzzFields + pf + "\n"))
	if err != nil {
		return nil
	}
	return f
}

// FuzzPrintFmt compiles arbitrary print fmts and evaluates them on
// arbitrary payloads. Properties: no panic, no hang, and output bounded by
// a small multiple of the input.
func FuzzPrintFmt(f *testing.F) {
	if testing.Short() {
		f.Skip("fuzzing is skipped in -short mode")
	}
	payload := make([]byte, 112)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	copy(payload[24:], "perf\x00")
	payload[96], payload[97], payload[98], payload[99] = 104, 0, 6, 0 // name at 104, 6 bytes
	copy(payload[104:], "hello\x00")
	for _, s := range seedFormats {
		f.Add(s, payload)
	}
	// The running kernel's formats, when readable.
	if files, _ := filepath.Glob("/sys/kernel/tracing/events/*/*/format"); len(files) > 0 {
		for i, p := range files {
			if i%25 != 0 {
				continue
			}
			b, err := os.ReadFile(p)
			if err != nil {
				continue
			}
			if _, pf, ok := strings.Cut(string(b), "print fmt: "); ok {
				f.Add(strings.TrimSpace(pf), payload)
			}
		}
	}
	f.Fuzz(func(t *testing.T, pf string, data []byte) {
		ft := fuzzFormat(t, pf)
		if ft == nil {
			return
		}
		p := CompilePrintFmt(ft, &PrintEnv{Printk: map[uint64]string{0x1: "x"}})
		out := p.Append(nil, data)
		// Widths are bounded (maxWidth) per conversion.
		if max := (len(pf) + len(data) + 64) * 2 * (maxWidth + 64); len(out) > max {
			t.Fatalf("output of %d bytes for %d bytes of input", len(out), len(pf)+len(data))
		}
	})
}

// TestPrintFmtSeeds runs every seed through the evaluator: formats the
// kernel writes compile without falling back, malformed ones fall back.
func TestPrintFmtSeeds(t *testing.T) {
	payload := make([]byte, 112)
	for i, s := range seedFormats {
		ft := fuzzFormat(t, s)
		if ft == nil {
			t.Fatalf("seed %d does not parse as a format file", i)
		}
		p := CompilePrintFmt(ft, nil)
		bad := strings.Contains(s, "sizeof") || strings.HasPrefix(s, `"%d %d"`)
		if (p.Err != nil) != bad {
			t.Errorf("seed %d %q: error %v", i, s, p.Err)
		}
		out := string(p.Append(nil, payload))
		if bad && !strings.HasPrefix(out, "[FAILED TO PARSE]") {
			t.Errorf("seed %d: fallback prints %q", i, out)
		}
	}
}
