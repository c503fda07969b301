package probe_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/gperf-dev/gperf/internal/testutil"
)

// TestBadInputAddsNothing adds (for real, no -n) definitions that cannot
// be probed: gperf says what perf says, exits as perf does, and nothing is
// left in uprobe_events.
func TestBadInputAddsNothing(t *testing.T) {
	testutil.Requires(t, testutil.Root, testutil.Uprobes, testutil.Perf, testutil.Gcc)
	for _, c := range []struct {
		flags testutil.BuildFlags
		spec  string
	}{
		{testutil.O2, "nosuch_function"},
		{testutil.O2, "ldlm_resource_dump:5"},                     // a line without code
		{testutil.O2, "ldlm_res_hash_dump:6 nosuchvar"},           // unknown variable
		{testutil.O2, "ldlm_res_hash_dump:6 res->nosuch"},         // unknown member
		{testutil.O2, "ldlm_res_hash_dump:6 level->x"},            // not a struct
		{testutil.O2, "ldlm_res_hash_dump:6 res.lr_name"},         // '.' on a pointer
		{testutil.O2, "ldlm_res_hash_dump:8 level"},               // optimized out
		{testutil.O2, "ldlm_res_hash_dump:6 res->lr_refcount[x]"}, // bad syntax
		{testutil.O2, "ldlm_res_hash_dump:x"},                     // bad syntax
		{testutil.O2, "ldlm_res_hash_dump:6 level:string"},        // not a string
		{testutil.O2 | testutil.NoDebug, "ldlm_res_hash_dump level"},
		{testutil.O2 | testutil.NoDebug, "ldlm_res_hash_dump:3"},
	} {
		bin := testutil.BuildC(t, c.flags, "ldlm.c")
		t.Run(c.flags.String()+"/"+c.spec, func(t *testing.T) {
			g := testutil.Group(t)
			cleanupGroup(t, g)
			def := g + ":e" + strings.TrimPrefix(g, testutil.GroupPrefix) + "=" + c.spec
			perf := testutil.RunPerf(t, "", "probe", "-n", "-x", bin, def)
			gp := testutil.Run(t, "", gperf(t), "probe", "-x", bin, def)
			if gp.Code == 0 {
				t.Fatalf("gperf accepted %q:\n%s", c.spec, gp.Stderr)
			}
			if perf.Code != gp.Code {
				t.Errorf("perf exits %d, gperf %d", perf.Code, gp.Code)
			}
			// gperf may add one line of its own reason ("gperf: ...").
			var own []string
			for _, l := range strings.SplitAfter(gp.Stderr, "\n") {
				if !strings.HasPrefix(l, "gperf: ") {
					own = append(own, l)
				}
			}
			testutil.Same(t, c.spec, "perf -n", perf.Stderr, "gperf", strings.Join(own, ""))
			if ev := uprobeEvents(t, g); len(ev) != 0 {
				t.Errorf("left in uprobe_events: %q", ev)
			}
		})
	}
}

// TestNotELF: a target that is not an ELF file.
func TestNotELF(t *testing.T) {
	testutil.Requires(t, testutil.Root, testutil.Uprobes, testutil.Perf)
	src := testutil.FixtureSource("ldlm.c")
	perf, gp := both(t, "", "-n", "-x", src, "main")
	if gp.Code == 0 || perf.Code != gp.Code {
		t.Errorf("perf exits %d, gperf %d", perf.Code, gp.Code)
	}
	var own []string
	for _, l := range strings.SplitAfter(gp.Stderr, "\n") {
		if !strings.HasPrefix(l, "gperf: ") {
			own = append(own, l)
		}
	}
	testutil.Same(t, "-x ldlm.c", "perf", perf.Stderr, "gperf", strings.Join(own, ""))
}

// TestFailedAddRollsBack adds two definitions of which the kernel refuses
// the second (an unknown type): the first, already added, is removed
// again, and the kernel's reason is printed.
func TestFailedAddRollsBack(t *testing.T) {
	testutil.Requires(t, testutil.Root, testutil.Uprobes, testutil.Gcc)
	bin := testutil.BuildC(t, testutil.O2, "ldlm.c")
	g := testutil.Group(t)
	cleanupGroup(t, g)
	sfx := strings.TrimPrefix(g, testutil.GroupPrefix)
	r := testutil.Run(t, "", gperf(t), "probe", "-x", bin,
		"-a", g+":a"+sfx+"=ldlm_res_hash_dump %di",
		"-a", g+":b"+sfx+"=ldlm_resource_dump:4 res->lr_type:nosuchtype")
	if r.Code == 0 {
		t.Fatalf("gperf accepted a type the kernel does not know:\n%s", r.Stderr)
	}
	if !strings.Contains(r.Stderr, "Failed to write event: Invalid argument") || !strings.Contains(r.Stderr, "  Error: Failed to add events.") {
		t.Errorf("stderr lacks perf's words:\n%s", r.Stderr)
	}
	if !strings.Contains(r.Stderr, "The kernel says: ") {
		t.Errorf("stderr lacks the kernel's reason (tracefs error_log):\n%s", r.Stderr)
	}
	if ev := uprobeEvents(t, g); len(ev) != 0 {
		t.Errorf("left in uprobe_events after the failed add: %q", ev)
	}
}

