package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// row is one line of the table: what was checked, how perf fared (for
// information) and gperf's verdict.
type row struct {
	step   string
	check  string
	perf   string
	gperf  string // PASS, FAIL or SKIP
	detail string
}

type lab struct {
	out   string
	rows  []row
	env   map[string]string
	diffs string
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: check OUTDIR")
		os.Exit(2)
	}
	l := &lab{out: os.Args[1], env: map[string]string{}}
	l.diffs = filepath.Join(l.out, "diffs")
	os.RemoveAll(l.diffs)
	if err := os.MkdirAll(l.diffs, 0o755); err != nil {
		fmt.Fprintf(os.Stderr, "check: %v\n", err)
		os.Exit(2)
	}
	l.step0()
	l.step1()
	l.step23()
	l.step4()
	l.step5()
	l.step6()
	os.Exit(l.print())
}

// read returns a file's text under the output directory, "" when absent.
func (l *lab) read(parts ...string) string {
	b, err := os.ReadFile(filepath.Join(append([]string{l.out}, parts...)...))
	if err != nil {
		return ""
	}
	return string(b)
}

func (l *lab) exists(parts ...string) bool {
	_, err := os.Stat(filepath.Join(append([]string{l.out}, parts...)...))
	return err == nil
}

func (l *lab) add(step, check, perf string, ok bool, detail string) {
	v := "PASS"
	if !ok {
		v = "FAIL"
	}
	l.rows = append(l.rows, row{step, check, perf, v, detail})
}

func (l *lab) skip(step, check, why string) {
	l.rows = append(l.rows, row{step, check, "-", "SKIP", why})
}

// result is one command's outputs in the guest.
type result struct {
	cmd, out, err string
	rc            int
	ran           bool
}

func (l *lab) result(step, name string) result {
	rcText := strings.TrimSpace(l.read(step, name+".rc"))
	rc, err := strconv.Atoi(rcText)
	if err != nil {
		return result{}
	}
	return result{
		cmd: strings.TrimSpace(l.read(step, name+".cmd")),
		out: l.read(step, name+".out"),
		err: l.read(step, name+".err"),
		rc:  rc,
		ran: true,
	}
}

// status is a short description of how a command ended.
func (r result) status() string {
	if !r.ran {
		return "not run"
	}
	if r.rc == 0 {
		return "exit 0"
	}
	if r.rc == 137 {
		return "killed (timeout)"
	}
	return fmt.Sprintf("exit %d", r.rc)
}

// diff writes a unified diff of a and b to the diffs directory under name
// and returns its path ("" when equal).
func (l *lab) diff(name, aName, a, bName, b string) string {
	if a == b {
		return ""
	}
	dir, err := os.MkdirTemp("", "lab-diff-")
	if err != nil {
		return "cannot diff: " + err.Error()
	}
	defer os.RemoveAll(dir)
	fa, fb := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	os.WriteFile(fa, []byte(a), 0o644)
	os.WriteFile(fb, []byte(b), 0o644)
	out, _ := exec.Command("diff", "-u", "--label", aName, "--label", bName, fa, fb).CombinedOutput()
	p := filepath.Join(l.diffs, name+".diff")
	os.WriteFile(p, out, 0o644)
	return p
}

// same compares two commands' stdout, stderr and exit status (stderr only
// when withErr) and returns "" or what differs.
func (l *lab) same(name string, want, got result, withErr bool) string {
	if !got.ran {
		return "gperf did not run"
	}
	var d []string
	if p := l.diff(name+".out", "perf", want.out, "gperf", got.out); p != "" {
		d = append(d, "stdout differs: "+p)
	}
	if withErr {
		if p := l.diff(name+".err", "perf", want.err, "gperf", got.err); p != "" {
			d = append(d, "stderr differs: "+p)
		}
	}
	if want.rc != got.rc {
		d = append(d, fmt.Sprintf("exit %d, perf %d", got.rc, want.rc))
	}
	if len(d) > 0 && got.rc != 0 && strings.TrimSpace(got.err) != "" {
		d = append(d, "gperf said: "+firstLine(got.err))
	}
	return strings.Join(d, "; ")
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 100 {
		s = s[:100] + "..."
	}
	return s
}

