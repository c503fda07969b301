package dwarfline

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"testing"
)

func testBinary() *Binary {
	return &Binary{elf: &elf.File{FileHeader: elf.FileHeader{Class: elf.ELFCLASS64, Machine: elf.EM_X86_64}}, order: binary.LittleEndian}
}

// TestEvalLocation translates location expressions (built byte by byte,
// with the DWARF operation named) and, for a memory place, the load.
func TestEvalLocation(t *testing.T) {
	fb := &term{kind: tReg, reg: 6, off: 16} // CFA = rbp+16
	for _, c := range []struct {
		name string
		expr []byte
		want string // rendered value, "" when refused
		err  error
	}{
		{"reg5", []byte{0x55}, "%di", nil},                                      // DW_OP_reg5
		{"breg3 -8", []byte{0x73, 0x78}, "-8(%bx)", nil},                        // DW_OP_breg3 -8: memory at rbx-8
		{"breg3 -8 stack_value", []byte{0x73, 0x78, 0x9f}, "", ErrNotSupported}, // value rbx-8: no fetch-arg
		{"breg3 0 stack_value", []byte{0x73, 0x00, 0x9f}, "%bx", nil},           // value rbx
		{"fbreg -20", []byte{0x91, 0x6c}, "-4(%bp)", nil},                       // DW_OP_fbreg -20 over rbp+16
		{"regx 12", []byte{0x90, 0x0c}, "%r12", nil},                            // DW_OP_regx 12
		{"bregx 13 +8", []byte{0x92, 0x0d, 0x08}, "+8(%r13)", nil},              // DW_OP_bregx 13 8
		{"lit7 stack_value", []byte{0x37, 0x9f}, `\7`, nil},                     // constant
		{"const1s -1 stack_value", []byte{0x09, 0xff, 0x9f}, `\18446744073709551615`, nil},
		{"implicit_value 4", []byte{0x9e, 0x04, 0x2a, 0, 0, 0}, `\42`, nil},
		{"reg0 piece 8", []byte{0x50, 0x93, 0x08}, "%ax", nil},
		{"reg0 piece 4 reg1 piece 4", []byte{0x50, 0x93, 0x04, 0x51, 0x93, 0x04}, "", ErrNotSupported},
		{"entry_value(reg5) stack_value away from entry", []byte{0xa3, 0x01, 0x55, 0x9f}, "", ErrNotSupported},
		{"breg7 8 deref", []byte{0x77, 0x08, 0x06}, "+0(+8(%sp))", nil},
		{"reg16 (no name)", []byte{0x60}, "", ErrNotSupported},
		{"truncated breg", []byte{0x73}, "", ErrInvalid},
		{"unknown op", []byte{0xe0}, "", ErrNotSupported},
	} {
		b := testBinary()
		x := &exprCtx{b: b, fb: func() (*term, error) { return fb, nil }}
		pl, err := x.eval(c.expr)
		var got string
		if err == nil {
			got, err = b.render(pl.load(false), &renderCtx{})
		}
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("%s: got %q, %v; want error %v", c.name, got, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: got %q, %v; want %q", c.name, got, err, c.want)
		}
	}
}

// TestEntryValueAtEntry: at the function entry, DW_OP_entry_value(reg) is
// the register itself.
func TestEntryValueAtEntry(t *testing.T) {
	b := testBinary()
	x := &exprCtx{b: b, atEntry: true}
	pl, err := x.eval([]byte{0xa3, 0x01, 0x55, 0x9f})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := b.render(pl.load(false), &renderCtx{}); err != nil || got != "%di" {
		t.Errorf("entry value at entry: %q, %v", got, err)
	}
}

// FuzzTranslateLocation: any expression either translates or fails with
// an error; never a panic.
func FuzzTranslateLocation(f *testing.F) {
	if testing.Short() {
		f.Skip("fuzzing skipped in -short mode")
	}
	for _, s := range [][]byte{{0x55}, {0x73, 0x78, 0x9f}, {0x91, 0x6c}, {0x92, 0x0d, 0x08}, {0xa3, 0x01, 0x55, 0x9f}, {0x03, 1, 2, 3, 4, 5, 6, 7, 8}, {0x9e, 0x04, 1, 2, 3, 4}} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, expr []byte, atEntry bool) {
		b := testBinary()
		x := &exprCtx{b: b, atEntry: atEntry, fb: func() (*term, error) { return &term{kind: tReg, reg: 7, off: 8}, nil }}
		pl, err := x.eval(expr)
		if err != nil {
			return
		}
		rc := &renderCtx{uprobe: atEntry, probeAddr: 0x1000, probeFileOff: 0x1000}
		b.render(pl.load(atEntry), rc)
		b.render(pl.t, rc)
	})
}
