package dwarfline

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// A skimmer reads the top level of compilation units without building
// entries: tag, name and sibling of each DIE, from the abbreviation tables,
// skipping every other attribute by its form. It finds the units that
// define a function of a given name several times faster than a full
// decode, which is what makes looking up one function in a vmlinux cheap;
// the units it selects are then decoded normally.

var errSkim = errors.New("malformed DWARF")

type abbrevAttr struct {
	attr, form uint64
}

type abbrev struct {
	tag      uint64
	children bool
	attrs    []abbrevAttr
}

type skimmer struct {
	b       *Binary
	info    []byte
	abbrevs []byte
	str     []byte
	lineStr []byte
	order   binary.ByteOrder

	// infoOff is the file offset of .debug_info when info is a slice of
	// the mapping: the pages of a unit are released after its scan, so a
	// full scan of a vmlinux keeps a bounded resident set.
	infoOff int
	mapped  bool

	mu     sync.Mutex
	tables map[uint64]abbrevTable
}

func (b *Binary) newSkimmer() *skimmer {
	s := &skimmer{b: b, order: b.order, tables: map[uint64]abbrevTable{}}
	get := func(n string) []byte {
		if b.relSects != nil {
			return b.relSects[n]
		}
		d, _ := b.section(n)
		return d
	}
	s.info, s.abbrevs, s.str, s.lineStr = get(".debug_info"), get(".debug_abbrev"), get(".debug_str"), get(".debug_line_str")
	if sec := b.elf.Section(".debug_info"); sec != nil && b.relSects == nil && b.mm != nil && len(s.info) > 0 &&
		sec.Offset+uint64(len(s.info)) <= uint64(len(b.mm)) && &b.mm[sec.Offset] == &s.info[0] {
		s.infoOff, s.mapped = int(sec.Offset), true
		// No fault-around or read-ahead: the skimmer jumps over
		// children, and pages it does not read need not be resident.
		ps := os.Getpagesize()
		start := s.infoOff / ps * ps
		end := (s.infoOff + len(s.info) + ps - 1) / ps * ps
		if end > len(b.mm) {
			end = len(b.mm)
		}
		unix.Madvise(b.mm[start:end], unix.MADV_RANDOM)
	}
	return s
}

// abbrevTable maps abbreviation codes (dense from 1 in practice) to
// abbreviations.
type abbrevTable struct {
	dense  []*abbrev
	sparse map[uint64]*abbrev
}

func (t abbrevTable) get(code uint64) (*abbrev, bool) {
	if code < uint64(len(t.dense)) {
		a := t.dense[code]
		return a, a != nil
	}
	a, ok := t.sparse[code]
	return a, ok
}

func (s *skimmer) table(off uint64) (abbrevTable, error) {
	s.mu.Lock()
	t, ok := s.tables[off]
	s.mu.Unlock()
	if ok {
		return t, nil
	}
	if off >= uint64(len(s.abbrevs)) {
		return t, fmt.Errorf("abbreviation table at %#x: %w", off, errSkim)
	}
	// One pass into two slabs (abbreviations and their attributes), then
	// the index: a vmlinux has thousands of tables, and an allocation per
	// abbreviation and growing attribute lists showed in its scans.
	type ent struct {
		code   uint64
		a      abbrev
		lo, hi int
	}
	c := cursor{d: s.abbrevs, i: int(off)}
	ents := make([]ent, 0, 128)
	attrs := make([]abbrevAttr, 0, 1024)
	var maxDense uint64
	for {
		code := c.uleb()
		if code == 0 || c.bad {
			break
		}
		e := ent{code: code, a: abbrev{tag: c.uleb(), children: c.u8() != 0}, lo: len(attrs)}
		for !c.bad {
			at, fm := c.uleb(), c.uleb()
			if at == 0 && fm == 0 {
				break
			}
			if fm == 0x21 { // DW_FORM_implicit_const
				c.sleb()
			}
			attrs = append(attrs, abbrevAttr{at, fm})
		}
		e.hi = len(attrs)
		if code < 1<<16 && code > maxDense {
			maxDense = code
		}
		ents = append(ents, e)
	}
	slab := make([]abbrev, len(ents))
	if len(ents) > 0 {
		t.dense = make([]*abbrev, maxDense+1)
	}
	for i := range ents {
		e := &ents[i]
		a := &slab[i]
		*a = e.a
		if e.hi > e.lo {
			a.attrs = attrs[e.lo:e.hi:e.hi]
		}
		if e.code < 1<<16 {
			t.dense[e.code] = a
		} else {
			if t.sparse == nil {
				t.sparse = map[uint64]*abbrev{}
			}
			t.sparse[e.code] = a
		}
	}
	if c.bad {
		return t, fmt.Errorf("abbreviation table at %#x: %w", off, errSkim)
	}
	s.mu.Lock()
	if len(s.tables) > 64 {
		// Units usually have tables of their own: keep few.
		clear(s.tables)
	}
	s.tables[off] = t
	s.mu.Unlock()
	return t, nil
}