// leaks checks that the guest found no kprobes left after the step's
// commands (files *.kprobes).
func (l *lab) leaks(step, label string) {
	if !l.exists(step) {
		return
	}
	files, _ := filepath.Glob(filepath.Join(l.out, step, "*.kprobes"))
	sort.Strings(files)
	var perfLeft, gperfLeft []string
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if strings.TrimSpace(string(b)) == "" {
			continue
		}
		base := filepath.Base(f)
		entry := base + ": " + firstLine(string(b))
		if strings.HasPrefix(base, "perf.") {
			perfLeft = append(perfLeft, entry)
		} else {
			gperfLeft = append(gperfLeft, entry)
		}
	}
	p := "none left"
	if len(perfLeft) > 0 {
		p = "LEFT"
	}
	l.add(label, "no kprobes left behind", p, len(gperfLeft) == 0, strings.Join(append(gperfLeft, perfLeft...), "; "))
}

// missing reports a step whose outputs never came back.
func (l *lab) missing(step, label string) bool {
	if l.exists(step) {
		return false
	}
	if steps := strings.Trim(l.env["STEPS"], `"`); steps != "" && !slices.Contains(strings.Fields(steps), strings.TrimPrefix(step, "s")) {
		l.skip(label, "not run", "LAB_STEPS="+steps)
		return true
	}
	l.add(label, "outputs came back from the guest", "-", false, "no "+step+" in "+l.out+" (see console.log)")
	return true
}

func (l *lab) step0() {
	if l.missing("s0", "0") {
		return
	}
	for _, line := range strings.Split(l.read("s0", "env"), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			l.env[k] = v
		}
	}
	uname := strings.TrimSpace(l.read("s0", "uname"))
	ins := l.result("s0", "insmod")
	pv := l.result("s0", "perf.version")
	ok := uname == l.env["KVER"] && ins.ran && ins.rc == 0 && pv.rc == 0
	l.add("0", "guest runs "+uname+", ldlm_demo loads, perf runs", strings.TrimSpace(pv.out), ok,
		"insmod: "+ins.status()+" "+firstLine(ins.err))
}

// names lists the command names the guest ran with perf in a step.
func (l *lab) names(step string) []string {
	files, _ := filepath.Glob(filepath.Join(l.out, step, "perf.*.rc"))
	var n []string
	for _, f := range files {
		n = append(n, strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "perf."), ".rc"))
	}
	sort.Strings(n)
	return n
}

func (l *lab) step1() {
	if l.missing("s1", "1") {
		return
	}
	for _, n := range l.names("s1") {
		p, g := l.result("s1", "perf."+n), l.result("s1", "gperf."+n)
		d := l.same("s1."+n, p, g, true)
		l.add("1", strings.TrimPrefix(p.cmd, "perf "), p.status(), d == "", d)
	}
	l.leaks("s1", "1")
}

// sample is one probe hit's arguments, in order.
type sample []string

// probeSamples returns the arguments of the script lines for event.
func probeSamples(script, event string) []sample {
	var s []sample
	for _, line := range strings.Split(script, "\n") {
		i := strings.Index(line, " "+event+": (")
		if i < 0 {
			continue
		}
		rest := line[i:]
		j := strings.Index(rest, ") ")
		var args sample
		if j >= 0 {
			for _, f := range strings.Fields(rest[j+2:]) {
				if _, v, ok := strings.Cut(f, "="); ok {
					args = append(args, v)
				}
			}
		}
		s = append(s, args)
	}
	return s
}

// printed is one resource as the module printed it.
type printed struct{ res, refcount, name0 uint64 }

