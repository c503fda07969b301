package dwarfline

import (
	"debug/dwarf"
	"fmt"
	"path"
	"strings"
)

// Helpers over debug/dwarf entries with libdw's semantics, as perf's
// tools/perf/util/dwarf-aux.c uses them.

// entryAt decodes the DIE at off.
func (b *Binary) entryAt(off dwarf.Offset) (e *dwarf.Entry, err error) {
	defer recoverDWARF(&err)
	u := b.unitOf(off)
	if u == nil {
		return nil, fmt.Errorf("read DIE at %#x: outside any unit", off)
	}
	_, next, err := b.reader(u, off)
	if err != nil {
		return nil, err
	}
	e, err = next()
	if err != nil {
		return nil, fmt.Errorf("read DIE at %#x: %w", off, err)
	}
	if e == nil {
		return nil, fmt.Errorf("read DIE at %#x: no entry", off)
	}
	return e, nil
}

// children decodes the direct children of the DIE at off.
func (b *Binary) children(off dwarf.Offset) (kids []*dwarf.Entry, err error) {
	defer recoverDWARF(&err)
	u := b.unitOf(off)
	if u == nil {
		return nil, fmt.Errorf("read DIE at %#x: outside any unit", off)
	}
	r, next, err := b.reader(u, off)
	if err != nil {
		return nil, err
	}
	e, err := next()
	if err != nil || e == nil {
		return nil, fmt.Errorf("read DIE at %#x: %v", off, err)
	}
	if !e.Children {
		return nil, nil
	}
	for {
		c, err := next()
		if err != nil {
			return kids, fmt.Errorf("read children of DIE at %#x: %w", off, err)
		}
		if c == nil || c.Tag == 0 {
			return kids, nil
		}
		kids = append(kids, c)
		if c.Children {
			r.SkipChildren()
		}
	}
}

// node is a decoded DIE subtree.
type node struct {
	e    *dwarf.Entry
	kids []*node
}

// tree decodes the DIE at off with all its descendants.
func (b *Binary) tree(off dwarf.Offset) (n *node, err error) {
	defer recoverDWARF(&err)
	u := b.unitOf(off)
	if u == nil {
		return nil, fmt.Errorf("read DIE at %#x: outside any unit", off)
	}
	_, next, err := b.reader(u, off)
	if err != nil {
		return nil, err
	}
	e, err := next()
	if err != nil || e == nil {
		return nil, fmt.Errorf("read DIE at %#x: %v", off, err)
	}
	root := &node{e: e}
	if !e.Children {
		return root, nil
	}
	stack := []*node{root}
	for len(stack) > 0 {
		c, err := next()
		if err != nil {
			return nil, fmt.Errorf("read DIE tree at %#x: %w", off, err)
		}
		if c == nil {
			break
		}
		if c.Tag == 0 {
			stack = stack[:len(stack)-1]
			continue
		}
		nn := &node{e: c}
		top := stack[len(stack)-1]
		top.kids = append(top.kids, nn)
		if c.Children {
			stack = append(stack, nn)
		}
	}
	return root, nil
}

// Actions for findChild callbacks (perf's DIE_FIND_CB_*).
const (
	cbEnd      = 0
	cbChild    = 1
	cbSibling  = 2
	cbContinue = cbChild | cbSibling
)

// findChild is perf's die_find_child over a decoded tree.
func findChild(n *node, cb func(*node) int) *node {
	for _, c := range n.kids {
		ret := cb(c)
		if ret == cbEnd {
			return c
		}
		if ret&cbChild != 0 {
			if f := findChild(c, cb); f != nil {
				return f
			}
		}
		if ret&cbSibling == 0 {
			return nil
		}
	}
	return nil
}

// attrRef returns a reference attribute.
func attrRef(e *dwarf.Entry, a dwarf.Attr) (dwarf.Offset, bool) {
	v, ok := e.Val(a).(dwarf.Offset)
	return v, ok
}

func attrInt(e *dwarf.Entry, a dwarf.Attr) (int64, bool) {
	switch v := e.Val(a).(type) {
	case int64:
		return v, true
	case uint64:
		return int64(v), true
	}
	return 0, false
}

// integrate returns attribute a of e, following DW_AT_abstract_origin and
// DW_AT_specification like libdw's dwarf_attr_integrate.
func (b *Binary) integrate(e *dwarf.Entry, a dwarf.Attr) (*dwarf.Field, *dwarf.Entry) {
	for i := 0; i < 8 && e != nil; i++ {
		if f := e.AttrField(a); f != nil {
			return f, e
		}
		ref, ok := attrRef(e, dwarf.AttrAbstractOrigin)
		if !ok {
			ref, ok = attrRef(e, dwarf.AttrSpecification)
		}
		if !ok {
			return nil, nil
		}
		ne, err := b.entryAt(ref)
		if err != nil {
			return nil, nil
		}
		e = ne
	}
	return nil, nil
}

// name is libdw's dwarf_diename (integrated).
func (b *Binary) name(e *dwarf.Entry) string {
	f, _ := b.integrate(e, dwarf.AttrName)
	if f == nil {
		return ""
	}
	s, _ := f.Val.(string)
	return s
}