// cursor is a bounds-checked reader; bad sticks.
type cursor struct {
	d   []byte
	i   int
	bad bool
}

func (c *cursor) need(n int) bool {
	if c.bad || n < 0 || c.i+n > len(c.d) || c.i+n < c.i {
		c.bad = true
		return false
	}
	return true
}

func (c *cursor) u8() byte {
	if !c.need(1) {
		return 0
	}
	c.i++
	return c.d[c.i-1]
}

func (c *cursor) skip(n int) {
	if c.need(n) {
		c.i += n
	}
}

func (c *cursor) uleb() uint64 {
	var v uint64
	var sh uint
	for {
		b := c.u8()
		if c.bad {
			return 0
		}
		if sh < 64 {
			v |= uint64(b&0x7f) << sh
		}
		sh += 7
		if b&0x80 == 0 {
			return v
		}
	}
}

func (c *cursor) sleb() int64 {
	v, n := sleb(c.d[min(c.i, len(c.d)):])
	if n == 0 {
		c.bad = true
		return 0
	}
	c.i += n
	return v
}

func (c *cursor) uint(order binary.ByteOrder, n int) uint64 {
	if !c.need(n) {
		return 0
	}
	b := c.d[c.i : c.i+n]
	c.i += n
	switch n {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(order.Uint16(b))
	case 4:
		return uint64(order.Uint32(b))
	case 8:
		return order.Uint64(b)
	}
	return 0
}

func cstring(d []byte, off uint64) []byte {
	if off >= uint64(len(d)) {
		return nil
	}
	if i := bytes.IndexByte(d[off:], 0); i >= 0 {
		return d[off : off+uint64(i)]
	}
	return d[off:]
}

// unitHeader is what the skimmer needs of a unit header.
type unitHeader struct {
	start, end int // the unit, header included
	dies       int // first DIE
	version    int
	unitType   int // DWARF 5 unit type
	offSize    int
	addrSize   int
	abbrevOff  uint64
}

func (s *skimmer) header(off int) (unitHeader, error) {
	c := cursor{d: s.info, i: off}
	h := unitHeader{start: off, offSize: 4}
	l := c.uint(s.order, 4)
	if l == 0xffffffff {
		l = c.uint(s.order, 8)
		h.offSize = 8
	}
	h.end = c.i + int(l)
	if l > uint64(len(s.info)) || h.end > len(s.info) || h.end < c.i {
		return h, fmt.Errorf("unit at %#x: %w", off, errSkim)
	}
	h.version = int(c.uint(s.order, 2))
	if h.version >= 5 {
		ut := c.u8()
		h.unitType = int(ut)
		h.addrSize = int(c.u8())
		h.abbrevOff = c.uint(s.order, h.offSize)
		switch ut {
		case 2, 6: // type units
			c.skip(8 + h.offSize)
		case 4, 5: // skeleton, split
			c.skip(8)
		}
	} else {
		h.abbrevOff = c.uint(s.order, h.offSize)
		h.addrSize = int(c.u8())
	}
	h.dies = c.i
	if c.bad {
		return h, fmt.Errorf("unit at %#x: %w", off, errSkim)
	}
	return h, nil
}