func modulePrints(dmesg string) []printed {
	var p []printed
	for _, line := range strings.Split(dmesg, "\n") {
		i := strings.Index(line, "ldlm_demo: res=")
		if i < 0 {
			continue
		}
		var r printed
		for _, f := range strings.Fields(line[i+len("ldlm_demo: "):]) {
			k, v, _ := strings.Cut(f, "=")
			switch k {
			case "res":
				r.res, _ = strconv.ParseUint(v, 16, 64)
			case "refcount":
				r.refcount, _ = strconv.ParseUint(v, 10, 64)
			case "name0":
				r.name0, _ = strconv.ParseUint(v, 0, 64)
			}
		}
		p = append(p, r)
	}
	return p
}

func num(v string) (uint64, bool) {
	if u, err := strconv.ParseUint(v, 0, 64); err == nil {
		return u, true
	}
	if i, err := strconv.ParseInt(v, 0, 64); err == nil {
		return uint64(i), true
	}
	return 0, false
}

// valueCheck compares the samples of the ldlm probe in script with the
// module's printk in dmesg: per argument, how many samples hold the value
// the module printed for that resource.
type valueCheck struct {
	fields          []string // what each argument is: res, refcount or name0
	samples, prints int
	match           []int
}

func (v valueCheck) ok() bool {
	if v.prints == 0 || v.samples != v.prints {
		return false
	}
	for _, m := range v.match {
		if m != v.prints {
			return false
		}
	}
	return true
}

func (v valueCheck) String() string {
	if v.samples == 0 {
		return fmt.Sprintf("no samples (%d printed)", v.prints)
	}
	var m []string
	for i, f := range v.fields {
		m = append(m, fmt.Sprintf("%s %d", f, v.match[i]))
	}
	return fmt.Sprintf("%d samples/%d printed; %s match", v.samples, v.prints, strings.Join(m, ", "))
}

// checkValues matches the i-th sample with the i-th resource printed (the
// walk's order); fields names what each probe argument holds.
func checkValues(script, dmesg, event string, fields ...string) valueCheck {
	s := probeSamples(script, event)
	p := modulePrints(dmesg)
	v := valueCheck{fields: fields, samples: len(s), prints: len(p), match: make([]int, len(fields))}
	for i := 0; i < len(s) && i < len(p); i++ {
		for a, f := range fields {
			want := map[string]uint64{"res": p[i].res, "refcount": p[i].refcount, "name0": p[i].name0}[f]
			if a < len(s[i]) {
				if got, ok := num(s[i][a]); ok && got == want {
					v.match[a]++
				}
			}
		}
	}
	return v
}

// kprobeDef splits a kprobe_events line into its head (type, name,
// location) and its arguments.
func kprobeDef(line string) (head string, args []string) {
	f := strings.Fields(line)
	if len(f) < 2 {
		return line, nil
	}
	return f[0] + " " + f[1], f[2:]
}