// TestNameCollisions: an event name already in the kernel is refused as
// perf refuses it, and -f adds _1, _2 as perf does; a line with several
// addresses makes one event with several probes (kernel multiprobe).
func TestNameCollisions(t *testing.T) {
	testutil.Requires(t, testutil.Root, testutil.Uprobes, testutil.Perf, testutil.Gcc)
	bin := testutil.BuildC(t, 0, "ldlm.c")
	g := testutil.Group(t)
	cleanupGroup(t, g)
	ev := "e" + strings.TrimPrefix(g, testutil.GroupPrefix)
	def := g + ":" + ev + "=ldlm_res_hash_dump level"
	if r := testutil.Run(t, "", gperf(t), "probe", "-q", "-x", bin, def); r.Code != 0 {
		t.Fatalf("first add: exit %d", r.Code)
	}
	for _, args := range [][]string{
		{"-n", "-x", bin, def},
		{"-n", "-f", "-x", bin, def},
		{"-n", "-x", bin, g + ":" + ev + "=ldlm_res_hash_dump%return $retval"},
		{"-n", "-f", "-x", bin, g + ":" + ev + "=ldlm_res_hash_dump%return $retval"},
	} {
		perf, gp := both(t, "", args...)
		sameResult(t, strings.Join(args, " "), perf, gp)
		perf, gp = both(t, "", append([]string{"-v"}, args...)...)
		testutil.Same(t, "-v "+strings.Join(args, " "), "perf", writing(perf.Stderr), "gperf", writing(gp.Stderr))
	}
	// -f for real: the new event is ev_1.
	if r := testutil.Run(t, "", gperf(t), "probe", "-f", "-x", bin, def); r.Code != 0 || !strings.Contains(r.Stderr, g+":"+ev+"_1 ") {
		t.Errorf("-f add: exit %d\n%s", r.Code, r.Stderr)
	}
	// One definition, two addresses: one event holding two probes.
	r := testutil.Run(t, "", gperf(t), "probe", "-x", bin, g+":m"+ev+"=ldlm.c:95")
	if r.Code != 0 {
		t.Fatalf("ldlm.c:95: exit %d\n%s", r.Code, r.Stderr)
	}
	n := 0
	for _, l := range uprobeEvents(t, g) {
		if strings.HasPrefix(l, "p:"+g+"/m"+ev+" ") {
			n++
		}
	}
	if n != 2 {
		t.Errorf("ldlm.c:95: %d probes in event m%s, want 2 (the line's two addresses):\n%q", n, ev, uprobeEvents(t, g))
	}
	perf, gp := both(t, "", "-l", g+":m*")
	sameResult(t, "-l", perf, gp)
	perf, gp = both(t, "", "-d", g+":nosuch*")
	sameResult(t, "-d nothing", perf, gp)
	// perf's -d output is "Removed event: group:event" for each event,
	// sorted: computed here from what the kernel lists.
	seen := map[string]bool{}
	var names []string
	for _, l := range uprobeEvents(t, g) {
		name := strings.Replace(strings.Fields(l)[0][2:], "/", ":", 1)
		if !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	sort.Strings(names)
	want := ""
	for _, n := range names {
		want += "Removed event: " + n + "\n"
	}
	if len(names) != 3 {
		t.Errorf("want 3 events in %s, the kernel has %q", g, names)
	}
	gp = testutil.Run(t, "", gperf(t), "probe", "-d", g+":*")
	testutil.Same(t, "-d", "uprobe_events", want, "gperf", gp.Stderr)
	if left := uprobeEvents(t, g); len(left) != 0 {
		t.Errorf("left after -d: %q", left)
	}
}

// TestFilterAndListErrors: a filter that does not parse and -l with -x
// fail as perf's do (perf then prints its usage, which gperf does not).
func TestFilterAndListErrors(t *testing.T) {
	testutil.Requires(t, testutil.Root, testutil.Uprobes, testutil.Perf)
	bin := testutil.BuildC(t, testutil.O2|testutil.NoDebug, "ldlm.c")
	for _, args := range [][]string{
		{"-d", "a&"}, {"-d", "(a"}, {"-d", "a|"}, {"-d", "!"}, {"-l", "a&&b"}, {"-x", bin, "-l"},
	} {
		perf, gp := both(t, "", args...)
		if perf.Code != gp.Code {
			t.Errorf("%q: perf exits %d, gperf %d", args, perf.Code, gp.Code)
		}
		// perf's usage text follows; compare what comes before it.
		want, _, _ := strings.Cut(perf.Stderr, "\n Usage:")
		testutil.Same(t, strings.Join(args, " "), "perf", strings.TrimRight(want, "\n")+"\n", "gperf", gp.Stderr)
	}
}
