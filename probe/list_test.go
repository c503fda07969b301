package probe_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gperf-dev/gperf/dwarfline"
	"github.com/gperf-dev/gperf/internal/testutil"
	"github.com/gperf-dev/gperf/probe"
)

// The query commands (-L, -V, --funcs) against the oracle: for each
// fixture and build (-O0/-O2, DWARF 4/5, PIE/non-PIE/shared library), perf
// and gperf print the same bytes on stdout, and fail together.

type listFixture struct {
	srcs  []string
	flags []testutil.BuildFlags
	funcs []string
}

func listFixtures() []listFixture {
	var exe, lib []testutil.BuildFlags
	for _, o := range []testutil.BuildFlags{0, testutil.O2} {
		for _, d := range []testutil.BuildFlags{0, testutil.DWARF4} {
			for _, p := range []testutil.BuildFlags{0, testutil.PIE} {
				exe = append(exe, o|d|p)
			}
			lib = append(lib, o|d|testutil.Shared)
		}
	}
	return []listFixture{
		{srcs: []string{"shapes.c", "shapes2.c"}, flags: exe, funcs: []string{
			"shape_area", "shape_print", "shape_walk", "helper", "helper@shapes2.c",
			"helper_total", "rect_area", "shape_new", "main", "no_such_function", "shape_*", "helper*",
		}},
		{srcs: []string{"libshapes.c"}, flags: lib, funcs: []string{"lib_add", "lib_sum", "lib_hash", "lib_link"}},
		{srcs: []string{"ldlm.c"}, flags: exe[:4], funcs: []string{
			"ldlm_res_hash_dump", "ldlm_resource_dump", "ldlm_namespace_dump", "ldlm_resource_new", "main",
		}},
	}
}

// numberedRE finds the numbered lines of -L output.
var numberedRE = regexp.MustCompile(`(?m)^ {0,6}(\d+)  `)

type listCounts struct{ same, failedBoth int }

func TestListMatchesPerf(t *testing.T) {
	testutil.Requires(t, testutil.Perf, testutil.Gcc)
	var total listCounts
	for _, fx := range listFixtures() {
		if testing.Short() {
			// -short: the first and last builds of each fixture.
			fx.flags = []testutil.BuildFlags{fx.flags[0], fx.flags[len(fx.flags)-1]}
		}
		for _, fl := range fx.flags {
			fx, fl := fx, fl
			t.Run(strings.TrimSuffix(fx.srcs[0], ".c")+"-"+fl.String(), func(t *testing.T) {
				bin := testutil.BuildC(t, fl, fx.srcs...)
				dir := filepath.Dir(bin)
				c := &total
				cmp := func(what string, gp func(w *bytes.Buffer) error, perfArgs ...string) testutil.Result {
					t.Helper()
					pr := testutil.RunPerf(t, dir, append([]string{"probe", "-x", bin}, perfArgs...)...)
					var out bytes.Buffer
					err := gp(&out)
					if pr.Code != 0 {
						if err == nil {
							t.Errorf("%s: perf fails (%s) but gperf succeeds:\n%s", what, strings.TrimSpace(pr.Stderr), out.String())
							return pr
						}
						c.failedBoth++
					} else if err != nil {
						t.Errorf("%s: perf succeeds but gperf fails: %v", what, err)
						return pr
					}
					testutil.Same(t, what, "perf", pr.Stdout, "gperf", out.String())
					c.same++
					return pr
				}
				cmp("--funcs", func(w *bytes.Buffer) error { return probe.ShowFuncs(w, bin, probe.ListOptions{}) }, "--funcs")
				// The filter of --funcs=FILTER (perf ORs --filter with it).
				cmp("--funcs=FILTER", func(w *bytes.Buffer) error {
					return probe.ShowFuncs(w, bin, probe.ListOptions{Filter: "*shape* | lib_*"})
				}, "--funcs=*shape* | lib_*")
				for _, fn := range fx.funcs {
					pr := cmp("-L "+fn, func(w *bytes.Buffer) error { return probe.ShowLines(w, bin, fn, probe.ListOptions{}) }, "-L", fn)
					cmp("-V "+fn, func(w *bytes.Buffer) error { return probe.ShowVars(w, bin, fn, probe.ListOptions{}) }, "-V", fn)
					cmp("-V "+fn+" --externs", func(w *bytes.Buffer) error {
						return probe.ShowVars(w, bin, fn, probe.ListOptions{Externs: true})
					}, "-V", fn, "--externs")
					cmp("-V "+fn+" --externs --filter", func(w *bytes.Buffer) error {
						return probe.ShowVars(w, bin, fn, probe.ListOptions{Externs: true, Filter: "!s* | shapes_*"})
					}, "-V", fn, "--externs", "--filter", "!s* | shapes_*")
					if pr.Code != 0 {
						continue
					}
					base, _, _ := strings.Cut(fn, "@")
					for _, m := range numberedRE.FindAllStringSubmatch(pr.Stdout, -1) {
						pt := base + ":" + m[1]
						cmp("-V "+pt, func(w *bytes.Buffer) error { return probe.ShowVars(w, bin, pt, probe.ListOptions{}) }, "-V", pt)
					}
				}
				// Source ranges in each file, and a file line probe.
				for _, src := range fx.srcs {
					rng := src + ":20-60"
					cmp("-L "+rng, func(w *bytes.Buffer) error { return probe.ShowLines(w, bin, rng, probe.ListOptions{}) }, "-L", rng)
					rng = src + ":25+10"
					cmp("-L "+rng, func(w *bytes.Buffer) error { return probe.ShowLines(w, bin, rng, probe.ListOptions{}) }, "-L", rng)
					pt := src + ":30"
					cmp("-V "+pt, func(w *bytes.Buffer) error { return probe.ShowVars(w, bin, pt, probe.ListOptions{}) }, "-V", pt)
				}
			})
		}
	}
	t.Logf("parity: %d outputs identical to perf's (%d of them failures of both)", total.same, total.failedBoth)
}

