package probe_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gperf-dev/gperf/internal/testutil"
)

// traceInstance makes a private tracefs instance (its own ring buffer, so
// other users of the global trace are not disturbed) and returns its
// directory; it is removed when the test ends.
func traceInstance(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join(testutil.TracingDir, "instances", name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatalf("make trace instance: %v", err)
	}
	t.Cleanup(func() {
		os.WriteFile(filepath.Join(dir, "events", "enable"), []byte("0"), 0)
		if err := os.Remove(dir); err != nil {
			t.Errorf("remove trace instance: %v", err)
		}
	})
	return dir
}

// TestAddRunListDelete is the whole story on the ldlm fixture: gperf adds
// a line probe fetching struct fields, the program runs, the trace holds
// what the program printed; gperf -l and -d print what perf prints for the
// same probes; nothing is left behind.
func TestAddRunListDelete(t *testing.T) {
	testutil.Requires(t, testutil.Root, testutil.Uprobes, testutil.Perf, testutil.Gcc)
	for _, f := range []testutil.BuildFlags{0, testutil.O2, testutil.O2 | testutil.PIE | testutil.DWARF4, testutil.PIE} {
		t.Run(f.String(), func(t *testing.T) {
			bin := testutil.BuildC(t, f, "ldlm.c")
			g := testutil.Group(t)
			cleanupGroup(t, g)
			// ldlm_resource_dump:4 is the printf: the program prints the
			// same fields the probe fetches.
			spec := g + ":dump=ldlm_resource_dump:4 level res->lr_refcount.counter res->lr_name.name[0] res->lr_type"
			// What perf writes for the same definition.
			pr := testutil.RunPerf(t, "", "probe", "-n", "-v", "-x", bin, spec)
			want := writing(pr.Stderr)
			r := testutil.Run(t, "", gperf(t), "probe", "-x", bin, spec)
			if r.Code != 0 {
				t.Fatalf("gperf probe -x %s %s: exit %d\n%s", bin, spec, r.Code, r.Stderr)
			}
			kernel := uprobeEvents(t, g)
			if len(kernel) == 0 || want == "" {
				t.Fatalf("kernel has %q; perf -n -v wrote %q\n%s", kernel, want, pr.Stderr)
			}
			var got []string
			for _, k := range kernel {
				// The kernel pads the offset: 0x00000000000011f6.
				got = append(got, "Writing event: "+regexp.MustCompile(`:0x0*([0-9a-f])`).ReplaceAllString(k, ":0x$1"))
			}
			testutil.Same(t, "definitions in the kernel", "perf -n -v", want, "uprobe_events", strings.Join(got, "\n"))

			inst := traceInstance(t, g)
			if err := os.WriteFile(filepath.Join(inst, "events", g, "enable"), []byte("1"), 0); err != nil {
				t.Fatalf("enable %s: %v", g, err)
			}
			run := testutil.Run(t, "", bin)
			os.WriteFile(filepath.Join(inst, "events", g, "enable"), []byte("0"), 0)
			trace, err := os.ReadFile(filepath.Join(inst, "trace"))
			if err != nil {
				t.Fatal(err)
			}
			progRE := regexp.MustCompile(`refcount=(\d+) name0=(0x[0-9a-f]+|0) type=(\d+)`)
			evRE := regexp.MustCompile(` dump: \(\S+\) level=(-?\d+) counter=(-?\d+) name=(0x[0-9a-f]+) lr_type=(0x[0-9a-f]+)`)
			prog := progRE.FindAllStringSubmatch(run.Stdout, -1)
			evs := evRE.FindAllStringSubmatch(string(trace), -1)
			// Each probe point of the line fires once per resource.
			per := len(kernel)
			if len(prog) == 0 || len(evs) != per*len(prog) {
				t.Fatalf("%d program lines, %d events for %d probe points\nkernel: %q\nprogram:\n%s\ntrace:\n%s", len(prog), len(evs), per, kernel, run.Stdout, trace)
			}
			for i, e := range evs {
				p := prog[i/per]
				n0, _ := strconv.ParseUint(strings.TrimPrefix(p[2], "0x"), 16, 64)
				en0, _ := strconv.ParseUint(strings.TrimPrefix(e[3], "0x"), 16, 64)
				ty, _ := strconv.ParseUint(p[3], 10, 64)
				ety, _ := strconv.ParseUint(strings.TrimPrefix(e[4], "0x"), 16, 64)
				if e[1] != "1" || e[2] != p[1] || n0 != en0 || ty != ety {
					t.Errorf("event %d: level=%s refcount=%s name0=%#x type=%d; the program printed refcount=%s name0=%#x type=%d (level 1)",
						i, e[1], e[2], en0, ety, p[1], n0, ty)
				}
			}

			// -l: the same text as perf's, for this group only.
			perf, gp := both(t, "", "-l", g+":*")
			sameResult(t, "-l", perf, gp)

			// -d: gperf removes it and says so as perf does.
			gp = testutil.Run(t, "", gperf(t), "probe", "-d", g+":*")
			if gp.Code != 0 || gp.Stderr != "Removed event: "+g+":dump\n" {
				t.Errorf("gperf probe -d: exit %d, stderr %q", gp.Code, gp.Stderr)
			}
			if left := uprobeEvents(t, g); len(left) != 0 {
				t.Errorf("left after -d: %q", left)
			}
			// Deleting again hits nothing: perf's words and status.
			perf, gp = both(t, "", "-d", g+":*")
			sameResult(t, "-d again", perf, gp)
		})
	}
}

