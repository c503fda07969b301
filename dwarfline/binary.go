package dwarfline

import (
	"bytes"
	"cmp"
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/go-delve/delve/pkg/dwarf/frame"
	"github.com/go-delve/delve/pkg/dwarf/godwarf"
	"github.com/go-delve/delve/pkg/dwarf/loclist"
)

// ErrNoDWARF is returned (wrapped) when a binary carries no debug
// information.
var ErrNoDWARF = errors.New("no debug information")

// ErrNotFound is returned (wrapped) when a function, line or variable is not
// in the debug information.
var ErrNotFound = errors.New("not found")

// Binary is an ELF file opened for DWARF queries. Its methods are safe for
// use by one goroutine at a time.
type Binary struct {
	path    string
	file    *os.File
	elf     *elf.File
	dw      *dwarfSections // nil without DWARF
	dwErr   error
	buildID string
	order   binary.ByteOrder

	loc      loclist.Reader // .debug_loc (DWARF 2-4), may be nil
	loc5     *loclist.Dwarf5Reader
	addr     *godwarf.DebugAddrSection
	frameMu  sync.Once
	fdes     frame.FrameDescriptionEntries
	fdesErr  error
	unitsMu  sync.Once
	units    []*unit
	unitsErr error
	symsOnce sync.Once
	syms     []Symbol
	symsErr  error
	ecache   map[dwarf.Offset]*dwarf.Entry
	mm       []byte // the file, mapped read-only
	skim     *skimmer
	dwOnce   sync.Once
	relBase  []uint64          // ET_REL: address of each section
	relSects map[string][]byte // ET_REL: relocated debug sections
}

// newLoc5 is loclist.NewDwarf5Reader with a malformed header turned into
// no reader.
func newLoc5(d []byte) (r *loclist.Dwarf5Reader) {
	defer func() {
		if recover() != nil {
			r = nil
		}
	}()
	return loclist.NewDwarf5Reader(d)
}

// Symbol is one ELF symbol as perf keeps it for --funcs and address lookups.
type Symbol struct {
	Name  string
	Value uint64
	Size  uint64
	Type  elf.SymType
	Bind  elf.SymBind
	Dyn   bool // from .dynsym
	// Section is the name of the section the symbol is defined in.
	Section string
}

// Open opens an ELF file and its DWARF, if any. A file without DWARF opens
// fine: HasDWARF reports false and DWARF queries fail with ErrNoDWARF.
// Malformed input is an error, never a panic.
func Open(path string) (b *Binary, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open binary: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	ef, err := safeNewELF(f)
	if err != nil {
		return nil, fmt.Errorf("open binary %s: %w", path, err)
	}
	b = &Binary{path: path, file: f, elf: ef, order: ef.ByteOrder}
	if st, err := f.Stat(); err == nil && st.Size() > 0 && st.Mode().IsRegular() {
		// The file is mapped, not read: sections are slices of the
		// mapping and only the pages a query touches are loaded (as perf
		// does with libdw), which keeps big files (vmlinux) cheap.
		if m, err := unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ, unix.MAP_PRIVATE); err == nil {
			b.mm = m
		}
	}
	b.buildID = readBuildID(ef)
	if ef.Type == elf.ET_REL {
		b.relBase = layoutSections(ef)
	}
	return b, nil
}

// section returns the contents of a section: a slice of the mapping when
// it is stored uncompressed, else decoded by debug/elf.
func (b *Binary) section(name string) ([]byte, error) {
	s := b.elf.Section(name)
	if s == nil || s.Type == elf.SHT_NOBITS {
		return nil, nil
	}
	if b.mm != nil && s.Flags&elf.SHF_COMPRESSED == 0 && s.Offset+s.FileSize >= s.Offset && s.Offset+s.FileSize <= uint64(len(b.mm)) {
		return b.mm[s.Offset : s.Offset+s.FileSize : s.Offset+s.FileSize], nil
	}
	return sectionData(b.elf, name)
}

// dwarfSections are the DWARF sections, mapped (or relocated for ET_REL).
type dwarfSections struct {
	info, abbrev, line, ranges, str           []byte
	addr, lineStr, loclists, rnglists, strOff []byte
}