// sameOrBetter judges gperf's kprobe definition gk against perf's pk: the
// same probe point and, argument by argument, perf's fetch-arg where perf's
// values match the printk, or another one where perf's do not and gperf's
// do. pv and gv come from recording each definition with perf, so only the
// definitions differ.
func sameOrBetter(pk, gk string, pv, gv valueCheck) (bool, string) {
	ph, pargs := kprobeDef(pk)
	gh, gargs := kprobeDef(gk)
	var why []string
	ok := true
	switch {
	case gk == "":
		return false, "gperf defined no kprobe"
	case strings.Contains(gk, "\n"):
		return false, "gperf defined several kprobes: " + gk
	case gh != ph:
		ok = false
		why = append(why, fmt.Sprintf("probe point %q, perf %q", gh, ph))
	}
	if len(gargs) != len(pargs) {
		ok = false
		why = append(why, fmt.Sprintf("%d arguments, perf %d", len(gargs), len(pargs)))
	}
	for i := 0; i < len(gargs) && i < len(pargs) && i < len(gv.match); i++ {
		gRight := gv.match[i] == gv.prints && gv.prints > 0 && gv.samples == gv.prints
		pRight := pv.match[i] == pv.prints && pv.prints > 0 && pv.samples == pv.prints
		switch {
		case gargs[i] == pargs[i] && gRight:
		case gargs[i] == pargs[i]:
			ok = false
			why = append(why, fmt.Sprintf("%s: same as perf's but wrong (%d/%d match printk)", gargs[i], gv.match[i], gv.prints))
		case !pRight && gRight:
			why = append(why, fmt.Sprintf("%s fixes perf's %s (perf %d/%d, gperf %d/%d match printk)",
				gargs[i], pargs[i], pv.match[i], pv.prints, gv.match[i], gv.prints))
		case pRight:
			ok = false
			why = append(why, fmt.Sprintf("%s differs from perf's %s, which is right", gargs[i], pargs[i]))
		default:
			ok = false
			why = append(why, fmt.Sprintf("%s differs from perf's %s and does not match printk (%d/%d)",
				gargs[i], pargs[i], gv.match[i], gv.prints))
		}
	}
	return ok, "perf: " + pk + " | gperf: " + gk + " | " + strings.Join(why, "; ")
}

// word reports whether s contains w as a whole word.
func word(s, w string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], w)
		if j < 0 {
			return false
		}
		j += i
		isID := func(c byte) bool {
			return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		}
		if (j == 0 || !isID(s[j-1])) && (j+len(w) == len(s) || !isID(s[j+len(w)])) {
			return true
		}
		i = j + 1
	}
}

func (l *lab) step23() {
	if l.missing("s23", "2") {
		return
	}
	event := "probe:ldlm_res_hash_dump_L" + l.env["LINE"]

	// 2a: the probe as the issue writes it, with the pointer res itself.
	// perf loads memory at rbx-8 for it; gperf either fetches values that
	// match the printk, or refuses res by name (its value, rbx-8, is
	// computed and no fetch-arg can express it) and leaves nothing behind.
	pa, ga := l.result("s23", "perf.addres"), l.result("s23", "gperf.addres")
	pk := strings.TrimSpace(l.read("s23", "perf.res.kprobe_events"))
	gk := strings.TrimSpace(l.read("s23", "gperf.res.kprobe_events"))
	all := []string{"res", "refcount", "name0"}
	pv := checkValues(l.read("s23", "perf.res.perf.perf.script.out"), l.read("s23", "perf.res.perf.dmesg"), event, all...)
	gv := checkValues(l.read("s23", "gperf.res.perf.perf.script.out"), l.read("s23", "gperf.res.perf.dmesg"), event, all...)
	perfState := "right: " + pv.String()
	if !pv.ok() {
		perfState = "WRONG: " + pv.String()
	}
	var ok bool
	var detail string
	switch {
	case !ga.ran:
		detail = "gperf did not run"
	case ga.rc == 0:
		d := l.same("s23.addres", pa, ga, true)
		ok, detail = sameOrBetter(pk, gk, pv, gv)
		if d != "" {
			ok = false
			detail = d + "; " + detail
		}
	default:
		resRight := pv.prints > 0 && pv.match[0] == pv.prints
		ok = !resRight && word(ga.err, "res") && gk == "" && !strings.Contains(ga.err, "panic:")
		detail = "gperf refused: " + firstLine(ga.err)
		if resRight {
			detail += " (but perf fetches res right)"
		} else if !word(ga.err, "res") {
			detail += " (the error does not name res)"
		}
	}
	l.add("2", strings.TrimPrefix(pa.cmd, "perf "), perfState, ok, detail)

	// 2b: the fields only: output identical to perf's, definition the same
	// where perf is right and correct where not.
	fields := []string{"refcount", "name0"}
	pa, ga = l.result("s23", "perf.add"), l.result("s23", "gperf.add")
	d := l.same("s23.add", pa, ga, true)
	l.add("2", strings.TrimPrefix(pa.cmd, "perf "), pa.status(), d == "", d)
	pk = strings.TrimSpace(l.read("s23", "perf.kprobe_events"))
	gk = strings.TrimSpace(l.read("s23", "gperf.kprobe_events"))
	pv = checkValues(l.read("s23", "perf.perf.perf.script.out"), l.read("s23", "perf.perf.dmesg"), event, fields...)
	gv = checkValues(l.read("s23", "gperf.perf.perf.script.out"), l.read("s23", "gperf.perf.dmesg"), event, fields...)
	ok, detail = sameOrBetter(pk, gk, pv, gv)
	perfState = "right: " + pv.String()
	if !pv.ok() {
		perfState = "WRONG: " + pv.String()
	}
	l.add("2", "its kprobe definition: same as perf's where perf is right, correct where not", perfState, ok, detail)

	// Step 3: gperf's whole pipeline against printk.
	g3 := checkValues(l.read("s23", "gperf.gperf.gperf.script.out"), l.read("s23", "gperf.gperf.dmesg"), event, fields...)
	pr := l.result("s23", "gperf.gperf.record")
	detail = g3.String()
	if pr.rc != 0 {
		detail += "; gperf record: " + pr.status() + " " + firstLine(pr.err)
	}
	if gs := l.result("s23", "gperf.gperf.gperf.script"); gs.rc != 0 {
		detail += "; gperf script: " + gs.status() + " " + firstLine(gs.err)
	}
	l.add("3", "gperf probe+record+script: one sample per resource, refcount and name == module's printk",
		perfState, g3.ok(), detail)
	l.crossScripts("s23", "3", func(probes, rec, script string) (bool, string) {
		v := checkValues(script, l.read("s23", probes+"."+rec+".dmesg"), event, fields...)
		return v.samples == v.prints && v.prints > 0, v.String()
	})
	pd, gd := l.result("s23", "perf.del"), l.result("s23", "gperf.del")
	d = l.same("s23.del", pd, gd, true)
	l.add("3", "probe -d 'probe:*'", pd.status(), d == "", d)
	l.leaks("s23", "3")
}

