package dwarfline

import (
	"debug/dwarf"
	"errors"
	"fmt"
	"sort"
)

// ErrNoLocation is returned (wrapped) for a variable that exists but has
// no location at the probe address (optimized out).
var ErrNoLocation = errors.New("no location at this address")

// PointSpec is a probe point to resolve (perf's struct perf_probe_point,
// plus the flags that change how perf resolves it).
type PointSpec struct {
	Function string // function name or glob; "" for SRC:LINE
	File     string // FUNC@SRC, or the SRC of SRC:LINE (matched by tail)
	Line     int    // relative to the function (FUNC:RLN), or absolute (SRC:ALN)
	Offset   uint64 // FUNC+OFFS
	Return   bool   // FUNC%return
	Lazy     string // FUNC;PTN (not supported yet)

	NoInlines bool // --no-inlines
	// Uprobe marks a user-space target: perf skips the prologue of a
	// function built without optimization when the probe has variable
	// arguments (WithVars).
	Uprobe   bool
	WithVars bool
	// MaxProbes bounds the number of probe addresses (perf's
	// --max-probes, default 128).
	MaxProbes int
}

// Probe is one resolved probe address (perf's struct probe_trace_point
// plus the DWARF context of its arguments).
type Probe struct {
	Addr     uint64 // address in the binary (section-relative in a .ko)
	Symbol   string // function the offset is relative to
	Offset   uint64 // Addr - entry of Symbol
	Return   bool
	Realname string // name of the scope: the function or inlined function
	// SkippedPrologue is set when perf's rule moved the probe past the
	// prologue; EntryAddr is the function entry it started from (perf
	// prints "Probe on address 0x%x to force probing at the function
	// entry.").
	SkippedPrologue bool
	EntryAddr       uint64

	u      *unit
	sp     *dwarf.Entry // the real (out-of-line) function
	sc     *dwarf.Entry // the scope: function or inlined instance
	fb     *term        // frame base at Addr, nil when none
	fbErr  error
	fbPerf bool // perf has a frame base although gperf cannot use it
	scTree *node
}

// CompDir is the compilation directory of the unit holding the probe.
func (p *Probe) CompDir() string { return p.u.compDir }

// Resolve finds the probe addresses of a point with perf's rules
// (debuginfo__find_probe_location in tools/perf/util/probe-finder.c): all
// compilation units, static functions of the same name in several units,
// inlined instances, lines of functions and files. It fails with an error
// wrapping ErrNotFound when nothing matches.
func (b *Binary) Resolve(spec PointSpec) ([]*Probe, error) {
	us, err := b.getUnits()
	if err != nil {
		return nil, err
	}
	if spec.Lazy != "" {
		return nil, fmt.Errorf("resolve lazy line pattern %q: %w", spec.Lazy, ErrNotSupported)
	}
	r := &resolver{b: b, spec: spec, max: spec.MaxProbes}
	if r.max <= 0 {
		r.max = 128
	}
	perUnit := func(u *unit) (bool, error) {
		fname := ""
		if spec.File != "" {
			if fname = b.unitHasFile(u, spec.File); fname == "" {
				return false, nil
			}
		}
		r.u = u
		if spec.Function != "" {
			return false, r.byFunc(u)
		}
		return false, r.byLine(u, spec.Line, fname)
	}
	if spec.Function != "" {
		// Units are skimmed ahead in batches, and the walk stops at
		// the first error (too many probes), as perf's does.
		err = b.eachCandidate(spec.Function, perUnit)
	} else {
		for _, u := range us {
			if _, err = perUnit(u); err != nil {
				break
			}
		}
	}
	if err != nil {
		return nil, err
	}
	if len(r.out) == 0 {
		what := spec.Function
		if what == "" {
			what = fmt.Sprintf("%s:%d", spec.File, spec.Line)
		}
		return nil, fmt.Errorf("probe point %s: %w", what, ErrNotFound)
	}
	return r.out, nil
}

type resolver struct {
	b    *Binary
	spec PointSpec
	u    *unit
	out  []*Probe
	max  int
	lno  int
	// function name and declaring file used by find_best_scope
	fname string
}