// TestListMatchesPerfList adds probes of every kind with gperf, one group
// each, and compares gperf -l with perf -l (one group at a time: perf 6.1
// carries a probe's line or offset over to the next one it lists, see
// docs/compat.md).
func TestListMatchesPerfList(t *testing.T) {
	testutil.Requires(t, testutil.Root, testutil.Uprobes, testutil.Perf, testutil.Gcc)
	n := 0
	for _, c := range []struct {
		flags testutil.BuildFlags
		srcs  []string
		specs []string
	}{
		{0, []string{"ldlm.c"}, []string{"ldlm_res_hash_dump", "ldlm_res_hash_dump:6 res->lr_refcount level", "ldlm_res_hash_dump%return $retval", "ldlm_res_hash_dump+4 %di", "ldlm.c:95"}},
		{testutil.O2 | testutil.PIE, []string{"ldlm.c"}, []string{"ldlm_res_hash_dump", "ldlm_res_hash_dump:6 level", "ldlm_namespace_dump%return $retval", "ldlm_resource_dump+3 x=%si:x64"}},
		{testutil.O2, []string{"shapes.c", "shapes2.c"}, []string{"rect_area", "helper", "shape_print", "helper_total%return"}},
		{testutil.NoDebug | testutil.O2, []string{"ldlm.c"}, []string{"ldlm_res_hash_dump", "ldlm_res_hash_dump+4 %di"}},
	} {
		bin := testutil.BuildC(t, c.flags, c.srcs...)
		for _, s := range c.specs {
			t.Run(c.flags.String()+"/"+s, func(t *testing.T) {
				g := testutil.Group(t)
				cleanupGroup(t, g)
				def := g + ":e" + strings.TrimPrefix(g, testutil.GroupPrefix) + "=" + s
				r := testutil.Run(t, "", gperf(t), "probe", "-q", "-x", bin, def)
				if r.Code != 0 {
					// A definition gperf refuses (a computed value) is
					// not listable; it must be said.
					if !strings.Contains(r.Stderr+testutil.Run(t, "", gperf(t), "probe", "-n", "-x", bin, def).Stderr, "gperf: ") {
						t.Fatalf("gperf probe %s: exit %d\n%s", s, r.Code, r.Stderr)
					}
					return
				}
				perf, gp := both(t, "", "-l", g+":*")
				sameResult(t, "-l "+s, perf, gp)
				if strings.TrimSpace(gp.Stdout) == "" {
					t.Errorf("-l %s: nothing listed", s)
				}
				n++
			})
		}
	}
	t.Logf("-l output identical to perf's for %d probes", n)
}