// crossScripts checks, for each file a tool recorded, that perf and gperf
// print it the same: perf script on gperf's files equals gperf script on
// them, and gperf script on perf's files equals perf's own.
// complete says whether perf's script of a file the record tool wrote on the
// probe tool's probes holds every hit it should (so that two empty outputs
// never count as equal).
func (l *lab) crossScripts(step, label string, complete func(probes, rec, script string) (bool, string)) {
	for _, rec := range []string{"gperf", "perf"} {
		var fails []string
		anyRan := false
		for _, probes := range []string{"perf", "gperf"} {
			base := probes + "." + rec
			p, g := l.result(step, base+".perf.script"), l.result(step, base+".gperf.script")
			if a := l.result(step, probes+".add"); a.rc != 0 {
				// No probes to record: the probe check already fails.
				continue
			}
			if !l.result(step, base+".record").ran {
				continue // this combination is not recorded in this step
			}
			if l.result(step, base+".record").rc != 0 {
				fails = append(fails, fmt.Sprintf("%s record on %s's probes: %s", rec, probes,
					l.result(step, base+".record").status()))
				continue
			}
			anyRan = true
			if d := l.same(step+"."+base+".script", p, g, rec == "perf"); d != "" {
				fails = append(fails, fmt.Sprintf("on %s's probes: %s", probes, d))
			}
			if ok, why := complete(probes, rec, p.out); !ok {
				fails = append(fails, fmt.Sprintf("%s record on %s's probes misses hits: %s", rec, probes, why))
			}
		}
		check := "perf script on gperf's perf.data == gperf script on it"
		if rec == "perf" {
			check = "gperf script on perf's perf.data == perf script on it"
		}
		l.add(label, check, "-", anyRan && len(fails) == 0, strings.Join(fails, "; "))
	}
}

