package dwarfline

import (
	"debug/elf"
	"fmt"
	"strings"
)

// Kernel modules are ET_REL: every code section starts at address 0 and
// the DWARF refers to code through relocations. Like libdwfl's offline
// layout (dwfl_offline_section_address), which perf uses, each allocated
// section gets its own address range here, and the debug sections are
// relocated against it, so functions of .text and .init.text do not
// overlap. Probe offsets are symbol-relative, so the layout is free.

// layoutSections assigns addresses to the allocated sections of an ET_REL
// file, in section order, aligned.
func layoutSections(ef *elf.File) []uint64 {
	base := make([]uint64, len(ef.Sections))
	var next uint64
	for i, s := range ef.Sections {
		if s.Flags&elf.SHF_ALLOC == 0 {
			continue
		}
		if a := s.Addralign; a > 1 {
			next = (next + a - 1) &^ (a - 1)
		}
		base[i] = next
		next += s.Size
	}
	return base
}

// relSections returns the debug sections (and .eh_frame) of an ET_REL
// file with their relocations applied against layoutSections.
func relSections(ef *elf.File, base []uint64) (sects map[string][]byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			sects, err = nil, fmt.Errorf("malformed relocations: %v", r)
		}
	}()
	syms, err := ef.Symbols()
	if err != nil {
		return nil, fmt.Errorf("read symbols for relocations: %w", err)
	}
	sects = map[string][]byte{}
	for i, s := range ef.Sections {
		if !strings.HasPrefix(s.Name, ".debug_") && s.Name != ".eh_frame" {
			continue
		}
		data, err := s.Data()
		if err != nil {
			return nil, fmt.Errorf("section %s: %w", s.Name, err)
		}
		data = append([]byte(nil), data...)
		for _, r := range ef.Sections {
			if r.Type != elf.SHT_RELA || int(r.Info) != i {
				continue
			}
			rd, err := r.Data()
			if err != nil {
				return nil, fmt.Errorf("section %s: %w", r.Name, err)
			}
			if err := applyRela(ef, data, rd, syms, base); err != nil {
				return nil, fmt.Errorf("relocate %s: %w", s.Name, err)
			}
		}
		sects[s.Name] = data
	}
	return sects, nil
}

// applyRela applies x86-64 RELA relocations (R_X86_64_64, _32, _32S) to
// data: S + A with S the symbol's value in the layout.
func applyRela(ef *elf.File, data, rels []byte, syms []elf.Symbol, base []uint64) error {
	if ef.Machine != elf.EM_X86_64 || ef.Class != elf.ELFCLASS64 {
		return fmt.Errorf("relocations for %v: %w", ef.Machine, ErrNotSupported)
	}
	bo := ef.ByteOrder
	for len(rels) >= 24 {
		off := bo.Uint64(rels)
		info := bo.Uint64(rels[8:])
		add := int64(bo.Uint64(rels[16:]))
		rels = rels[24:]
		typ := elf.R_X86_64(info & 0xffffffff)
		si := info >> 32
		if si == 0 || si > uint64(len(syms)) {
			continue
		}
		sym := syms[si-1]
		var s uint64
		switch {
		case sym.Section == elf.SHN_UNDEF || sym.Section >= elf.SHN_LORESERVE:
			continue
		case int(sym.Section) < len(base):
			s = base[sym.Section] + sym.Value
		}
		v := uint64(int64(s) + add)
		switch typ {
		case elf.R_X86_64_64:
			if off+8 > uint64(len(data)) {
				return fmt.Errorf("relocation at %#x past the section end", off)
			}
			bo.PutUint64(data[off:], v)
		case elf.R_X86_64_32, elf.R_X86_64_32S:
			if off+4 > uint64(len(data)) {
				return fmt.Errorf("relocation at %#x past the section end", off)
			}
			bo.PutUint32(data[off:], uint32(v))
		}
	}
	return nil
}
