package probe_test

import (
	"debug/elf"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gperf-dev/gperf/internal/testutil"
)

// defCounts tallies how gperf's definitions compare with perf's.
type defCounts struct {
	mu                                  sync.Mutex
	same, corrected, refused, bothFail  int
	extended, messages, total, checkedM int
	lazyEntry                           int
}

func (c *defCounts) add(f func(c *defCounts)) {
	c.mu.Lock()
	f(c)
	c.mu.Unlock()
}

var argRE = regexp.MustCompile(`^Writing event: (\S+) (\S+)(.*)$`)

// TestDefinitionsMatchPerf adds probes with -n -v on every fixture and
// build (-O0/-O2, DWARF 4/5, PIE/non-PIE/shared library): function entries,
// lines perf -L calls probeable, return probes, $params and $vars. The
// "Writing event:" lines must be perf's, except where perf writes a
// wrong fetch-arg that gperf corrects (docs/compat.md): a DWARF 4 bit
// offset, a computed location loaded from memory (gperf fixes the field
// offset, or refuses a value no fetch-arg can express), a global variable
// as @symbol, which uprobes reject (gperf writes @+fileoffset).
func TestDefinitionsMatchPerf(t *testing.T) {
	testutil.Requires(t, testutil.Root, testutil.Perf, testutil.Uprobes, testutil.Gcc)
	var c defCounts
	for _, fx := range listFixtures() {
		for _, fl := range fx.flags {
			bin := testutil.BuildC(t, fl, fx.srcs...)
			t.Run(fx.srcs[0]+"/"+fl.String(), func(t *testing.T) {
				t.Parallel()
				for _, fn := range fx.funcs {
					specs := []string{fn, fn + " $params", fn + "%return $retval", fn + ";*", fn + ";if*"}
					if l := firstProbeLine(t, bin, fn); l != "" {
						specs = append(specs, fn+":"+l+" $vars")
					}
					for i, s := range specs {
						compareDefinition(t, &c, bin, s, i == 0)
					}
				}
			})
		}
	}
	t.Cleanup(func() {
		t.Logf("definitions: %d specs, %d identical to perf's, %d with documented corrections, %d gperf refuses (perf would fetch garbage), %d perf refuses and gperf resolves, %d no line matches the pattern (perf probes the entry), %d both refuse; messages identical for %d/%d",
			c.total, c.same, c.corrected, c.refused, c.extended, c.lazyEntry, c.bothFail, c.messages, c.checkedM)
	})
}

// firstProbeLine returns the second probeable line perf -L lists for fn
// (the first is the declaration), or "".
func firstProbeLine(t *testing.T, bin, fn string) string {
	r := testutil.RunPerf(t, "", "probe", "-x", bin, "-L", fn)
	m := numberedRE.FindAllStringSubmatch(r.Stdout, 3)
	if len(m) < 2 {
		return ""
	}
	return m[1][1]
}

func compareDefinition(t *testing.T, c *defCounts, bin, spec string, messages bool) {
	t.Helper()
	compareWith(t, c, func(args ...string) (testutil.Result, testutil.Result) {
		return both(t, "", append([]string{"-x", bin}, args...)...)
	}, bin, spec, messages)
}