// loadDWARF finds the DWARF sections once, on first use. Units are
// decoded one by one, each with a debug/dwarf Data of its own (see
// openUnit), so the abbreviation tables of units never looked at are not
// decoded.
func (b *Binary) loadDWARF() {
	b.dwOnce.Do(func() {
		ef := b.elf
		if ef.Section(".debug_info") == nil {
			b.dwErr = ErrNoDWARF
			return
		}
		data := func(name string) []byte {
			d, _ := b.section(name)
			return d
		}
		if ef.Type == elf.ET_REL {
			sects, err := relSections(ef, b.relBase)
			if err != nil {
				b.dwErr = err
				return
			}
			data = func(name string) []byte { return sects[name] }
			b.relSects = sects
		}
		s := &dwarfSections{info: data(".debug_info"), abbrev: data(".debug_abbrev"), line: data(".debug_line"),
			ranges: data(".debug_ranges"), str: data(".debug_str"), addr: data(".debug_addr"),
			lineStr: data(".debug_line_str"), loclists: data(".debug_loclists"), rnglists: data(".debug_rnglists"),
			strOff: data(".debug_str_offsets")}
		if len(s.info) == 0 || len(s.abbrev) == 0 {
			b.dwErr = fmt.Errorf("read DWARF: empty .debug_info or .debug_abbrev: %w", ErrNoDWARF)
			return
		}
		b.dw = s
		if d := data(".debug_loc"); len(d) > 0 {
			b.loc = loclist.NewDwarf2Reader(d, addrSize(ef))
		}
		if d := s.loclists; len(d) > 8 {
			b.loc5 = newLoc5(d)
		}
		if d := s.addr; len(d) > 8 {
			b.addr = godwarf.ParseAddr(d)
		}
	})
}

// safeNewELF is elf.NewFile with panics turned into errors (debug/elf has
// unfixed bugs on malformed input, as cilium's SafeELFFile notes).
func safeNewELF(f *os.File) (ef *elf.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			ef, err = nil, fmt.Errorf("malformed ELF: %v", r)
		}
	}()
	return elf.NewFile(f)
}

func sectionData(ef *elf.File, name string) (data []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			data, err = nil, fmt.Errorf("section %s: malformed: %v", name, r)
		}
	}()
	s := ef.Section(name)
	if s == nil || s.Type == elf.SHT_NOBITS {
		return nil, nil
	}
	return s.Data()
}

func addrSize(ef *elf.File) int {
	if ef.Class == elf.ELFCLASS32 {
		return 4
	}
	return 8
}

func readBuildID(ef *elf.File) string {
	for _, s := range ef.Sections {
		if s.Type != elf.SHT_NOTE {
			continue
		}
		d, err := sectionData(ef, s.Name)
		if err != nil {
			continue
		}
		for len(d) >= 12 {
			nsz := ef.ByteOrder.Uint32(d)
			dsz := ef.ByteOrder.Uint32(d[4:])
			typ := ef.ByteOrder.Uint32(d[8:])
			d = d[12:]
			na := (uint64(nsz) + 3) &^ 3
			da := (uint64(dsz) + 3) &^ 3
			if na+da > uint64(len(d)) {
				break
			}
			name := strings.TrimRight(string(d[:nsz]), "\x00")
			if name == "GNU" && typ == 3 {
				return hex.EncodeToString(d[na : na+uint64(dsz)])
			}
			d = d[na+da:]
		}
	}
	return ""
}

// Close releases the file and its mapping; the Binary and everything it
// returned that refers to DWARF data must not be used afterwards.
func (b *Binary) Close() error {
	if b.file == nil {
		return os.ErrClosed
	}
	if b.mm != nil {
		unix.Munmap(b.mm)
		b.mm = nil
	}
	err := b.file.Close()
	b.file = nil
	return err
}

// Path is the file name given to Open.
func (b *Binary) Path() string { return b.path }

// BuildID is the GNU build-id in hex, or "".
func (b *Binary) BuildID() string { return b.buildID }

// Type is the ELF file type: ET_EXEC, ET_DYN (PIE or shared library) or
// ET_REL (a kernel module).
func (b *Binary) Type() elf.Type { return b.elf.Type }

// Machine is the ELF machine.
func (b *Binary) Machine() elf.Machine { return b.elf.Machine }