// declLine is dwarf_decl_line.
func (b *Binary) declLine(e *dwarf.Entry) (int, bool) {
	f, _ := b.integrate(e, dwarf.AttrDeclLine)
	if f == nil {
		return 0, false
	}
	switch v := f.Val.(type) {
	case int64:
		return int(v), true
	case uint64:
		return int(v), true
	}
	return 0, false
}

// declFile is dwarf_decl_file: the full path of the declaring file.
func (b *Binary) declFile(u *unit, e *dwarf.Entry) string {
	f, _ := b.integrate(e, dwarf.AttrDeclFile)
	if f == nil {
		return ""
	}
	idx, ok := f.Val.(int64)
	if !ok {
		return ""
	}
	if b.loadLines(u) != nil {
		return ""
	}
	return u.fileName(int32(idx))
}

// callFile is die_get_call_file.
func (b *Binary) callFile(u *unit, e *dwarf.Entry) string {
	idx, ok := attrInt(e, dwarf.AttrCallFile)
	if !ok || b.loadLines(u) != nil {
		return ""
	}
	return u.fileName(int32(idx))
}

func callLine(e *dwarf.Entry) int {
	v, ok := attrInt(e, dwarf.AttrCallLine)
	if !ok {
		return -1
	}
	return int(v)
}

// entryPC is libdw's dwarf_entrypc: DW_AT_entry_pc, else DW_AT_low_pc.
func entryPC(e *dwarf.Entry) (uint64, bool) {
	if v, ok := e.Val(dwarf.AttrEntrypc).(uint64); ok {
		return v, true
	}
	if v, ok := e.Val(dwarf.AttrLowpc).(uint64); ok {
		return v, true
	}
	return 0, false
}

// dieEntryPC is perf's die_entrypc: dwarf_entrypc, else the start of the
// first range.
func (b *Binary) dieEntryPC(e *dwarf.Entry) (uint64, bool) {
	if v, ok := entryPC(e); ok {
		return v, true
	}
	if e.AttrField(dwarf.AttrRanges) == nil {
		return 0, false
	}
	rs := b.ranges(e)
	if len(rs) == 0 {
		return 0, false
	}
	return rs[0][0], true
}

// ranges is dwarf_ranges over the whole DIE.
func (b *Binary) ranges(e *dwarf.Entry) (rs [][2]uint64) {
	defer func() {
		if recover() != nil {
			rs = nil
		}
	}()
	u := b.unitOf(e.Offset)
	if u == nil || b.open(u) != nil {
		return nil
	}
	c := *e
	c.Offset -= dwarf.Offset(u.start)
	rs, err := u.data.Ranges(&c)
	if err != nil {
		return nil
	}
	return rs
}

// hasPC is dwarf_haspc.
func (b *Binary) hasPC(e *dwarf.Entry, pc uint64) bool {
	for _, r := range b.ranges(e) {
		if pc >= r[0] && pc < r[1] {
			return true
		}
	}
	return false
}

// highPC is dwarf_highpc.
func highPC(e *dwarf.Entry) (uint64, bool) {
	f := e.AttrField(dwarf.AttrHighpc)
	if f == nil {
		return 0, false
	}
	switch f.Class {
	case dwarf.ClassAddress:
		v, ok := f.Val.(uint64)
		return v, ok
	case dwarf.ClassConstant:
		lo, ok := e.Val(dwarf.AttrLowpc).(uint64)
		if !ok {
			return 0, false
		}
		switch v := f.Val.(type) {
		case int64:
			return lo + uint64(v), true
		case uint64:
			return lo + v, true
		}
	}
	return 0, false
}

// isFuncDef is die_is_func_def.
func isFuncDef(e *dwarf.Entry) bool {
	return e.Tag == dwarf.TagSubprogram && e.AttrField(dwarf.AttrDeclaration) == nil
}

// funcInline is dwarf_func_inline.
func funcInline(e *dwarf.Entry) bool {
	v, ok := attrInt(e, dwarf.AttrInline)
	return ok && (v == 1 || v == 3)
}

// isFuncInstance is die_is_func_instance.
func isFuncInstance(e *dwarf.Entry) bool {
	if funcInline(e) {
		return false
	}
	if _, ok := entryPC(e); ok {
		return true
	}
	return e.AttrField(dwarf.AttrRanges) != nil
}

// strtailcmp is perf's: compare two paths from their tails, so that
// "ldlm.c" matches "/tmp/x/ldlm.c".
func strtailcmp(s1, s2 string) bool {
	i, j := len(s1)-1, len(s2)-1
	for i >= 0 && j >= 0 {
		if s1[i] != s2[j] {
			return false
		}
		i--
		j--
	}
	return true
}

// globMatch is perf's strglobmatch (*, ?, [...] and \ escapes).
func globMatch(name, glob string) bool {
	if !strings.ContainsAny(glob, "*?[\\") {
		return name == glob
	}
	ok, err := path.Match(glob, name)
	if err != nil {
		return name == glob
	}
	return ok
}

// isGlob is perf's strisglob.
func isGlob(s string) bool { return strings.ContainsAny(s, "*?[") }
