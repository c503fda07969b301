package tracefs_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gperf-dev/gperf/tracefs"
	"golang.org/x/sys/unix"
)

func TestParseProbe(t *testing.T) {
	for _, tc := range []struct {
		kind tracefs.ProbeKind
		line string
		want tracefs.Probe
	}{
		{tracefs.Uprobe, "p:grp/ev /bin/true:0x0000000000001000 a=+0(%di):u64 s=+0(%si):string",
			tracefs.Probe{Kind: tracefs.Uprobe, Group: "grp", Event: "ev", Target: "/bin/true:0x0000000000001000", Args: []string{"a=+0(%di):u64", "s=+0(%si):string"}}},
		{tracefs.Uprobe, "r:grp/ev /bin/true:0x10(0x20)",
			tracefs.Probe{Kind: tracefs.Uprobe, Return: true, Group: "grp", Event: "ev", Target: "/bin/true:0x10(0x20)", Args: []string{}}},
		{tracefs.Kprobe, "r16:kprobes/vfs_read_ret vfs_read+0 $retval",
			tracefs.Probe{Kind: tracefs.Kprobe, Return: true, MaxActive: 16, Group: "kprobes", Event: "vfs_read_ret", Target: "vfs_read+0", Args: []string{"$retval"}}},
		{tracefs.Kprobe, "p:ev vfs_read", tracefs.Probe{Kind: tracefs.Kprobe, Event: "ev", Target: "vfs_read", Args: []string{}}},
		{tracefs.Kprobe, "p  vfs_read", tracefs.Probe{Kind: tracefs.Kprobe, Target: "vfs_read", Args: []string{}}},
	} {
		got, err := tracefs.ParseProbe(tc.kind, tc.line)
		if err != nil {
			t.Errorf("ParseProbe(%q): %v", tc.line, err)
			continue
		}
		if got.String() != tc.want.String() || got.Kind != tc.want.Kind || got.Group != tc.want.Group || got.Event != tc.want.Event ||
			got.Target != tc.want.Target || got.Return != tc.want.Return || got.MaxActive != tc.want.MaxActive ||
			strings.Join(got.Args, " ") != strings.Join(tc.want.Args, " ") {
			t.Errorf("ParseProbe(%q) = %+v, want %+v", tc.line, got, tc.want)
		}
		if strings.Join(strings.Fields(tc.line), " ") != got.String() {
			t.Errorf("String() = %q, want %q", got.String(), tc.line)
		}
	}
	for _, line := range []string{"", "p", "x:grp/ev t", "r0:grp/ev t", "rx:grp/ev t", "p: t", "p:grp/ t", "p:/ev t", "p:a/b/c t", "-:grp/ev t"} {
		if p, err := tracefs.ParseProbe(tracefs.Uprobe, line); err == nil {
			t.Errorf("ParseProbe(%q) = %+v, want an error", line, p)
		}
	}
	if _, err := tracefs.ParseProbe(tracefs.ProbeKind(9), "p:a/b t"); err == nil {
		t.Errorf("ParseProbe with a bad kind succeeded")
	}
}

// TestNewLogEntry checks that the error_log entry of a failed write is
// found among other users' entries, old and new.
func TestNewLogEntry(t *testing.T) {
	entry := func(ts, def string) string {
		return "[" + ts + "] trace_uprobe: error: Invalid register name\n  Command: " + def + "\n" + strings.Repeat(" ", 11) + "^"
	}
	def := "p:g/e /bin/true:0x10 a=%zz"
	old := entry("  1.000001", def) // our definition, failed earlier
	other := entry("  2.000001", "p:x/y /bin/true:0x10 b=%zz")
	ours := entry("  2.000002", def)
	for _, tc := range []struct {
		name          string
		before, after []string
		want          string
	}{
		{"new entry", []string{old}, []string{old, ours}, ours},
		{"other user's entry after ours", []string{old}, []string{old, ours, other}, ours},
		{"only someone else's", []string{old}, []string{old, other}, ""},
		{"stale entry of the same definition", []string{old}, []string{old}, ""},
		{"log rotated", []string{old, other}, []string{other, ours}, ours},
		{"spacing normalized", nil, []string{entry("  3.0", "p:g/e  /bin/true:0x10 a=%zz")}, entry("  3.0", "p:g/e  /bin/true:0x10 a=%zz")},
	} {
		if got := tracefs.NewLogEntry(tc.before, tc.after, def); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestKernelErrorMeaning(t *testing.T) {
	for _, tc := range []struct {
		err    *tracefs.KernelError
		is     error
		inText string
	}{
		{&tracefs.KernelError{Op: "remove uprobe", Def: "-:g/e", Err: unix.EBUSY}, tracefs.ErrBusy, "event is in use"},
		{&tracefs.KernelError{Op: "remove uprobe", Def: "-:g/e", Err: unix.ENOENT}, unix.ENOENT, "no such event"},
		{&tracefs.KernelError{Op: "add uprobe", Def: "p:g/e t", Err: unix.EEXIST}, unix.EEXIST, "already exists"},
		{&tracefs.KernelError{Op: "add uprobe", Def: "p:g/e t", Err: unix.EACCES}, unix.EACCES, "need root"},
	} {
		if !errors.Is(tc.err, tc.is) || !strings.Contains(tc.err.Error(), tc.inText) {
			t.Errorf("%v: want Is(%v) and %q in the text", tc.err, tc.is, tc.inText)
		}
	}
}