// skimDIE reads the DIE at c: tag, children flag, name, sibling (absolute),
// and the unit-relative target of DW_AT_abstract_origin/specification
// (-1 when none or not unit-relative). code 0 is a null entry.
type skimmed struct {
	code     uint64
	tag      uint64
	children bool
	name     []byte
	hasName  bool
	sibling  int
	origin   int
	refAddr  bool // origin/specification in another unit
	lname    []byte
	// unknownName: the name is in a form the skimmer does not resolve
	// (strx), so the unit must be decoded to know.
	unknownName bool
}

func (d *skimmed) setName(attr uint64, n []byte) {
	if attr == 0x03 {
		d.name, d.hasName = n, true
	} else {
		d.lname = n
	}
}

func (s *skimmer) die(c *cursor, h *unitHeader, tab abbrevTable, wantName bool) (skimmed, error) {
	var d skimmed
	d.sibling, d.origin = -1, -1
	d.code = c.uleb()
	if d.code == 0 || c.bad {
		return d, nil
	}
	a, ok := tab.get(d.code)
	if !ok {
		return d, fmt.Errorf("abbreviation %d at %#x: %w", d.code, c.i, errSkim)
	}
	d.tag, d.children = a.tag, a.children
	wantName = wantName && (a.tag == 0x2e || a.tag == 0x1d)
	for _, at := range a.attrs {
		form := at.form
	again:
		switch form {
		case 0x01: // addr
			c.skip(h.addrSize)
		case 0x0b, 0x11, 0x0c, 0x25, 0x29: // data1, ref1, flag, strx1, addrx1
			if at.attr == 0x01 && form == 0x11 { // sibling
				d.sibling = h.start + int(c.uint(s.order, 1))
				break
			}
			if isRefAttr(at.attr) && form == 0x11 {
				d.origin = h.start + int(c.uint(s.order, 1))
				break
			}
			c.skip(1)
		case 0x05, 0x12, 0x26, 0x2a: // data2, ref2, strx2, addrx2
			if form == 0x12 && (at.attr == 0x01 || isRefAttr(at.attr)) {
				v := h.start + int(c.uint(s.order, 2))
				if at.attr == 0x01 {
					d.sibling = v
				} else {
					d.origin = v
				}
				break
			}
			c.skip(2)
		case 0x27, 0x2b: // strx3, addrx3
			c.skip(3)
			if form == 0x27 && (at.attr == 0x03 || at.attr == 0x6e || at.attr == 0x2007) {
				d.unknownName = true
			}
		case 0x06, 0x13, 0x28, 0x2c, 0x1c: // data4, ref4, strx4, addrx4, ref_sup4
			if form == 0x13 && (at.attr == 0x01 || isRefAttr(at.attr)) {
				v := h.start + int(c.uint(s.order, 4))
				if at.attr == 0x01 {
					d.sibling = v
				} else {
					d.origin = v
				}
				break
			}
			c.skip(4)
		case 0x07, 0x14, 0x20, 0x24: // data8, ref8, ref_sig8, ref_sup8
			if form == 0x14 && (at.attr == 0x01 || isRefAttr(at.attr)) {
				v := h.start + int(c.uint(s.order, 8))
				if at.attr == 0x01 {
					d.sibling = v
				} else {
					d.origin = v
				}
				break
			}
			c.skip(8)
		case 0x1e: // data16
			c.skip(16)
		case 0x0d: // sdata
			c.sleb()
		case 0x0f, 0x1a, 0x1b, 0x22, 0x23: // udata, strx, addrx, loclistx, rnglistx
			c.uleb()
			if form == 0x1a && (at.attr == 0x03 || at.attr == 0x6e || at.attr == 0x2007) {
				d.unknownName = true
			}
		case 0x15: // ref_udata
			v := c.uleb()
			if at.attr == 0x01 {
				d.sibling = h.start + int(v)
			} else if isRefAttr(at.attr) {
				d.origin = h.start + int(v)
			}
		case 0x10: // ref_addr
			n := h.offSize
			if h.version <= 2 {
				n = h.addrSize
			}
			c.skip(n)
			if isRefAttr(at.attr) {
				d.refAddr = true
			}
		case 0x0e, 0x1f, 0x17, 0x1d, 0x1f20, 0x1f21: // strp, line_strp, sec_offset, strp_sup, GNU_ref_alt, GNU_strp_alt
			off := c.uint(s.order, h.offSize)
			if (at.attr == 0x03 || at.attr == 0x6e || at.attr == 0x2007) && wantName {
				var n []byte
				switch form {
				case 0x0e:
					n = cstring(s.str, off)
				case 0x1f:
					n = cstring(s.lineStr, off)
				default:
					d.unknownName = true
				}
				d.setName(at.attr, n)
			}
		case 0x08: // string
			st := c.i
			for c.i < len(c.d) && c.d[c.i] != 0 {
				c.i++
			}
			if c.i >= len(c.d) {
				c.bad = true
				break
			}
			if (at.attr == 0x03 || at.attr == 0x6e || at.attr == 0x2007) && wantName {
				d.setName(at.attr, c.d[st:c.i])
			}
			c.i++
		case 0x0a: // block1
			c.skip(int(c.uint(s.order, 1)))
		case 0x03: // block2
			c.skip(int(c.uint(s.order, 2)))
		case 0x04: // block4
			c.skip(int(c.uint(s.order, 4)))
		case 0x09, 0x18: // block, exprloc
			n := c.uleb()
			if n > uint64(len(c.d)) {
				c.bad = true
				break
			}
			c.skip(int(n))
		case 0x19, 0x21: // flag_present, implicit_const
		case 0x16: // indirect
			form = c.uleb()
			if !c.bad {
				goto again
			}
		default:
			return d, fmt.Errorf("form %#x at %#x: %w", form, c.i, errSkim)
		}
		if c.bad {
			return d, fmt.Errorf("DIE at %#x: %w", c.i, errSkim)
		}
	}
	return d, nil
}