// ELF is the underlying ELF file (read only).
func (b *Binary) ELF() *elf.File { return b.elf }

// HasDWARF reports whether the binary has debug information.
func (b *Binary) HasDWARF() bool {
	b.loadDWARF()
	return b.dw != nil
}

func (b *Binary) needDWARF() error {
	b.loadDWARF()
	if b.dw == nil {
		if b.dwErr != nil && !errors.Is(b.dwErr, ErrNoDWARF) {
			return fmt.Errorf("%s: %w", b.path, b.dwErr)
		}
		return fmt.Errorf("%s: %w", b.path, ErrNoDWARF)
	}
	return nil
}

// FileOffset converts a virtual address to the file offset a uprobe takes:
// the offset in the PT_LOAD segment that maps it.
func (b *Binary) FileOffset(addr uint64) (uint64, error) {
	for _, p := range b.elf.Progs {
		if p.Type == elf.PT_LOAD && addr >= p.Vaddr && addr < p.Vaddr+p.Memsz {
			return addr - p.Vaddr + p.Off, nil
		}
	}
	if b.elf.Type == elf.ET_REL {
		return addr, nil
	}
	return 0, fmt.Errorf("file offset of %#x: no loadable segment maps it", addr)
}

// Symbols returns the ELF symbols perf loads for a binary (functions,
// objects and labels from .symtab, plus defined .dynsym entries), sorted by
// address. Undefined and section/file symbols are left out.
func (b *Binary) Symbols() ([]Symbol, error) {
	b.symsOnce.Do(func() {
		b.syms, b.symsErr = b.loadSymbols()
	})
	return b.syms, b.symsErr
}

func (b *Binary) loadSymbols() (out []Symbol, err error) {
	out, err = b.readSymbols(elf.SHT_SYMTAB, -1, nil)
	if err != nil {
		return nil, err
	}
	out, err = b.readSymbols(elf.SHT_DYNSYM, -1, out)
	if err != nil {
		return nil, err
	}
	return sortByAddr(out), nil
}

