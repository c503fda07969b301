package probe

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
)

// binary is the ELF side of a probe target: its symbols and how addresses
// map to file offsets. Binaries are untrusted input: every debug/elf call
// is guarded against panics.
type binary struct {
	path  string
	f     *elf.File
	osf   *os.File
	progs []*elf.Prog
	syms  []symbol // functions, sorted by address; use symbols()
	once  sync.Once
	// hasDebug is whether the file has DWARF (.debug_info).
	hasDebug bool
	// text is the value of the symbol _text (a vmlinux), read with the
	// symbols; 0 if there is none.
	text uint64
}

// symbol is a function symbol.
type symbol struct {
	Name  string
	Addr  uint64 // st_value
	Size  uint64
	Type  elf.SymType
	Shndx elf.SectionIndex
}

// openBinary opens an ELF file for probing.
func openBinary(path string) (b *binary, err error) {
	osf, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			osf.Close()
			b, err = nil, fmt.Errorf("read ELF %s: malformed file (%v)", path, r)
		}
	}()
	f, err := elf.NewFile(osf)
	if err != nil {
		osf.Close()
		return nil, fmt.Errorf("read ELF %s: %w", path, err)
	}
	b = &binary{path: path, f: f, osf: osf, progs: f.Progs}
	b.hasDebug = f.Section(".debug_info") != nil || f.Section(".zdebug_info") != nil
	return b, nil
}

func (b *binary) Close() error { return b.osf.Close() }

// symbols returns the function symbols, read on first use (a DWARF
// resolution needs none).
func (b *binary) symbols() []symbol {
	b.once.Do(func() {
		if b.f != nil {
			b.loadSymbols()
		}
	})
	return b.syms
}

// loadSymbols reads function symbols from .symtab, or .dynsym when the
// file is stripped, as perf's dso loader prefers. A symbol table that does
// not read gives no symbols.
func (b *binary) loadSymbols() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("read ELF %s: malformed symbol table (%v)", b.path, r)
		}
	}()
	syms, err := b.f.Symbols()
	if err != nil || len(syms) == 0 {
		syms, err = b.f.DynamicSymbols()
	}
	if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
		return fmt.Errorf("read ELF %s symbols: %w", b.path, err)
	}
	for _, s := range syms {
		if s.Name == "_text" && b.text == 0 {
			b.text = s.Value
		}
		t := elf.ST_TYPE(s.Info)
		if t != elf.STT_FUNC && t != elf.STT_GNU_IFUNC {
			continue
		}
		if s.Section == elf.SHN_UNDEF || s.Name == "" {
			continue
		}
		b.syms = append(b.syms, symbol{Name: s.Name, Addr: s.Value, Size: s.Size, Type: t, Shndx: s.Section})
	}
	sortSymbols(b.syms)
	return nil
}

// symbolEnd returns the end of a symbol, taking the next symbol's start
// for a symbol of size 0 as perf's symbols__fixup_end does.
func (b *binary) symbolEnd(i int) uint64 {
	b.symbols()
	s := b.syms[i]
	if s.Size != 0 {
		return s.Addr + s.Size
	}
	for j := i + 1; j < len(b.syms); j++ {
		if b.syms[j].Addr > s.Addr && b.syms[j].Shndx == s.Shndx {
			return b.syms[j].Addr
		}
	}
	return s.Addr
}

// matchSymbols returns the function symbols matching a name or glob, in
// address order, with duplicates at one address dropped (perf's
// find_probe_functions, which ignores symbol versions "@...").
func (b *binary) matchSymbols(pattern string) []int {
	var idx []int
	seen := map[uint64]bool{}
	for i, s := range b.symbols() {
		name := s.Name
		if !strings.Contains(pattern, "@") {
			if j := strings.IndexByte(name, '@'); j >= 0 {
				name = name[:j]
			}
		}
		if !globMatch(pattern, name) {
			continue
		}
		if seen[s.Addr] && b.f.Type != elf.ET_REL {
			continue
		}
		seen[s.Addr] = true
		idx = append(idx, i)
	}
	return idx
}

// symbolAt returns the function symbol containing addr, or -1.
func (b *binary) symbolAt(addr uint64) int {
	b.symbols()
	i := sort.Search(len(b.syms), func(i int) bool { return b.syms[i].Addr > addr }) - 1
	for ; i >= 0; i-- {
		if addr == b.syms[i].Addr || addr > b.syms[i].Addr && addr < b.symbolEnd(i) {
			return i
		}
	}
	return -1
}

// fileOffset turns a virtual address into the offset in the file uprobes
// take, through the PT_LOAD segment holding it.
func (b *binary) fileOffset(vaddr uint64) (uint64, error) {
	for _, p := range b.progs {
		if p.Type != elf.PT_LOAD {
			continue
		}
		if vaddr >= p.Vaddr && vaddr < p.Vaddr+p.Memsz {
			return vaddr - p.Vaddr + p.Off, nil
		}
	}
	if b.f.Type == elf.ET_REL {
		return vaddr, nil
	}
	return 0, fmt.Errorf("address 0x%x of %s is in no loadable segment", vaddr, b.path)
}

// vaddrOf is the inverse of fileOffset: the virtual address of a file
// offset in an executable segment.
func (b *binary) vaddrOf(off uint64) (uint64, bool) {
	for _, p := range b.progs {
		if p.Type != elf.PT_LOAD {
			continue
		}
		if off >= p.Off && off < p.Off+p.Filesz {
			if p.Flags&elf.PF_X == 0 {
				continue
			}
			return off - p.Off + p.Vaddr, true
		}
	}
	return 0, false
}

// moduleName returns a kernel module's name from .gnu.linkonce.this_module
// (struct module's name, at offset 24 on 64-bit and 12 on 32-bit; perf's
// find_module_name), or "" when the file is not a module.
func (b *binary) moduleName() (name string) {
	defer func() {
		if recover() != nil {
			name = ""
		}
	}()
	s := b.f.Section(".gnu.linkonce.this_module")
	if s == nil {
		return ""
	}
	data, err := s.Data()
	if err != nil {
		return ""
	}
	off := 24
	if b.f.Class == elf.ELFCLASS32 {
		off = 12
	}
	if len(data) <= off {
		return ""
	}
	data = data[off:]
	if i := bytes.IndexByte(data, 0); i >= 0 {
		data = data[:i]
	}
	return string(data)
}