func (r *resolver) byFunc(u *unit) error {
	b, spec := r.b, r.spec
	glob := isGlob(spec.Function)
	return b.cuFuncsMatching(u, spec.Function, func(e *dwarf.Entry) (bool, error) {
		if !isFuncDef(e) || !b.matchName(e, spec.Function) {
			return true, nil
		}
		if spec.File != "" && !strtailcmp(spec.File, b.declFile(u, e)) {
			return true, nil
		}
		var err error
		switch {
		case spec.Line != 0:
			decl, _ := b.declLine(e)
			err = r.byLine(u, decl+spec.Line, b.declFile(u, e))
		case isFuncInstance(e):
			addr, _ := b.dieEntryPC(e)
			if addr == 0 {
				break
			}
			entry := addr
			skipped := false
			if r.skipPrologue(u) {
				addr, skipped = b.skipPrologue(u, e, addr)
			}
			err = r.add(e, addr+spec.Offset, func(p *Probe) {
				p.SkippedPrologue, p.EntryAddr = skipped, entry
			})
		case !spec.NoInlines:
			err = b.walkInstances(u, e, func(in *dwarf.Entry) error {
				addr, ok := b.dieEntryPC(in)
				if !ok {
					return fmt.Errorf("entry address of %s: %w", b.name(in), ErrNotFound)
				}
				if addr == 0 {
					return nil
				}
				return r.add(in, addr+spec.Offset, nil)
			})
		}
		if err != nil {
			return false, err
		}
		return glob, nil
	})
}

// skipPrologue reports whether perf's skip_prologue applies.
func (r *resolver) skipPrologue(u *unit) bool {
	s := r.spec
	if !s.Uprobe || !s.WithVars || s.Line != 0 || s.Return || s.Lazy != "" || s.Offset != 0 {
		return false
	}
	return !r.b.optimizedUnit(u)
}

// byLine is find_probe_point_by_line: every address of the line in the
// unit, each in its best scope.
func (r *resolver) byLine(u *unit, line int, fname string) error {
	b := r.b
	r.lno, r.fname = line, fname
	return b.walkUnitLines(u, func(f string, l int, addr uint64) error {
		if l != line || !strtailcmp(f, fname) {
			return nil
		}
		if err := r.verifyLine(u, f, l, addr); err != nil {
			return err
		}
		sc := r.bestScope(u, addr)
		if sc == nil {
			return fmt.Errorf("search offset %s:%d: %w", f, l, ErrNotFound)
		}
		return r.add(sc, addr, nil)
	})
}

// ErrTooMany is returned (wrapped) when a point resolves to more probe
// addresses than PointSpec.MaxProbes.
var ErrTooMany = errors.New("too many probe points")

// TooManyError is perf's "Too many( > N) probe point found.".
type TooManyError struct{ Max int }

func (e *TooManyError) Error() string {
	return fmt.Sprintf("resolve probe point: more than %d probe points", e.Max)
}

// Perf is perf's warning text.
func (e *TooManyError) Perf() string {
	return fmt.Sprintf("Too many( > %d) probe point found.\n", e.Max)
}

func (e *TooManyError) Unwrap() error { return ErrTooMany }

// SharedLineError is perf's verify_representive_line failure: the line's
// address belongs to another line.
type SharedLineError struct {
	File string // the line asked for
	Line int
	// Suggest is where perf suggests to probe instead: FUNC:RLN or
	// FILE:ALN.
	Suggest string
}

func (e *SharedLineError) Error() string {
	return fmt.Sprintf("probe line %s:%d: the line shares its address with other lines, try %s", e.File, e.Line, e.Suggest)
}

// Perf is perf's warning text.
func (e *SharedLineError) Perf() string {
	return "This line is sharing the address with other lines.\nPlease try to probe at " + e.Suggest + " instead.\n"
}

func (e *SharedLineError) Unwrap() error { return ErrNotFound }

func (r *resolver) verifyLine(u *unit, fname string, line int, addr uint64) error {
	b := r.b
	rf, rl, ok := b.lineInfo(u, addr)
	if !ok || rf != fname || rl == line {
		return nil
	}
	sug := fmt.Sprintf("%s:%d", rf, rl)
	if r.spec.Function != "" {
		if sc := r.bestScope(u, addr); sc != nil && b.matchName(sc, r.spec.Function) {
			if dl, ok := b.declLine(sc); ok {
				sug = fmt.Sprintf("%s:%d", b.name(sc), rl-dl)
			}
		}
	}
	return &SharedLineError{File: fname, Line: line, Suggest: sug}
}

// bestScope is perf's find_best_scope.
func (r *resolver) bestScope(u *unit, addr uint64) *dwarf.Entry {
	b := r.b
	var found *dwarf.Entry
	diff := int(^uint(0) >> 1)
	b.walkFunctionsAt(u, addr, func(e *dwarf.Entry) bool {
		if r.fname != "" {
			if f := b.declFile(u, e); f == "" || f != r.fname {
				return false
			}
		}
		if r.spec.Function != "" {
			if b.matchName(e, r.spec.Function) {
				found = e
				return true
			}
			return false
		}
		l, _ := b.declLine(e)
		if l < r.lno && diff > r.lno-l {
			diff = r.lno - l
			found = e
		}
		return false
	})
	if found == nil {
		b.walkFunctionsAt(u, addr, func(e *dwarf.Entry) bool {
			found = e
			return true
		})
	}
	return found
}