// ddReads checks that the script shows dd's reads of the test file: one
// vfs_read entry per return, and the returns' $retval are the read sizes.
func ddReads(script string, size, bs uint64) (bool, string) {
	var entries int
	var rets []uint64
	for _, line := range strings.Split(script, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "dd" {
			continue
		}
		switch {
		case strings.Contains(line, " probe:vfs_read: ("):
			entries++
		case strings.Contains(line, " probe:vfs_read__return: ("):
			v, ok := num(strings.TrimPrefix(f[len(f)-1], "arg1="))
			if !ok {
				return false, "bad $retval in: " + strings.TrimSpace(line)
			}
			rets = append(rets, v)
		}
	}
	var want []uint64
	for left := size; left > 0; {
		n := min(left, bs)
		want = append(want, n)
		left -= n
	}
	want = append(want, 0)
	got := fmt.Sprint(rets)
	if entries != len(want) || got != fmt.Sprint(want) {
		return false, fmt.Sprintf("dd: %d entries, returns %s; want %d, %v", entries, got, len(want), want)
	}
	return true, fmt.Sprintf("dd: %d reads, $retval %v", entries, want)
}

func (l *lab) step4() {
	if l.missing("s4", "4") {
		return
	}
	for _, n := range []string{"add", "addret"} {
		p, g := l.result("s4", "perf."+n), l.result("s4", "gperf."+n)
		d := l.same("s4."+n, p, g, true)
		l.add("4", strings.TrimPrefix(p.cmd, "perf "), p.status(), d == "", d)
	}
	pk, gk := l.read("s4", "perf.kprobe_events"), l.read("s4", "gperf.kprobe_events")
	d := l.diff("s4.kprobe_events", "perf", pk, "gperf", gk)
	l.add("4", "kprobe definitions identical to perf's", "-", d == "" && pk != "", d)
	p, g := l.result("s4", "perf.list"), l.result("s4", "gperf.list")
	d = l.same("s4.list", p, g, true)
	l.add("4", "probe -l", p.status(), d == "", d)

	size, _ := strconv.ParseUint(strings.TrimSpace(l.read("s4", "readme.size")), 10, 64)
	pok, pwhy := ddReads(l.read("s4", "perf.perf.perf.script.out"), size, 1000)
	gok, gwhy := ddReads(l.read("s4", "gperf.gperf.gperf.script.out"), size, 1000)
	perfState := "right: " + pwhy
	if !pok {
		perfState = "WRONG: " + pwhy
	}
	if r := l.result("s4", "gperf.gperf.record"); r.rc != 0 {
		gwhy += "; gperf record: " + r.status() + " " + firstLine(r.err)
	}
	l.add("4", "gperf record -a -e 'probe:*' -- dd: every read and $retval seen", perfState, gok, gwhy)
	l.crossScripts("s4", "4", func(_, _, script string) (bool, string) {
		return ddReads(script, size, 1000)
	})
	for _, n := range []string{"del", "add2", "delall"} {
		p, g := l.result("s4", "perf."+n), l.result("s4", "gperf."+n)
		d := l.same("s4."+n, p, g, true)
		l.add("4", strings.TrimPrefix(p.cmd, "perf "), p.status(), d == "", d)
	}
	gd := strings.TrimSpace(l.read("s4", "gperf.del.kprobes"))
	if a := l.result("s4", "gperf.add"); a.rc != 0 {
		gd = "nothing to remove: gperf probe -a vfs_read " + a.status()
	}
	l.add("4", "-d 'probe:*' removed every probe", "-", gd == "", gd)
	l.leaks("s4", "4")
}

