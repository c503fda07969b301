package dwarfline

import (
	"encoding/binary"
	"sort"

	"github.com/go-delve/delve/pkg/dwarf/frame"
)

// quickFDE finds the FDE covering pc through .eh_frame_hdr's sorted table
// and parses only that FDE and its CIE, instead of every entry of
// .eh_frame (a third of a -V query on a program with 10,000 functions).
// It answers nil whenever it is unsure (no header, encodings other than
// the usual ones, a .debug_frame beside .eh_frame, a relocatable file, no
// entry covering pc), and the caller then parses everything.
func (b *Binary) quickFDE(pc uint64) (fde *frame.FrameDescriptionEntry) {
	defer func() {
		if recover() != nil {
			fde = nil
		}
	}()
	if b.relSects != nil || b.elf.Section(".debug_frame") != nil {
		return nil
	}
	hs, es := b.elf.Section(".eh_frame_hdr"), b.elf.Section(".eh_frame")
	if hs == nil || es == nil || es.Addr == 0 {
		return nil
	}
	hdr, err := b.section(".eh_frame_hdr")
	if err != nil || len(hdr) < 12 {
		return nil
	}
	eh, err := b.section(".eh_frame")
	if err != nil || len(eh) == 0 {
		return nil
	}
	// version 1; eh_frame_ptr pcrel|sdata4; fde_count udata4; table
	// datarel|sdata4 (what GNU ld and lld write).
	if hdr[0] != 1 || hdr[1] != 0x1b || hdr[2] != 0x03 || hdr[3] != 0x3b {
		return nil
	}
	order := b.order
	n := int(order.Uint32(hdr[8:]))
	tab := hdr[12:]
	if n <= 0 || n > len(tab)/8 {
		return nil
	}
	loc := func(i int) uint64 { return hs.Addr + uint64(int64(int32(order.Uint32(tab[8*i:])))) }
	i := sort.Search(n, func(i int) bool { return loc(i) > pc }) - 1
	if i < 0 {
		return nil
	}
	fdeAddr := hs.Addr + uint64(int64(int32(order.Uint32(tab[8*i+4:]))))
	if fdeAddr < es.Addr || fdeAddr-es.Addr >= uint64(len(eh)) {
		return nil
	}
	fdeOff := int(fdeAddr - es.Addr)
	fdeBytes, ok := entryAt(eh, fdeOff, order)
	if !ok || len(fdeBytes) < 8 {
		return nil
	}
	ptr := int(order.Uint32(fdeBytes[4:]))
	if ptr == 0 || ptr > fdeOff+4 {
		return nil // a CIE, or a pointer out of the section
	}
	cieBytes, ok := entryAt(eh, fdeOff+4-ptr, order)
	if !ok || len(cieBytes) < 8 || order.Uint32(cieBytes[4:]) != 0 {
		return nil
	}
	// The CIE, then the FDE pointing back to it; pc-relative pointers
	// of the FDE keep their addresses through the base given to Parse.
	buf := make([]byte, 0, len(cieBytes)+len(fdeBytes))
	buf = append(buf, cieBytes...)
	buf = append(buf, fdeBytes...)
	order.PutUint32(buf[len(cieBytes)+4:], uint32(len(cieBytes)+4))
	base := es.Addr + uint64(fdeOff) - uint64(len(cieBytes))
	if base == 0 {
		return nil
	}
	fdes, err := frame.Parse(buf, order, 0, addrSize(b.elf), base)
	if err != nil || len(fdes) != 1 || !fdes[0].Cover(pc) {
		return nil
	}
	return fdes[0]
}

// entryAt returns the CIE or FDE at off in .eh_frame, length included
// (32-bit lengths only, as delve's parser reads them).
func entryAt(eh []byte, off int, order binary.ByteOrder) ([]byte, bool) {
	if off < 0 || off+4 > len(eh) {
		return nil, false
	}
	l := order.Uint32(eh[off:])
	if l == 0 || l == 0xffffffff || uint64(off)+4+uint64(l) > uint64(len(eh)) {
		return nil, false
	}
	return eh[off : off+4+int(l)], true
}