// walkFunctionsAt is cu_walk_functions_at: the real function at addr, then
// each inlined function containing addr, outermost first.
func (b *Binary) walkFunctionsAt(u *unit, addr uint64, fn func(*dwarf.Entry) bool) {
	sp := b.realFunc(u, addr)
	if sp == nil {
		return
	}
	if fn(sp) {
		return
	}
	t, err := b.tree(sp.Offset)
	if err != nil {
		return
	}
	ix := &inlineIndex{b: b, root: t, memo: map[*node][][2]uint64{}}
	for n := ix.top(t, addr); n != nil; n = ix.top(n, addr) {
		if fn(n.e) {
			return
		}
	}
}

// add is call_probe_finder + convert_to_trace_point.
func (r *resolver) add(sc *dwarf.Entry, addr uint64, set func(*Probe)) error {
	b, u := r.b, r.u
	for _, p := range r.out {
		if p.Addr == addr && p.u == u {
			return nil
		}
	}
	sp := sc
	if !isFuncDef(sc) {
		sp = b.realFunc(u, addr)
		if sp == nil {
			if b.tailFunc(u, addr) != nil {
				return nil // perf: "Ignoring tail call from ..."
			}
			return fmt.Errorf("find probe point at %#x in any functions: %w", addr, ErrNotFound)
		}
	}
	p := &Probe{Addr: addr, Return: r.spec.Return, Realname: b.name(sc), u: u, sp: sp, sc: sc}
	if !b.hasPC(sp, addr) {
		return fmt.Errorf("specified offset is out of %s: %w", b.name(sp), ErrInvalid)
	}
	eaddr, ok := entryPC(sp)
	if ok {
		p.Symbol = b.name(sp)
	} else if s, ok := b.SymbolAt(addr); ok {
		p.Symbol, eaddr = s.Name, s.Value
	} else {
		return fmt.Errorf("find symbol at %#x: %w", addr, ErrNotFound)
	}
	p.Offset = addr - eaddr
	if r.spec.Return && eaddr != addr {
		return fmt.Errorf("%s%%return: %s is an inlined function and has no return point: %w", r.spec.Function, r.spec.Function, ErrInvalid)
	}
	if err := b.frameBase(p); err != nil {
		return err
	}
	if set != nil {
		set(p)
	}
	if len(r.out) >= r.max {
		return &TooManyError{Max: r.max}
	}
	r.out = append(r.out, p)
	return nil
}

// tailFunc is die_find_tailfunc: a function whose high pc is addr.
func (b *Binary) tailFunc(u *unit, addr uint64) *dwarf.Entry {
	for _, f := range b.realFuncs(u) {
		if h, ok := highPC(f.e); ok && h == addr {
			return f.e
		}
	}
	return nil
}

// frameBase evaluates the real function's DW_AT_frame_base at the probe
// address; like perf, a CFA that cannot be found fails the probe.
func (b *Binary) frameBase(p *Probe) error {
	f := p.sp.AttrField(dwarf.AttrFrameBase)
	if f == nil {
		return nil
	}
	expr, ok, err := b.locExpr(p.u, f, p.Addr)
	if err != nil || !ok || len(expr) == 0 {
		return nil
	}
	x := &exprCtx{b: b, u: p.u, pc: p.Addr}
	pl, err := x.eval(expr)
	if err != nil {
		var ce *cfaExprError
		switch {
		case errors.As(err, &ce):
			// perf uses the CFA expression's first operation.
			p.fbPerf = perfAccepts(ce.expr, false, b)
		case len(expr) == 1 && expr[0] == 0x9c && b.hasCFI():
			return fmt.Errorf("get call frame on %#x: %w", p.Addr, err)
		}
		p.fbErr = err
		return nil
	}
	p.fb = pl.t
	return nil
}

// optimizedUnit is die_is_optimized_target: some variable of the unit has
// a location list.
func (b *Binary) optimizedUnit(u *unit) bool {
	t, err := b.tree(u.off)
	if err != nil {
		return true
	}
	var walk func(n *node) bool
	walk = func(n *node) bool {
		if n.e.Tag == dwarf.TagFormalParameter || n.e.Tag == dwarf.TagVariable {
			if f := n.e.AttrField(dwarf.AttrLocation); f != nil && (f.Class == dwarf.ClassLocListPtr || f.Class == dwarf.ClassLocList) {
				return true
			}
		}
		for _, k := range n.kids {
			if walk(k) {
				return true
			}
		}
		return false
	}
	return walk(t)
}

