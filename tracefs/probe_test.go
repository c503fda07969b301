package tracefs_test

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gperf-dev/gperf/internal/testutil"
	"github.com/gperf-dev/gperf/tracefs"
)

// open returns the real tracefs, mounting it if needed.
func open(t *testing.T, reqs ...testutil.Requirement) *tracefs.FS {
	t.Helper()
	testutil.Requires(t, append([]testutil.Requirement{testutil.Root, testutil.Tracefs}, reqs...)...)
	fs, err := tracefs.Open()
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// fileOffset returns the file offset of symbol sym in the ELF binary, the
// offset a uprobe definition wants.
func fileOffset(t *testing.T, bin, sym string) uint64 {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range syms {
		if s.Name != sym {
			continue
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_LOAD && p.Flags&elf.PF_X != 0 && s.Value >= p.Vaddr && s.Value < p.Vaddr+p.Filesz {
				return s.Value - p.Vaddr + p.Off
			}
		}
	}
	t.Fatalf("%s: no symbol %s in an executable segment", bin, sym)
	return 0
}

// removeProbe deletes a probe at cleanup, tolerating that the test already
// did.
func removeProbe(t *testing.T, fs *tracefs.FS, kind tracefs.ProbeKind, group, event string) {
	t.Cleanup(func() {
		fs.DisableEvent(group, event)
		if err := fs.RemoveProbe(kind, group, event); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Errorf("cleanup: %v", err)
		}
	})
}

func findProbe(t *testing.T, fs *tracefs.FS, kind tracefs.ProbeKind, group, event string) (tracefs.Probe, bool) {
	t.Helper()
	ps, err := fs.Probes(kind)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.Group == group && p.Event == event {
			return p, true
		}
	}
	return tracefs.Probe{}, false
}

// hits returns the hit count uprobe_profile shows for group/event.
func hits(t *testing.T, fs *tracefs.FS, event string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fs.Dir, "uprobe_profile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		// "  /path/to/bin event    hits"
		f := strings.Fields(l)
		if len(f) == 3 && f[1] == event {
			n, err := strconv.Atoi(f[2])
			if err != nil {
				t.Fatalf("uprobe_profile line %q: %v", l, err)
			}
			return n
		}
	}
	t.Fatalf("uprobe_profile has no line for %s:\n%s", event, b)
	return 0
}

