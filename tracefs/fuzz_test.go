package tracefs_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gperf-dev/gperf/internal/testutil"
	"github.com/gperf-dev/gperf/tracefs"
)

// FuzzParseFormat checks that no input panics ParseFormat, and that what it
// accepts renders to text that parses to the same thing again.
func FuzzParseFormat(f *testing.F) {
	if testing.Short() {
		f.Skip("fuzzing is slow; skipped with -short")
	}
	f.Add(format("\tfield:__data_loc char[] s;\toffset:8;\tsize:4;\tsigned:1;\n", `"%s\n" "x", __get_str(s)`))
	f.Add(format("\tfield:u8 a[(2)][3];\toffset:8;\tsize:6;\tsigned:0;\n", `"%d", ({ int x[] = {1,2}; x[0]; })`))
	// Seed from the running kernel's formats when tracefs is there.
	seeds, _ := filepath.Glob(filepath.Join(testutil.TracingDir, "events", "sched", "*", "format"))
	more, _ := filepath.Glob(filepath.Join(testutil.TracingDir, "events", "raw_syscalls", "*", "format"))
	for _, name := range append(seeds, more...) {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fm, err := tracefs.ParseFormat(data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "parse format") {
				t.Fatalf("error does not name the operation: %v", err)
			}
			return
		}
		again, err := tracefs.ParseFormat([]byte(fm.String()))
		if err != nil {
			t.Fatalf("rendered format does not parse: %v\n%s", err, fm.String())
		}
		if again.String() != fm.String() {
			t.Fatalf("render not stable:\n%s\n---\n%s", fm.String(), again.String())
		}
	})
}

// FuzzParseProbe checks that no definition line panics ParseProbe and
// that what it accepts prints to a line that parses to the same probe.
func FuzzParseProbe(f *testing.F) {
	if testing.Short() {
		f.Skip("fuzzing is slow; skipped with -short")
	}
	for _, s := range []string{
		"p:grp/ev /bin/true:0x0000000000001000 a=+0(%di):u64 s=+0(%si):string",
		"r16:kprobes/vfs_read_ret vfs_read+0 $retval",
		"r:grp/ev /bin/true:0x10(0x20)",
		"p vfs_read",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		p, err := tracefs.ParseProbe(tracefs.Uprobe, line)
		if err != nil {
			return
		}
		q, err := tracefs.ParseProbe(tracefs.Uprobe, p.String())
		if err != nil || q.String() != p.String() {
			t.Fatalf("%q -> %q -> %q, %v", line, p.String(), q.String(), err)
		}
	})
}
