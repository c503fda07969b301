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
