package export

import (
	"debug/dwarf"
	"debug/elf"
	"fmt"
)

// dwarfLines answers address -> source file and line from a DSO's DWARF
// line tables (its debug file's, or its own), decoding only the
// compilation units that hold looked-up addresses.
type dwarfLines struct {
	f     *elf.File
	d     *dwarf.Data
	cache map[uint64]srcLine
	inl   map[uint64][]inlineFrame
}

type srcLine struct {
	file string
	line int
}

// openLines opens the DWARF of path; nil when it has none or it does not
// decode.
func openLines(path string) *dwarfLines {
	f, err := openELF(path)
	if err != nil {
		return nil
	}
	if !hasDWARF(f) {
		f.Close()
		return nil
	}
	d, err := safeDWARF(f)
	if err != nil {
		f.Close()
		return nil
	}
	return &dwarfLines{f: f, d: d, cache: map[uint64]srcLine{}}
}

func safeDWARF(f *elf.File) (d *dwarf.Data, err error) {
	defer func() {
		if r := recover(); r != nil {
			d, err = nil, fmt.Errorf("malformed DWARF: %v", r)
		}
	}()
	return f.DWARF()
}

// lookup returns the source line of the instruction at vaddr (an ELF
// virtual address of the DSO).
func (l *dwarfLines) lookup(vaddr uint64) (s srcLine, ok bool) {
	if l == nil {
		return srcLine{}, false
	}
	if s, ok := l.cache[vaddr]; ok {
		return s, s.line > 0
	}
	defer func() {
		if recover() != nil {
			s, ok = srcLine{}, false
		}
		l.cache[vaddr] = s
	}()
	cu, err := l.d.Reader().SeekPC(vaddr)
	if err != nil || cu == nil {
		return srcLine{}, false
	}
	lr, err := l.d.LineReader(cu)
	if err != nil || lr == nil {
		return srcLine{}, false
	}
	var e dwarf.LineEntry
	if err := lr.SeekPC(vaddr, &e); err != nil || e.File == nil {
		return srcLine{}, false
	}
	return srcLine{file: e.File.Name, line: e.Line}, true
}

// inlineFrame is one function inlined at an address: its name and the
// line in its caller where it was inlined (DW_AT_call_line).
type inlineFrame struct {
	name     string
	callLine int
}

// inlined returns the functions inlined at vaddr, outermost first (the
// out-of-line function itself is not included), from the
// DW_TAG_inlined_subroutine entries whose ranges hold it.
func (l *dwarfLines) inlined(vaddr uint64) (chain []inlineFrame) {
	if l == nil {
		return nil
	}
	if c, ok := l.inl[vaddr]; ok {
		return c
	}
	defer func() {
		if recover() != nil {
			chain = nil
		}
		if l.inl == nil {
			l.inl = map[uint64][]inlineFrame{}
		}
		l.inl[vaddr] = chain
	}()
	r := l.d.Reader()
	cu, err := r.SeekPC(vaddr)
	if err != nil || cu == nil || !cu.Children {
		return nil
	}
	depth := 1 // inside the unit
	for depth > 0 {
		e, err := r.Next()
		if err != nil || e == nil {
			return chain
		}
		if e.Tag == 0 {
			depth--
			continue
		}
		contains := false
		switch e.Tag {
		case dwarf.TagSubprogram, dwarf.TagInlinedSubroutine, dwarf.TagLexDwarfBlock:
			if rs, err := l.d.Ranges(e); err == nil {
				for _, rg := range rs {
					if vaddr >= rg[0] && vaddr < rg[1] {
						contains = true
						break
					}
				}
			}
			if contains && e.Tag == dwarf.TagInlinedSubroutine {
				line, _ := e.Val(dwarf.AttrCallLine).(int64)
				chain = append(chain, inlineFrame{name: l.name(e), callLine: int(line)})
			}
		case dwarf.TagNamespace, dwarf.TagModule:
			contains = true // definitions may sit inside
		}
		if e.Children {
			if contains {
				depth++
			} else {
				r.SkipChildren()
			}
		}
	}
	return chain
}

// name returns an entry's name, following DW_AT_abstract_origin and
// DW_AT_specification (a few levels at most).
func (l *dwarfLines) name(e *dwarf.Entry) string {
	for i := 0; i < 4 && e != nil; i++ {
		if n, ok := e.Val(dwarf.AttrName).(string); ok {
			return n
		}
		off, ok := e.Val(dwarf.AttrAbstractOrigin).(dwarf.Offset)
		if !ok {
			if off, ok = e.Val(dwarf.AttrSpecification).(dwarf.Offset); !ok {
				return ""
			}
		}
		r := l.d.Reader()
		r.Seek(off)
		e, _ = r.Next()
	}
	return ""
}