// TestUprobeLifecycle adds a uprobe with register, memory and string
// fetches on the ldlm fixture, finds it in uprobe_events and events/,
// parses its format, enables it and counts its hits against what the
// program printed, disables it, and removes it.
func TestUprobeLifecycle(t *testing.T) {
	fs := open(t, testutil.Uprobes, testutil.Gcc)
	bin := testutil.BuildC(t, 0, "ldlm.c")
	off := fileOffset(t, bin, "ldlm_res_hash_dump")
	grp := testutil.Group(t)
	// hnode is %di; +0(%di) is hnode->next; the resource's lr_ns_name
	// is a char * in the same struct, fetched as a string.
	args := []string{"hnode=%di:x64", "next=+0(%di):u64", "level=%si:s32", "name=+0(+80(%di)):string"}
	def := fmt.Sprintf("p:%s/dump %s:%#x %s", grp, bin, off, strings.Join(args, " "))
	removeProbe(t, fs, tracefs.Uprobe, grp, "dump")
	if err := fs.AddProbe(tracefs.Uprobe, def); err != nil {
		t.Fatal(err)
	}

	// The kernel's listing: our group, event, path, offset and args.
	p, ok := findProbe(t, fs, tracefs.Uprobe, grp, "dump")
	if !ok {
		t.Fatalf("%s/dump not in uprobe_events", grp)
	}
	if p.Return || p.Kind != tracefs.Uprobe || p.Target != fmt.Sprintf("%s:0x%016x", bin, off) || strings.Join(p.Args, " ") != strings.Join(args, " ") {
		t.Errorf("listed probe = %+v, from definition %q", p, def)
	}
	if again, err := tracefs.ParseProbe(tracefs.Uprobe, p.String()); err != nil || again.String() != p.String() {
		t.Errorf("ParseProbe(String()) = %+v, %v", again, err)
	}

	for _, glob := range []string{grp + ":*", grp + ":dump", testutil.GroupPrefix + "*:dump", "*:dump", grp + "/d*"} {
		evs, err := fs.Events(glob)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range evs {
			found = found || e == (tracefs.Event{System: grp, Name: "dump"})
			if m, _ := filepath.Match(grp+"*", e.System); strings.HasPrefix(glob, grp) && !m {
				t.Errorf("Events(%q) returned %s", glob, e)
			}
		}
		if !found {
			t.Errorf("Events(%q) = %v, missing %s:dump", glob, evs, grp)
		}
	}

	f, err := fs.Format(grp, "dump")
	if err != nil {
		t.Fatal(err)
	}
	id, err := fs.EventID(grp, "dump")
	if err != nil || id != f.ID || f.System != grp || f.Name != "dump" {
		t.Errorf("EventID = %d, %v; format %s:%s ID %d", id, err, f.System, f.Name, f.ID)
	}
	// One field per argument after __probe_ip, typed as the args say.
	if len(f.Fields) != 5 || f.Fields[0].Name != "__probe_ip" {
		t.Fatalf("fields = %+v", f.Fields)
	}
	for i, want := range []struct {
		name, typ string
		size      int
		signed    bool
	}{{"hnode", "u64", 8, false}, {"next", "u64", 8, false}, {"level", "s32", 4, true}} {
		fd := f.Fields[i+1]
		if fd.Name != want.name || fd.Type != want.typ || fd.Size != want.size || fd.Signed != want.signed || fd.Array {
			t.Errorf("field %d = %+v, want %+v", i+1, fd, want)
		}
	}
	if name := f.Field("name"); name == nil || !name.DataLoc || !name.IsString() || name.Size != 4 {
		t.Errorf("name field = %+v, want a __data_loc char[]", name)
	}
	if f.PrintFmtArgs[len(f.PrintFmtArgs)-1] != "__get_str(name)" || strings.Count(f.PrintFmtString, "%") != len(f.PrintFmtArgs) {
		t.Errorf("print fmt %q args %q", f.PrintFmtString, f.PrintFmtArgs)
	}

	// Enabled, the probe fires once per "dump" line the program prints.
	if err := fs.EnableEvent(grp, "dump"); err != nil {
		t.Fatal(err)
	}
	if on, err := fs.EventEnabled(grp, "dump"); err != nil || !on {
		t.Fatalf("EventEnabled after EnableEvent = %v, %v", on, err)
	}
	out, err := exec.Command(bin, "2").Output()
	if err != nil {
		t.Fatal(err)
	}
	calls := strings.Count(string(out), "dump res=")
	if calls == 0 || hits(t, fs, "dump") != calls {
		t.Errorf("uprobe_profile hits = %d, program printed %d dump lines", hits(t, fs, "dump"), calls)
	}
	// In use, the kernel refuses to remove it.
	err = fs.RemoveProbe(tracefs.Uprobe, grp, "dump")
	var ke *tracefs.KernelError
	if !errors.Is(err, tracefs.ErrBusy) || !errors.As(err, &ke) {
		t.Errorf("remove enabled probe: %v, want ErrBusy", err)
	}
	if err := fs.DisableEvent(grp, "dump"); err != nil {
		t.Fatal(err)
	}
	if on, err := fs.EventEnabled(grp, "dump"); err != nil || on {
		t.Fatalf("EventEnabled after DisableEvent = %v, %v", on, err)
	}
	before := hits(t, fs, "dump")
	if err := exec.Command(bin, "1").Run(); err != nil {
		t.Fatal(err)
	}
	if h := hits(t, fs, "dump"); h != before {
		t.Errorf("disabled probe fired: hits %d -> %d", before, h)
	}

	// The same definition again is a duplicate.
	err = fs.AddProbe(tracefs.Uprobe, def)
	if !errors.Is(err, os.ErrExist) {
		t.Errorf("duplicate add: %v, want os.ErrExist", err)
	}

	if err := fs.RemoveProbe(tracefs.Uprobe, grp, "dump"); err != nil {
		t.Fatal(err)
	}
	if _, ok := findProbe(t, fs, tracefs.Uprobe, grp, "dump"); ok {
		t.Errorf("%s/dump still listed after removal", grp)
	}
	if evs, err := fs.Events(grp + ":*"); err != nil || len(evs) != 0 {
		t.Errorf("Events after removal = %v, %v", evs, err)
	}
	if _, err := fs.Format(grp, "dump"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Format of removed event: %v, want os.ErrNotExist", err)
	}
	err = fs.RemoveProbe(tracefs.Uprobe, grp, "dump")
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "no such event") {
		t.Errorf("second removal: %v, want os.ErrNotExist", err)
	}
}