// safeUnitDefines is unitDefines with a panic (a bug on malformed input)
// turned into "maybe": the unit is then decoded normally, which reports
// the error. Workers run in their own goroutines, out of reach of the
// callers' recover.
func (s *skimmer) safeUnitDefines(off int, glob string) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = true
		}
	}()
	ok, _ = s.unitDefines(off, glob)
	return ok
}

// dieLayout is where the attributes of an abbreviation lie when they all
// have fixed sizes in a unit: the DIE's size, and its DW_AT_sibling.
type dieLayout struct {
	done            bool
	fixed           int // size of the attributes, -1 when some vary
	sibOff, sibSize int // DW_AT_sibling, sibOff -1 when none or unplaced
	sibAbs          bool
}

func (l *dieLayout) compute(a *abbrev, h *unitHeader) {
	l.done, l.fixed, l.sibOff = true, -1, -1
	if a == nil {
		return
	}
	off := 0
	for _, at := range a.attrs {
		n := formSize(at.form, h)
		if n < 0 {
			return
		}
		if at.attr == 0x01 && l.sibOff < 0 {
			switch at.form {
			case 0x11, 0x12, 0x13, 0x14: // ref1..ref8
				l.sibOff, l.sibSize = off, n
			case 0x10: // ref_addr
				l.sibOff, l.sibSize, l.sibAbs = off, n, true
			}
		}
		off += n
	}
	l.fixed = off
}