func (l *lab) step5() {
	if l.missing("s5", "5") {
		return
	}
	if why := strings.TrimSpace(l.read("s5", "skipped")); why != "" {
		l.skip("5", "-k VMLINUX line and variable probes (optional)", why)
		return
	}
	for _, n := range []string{"V", "Vline", "add", "addline"} {
		p, g := l.result("s5", "perf."+n), l.result("s5", "gperf."+n)
		d := l.same("s5."+n, p, g, true)
		l.add("5", strings.TrimPrefix(p.cmd, "perf "), p.status(), d == "", d)
	}
	pk, gk := l.read("s5", "perf.kprobe_events"), l.read("s5", "gperf.kprobe_events")
	d := l.diff("s5.kprobe_events", "perf", pk, "gperf", gk)
	l.add("5", "kprobe definition identical to perf's", "-", d == "" && pk != "", d)
	count := func(script string) (bool, string) {
		n, bad := 0, 0
		for _, line := range strings.Split(script, "\n") {
			f := strings.Fields(line)
			if len(f) == 0 || f[0] != "dd" || !strings.Contains(line, " probe:vfs_read") {
				continue
			}
			n++
			if !strings.HasSuffix(line, "count=0x3e8") && !strings.HasSuffix(line, "count=1000") {
				bad++
			}
		}
		// 12 reads (10007 bytes, bs=1000) hit both probes.
		return n >= 24 && bad == 0, fmt.Sprintf("%d dd samples, %d with count != 1000", n, bad)
	}
	pok, pwhy := count(l.read("s5", "perf.script.out"))
	gok, gwhy := count(l.read("s5", "gperf.script.out"))
	perfState := "right: " + pwhy
	if !pok {
		perfState = "WRONG: " + pwhy
	}
	l.add("5", "record dd on both: every read seen, count == dd's bs", perfState, gok, gwhy)
	l.leaks("s5", "5")
}

func (l *lab) step6() {
	if l.missing("s6", "6") {
		return
	}
	reason := ""
	for _, line := range strings.Split(l.read("s6", "perf.error_log"), "\n") {
		if _, r, ok := strings.Cut(line, " error: "); ok {
			reason = strings.TrimSpace(r)
		}
	}
	// A refusal counts only when gperf accepts the valid input next to it
	// in the same guest (the control): an error from a missing feature is
	// not a clear error about bad input.
	lineProbe := l.result("s23", "gperf.add")
	kernelProbe := l.result("s4", "gperf.add")
	funcProbe := l.result("s6", "gperf.control")
	p, g := l.result("s6", "perf.control"), l.result("s6", "gperf.control")
	d := l.same("s6.control", p, g, true)
	l.add("6", "control: "+strings.TrimPrefix(p.cmd, "perf "), p.status(), d == "", d)
	cases := []struct {
		name, what, mention string
		control             result
	}{
		{"nomod", "unknown module", "no_such_module", funcProbe},
		{"nofunc", "function not in the module", "no_such_function", funcProbe},
		{"nocode", "line without code", "ldlm_res_hash_dump:" + l.env["NOCODE"], lineProbe},
		{"refused", "kernel refuses the definition: error_log reason shown", reason, kernelProbe},
	}
	for _, c := range cases {
		p, g := l.result("s6", "perf."+c.name), l.result("s6", "gperf."+c.name)
		var why []string
		if !c.control.ran || c.control.rc != 0 {
			why = append(why, fmt.Sprintf("the valid control %q fails too (%s)", c.control.cmd, c.control.status()))
		}
		switch {
		case !g.ran:
			why = append(why, "gperf did not run")
		case g.rc == 0:
			why = append(why, "gperf exited 0")
		case g.rc == 137:
			why = append(why, "gperf was killed (timeout)")
		}
		if strings.Contains(g.err, "panic:") || strings.Contains(g.err, "goroutine ") {
			why = append(why, "gperf panicked")
		}
		if c.mention == "" {
			why = append(why, "the kernel's error_log has no reason (lab problem)")
		} else if !strings.Contains(g.err, c.mention) {
			why = append(why, fmt.Sprintf("stderr does not mention %q", c.mention))
		}
		if c.name == "refused" && strings.TrimSpace(l.read("s6", "gperf.error_log")) == "" {
			why = append(why, "the kernel's error_log is empty after gperf")
		}
		perfState := p.status()
		if p.rc != 0 && !strings.Contains(p.err, c.mention) {
			perfState += ", unclear: " + firstLine(p.err)
		}
		detail := strings.Join(why, "; ")
		if g.ran {
			detail = strings.TrimLeft(detail+"; gperf said: "+firstLine(g.err), "; ")
		}
		l.add("6", c.what+": "+strings.TrimPrefix(p.cmd, "perf "), perfState, len(why) == 0, detail)
	}
	l.leaks("s6", "6")
}