// sortByAddr sorts symbols by address, keeping table order among equal
// addresses. It sorts indices, not the (large) symbols themselves: a
// stable sort of the structs moves them around O(n log n) times.
func sortByAddr(syms []Symbol) []Symbol {
	idx := make([]int32, len(syms))
	sorted := true
	for i := range idx {
		idx[i] = int32(i)
		if i > 0 && syms[i].Value < syms[i-1].Value {
			sorted = false
		}
	}
	if sorted {
		return syms
	}
	slices.SortFunc(idx, func(a, b int32) int {
		if c := cmp.Compare(syms[a].Value, syms[b].Value); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	out := make([]Symbol, len(syms))
	for i, k := range idx {
		out[i] = syms[k]
	}
	return out
}

// SymbolsIn returns the .symtab symbols (functions, objects, labels)
// defined in the named section, in table order, without loading the
// others: perf lists a vmlinux's .text symbols only.
func (b *Binary) SymbolsIn(section string) ([]Symbol, error) {
	for i, s := range b.elf.Sections {
		if s.Name == section {
			return b.readSymbols(elf.SHT_SYMTAB, i, nil)
		}
	}
	return nil, nil
}

// readSymbols appends the symbols of the first table of type typ that
// perf keeps (defined functions, objects and labels), reading the table
// in place. With shndx >= 0, only symbols of that section.
func (b *Binary) readSymbols(typ elf.SectionType, shndx int, out []Symbol) (res []Symbol, err error) {
	dyn := typ == elf.SHT_DYNSYM
	err = b.walkSymbols(typ, shndx, func(n []byte, value, sz uint64, info byte, si elf.SectionIndex) {
		var secName string
		if int(si) < len(b.elf.Sections) {
			secName = b.elf.Sections[si].Name
		}
		out = append(out, Symbol{Name: string(n), Value: value, Size: sz, Type: elf.ST_TYPE(info), Bind: elf.ST_BIND(info), Dyn: dyn, Section: secName})
	})
	return out, err
}

// SymbolNames calls fn with the name of each symbol Symbols returns (or,
// with section != "", each one SymbolsIn(section) returns), in table
// order, .symtab before .dynsym, without building the symbols: --funcs
// needs the names only. The name is a slice of the string table: it must
// not be modified, and is valid until Close.
func (b *Binary) SymbolNames(section string, fn func(name []byte)) error {
	each := func(n []byte, _, _ uint64, _ byte, _ elf.SectionIndex) { fn(n) }
	if section != "" {
		for i, s := range b.elf.Sections {
			if s.Name == section {
				return b.walkSymbols(elf.SHT_SYMTAB, i, each)
			}
		}
		return nil
	}
	if err := b.walkSymbols(elf.SHT_SYMTAB, -1, each); err != nil {
		return err
	}
	return b.walkSymbols(elf.SHT_DYNSYM, -1, each)
}

// walkSymbols calls fn for each symbol of the first table of type typ
// that perf keeps (defined functions, objects and labels), reading the
// table in place. With shndx >= 0, only symbols of that section. The
// name is a slice of the string table, valid during the call.
func (b *Binary) walkSymbols(typ elf.SectionType, shndx int, fn func(name []byte, value, size uint64, info byte, si elf.SectionIndex)) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("read symbols: malformed symbol table: %v", r)
		}
	}()
	var tab *elf.Section
	for _, s := range b.elf.Sections {
		if s.Type == typ {
			tab = s
			break
		}
	}
	if tab == nil || int(tab.Link) >= len(b.elf.Sections) {
		return nil
	}
	data, err := b.section(tab.Name)
	if err != nil {
		return fmt.Errorf("read symbols: %w", err)
	}
	strs, err := b.section(b.elf.Sections[tab.Link].Name)
	if err != nil {
		return fmt.Errorf("read symbols: %w", err)
	}
	bo := b.order
	size := 24
	if b.elf.Class == elf.ELFCLASS32 {
		size = 16
	}
	for off := size; off+size <= len(data); off += size {
		e := data[off : off+size]
		var name uint32
		var info byte
		var sec uint16
		var value, sz uint64
		if size == 24 {
			name, info, sec = bo.Uint32(e), e[4], bo.Uint16(e[6:])
			value, sz = bo.Uint64(e[8:]), bo.Uint64(e[16:])
		} else {
			name, value, sz = bo.Uint32(e), uint64(bo.Uint32(e[4:])), uint64(bo.Uint32(e[8:]))
			info, sec = e[12], bo.Uint16(e[14:])
		}
		if shndx >= 0 && int(sec) != shndx {
			continue
		}
		si := elf.SectionIndex(sec)
		if name == 0 || si == elf.SHN_UNDEF {
			continue
		}
		switch elf.ST_TYPE(info) {
		case elf.STT_FUNC, elf.STT_GNU_IFUNC, elf.STT_OBJECT:
		case elf.STT_NOTYPE:
			if si == elf.SHN_ABS {
				continue
			}
		default:
			continue
		}
		if int(name) >= len(strs) {
			continue
		}
		n := strs[name:]
		if k := bytes.IndexByte(n, 0); k >= 0 {
			n = n[:k]
		}
		if len(n) == 0 {
			continue
		}
		if b.relBase != nil && int(si) < len(b.relBase) {
			value += b.relBase[si]
		}
		fn(n, value, sz, info, si)
	}
	return nil
}

// SymbolAt returns the function symbol containing addr (perf's
// dwfl_module_addrsym fallback), preferring global ones.
func (b *Binary) SymbolAt(addr uint64) (Symbol, bool) {
	syms, _ := b.Symbols()
	var best Symbol
	found := false
	for _, s := range syms {
		if s.Type != elf.STT_FUNC && s.Type != elf.STT_GNU_IFUNC {
			continue
		}
		if addr >= s.Value && (addr < s.Value+s.Size || addr == s.Value) {
			if !found || (best.Bind != elf.STB_GLOBAL && s.Bind == elf.STB_GLOBAL) {
				best, found = s, true
			}
		}
	}
	return best, found
}

// SymbolAddr returns the address of a data or function symbol by name.
func (b *Binary) SymbolAddr(name string) (uint64, bool) {
	syms, _ := b.Symbols()
	for _, s := range syms {
		if s.Name == name && !s.Dyn {
			return s.Value, true
		}
	}
	for _, s := range syms {
		if s.Name == name {
			return s.Value, true
		}
	}
	return 0, false
}