// TestReturnProbe adds a return uprobe without a group and event name and
// checks the kernel's naming shows up in the listing, then one with a name.
func TestReturnProbe(t *testing.T) {
	fs := open(t, testutil.Uprobes, testutil.Gcc)
	bin := testutil.BuildC(t, 0, "ldlm.c")
	off := fileOffset(t, bin, "ldlm_namespace_dump")
	grp := testutil.Group(t)
	removeProbe(t, fs, tracefs.Uprobe, grp, "ns_ret")
	if err := fs.AddProbe(tracefs.Uprobe, fmt.Sprintf("r:%s/ns_ret %s:%#x n=$retval:s32", grp, bin, off)); err != nil {
		t.Fatal(err)
	}
	p, ok := findProbe(t, fs, tracefs.Uprobe, grp, "ns_ret")
	if !ok || !p.Return || len(p.Args) != 1 || p.Args[0] != "n=$retval:s32" {
		t.Fatalf("listed = %+v, %v", p, ok)
	}
	f, err := fs.Format(grp, "ns_ret")
	if err != nil {
		t.Fatal(err)
	}
	if f.Fields[0].Name != "__probe_func" || f.Fields[1].Name != "__probe_ret_ip" || f.Field("n") == nil {
		t.Errorf("return probe fields = %+v", f.Fields)
	}
}

// TestBadDefinitions writes definitions the kernel refuses and checks the
// error carries the kernel's error_log entry: the reason, the Command line
// with our definition, and a caret pointing into the part we broke.
func TestBadDefinitions(t *testing.T) {
	fs := open(t, testutil.Uprobes, testutil.Gcc)
	if !fs.Features().ErrorLog {
		t.Fatal("no tracefs error_log: gperf supports kernels from 5.4, which have it")
	}
	bin := testutil.BuildC(t, 0, "ldlm.c")
	off := fileOffset(t, bin, "ldlm_res_hash_dump")
	place := fmt.Sprintf("%s:%#x", bin, off)
	for _, tc := range []struct {
		name  string
		def   string // %G is the group, %P the place
		broke string // the part of def the caret must point into
		errno error  // wrapped errno: os.ErrNotExist etc., nil for EINVAL
	}{
		{"unknown type", "p:%G/ev %P a=+0(%di):bogus", "bogus", nil},
		{"bad register", "p:%G/ev %P a=%zz", "%zz", nil},
		{"bad event name", "p:%G/1ev %P", "1ev", nil},
		{"unclosed brace", "p:%G/ev %P a=+0(%di", "+0(%di", nil},
		{"retval on entry", "p:%G/ev %P a=$retval", "$retval", nil},
		{"missing file", "p:%G/ev /nonexistent/gperf:0x10", "/nonexistent/gperf:0x10", os.ErrNotExist},
	} {
		t.Run(tc.name, func(t *testing.T) {
			grp := testutil.Group(t)
			def := strings.NewReplacer("%G", grp, "%P", place).Replace(tc.def)
			removeProbe(t, fs, tracefs.Uprobe, grp, "ev")
			err := fs.AddProbe(tracefs.Uprobe, def)
			var ke *tracefs.KernelError
			if !errors.As(err, &ke) {
				t.Fatalf("AddProbe(%q) = %v, want a *KernelError", def, err)
			}
			if tc.errno != nil && !errors.Is(err, tc.errno) {
				t.Errorf("error %v does not wrap %v", err, tc.errno)
			}
			if ke.Reason == "" || ke.Log == "" {
				t.Fatalf("no error_log explanation in %v", err)
			}
			lines := strings.Split(ke.Log, "\n")
			if len(lines) != 3 || lines[1] != "  Command: "+def || strings.TrimSpace(lines[2]) != "^" {
				t.Fatalf("error_log entry %q is not header, Command and caret", ke.Log)
			}
			caret := strings.Index(lines[2], "^") - len("  Command: ")
			start := strings.Index(def, tc.broke)
			if caret < start || caret > start+len(tc.broke) {
				t.Errorf("caret at %d of %q, want within %q at %d", caret, def, tc.broke, start)
			}
			msg := err.Error()
			if !strings.Contains(msg, ke.Reason) || !strings.Contains(msg, lines[1]+"\n"+lines[2]) {
				t.Errorf("message %q lacks the reason or the caret lines", msg)
			}
		})
	}

	// Refusals that leave no error_log entry still say what happened.
	grp := testutil.Group(t)
	removeProbe(t, fs, tracefs.Uprobe, grp, "ev")
	err := fs.AddProbe(tracefs.Uprobe, fmt.Sprintf("p:%s/ev %s:zz", grp, bin))
	var ke *tracefs.KernelError
	if !errors.As(err, &ke) || ke.Log != "" || !strings.Contains(err.Error(), "invalid argument") {
		t.Errorf("bad offset: %v", err)
	}
}