// print writes the table and returns the exit status.
func (l *lab) print() int {
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	fmt.Fprintf(w, "\nkernel lab: gperf vs perf 6.1 in the guest (outputs: %s)\n\n", l.out)
	fmt.Fprintf(w, "%-4s %-6s %-14s %s\n", "STEP", "GPERF", "PERF", "CHECK")
	failed := 0
	per := map[string][2]int{}
	var order []string
	for _, r := range l.rows {
		perf, perfDetail := r.perf, ""
		if len(perf) > 14 {
			perf, perfDetail, _ = strings.Cut(perf, ": ")
			if len(perf) > 14 {
				perf, perfDetail = "see below", r.perf
			}
		}
		fmt.Fprintf(w, "%-4s %-6s %-14s %s\n", r.step, r.gperf, perf, r.check)
		if r.detail != "" && (r.gperf != "PASS" || strings.Contains(r.detail, "fixes perf")) {
			fmt.Fprintf(w, "%26s gperf: %s\n", "", r.detail)
		}
		if perfDetail != "" {
			fmt.Fprintf(w, "%26s perf: %s\n", "", perfDetail)
		}
		c, seen := per[r.step]
		if !seen {
			order = append(order, r.step)
		}
		c[1]++
		if r.gperf == "FAIL" {
			failed++
		} else {
			c[0]++
		}
		per[r.step] = c
	}
	fmt.Fprintf(w, "\nper step:")
	for _, s := range order {
		c := per[s]
		v := "PASS"
		if c[0] < c[1] {
			v = "FAIL"
		}
		if c[1] == 1 && l.rowsOf(s)[0].gperf == "SKIP" {
			v = "SKIP"
		}
		fmt.Fprintf(w, "  %s %s (%d/%d)", s, v, c[0], c[1])
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "guest time (s), perf/gperf:")
	for _, st := range []string{"s1", "s23", "s4", "s5", "s6"} {
		if t := l.times(st); t[0]+t[1] > 0 {
			fmt.Fprintf(w, "  %s %.1f/%.1f", strings.TrimPrefix(st, "s"), t[0], t[1])
		}
	}
	fmt.Fprintln(w)
	if failed > 0 {
		fmt.Fprintf(w, "kernel lab: %d check(s) FAILED (diffs in %s)\n", failed, l.diffs)
		return 1
	}
	fmt.Fprintln(w, "kernel lab: all checks passed")
	return 0
}

// times sums the guest's wall time of the commands perf and gperf ran in
// a step (the first word of each command line names the tool).
func (l *lab) times(step string) [2]float64 {
	var t [2]float64
	files, _ := filepath.Glob(filepath.Join(l.out, step, "*.time"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		sec, err := strconv.ParseFloat(strings.TrimSpace(string(b)), 64)
		if err != nil {
			continue
		}
		cmd := l.read(step, strings.TrimSuffix(filepath.Base(f), ".time")+".cmd")
		switch strings.SplitN(cmd, " ", 2)[0] {
		case "perf":
			t[0] += sec
		case "gperf":
			t[1] += sec
		}
	}
	return t
}

func (l *lab) rowsOf(step string) []row {
	var r []row
	for _, x := range l.rows {
		if x.step == step {
			r = append(r, x)
		}
	}
	return r
}

func clip(s string, n int) string {
	s = strings.ReplaceAll(strings.TrimSpace(s), "\n", " ")
	if len(s) > n {
		return s[:n-3] + "..."
	}
	return s
}