// formSize is the size of a fixed-size form in a unit, or -1.
func formSize(form uint64, h *unitHeader) int {
	switch form {
	case 0x01: // addr
		return h.addrSize
	case 0x0b, 0x11, 0x0c, 0x25, 0x29: // data1, ref1, flag, strx1, addrx1
		return 1
	case 0x05, 0x12, 0x26, 0x2a: // data2, ref2, strx2, addrx2
		return 2
	case 0x27, 0x2b: // strx3, addrx3
		return 3
	case 0x06, 0x13, 0x28, 0x2c, 0x1c: // data4, ref4, strx4, addrx4, ref_sup4
		return 4
	case 0x07, 0x14, 0x20, 0x24: // data8, ref8, ref_sig8, ref_sup8
		return 8
	case 0x1e: // data16
		return 16
	case 0x0e, 0x1f, 0x17, 0x1d, 0x1f20, 0x1f21: // strp, line_strp, sec_offset, strp_sup, GNU alt
		return h.offSize
	case 0x10: // ref_addr
		if h.version <= 2 {
			return h.addrSize
		}
		return h.offSize
	case 0x19, 0x21: // flag_present, implicit_const
		return 0
	}
	return -1
}

// isRefAttr: DW_AT_abstract_origin or DW_AT_specification.
func isRefAttr(a uint64) bool { return a == 0x31 || a == 0x47 }

// nameAt reads the name of the DIE at off (following one reference).
func (s *skimmer) nameAt(h *unitHeader, tab abbrevTable, off int, depth int) ([]byte, bool) {
	if off < h.dies || off >= h.end || depth > 4 {
		return nil, false
	}
	c := cursor{d: s.info[:h.end], i: off}
	d, err := s.die(&c, h, tab, true)
	if err != nil || d.code == 0 {
		return nil, false
	}
	if d.hasName {
		return d.name, true
	}
	if d.origin >= 0 {
		return s.nameAt(h, tab, d.origin, depth+1)
	}
	return nil, false
}

// unitDefines reports whether a top-level subprogram of the unit at off
// may match the glob (a conservative answer: true when unsure).
func (s *skimmer) unitDefines(off int, glob string) (bool, error) {
	found := false
	if err := s.scanUnit(off, glob, func(int) bool { found = true; return false }); err != nil {
		return true, err
	}
	return found, nil
}

// matchingDIEs returns the .debug_info offsets of the top-level
// subprograms of the unit at off that may match the glob (a superset of
// those that do), in order; an error when the unit cannot be skimmed
// (a panic included: the caller then decodes the unit in full).
func (s *skimmer) matchingDIEs(off int, glob string) (offs []int, err error) {
	defer func() {
		if r := recover(); r != nil {
			offs, err = nil, fmt.Errorf("skim unit at %#x: %v: %w", off, r, errSkim)
		}
	}()
	err = s.scanUnit(off, glob, func(die int) bool { offs = append(offs, die); return true })
	return offs, err
}

// scanUnit calls fn with the offset of each top-level subprogram of the
// unit at off that may match the glob (true when unsure), until fn
// returns false.
func (s *skimmer) scanUnit(off int, glob string, fn func(die int) bool) error {
	exact := !isGlob(glob) && !strings.Contains(glob, "\\")
	match := func(n []byte) bool {
		if exact {
			return string(n) == glob
		}
		return globMatch(string(n), glob)
	}
	h, err := s.header(off)
	if err != nil {
		return err
	}
	tab, err := s.table(h.abbrevOff)
	if err != nil {
		return err
	}
	c := cursor{d: s.info[:h.end], i: h.dies}
	cu, err := s.die(&c, &h, tab, false)
	if err != nil || cu.code == 0 || !cu.children {
		return err
	}
	depth := 0
	lay := make([]dieLayout, len(tab.dense))
	for c.i < h.end {
		// Fast path: a DIE that is not a subprogram and whose
		// attributes all have fixed sizes is skipped in one step.
		start := c.i
		if code := c.uleb(); code != 0 && code < uint64(len(lay)) && !c.bad {
			l := &lay[code]
			if !l.done {
				l.compute(tab.dense[code], &h)
			}
			if a := tab.dense[code]; a != nil && a.tag != 0x2e && l.fixed >= 0 && (!a.children || l.sibOff >= 0) {
				if a.children {
					sc := cursor{d: c.d, i: c.i + l.sibOff}
					v := int(sc.uint(s.order, l.sibSize))
					if !l.sibAbs {
						v += h.start
					}
					c.skip(l.fixed)
					if !sc.bad && v > c.i && v <= h.end {
						c.i = v
					} else {
						depth++
					}
				} else {
					c.skip(l.fixed)
				}
				if c.bad {
					return fmt.Errorf("DIE at %#x: %w", start, errSkim)
				}
				continue
			}
		}
		c.i, c.bad = start, false
		d, err := s.die(&c, &h, tab, true)
		if err != nil {
			return err
		}
		if d.code == 0 {
			if depth == 0 {
				return nil
			}
			depth--
			continue
		}
		if depth == 0 && d.tag == 0x2e { // DW_TAG_subprogram
			maybe := false
			switch {
			case d.unknownName:
				maybe = true
			case len(d.lname) > 0 && match(d.lname):
				maybe = true
			case d.hasName:
				maybe = match(d.name)
			case d.refAddr:
				maybe = true
			case d.origin >= 0:
				n, ok := s.nameAt(&h, tab, d.origin, 0)
				maybe = !ok || match(n)
			}
			if maybe && !fn(start) {
				return nil
			}
		}
		if d.children {
			if d.sibling > c.i && d.sibling <= h.end {
				c.i = d.sibling
			} else {
				depth++
			}
		}
	}
	return nil
}