// compareWith is compareDefinition with the commands run by run (perf's
// result first), given perf probe's arguments without the target.
func compareWith(t *testing.T, c *defCounts, run func(args ...string) (testutil.Result, testutil.Result), bin, spec string, messages bool) {
	t.Helper()
	perf, gp := run("-n", "-v", spec)
	pw, gw := writing(perf.Stderr), writing(gp.Stderr)
	c.add(func(c *defCounts) { c.total++ })
	switch {
	case perf.Code != 0 && gp.Code != 0:
		c.add(func(c *defCounts) { c.bothFail++ })
		if lastLines(perf.Stderr, 1) != lastLines(gp.Stderr, 1) || perf.Code != gp.Code {
			t.Errorf("%s: both fail, differently:\nperf (exit %d): %s\ngperf (exit %d): %s", spec, perf.Code, lastLines(perf.Stderr, 3), gp.Code, lastLines(gp.Stderr, 3))
		}
		return
	case perf.Code != 0:
		// perf refuses what gperf resolves: only fetch-args perf cannot
		// express (DWARF 5 bitfields, constants, entry values).
		if !strings.Contains(perf.Stderr, "Sorry, we don't support this variable location yet.") &&
			!strings.Contains(perf.Stderr, "Failed to get the offset") &&
			!strings.Contains(perf.Stderr, "Failed to find the location of") {
			t.Errorf("%s: perf fails, gperf does not\nperf (exit %d):\n%s\ngperf:\n%s", spec, perf.Code, perf.Stderr, gw)
		}
		c.add(func(c *defCounts) { c.extended++ })
		return
	case gp.Code != 0 && strings.Contains(spec, ";") && strings.Contains(gp.Stderr, "not found."):
		// No line matches the pattern: on a PIE or shared library, perf
		// retries through the symbol table, drops the pattern and probes
		// the entry of the first function of that name (docs/compat.md).
		// Prove that is what it wrote.
		fn, _, _ := strings.Cut(spec, ";")
		ep, _ := run("-n", "-v", fn)
		entry := writing(ep.Stderr)
		subset := pw != ""
		for _, l := range strings.Split(pw, "\n") {
			subset = subset && strings.Contains(entry+"\n", l+"\n")
		}
		if !subset {
			t.Errorf("%s: gperf finds no line, perf writes\n%s\nwhich is not %s's entry\n%s", spec, pw, fn, entry)
		}
		c.add(func(c *defCounts) { c.lazyEntry++ })
		return
	case gp.Code != 0:
		if !strings.Contains(gp.Stderr, "gperf: ") || !strings.Contains(gp.Stderr, "computed") && !strings.Contains(gp.Stderr, "not supported") {
			t.Errorf("%s: gperf fails, perf does not\nperf:\n%s\ngperf (exit %d):\n%s", spec, pw, gp.Code, gp.Stderr)
		} else if !refusalNamesArg(gp.Stderr, spec) {
			t.Errorf("%s: gperf's refusal does not name the variable it refuses:\n%s", spec, gp.Stderr)
		}
		c.add(func(c *defCounts) { c.refused++ })
		return
	}
	if pw == gw {
		c.add(func(c *defCounts) { c.same++ })
		if messages {
			// Without -v, everything printed is perf's.
			perf, gp := run("-n", spec)
			sameResult(t, "-n "+spec, perf, gp)
			c.add(func(c *defCounts) { c.checkedM++ })
			if perf.Stdout == gp.Stdout && perf.Stderr == gp.Stderr && perf.Code == gp.Code {
				c.add(func(c *defCounts) { c.messages++ })
			}
		}
		return
	}
	pl, gl := strings.Split(pw, "\n"), strings.Split(gw, "\n")
	if len(pl) != len(gl) {
		testutil.Same(t, spec, "perf", pw, "gperf", gw)
		return
	}
	for i := range pl {
		pm, gm := argRE.FindStringSubmatch(pl[i]), argRE.FindStringSubmatch(gl[i])
		if pm == nil || gm == nil || pm[1] != gm[1] || pm[2] != gm[2] {
			testutil.Same(t, spec, "perf", pw, "gperf", gw)
			return
		}
		pa, ga := strings.Fields(pm[3]), strings.Fields(gm[3])
		if len(pa) != len(ga) {
			pa = dropSkipped(pa, gp.Stderr)
		}
		if len(pa) != len(ga) {
			testutil.Same(t, spec, "perf", pw, "gperf", gw)
			return
		}
		for j := range pa {
			if pa[j] != ga[j] && !correctedBitfield(pa[j], ga[j]) && !computedFixed(pa[j], ga[j]) && !globalFixed(t, bin, pa[j], ga[j]) {
				t.Errorf("%s: argument %d: perf writes %s, gperf %s", spec, j, pa[j], ga[j])
			}
		}
	}
	c.add(func(c *defCounts) { c.corrected++ })
}

var skippedRE = regexp.MustCompile(`(?m)^\$(?:vars|params): skipping (\S+): .*(computed|not supported)`)

// dropSkipped removes from perf's arguments those gperf left out of $vars
// or $params because their value is computed (perf loads it from memory).
func dropSkipped(args []string, gperfStderr string) []string {
	skip := map[string]bool{}
	for _, m := range skippedRE.FindAllStringSubmatch(gperfStderr, -1) {
		skip[m[1]] = true
	}
	var out []string
	for _, a := range args {
		name, _, _ := strings.Cut(a, "=")
		if !skip[name] {
			out = append(out, a)
		}
	}
	return out
}