// skipPrologue is die_skip_prologue: the address of the next line after
// the function's entry row.
func (b *Binary) skipPrologue(u *unit, sp *dwarf.Entry, entry uint64) (uint64, bool) {
	high, ok := highPC(sp)
	if !ok || b.loadLines(u) != nil {
		return entry, false
	}
	rows := u.lines
	idx := -1
	for i, r := range rows {
		if r.addr == entry {
			idx = i
			break
		}
	}
	if idx < 0 {
		return entry, false
	}
	entryLine := rows[idx].line
	i := idx
	for ; i < len(rows); i++ {
		r := rows[i]
		if r.addr >= high {
			break
		}
		if r.line != entryLine {
			break
		}
		if i != idx {
			break
		}
	}
	if i >= len(rows) {
		i = len(rows) - 1
	}
	addr := rows[i].addr
	if addr >= high && i > 0 {
		addr = rows[i-1].addr
	}
	return addr, true
}

// scope returns the decoded subtree of the probe's scope.
func (b *Binary) scope(p *Probe) (*node, error) {
	if p.scTree == nil {
		t, err := b.tree(p.sc.Offset)
		if err != nil {
			return nil, err
		}
		p.scTree = t
	}
	return p.scTree, nil
}

// Var is a variable visible at a probe, as `perf probe -V` lists it.
type Var struct {
	Type string // perf's type name, "(unknown_type)" when it has none
	Name string
}

// Vars lists the parameters and local variables perf can fetch at the
// probe (collect_variables_cb), and with externs the unit's global
// variables, sorted and unique as perf prints them.
func (b *Binary) Vars(p *Probe, externs bool) ([]Var, error) {
	t, err := b.scope(p)
	if err != nil {
		return nil, err
	}
	set := map[string]Var{}
	add := func(e *dwarf.Entry) {
		if e.Tag != dwarf.TagFormalParameter && e.Tag != dwarf.TagVariable {
			return
		}
		if !b.perfCanFetch(p, e) {
			return
		}
		tn, ok := b.typeName(e)
		if !ok {
			tn = "(unknown_type)"
		}
		v := Var{Type: tn, Name: b.name(e)}
		set[v.Type+"\t"+v.Name] = v
	}
	findChild(t, func(n *node) int {
		add(n.e)
		if b.hasPC(n.e, p.Addr) {
			return cbContinue
		}
		return cbSibling
	})
	if externs {
		kids, err := b.children(p.u.off)
		if err != nil {
			return nil, err
		}
		for _, k := range kids {
			add(k)
		}
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]Var, len(keys))
	for i, k := range keys {
		out[i] = set[k]
	}
	return out, nil
}

// ScopeVars returns the names of the parameters (and with locals, the
// local variables) fetchable at the probe, in DWARF order: perf's
// expansion of $params and $vars.
func (b *Binary) ScopeVars(p *Probe, locals bool) ([]string, error) {
	t, err := b.scope(p)
	if err != nil {
		return nil, err
	}
	var out []string
	findChild(t, func(n *node) int {
		e := n.e
		if e.Tag == dwarf.TagFormalParameter || (e.Tag == dwarf.TagVariable && locals) {
			if b.perfCanFetch(p, e) {
				out = append(out, b.name(e))
			}
		}
		if b.hasPC(e, p.Addr) {
			return cbContinue
		}
		return cbSibling
	})
	return out, nil
}

// varExpr finds the location expression of a variable at the probe, with
// perf's search of later addresses for a parameter at the function entry.
func (b *Binary) varExpr(p *Probe, v *dwarf.Entry) ([]byte, bool, error) {
	f := v.AttrField(dwarf.AttrLocation)
	if f == nil {
		return nil, false, nil
	}
	expr, ok, err := b.locExpr(p.u, f, p.Addr)
	if err != nil || ok {
		return expr, ok, err
	}
	entry, ok := entryPC(p.sp)
	if !ok || p.Addr != entry || v.Tag != dwarf.TagFormalParameter {
		return nil, false, nil
	}
	high, ok := highPC(p.sp)
	if !ok {
		return nil, false, nil
	}
	for a := p.Addr + 1; a <= high; a++ {
		expr, ok, err := b.locExpr(p.u, f, a)
		if err != nil {
			return nil, false, err
		}
		if ok {
			return expr, true, nil
		}
	}
	return nil, false, nil
}

// perfCanFetch is convert_variable_location(..., NULL) == 0.
func (b *Binary) perfCanFetch(p *Probe, v *dwarf.Entry) bool {
	if v.AttrField(dwarf.AttrExternal) != nil {
		return true
	}
	if v.AttrField(dwarf.AttrConstValue) != nil {
		// perf writes it as an immediate (where tracefs takes them:
		// every kernel gperf supports).
		return true
	}
	expr, ok, err := b.varExpr(p, v)
	if err != nil || !ok || len(expr) == 0 {
		return false
	}
	return perfAccepts(expr, p.fb != nil || p.fbPerf, b)
}