// TestDefinitionsRejectedBeforeWriting covers definitions gperf refuses
// itself, without asking the kernel.
func TestDefinitionsRejectedBeforeWriting(t *testing.T) {
	fs := open(t, testutil.Uprobes)
	for _, def := range []string{"", "x:grp/ev /bin/true:0x10", "p:grp/ev", "-:grp/ev", "p:grp/ev /bin/true:0x10\np:grp/ev2 /bin/true:0x10", "p:/ev /bin/true:0x10"} {
		err := fs.AddProbe(tracefs.Uprobe, def)
		var ke *tracefs.KernelError
		if err == nil || errors.As(err, &ke) || !strings.HasPrefix(err.Error(), "add uprobe") {
			t.Errorf("AddProbe(%q) = %v, want a local error", def, err)
		}
	}
	for _, n := range [][2]string{{"", "ev"}, {"grp", ""}, {"../x", "ev"}, {"grp", "a b"}} {
		if err := fs.RemoveProbe(tracefs.Uprobe, n[0], n[1]); err == nil {
			t.Errorf("RemoveProbe(%q, %q) succeeded", n[0], n[1])
		}
	}
	if _, err := fs.Events("sched:["); err == nil {
		t.Errorf("Events with a bad pattern succeeded")
	}
	if _, err := fs.Format("sched", "../../../etc"); err == nil {
		t.Errorf("Format with a path in the name succeeded")
	}
}

// TestKprobe adds a kprobe where the kernel has kprobe_events, and checks
// the unsupported-feature error where it does not.
func TestKprobe(t *testing.T) {
	fs := open(t)
	grp := testutil.Group(t)
	def := "p:" + grp + "/vfs_read vfs_read"
	if fs.Features().KprobeEvents {
		removeProbe(t, fs, tracefs.Kprobe, grp, "vfs_read")
		if err := fs.AddProbe(tracefs.Kprobe, def); err != nil {
			t.Fatal(err)
		}
		if p, ok := findProbe(t, fs, tracefs.Kprobe, grp, "vfs_read"); !ok || p.Kind != tracefs.Kprobe {
			t.Fatalf("kprobe not listed: %+v", p)
		}
		if err := fs.RemoveProbe(tracefs.Kprobe, grp, "vfs_read"); err != nil {
			t.Fatal(err)
		}
		return
	}
	checkUnsupported(t, fs.AddProbe(tracefs.Kprobe, def))
	_, err := fs.Probes(tracefs.Kprobe)
	checkUnsupported(t, err)
	checkUnsupported(t, fs.RemoveProbe(tracefs.Kprobe, grp, "vfs_read"))
}

func checkUnsupported(t *testing.T, err error) {
	t.Helper()
	var ue *tracefs.UnsupportedFeatureError
	if !errors.As(err, &ue) || !errors.Is(err, tracefs.ErrNotSupported) || errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want an *UnsupportedFeatureError", err)
	}
	if ue.Feature != "kprobe_events" || ue.Config != "CONFIG_KPROBE_EVENTS" || ue.Error() != "this kernel has no kprobe support (CONFIG_KPROBE_EVENTS)" {
		t.Errorf("unsupported error = %+v: %q", ue, ue.Error())
	}
}

// TestKprobeUnsupportedOffline checks the unsupported-feature error on a
// tracefs copy without kprobe_events, so it runs on every kernel.
func TestKprobeUnsupportedOffline(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "uprobe_events"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	fs := tracefs.New(dir)
	checkUnsupported(t, fs.AddProbe(tracefs.Kprobe, "p:grp/ev vfs_read"))
	if err := fs.Supports(tracefs.Uprobe); err != nil {
		t.Errorf("Supports(Uprobe) = %v", err)
	}
	if fs.Features().KprobeEvents || !fs.Features().UprobeEvents {
		t.Errorf("Features() = %+v", fs.Features())
	}
}