var perfGlobalRE = regexp.MustCompile(`^([^=]*=)@([A-Za-z_][A-Za-z0-9_.]*)\+(\d+)(.*)$`)
var gperfGlobalRE = regexp.MustCompile(`^([^=]*=)@\+0x([0-9a-f]+)(.*)$`)

// globalFixed: perf writes a global as @symbol+offset, which the kernel
// accepts for kprobes only; for uprobes gperf writes @+OFFSET, which the
// kernel adds to the probed text's load base (trace_uprobe.c,
// translate_user_vaddr: bp_addr - probe file offset): the address of
// symbol+offset minus the text segment's vaddr-offset delta. A static
// local is one of the "symbol.N" of the symbol table.
func globalFixed(t *testing.T, bin, perf, gp string) bool {
	pm, gm := perfGlobalRE.FindStringSubmatch(perf), gperfGlobalRE.FindStringSubmatch(gp)
	if pm == nil || gm == nil || pm[1] != gm[1] || pm[4] != gm[3] {
		return false
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, _ := f.Symbols()
	off, _ := strconv.ParseUint(pm[3], 10, 64)
	want, _ := strconv.ParseUint(gm[2], 16, 64)
	for _, s := range syms {
		// A static local is "name.N" in the symbol table.
		if s.Name != pm[2] && !strings.HasPrefix(s.Name, pm[2]+".") {
			continue
		}
		a := s.Value + off
		for _, p := range f.Progs {
			if p.Type == elf.PT_LOAD && p.Flags&elf.PF_X != 0 && a-(p.Vaddr-p.Off) == want {
				return true
			}
		}
	}
	return false
}

// TestProbeOptionsMatchPerf: --no-inlines, --max-probes, -q, several -a
// and -D, the target as the first argument: what perf prints.
func TestProbeOptionsMatchPerf(t *testing.T) {
	testutil.Requires(t, testutil.Root, testutil.Perf, testutil.Uprobes, testutil.Gcc)
	bin := testutil.BuildC(t, testutil.O2, "shapes.c", "shapes2.c")
	for _, args := range [][]string{
		{"-n", "-x", bin, "--no-inlines", "rect_area"},
		{"-n", "-x", bin, "rect_area"},
		{"-n", "-x", bin, "--max-probes", "1", "helper"},
		{"-n", "-x", bin, "--max-probes", "2", "helper"},
		{"-n", "-q", "-x", bin, "helper"},
		{"-n", "-q", "-x", bin, "nosuch"},
		{"-n", "-x", bin, "-a", "helper", "-a", "shape_area s"},
		{"-x", bin, "-D", "helper", "-D", "shape_area s"},
		{"-n", bin, "helper_total n"},
		{"-n", "-x", bin, "helper@shapes2.c"},
		{"-n", "-x", bin, "helper@shapes2.c:3"},
		{"-n", "-x", bin, "shapes2.c:20"},
	} {
		perf, gp := both(t, "", args...)
		sameResult(t, strings.Join(args[1:], " "), perf, gp)
		perf, gp = both(t, "", append([]string{"-v"}, args...)...)
		testutil.Same(t, "-v "+strings.Join(args, " "), "perf", writing(perf.Stderr), "gperf", writing(gp.Stderr))
	}
}

// refusalNamesArg reports whether gperf's own reason line ("gperf: VAR:
// ...") names a variable that is one of spec's arguments.
func refusalNamesArg(stderr, spec string) bool {
	for _, l := range strings.Split(stderr, "\n") {
		rest, ok := strings.CutPrefix(l, "gperf: ")
		if !ok {
			continue
		}
		v, _, ok := strings.Cut(rest, ": ")
		if !ok || v == "" {
			continue
		}
		for _, a := range strings.Fields(spec)[1:] {
			if _, expr, ok := strings.Cut(a, "="); ok {
				a = expr
			}
			a = strings.TrimPrefix(a, "$")
			if n := strings.IndexAny(a, "-.[:"); n >= 0 {
				a = a[:n]
			}
			if a == v {
				return true
			}
		}
	}
	return false
}