// TestShowLinesWithoutSource: perf fails when the source is missing; gperf
// prints the probeable line numbers (the same ones perf prints with the
// source) and says the source is missing.
func TestShowLinesWithoutSource(t *testing.T) {
	testutil.Requires(t, testutil.Perf, testutil.Gcc)
	bin := testutil.BuildC(t, testutil.O2, "shapes.c", "shapes2.c")
	pr := testutil.RunPerf(t, filepath.Dir(bin), "probe", "-x", bin, "-L", "shape_area")
	if pr.Code != 0 {
		t.Fatalf("perf -L with the source: %s", pr.Stderr)
	}
	missing := testutil.RunPerf(t, filepath.Dir(bin), "probe", "-x", bin, "-s", "/nonexistent", "-L", "shape_area")
	if missing.Code == 0 {
		t.Fatalf("perf -L without the source succeeded:\n%s", missing.Stdout)
	}
	var out bytes.Buffer
	err := probe.ShowLines(&out, bin, "shape_area", probe.ListOptions{SourceDir: "/nonexistent"})
	if !errors.Is(err, probe.ErrSourceMissing) {
		t.Fatalf("ShowLines without source: %v, want ErrSourceMissing", err)
	}
	var want, got []string
	for _, m := range numberedRE.FindAllStringSubmatch(pr.Stdout, -1) {
		want = append(want, m[1])
	}
	for _, m := range numberedRE.FindAllStringSubmatch(out.String(), -1) {
		got = append(got, m[1])
	}
	testutil.Same(t, "line numbers without source", "perf with source", strings.Join(want, "\n"), "gperf without", strings.Join(got, "\n"))
	var pe *probe.Error
	if !errors.As(err, &pe) || !strings.Contains(pe.Warning, "Failed to find source file path") || pe.Summary != "Failed to show lines." {
		t.Errorf("error %#v does not say the source is missing as perf does", err)
	}
	// The header is perf's, with the DWARF path.
	if h := strings.SplitN(pr.Stdout, "\n", 2)[0]; !strings.HasPrefix(out.String(), h+"\n") {
		t.Errorf("header %q, want %q", strings.SplitN(out.String(), "\n", 2)[0], h)
	}
}