// release drops the resident pages of the unit at off (they are clean
// file pages: touching them again reads them back).
func (s *skimmer) release(off int) {
	if !s.mapped {
		return
	}
	h, err := s.header(off)
	if err != nil {
		return
	}
	s.releaseRange(h.start, h.end)
}

// releaseRange drops the pages of info[from:to] (rounded out to pages:
// a page shared with a unit being read is simply read again).
func (s *skimmer) releaseRange(from, to int) {
	if !s.mapped {
		return
	}
	ps := os.Getpagesize()
	start := (s.infoOff + from) / ps * ps
	end := min((s.infoOff+to+ps-1)/ps*ps, len(s.b.mm))
	if end > start {
		unix.Madvise(s.b.mm[start:end], unix.MADV_DONTNEED)
	}
}

// candidateUnits returns the units that may define a function matching
// glob, in order, scanning with all CPUs.
func (b *Binary) candidateUnits(glob string) ([]*unit, error) {
	var out []*unit
	err := b.eachCandidate(glob, func(u *unit) (bool, error) {
		out = append(out, u)
		return false, nil
	})
	return out, err
}

// eachCandidate calls fn, in unit order, on each unit that may define a
// function matching glob, until fn says stop. Units are skimmed in
// parallel batches ahead of fn, so a query that stops at the first match
// (perf -L) reads no further than it must.
func (b *Binary) eachCandidate(glob string, fn func(*unit) (stop bool, err error)) error {
	us, err := b.getUnits()
	if err != nil {
		return err
	}
	if b.skim == nil {
		b.skim = b.newSkimmer()
	}
	s := b.skim
	if len(s.info) == 0 || len(s.abbrevs) == 0 {
		for _, u := range us {
			if stop, err := fn(u); err != nil || stop {
				return err
			}
		}
		return nil
	}
	workers := runtime.GOMAXPROCS(0)
	// Batches grow from one unit per worker to eight: a query that stops
	// at the first units (perf -L) skims, and maps, little ahead of them.
	batch := workers
	hit := make([]bool, 8*workers)
	for lo := 0; lo < len(us); lo, batch = lo+batch, min(2*batch, 8*workers) {
		hi := min(lo+batch, len(us))
		var wg sync.WaitGroup
		next := make(chan int, hi-lo)
		for i := lo; i < hi; i++ {
			next <- i
		}
		close(next)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					hit[i-lo] = s.safeUnitDefines(us[i].start, glob)
				}
			}()
		}
		wg.Wait()
		// The batch's pages in one call: a madvise per unit (with the
		// TLB shootdown each costs on a threaded process) was 7% of a
		// -V on a program of 64 units.
		s.releaseRange(us[lo].start, us[hi-1].end)
		for i := lo; i < hi; i++ {
			if !hit[i-lo] {
				continue
			}
			if stop, err := fn(us[i]); err != nil || stop {
				return err
			}
		}
	}
	return nil
}
