package export

import (
	"bufio"
	"debug/elf"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// sym is one function symbol: [start, end) in the address space of its
// table (ELF virtual addresses for a DSO, kernel addresses for kallsyms).
type sym struct {
	start, end uint64
	name       string
	bind       elf.SymBind
}

// symtab is a sorted, duplicate-free symbol table.
type symtab struct {
	syms []sym
}

// newSymtab sorts syms (keeping the given order among equal addresses),
// gives zero-sized symbols the extent perf gives them (symbols__fixup_end
// in tools/perf/util/symbol.c), then keeps one symbol per start address
// with perf's preferences (symbols__fixup_duplicate, choose_best_symbol).
// The order matters as in perf: among aliases of zero size, the last one
// gets an extent and so wins.
func newSymtab(syms []sym, kallsyms bool) *symtab {
	slices.SortStableFunc(syms, func(a, b sym) int {
		switch {
		case a.start < b.start:
			return -1
		case a.start > b.start:
			return 1
		}
		return 0
	})
	for i := range syms {
		if syms[i].end != syms[i].start {
			continue
		}
		if i+1 < len(syms) {
			next := syms[i+1]
			if kallsyms && strings.Contains(syms[i].name, "[") != strings.Contains(next.name, "[") {
				syms[i].end = roundUp(syms[i].end+4096, 4096)
			} else {
				syms[i].end = next.start
			}
		} else {
			syms[i].end = roundUp(syms[i].start, 4096) + 4096
		}
	}
	out := syms[:0]
	for _, s := range syms {
		if n := len(out); n > 0 && out[n-1].start == s.start {
			if !betterSymbol(out[n-1], s) {
				out[n-1] = s
			}
			continue
		}
		out = append(out, s)
	}
	return &symtab{syms: out}
}

func roundUp(v, to uint64) uint64 { return (v + to - 1) / to * to }

// betterSymbol reports whether a is preferred over b at the same address:
// a non-zero size, then not weak, then global, then fewer leading
// underscores, then the longer name; on a tie the first one stays.
func betterSymbol(a, b sym) bool {
	sa, sb := a.end-a.start, b.end-b.start
	if sa > 0 && sb == 0 {
		return true
	}
	if sa == 0 && sb > 0 {
		return false
	}
	wa, wb := a.bind == elf.STB_WEAK, b.bind == elf.STB_WEAK
	if wa != wb {
		return wb
	}
	ga, gb := a.bind == elf.STB_GLOBAL, b.bind == elf.STB_GLOBAL
	if ga != gb {
		return ga
	}
	ua, ub := leadingUnderscores(a.name), leadingUnderscores(b.name)
	if ua != ub {
		return ua < ub
	}
	return len(a.name) >= len(b.name)
}

func leadingUnderscores(s string) int {
	n := 0
	for n < len(s) && s[n] == '_' {
		n++
	}
	return n
}

// lookup returns the symbol containing addr.
func (t *symtab) lookup(addr uint64) (*sym, bool) {
	if t == nil {
		return nil, false
	}
	i, _ := slices.BinarySearchFunc(t.syms, addr, func(s sym, a uint64) int {
		switch {
		case s.start < a:
			return -1
		case s.start > a:
			return 1
		}
		return 0
	})
	// i is the first symbol starting at or after addr.
	if i < len(t.syms) && t.syms[i].start == addr {
		return &t.syms[i], true
	}
	if i == 0 {
		return nil, false
	}
	s := &t.syms[i-1]
	if addr < s.end {
		return s, true
	}
	return nil, false
}

// maxKallsymsLine bounds one kallsyms line.
const maxKallsymsLine = 4096

// parseKallsyms reads /proc/kallsyms text ("ffffffff81000000 T _text" with
// an optional "\t[module]"), keeping the symbol types perf keeps
// (symbol_type__filter: T, W, D, B in either case). It reports whether
// any address is non-zero: a kallsyms read without privileges shows
// zeros. Malformed lines are skipped, as perf does.
func parseKallsyms(r io.Reader) (*symtab, bool, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxKallsymsLine)
	var syms []sym
	nonzero := false
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) < 3 || len(f[1]) != 1 {
			continue
		}
		switch f[1][0] | 0x20 {
		case 't', 'w', 'd', 'b':
		default:
			continue
		}
		addr, err := strconv.ParseUint(f[0], 16, 64)
		if err != nil {
			continue
		}
		name := f[2]
		if len(f) > 3 {
			name += " " + strings.Join(f[3:], " ")
		}
		if addr != 0 {
			nonzero = true
		}
		syms = append(syms, sym{start: addr, end: addr, name: name, bind: elf.STB_GLOBAL})
	}
	if err := sc.Err(); err != nil {
		return nil, false, fmt.Errorf("read kallsyms: %w", err)
	}
	// Module symbols carry "\t[mod]" in their names; perf shows the bare
	// name but uses the bracket for the gap rule above.
	t := newSymtab(syms, true)
	for i := range t.syms {
		if j := strings.IndexByte(t.syms[i].name, ' '); j >= 0 && strings.HasPrefix(t.syms[i].name[j+1:], "[") {
			t.syms[i].name = t.syms[i].name[:j]
		}
	}
	return t, nonzero, nil
}