func TestParseLineRange(t *testing.T) {
	for _, c := range []struct {
		in   string
		want dwarfline.LineRangeSpec
		bad  bool
	}{
		{in: "func", want: dwarfline.LineRangeSpec{Function: "func", End: 1<<31 - 1}},
		{in: "func:3", want: dwarfline.LineRangeSpec{Function: "func", Start: 3, End: 1<<31 - 1}},
		{in: "func:3+2", want: dwarfline.LineRangeSpec{Function: "func", Start: 3, End: 4}},
		{in: "func:3-7", want: dwarfline.LineRangeSpec{Function: "func", Start: 3, End: 7}},
		{in: "func@a.c:1", want: dwarfline.LineRangeSpec{Function: "func", File: "a.c", Start: 1, End: 1<<31 - 1}},
		{in: "dir/a.c:10-20", want: dwarfline.LineRangeSpec{File: "dir/a.c", Start: 10, End: 20}},
		{in: "func:7-3", bad: true},
		{in: "func:x", bad: true},
		{in: "func:3z", bad: true},
		{in: "1func", bad: true},
	} {
		got, err := probe.ParseLineRange(c.in)
		if c.bad {
			if err == nil {
				t.Errorf("ParseLineRange(%q) = %+v, want an error", c.in, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseLineRange(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
}

// Argument translation against perf's `Writing event:` lines.

type transCase struct {
	srcs  []string
	point string
	args  []string
}

var argsRE = regexp.MustCompile(`Writing event: \S+ \S+(.*)`)

// perfArgs runs perf probe -n -v and returns the arguments of each event
// it would write (name=value:type), or the error text.
func perfArgs(t *testing.T, bin, spec string) ([][]string, string) {
	t.Helper()
	r := testutil.RunPerf(t, filepath.Dir(bin), "probe", "-n", "-v", "-x", bin, spec)
	if r.Code != 0 {
		return nil, r.Stderr
	}
	var out [][]string
	for _, m := range argsRE.FindAllStringSubmatch(r.Stderr+r.Stdout, -1) {
		out = append(out, strings.Fields(m[1]))
	}
	return out, ""
}

// gperfArgs resolves spec with dwarfline and translates its arguments.
func gperfArgs(t *testing.T, bin, spec string, uprobeGlobals bool) ([][]string, []error) {
	t.Helper()
	sp, err := probe.ParseSpec(spec)
	if err != nil {
		t.Fatalf("ParseSpec(%q): %v", spec, err)
	}
	b, err := dwarfline.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	pt := sp.Point
	ps, err := b.Resolve(dwarfline.PointSpec{Function: pt.Function, File: pt.File, Line: pt.Line,
		Offset: pt.Offset, Return: pt.Return, Uprobe: true, WithVars: len(sp.Args) > 0})
	if err != nil {
		return nil, []error{err}
	}
	var out [][]string
	var errs []error
	for _, p := range ps {
		var line []string
		for _, a := range sp.Args {
			var fs []dwarfline.Field
			for _, f := range a.Fields {
				fs = append(fs, dwarfline.Field{Name: f.Name, Index: f.Index, IsIndex: f.IsIndex(), Ref: f.Ref})
			}
			fa, err := b.TranslateArg(p, dwarfline.ArgSpec{Var: a.Var, Fields: fs, Type: a.Type, User: a.User},
				dwarfline.TranslateOptions{HexUnsigned: true, Uprobe: uprobeGlobals})
			if err != nil {
				errs = append(errs, err)
				line = append(line, a.EventArgName()+"=?")
				continue
			}
			errs = append(errs, nil)
			line = append(line, a.EventArgName()+"="+fa.String())
		}
		out = append(out, line)
	}
	return out, errs
}

var constRE = regexp.MustCompile(`^[^=]+=\\\d+:[su]\d+$`)

var bitRE = regexp.MustCompile(`^(.*):b(\d+)@(\d+)/(\d+)$`)

// TestTranslateMatchesPerf compares gperf's fetch-args with the ones perf
// writes. Where they differ, the difference must be one of the documented
// corrections (docs/compat.md): DWARF 4 bit offsets counted from the least
// significant bit, and computed locations not loaded from memory.
func TestTranslateMatchesPerf(t *testing.T) {
	testutil.Requires(t, testutil.Root, testutil.Perf, testutil.Uprobes, testutil.Gcc)
	cases := []transCase{
		{[]string{"shapes.c", "shapes2.c"}, "shape_print", []string{"s", "round", "s->id", "s->kind", "s->name:string", "s->tag:string",
			"s->m.area", "s->m.scale", "s->u.radius", "s->u.box.max.y", "s->pts[2].y", "s->next", "s->u.raw[3]", "s->tag[1]"}},
		{[]string{"shapes.c", "shapes2.c"}, "shape_print s->visible s->layer s->color s->depth", nil},
		{[]string{"shapes.c", "shapes2.c"}, "shape_walk l l->count l->head->id", nil},
		{[]string{"shapes.c", "shapes2.c"}, "shape_area s s->kind s->pts[1].x", nil},
		{[]string{"shapes.c", "shapes2.c"}, "helper_total n helper_counter.hits[1] helper_counter.label:string helper_counter.flags", nil},
		{[]string{"shapes.c", "shapes2.c"}, "shape_walk shapes_debug shapes_banner:string all_shapes.count all_shapes.head->name:string", nil},
		{[]string{"shapes.c", "shapes2.c"}, "helper_total shapes_debug", nil},
		{[]string{"shapes.c", "shapes2.c"}, "helper_total:6 n bias t", nil},
		{[]string{"shapes.c", "shapes2.c"}, "helper x", nil},
		{[]string{"shapes.c", "shapes2.c"}, "rect_area r r->max.x", nil},
		{[]string{"ldlm.c"}, "ldlm_res_hash_dump hnode arg", nil},
		{[]string{"ldlm.c"}, "ldlm_res_hash_dump:8 res->lr_refcount.counter res->lr_name.name[0] res->lr_type res->lr_ns_name:string", nil},
		{[]string{"ldlm.c"}, "ldlm_resource_dump level res res->lr_granted_count res->lr_waiting_count res->lr_lvb_initialized", nil},
		{[]string{"ldlm.c"}, "ldlm_namespace_dump ns level ns->ns_name:string ns->ns_hash[1]", nil},
	}
	same, fixed, extended := 0, 0, 0
	for _, c := range cases {
		spec := c.point
		if c.args != nil {
			spec += " " + strings.Join(c.args, " ")
		}
		for _, fl := range []testutil.BuildFlags{0, testutil.O2, testutil.DWARF4, testutil.O2 | testutil.DWARF4, testutil.PIE, testutil.O2 | testutil.PIE} {
			bin := testutil.BuildC(t, fl, c.srcs...)
			what := fmt.Sprintf("%s %s: %s", c.srcs[0], fl, spec)
			want, perr := perfArgs(t, bin, spec)
			got, gerrs := gperfArgs(t, bin, spec, false)
			if perr != "" {
				// perf refuses the whole event: find the arguments it
				// refuses; gperf must refuse them too, unless it is a
				// documented extension (DWARF 5 bitfields).
				if len(got) == 0 {
					continue
				}
				sp, _ := probe.ParseSpec(spec)
				point := strings.Fields(spec)[0]
				for j, a := range sp.Args {
					one, e := perfArgs(t, bin, point+" "+a.String())
					for i := range got {
						g := got[i][j]
						switch {
						case e == "" && len(one) == len(got) && one[i][0] == g:
							same++
						case e != "" && strings.HasSuffix(g, "=?"):
							same++ // both refuse
						case e != "" && strings.Contains(e, "optimized out") && constRE.MatchString(g):
							// DW_AT_const_value: an immediate.
							t.Logf("%s: perf cannot fetch %s (%s); gperf: %s", what, a.String(), firstLine(e), g)
							extended++
						case e != "" && strings.Contains(e, "Failed to get the offset") && bitRE.MatchString(g):
							t.Logf("%s: perf cannot fetch %s (%s); gperf: %s", what, a.String(), firstLine(e), g)
							extended++
						default:
							t.Errorf("%s: arg %s: perf %v %q, gperf %q", what, a.String(), one, firstLine(e), g)
						}
					}
				}
				continue
			}
			if len(want) != len(got) {
				t.Errorf("%s: perf writes %d events, gperf %d (errors %v)\nperf: %v\ngperf: %v", what, len(want), len(got), gerrs, want, got)
				continue
			}
			for i := range want {
				for j := range want[i] {
					w, g := want[i][j], got[i][j]
					switch {
					case w == g:
						same++
					case strings.Contains(w, `=\deade12d`) && errors.Is(gerrs[i*len(want[i])+j], dwarfline.ErrNotFound):
						// perf fills an argument missing at one of
						// several probe points with a magic number
						// (probe's job, not the translator's).
						same++
					case correctedBitfield(w, g):
						fixed++
					case strings.HasSuffix(g, "=?") && errors.Is(gerrs[i*len(want[i])+j], dwarfline.ErrNotSupported):
						// perf loads memory at a computed location.
						t.Logf("%s: gperf refuses %s (%v), perf writes %s", what, g, gerrs[i*len(want[i])+j], w)
						fixed++
					case computedFixed(w, g):
						fixed++
					default:
						t.Errorf("%s: arg %d: perf %q, gperf %q", what, j, w, g)
					}
				}
			}
		}
	}
	t.Logf("translation: %d args identical to perf's, %d documented corrections, %d events perf refuses", same, fixed, extended)
}

func firstLine(s string) string { return strings.SplitN(strings.TrimSpace(s), "\n", 2)[0] }

// correctedBitfield: perf passes DWARF 4's DW_AT_bit_offset (from the most
// significant bit) to the kernel, which counts from the least significant
// one; gperf converts it.
func correctedBitfield(perf, gp string) bool {
	pm, gm := bitRE.FindStringSubmatch(perf), bitRE.FindStringSubmatch(gp)
	if pm == nil || gm == nil || pm[1] != gm[1] || pm[2] != gm[2] || pm[4] != gm[4] {
		return false
	}
	w, _ := strconv.Atoi(pm[2])
	po, _ := strconv.Atoi(pm[3])
	gpo, _ := strconv.Atoi(gm[3])
	size, _ := strconv.Atoi(pm[4])
	return gpo == size-po-w
}

// computedFixed: perf turns `DW_OP_bregN off; DW_OP_stack_value` into a
// load -off(%reg); gperf adds off to the field offset instead.
var refRE = regexp.MustCompile(`^([^=]*=)(.*?)([+-]\d+)\(([+-]\d+)\((%\w+)\)\)(.*)$`)
var gRefRE = regexp.MustCompile(`^([^=]*=)(.*?)([+-]\d+)\((%\w+)\)(.*)$`)

func computedFixed(perf, gp string) bool {
	pm, gm := refRE.FindStringSubmatch(perf), gRefRE.FindStringSubmatch(gp)
	if pm == nil || gm == nil || pm[1] != gm[1] || pm[2] != gm[2] || pm[5] != gm[4] || pm[6] != gm[5] {
		return false
	}
	f, _ := strconv.Atoi(pm[3])
	o, _ := strconv.Atoi(pm[4])
	g, _ := strconv.Atoi(gm[3])
	return g == f+o
}

// TestTranslatedValuesEndToEnd proves the translations where gperf departs
// from perf against what the program itself prints: at ldlm_res_hash_dump:8
// (-O2) res is the computed rbx-8 that perf loads from memory; the
// bitfield is DWARF 5 (perf cannot fetch it) or DWARF 4 (perf's bit offset
// is counted from the wrong end); the globals are @+OFFSET (uprobes reject
// perf's @symbol).
func TestTranslatedValuesEndToEnd(t *testing.T) {
	testutil.Requires(t, testutil.Root, testutil.Uprobes, testutil.Gcc)
	for _, c := range []struct {
		flags testutil.BuildFlags
		point string
	}{
		{testutil.O2, "ldlm_res_hash_dump:8"},
		{testutil.O2 | testutil.DWARF4, "ldlm_res_hash_dump:8"},
		{testutil.O2 | testutil.PIE, "ldlm_res_hash_dump:8"},
		{testutil.DWARF4, "ldlm_resource_dump:7"},
		{0, "ldlm_resource_dump:7"},
	} {
		bin := testutil.BuildC(t, c.flags, "ldlm.c")
		spec := c.point + " res->lr_refcount.counter res->lr_name.name[0] res->lr_type res->lr_granted_count ldlm_dump_level demo_ns.ns_nr_resources"
		got, errs := gperfArgs(t, bin, spec, true)
		for _, err := range errs {
			if err != nil {
				t.Fatalf("%s %s: %v", c.flags, spec, err)
			}
		}
		if len(got) != 1 {
			t.Fatalf("%s %s: %d probe points", c.flags, spec, len(got))
		}
		b, err := dwarfline.Open(bin)
		if err != nil {
			t.Fatal(err)
		}
		sp, _ := probe.ParseSpec(spec)
		ps, err := b.Resolve(dwarfline.PointSpec{Function: sp.Point.Function, Line: sp.Point.Line, Uprobe: true, WithVars: true})
		if err != nil {
			t.Fatal(err)
		}
		off, err := b.FileOffset(ps[0].Addr)
		b.Close()
		if err != nil {
			t.Fatal(err)
		}
		g := testutil.Group(t)
		def := fmt.Sprintf("p:%s/e %s:0x%x %s", g, bin, off, strings.Join(got[0], " "))
		tr := testutil.TracingDir
		write := func(file, s string) error {
			f, err := os.OpenFile(filepath.Join(tr, file), os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.WriteString(s + "\n")
			return err
		}
		if err := write("uprobe_events", def); err != nil {
			t.Fatalf("add %s: %v", def, err)
		}
		t.Cleanup(func() {
			os.WriteFile(filepath.Join(tr, "events", g, "enable"), []byte("0"), 0)
			write("uprobe_events", "-:"+g+"/e")
		})
		if err := os.WriteFile(filepath.Join(tr, "events", g, "enable"), []byte("1"), 0); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(tr, "trace"), nil, 0)
		run := testutil.Run(t, "", bin)
		os.WriteFile(filepath.Join(tr, "events", g, "enable"), []byte("0"), 0)
		trace, err := os.ReadFile(filepath.Join(tr, "trace"))
		if err != nil {
			t.Fatal(err)
		}
		// dump res=0x... refcount=N name0=0x... type=N granted=N
		progRE := regexp.MustCompile(`refcount=(\d+) name0=(0x[0-9a-f]+|0) type=(\d+) granted=(\d+)`)
		evRE := regexp.MustCompile(` e: \(\S+\) counter=(-?\d+) name=(0x[0-9a-f]+) lr_type=(0x[0-9a-f]+) lr_granted_count=(\d+) ldlm_dump_level=(\d+) ns_nr_resources=(\d+)`)
		prog := progRE.FindAllStringSubmatch(run.Stdout, -1)
		evs := evRE.FindAllStringSubmatch(string(trace), -1)
		if len(prog) == 0 || len(evs) != len(prog) {
			t.Fatalf("%s: %d program lines, %d events\ndef: %s\n%s\n%s", c.flags, len(prog), len(evs), def, run.Stdout, trace)
		}
		for i := range prog {
			p, e := prog[i], evs[i]
			ref, _ := strconv.Atoi(p[1])
			cnt, _ := strconv.Atoi(e[1])
			// ldlm_res_hash_dump:8 runs after the counter went back
			// down; ldlm_resource_dump prints the raised one.
			if strings.HasPrefix(c.point, "ldlm_res_hash_dump") {
				cnt++
			}
			n0, _ := strconv.ParseUint(strings.TrimPrefix(p[2], "0x"), 16, 64)
			en0, _ := strconv.ParseUint(strings.TrimPrefix(e[2], "0x"), 16, 64)
			ty, _ := strconv.Atoi(p[3])
			ety, _ := strconv.ParseUint(strings.TrimPrefix(e[3], "0x"), 16, 64)
			if cnt != ref || n0 != en0 || uint64(ty) != ety || p[4] != e[4] || e[5] != "1" || e[6] != "8" {
				t.Errorf("%s: event %d: %v, program printed %v\ndef: %s", c.flags, i, e[1:], p[1:], def)
			}
		}
	}
}

// FuzzParseLineRange: any -L argument parses or fails with an error, and
// a parsed range is ordered.
func FuzzParseLineRange(f *testing.F) {
	if testing.Short() {
		f.Skip("fuzzing skipped in -short mode")
	}
	for _, s := range []string{"func", "func:3", "func:3+2", "func:3-7", "func@a.c:1", "dir/a.c:10-20", "f:7-3", "f:", ":", "@", "a.c:+", "f:1-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lr, err := probe.ParseLineRange(s)
		if err == nil && lr.Start > lr.End {
			t.Errorf("ParseLineRange(%q) = %+v: start after end", s, lr)
		}
	})
}

// TestListModuleMatchesPerf: -L, -V and --funcs on a kernel module read
// offline (-m PATH.ko): its DWARF is relocatable (ET_REL, .rela.debug_*),
// each code section gets its own addresses.
func TestListModuleMatchesPerf(t *testing.T) {
	testutil.Requires(t, testutil.Perf)
	ko := kmod(t)
	dir := filepath.Dir(ko)
	n := 0
	cmp := func(what string, gp func(w *bytes.Buffer) error, perfArgs ...string) testutil.Result {
		t.Helper()
		pr := testutil.RunPerf(t, dir, append([]string{"probe", "-m", ko}, perfArgs...)...)
		var out bytes.Buffer
		err := gp(&out)
		if (pr.Code != 0) != (err != nil) {
			t.Errorf("%s: perf exits %d (%s), gperf error %v", what, pr.Code, firstLine(pr.Stderr), err)
			return pr
		}
		testutil.Same(t, what, "perf", pr.Stdout, "gperf", out.String())
		n++
		return pr
	}
	cmp("--funcs", func(w *bytes.Buffer) error { return probe.ShowFuncs(w, ko, probe.ListOptions{}) }, "--funcs")
	for _, fn := range []string{"ldlm_res_hash_dump", "ldlm_resource_dump", "ldlm_namespace_dump", "ldlm_hash_for_each",
		"ldlm_resource_new", "dump_namespaces_write", "ldlm_demo_init", "ldlm_demo_exit", "lock_res", "no_such_function"} {
		pr := cmp("-L "+fn, func(w *bytes.Buffer) error { return probe.ShowLines(w, ko, fn, probe.ListOptions{}) }, "-L", fn)
		cmp("-V "+fn+" --externs", func(w *bytes.Buffer) error {
			return probe.ShowVars(w, ko, fn, probe.ListOptions{Externs: true})
		}, "-V", fn, "--externs")
		if pr.Code != 0 {
			continue
		}
		for _, m := range numberedRE.FindAllStringSubmatch(pr.Stdout, -1) {
			pt := fn + ":" + m[1]
			cmp("-V "+pt, func(w *bytes.Buffer) error { return probe.ShowVars(w, ko, pt, probe.ListOptions{}) }, "-V", pt)
		}
	}
	t.Logf("parity: %d outputs identical to perf's on %s", n, filepath.Base(ko))
}

// TestListErrorsMatchPerf: failed -L and -V print what perf prints on
// stderr and exit with its status.
func TestListErrorsMatchPerf(t *testing.T) {
	testutil.Requires(t, testutil.Perf, testutil.Gcc)
	bin := testutil.BuildC(t, testutil.O2, "ldlm.c")
	nodbg := testutil.BuildC(t, testutil.O2|testutil.NoDebug, "ldlm.c")
	for _, c := range []struct {
		bin  string
		args []string
		run  func() error
	}{
		{bin, []string{"-L", "no_such_function"}, func() error { return probe.ShowLines(io.Discard, bin, "no_such_function", probe.ListOptions{}) }},
		{bin, []string{"-V", "no_such_function"}, func() error { return probe.ShowVars(io.Discard, bin, "no_such_function", probe.ListOptions{}) }},
		{bin, []string{"-V", "ldlm.c:110"}, func() error { return probe.ShowVars(io.Discard, bin, "ldlm.c:110", probe.ListOptions{}) }},
		{nodbg, []string{"-V", "ldlm_res_hash_dump"}, func() error {
			return probe.ShowVars(io.Discard, nodbg, "ldlm_res_hash_dump", probe.ListOptions{})
		}},
		{nodbg, []string{"-L", "ldlm_res_hash_dump"}, func() error {
			return probe.ShowLines(io.Discard, nodbg, "ldlm_res_hash_dump", probe.ListOptions{})
		}},
	} {
		pr := testutil.RunPerf(t, filepath.Dir(c.bin), append([]string{"probe", "-x", c.bin}, c.args...)...)
		err := c.run()
		if err == nil {
			t.Errorf("%v: gperf succeeds, perf: %s", c.args, pr.Stderr)
			continue
		}
		text, status := probe.Report(err, 0)
		testutil.Same(t, strings.Join(c.args, " ")+" (stderr)", "perf", pr.Stderr, "gperf", text)
		if status != pr.Code {
			t.Errorf("%v: perf exits %d, gperf %d", c.args, pr.Code, status)
		}
	}
}
