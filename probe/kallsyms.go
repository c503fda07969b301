package probe

import (
	"bufio"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// kallsymsMap is the running kernel's symbols as perf's host machine
// loads them from /proc/kallsyms to show a kprobe without DWARF
// (find_perf_probe_point_from_map in tools/perf/util/probe-event.c):
// text, weak, data and bss symbols, the kernel's and the modules'.
type kallsymsMap struct {
	text   uint64            // _text, perf's ref_reloc_sym
	addrs  []kallsym         // sorted by address
	byName map[string]uint64 // the first address of each name
}

type kallsym struct {
	addr uint64
	name string
	typ  byte
}

// better reports whether a is the symbol perf keeps of two at one
// address (choose_best_symbol in tools/perf/util/symbol.c): not weak,
// then global, then fewer leading underscores, then the longer name.
func (a kallsym) better(b kallsym) bool {
	if aw, bw := a.typ|0x20 == 'w', b.typ|0x20 == 'w'; aw != bw {
		return bw
	}
	if ag, bg := a.typ < 'a', b.typ < 'a'; ag != bg {
		return ag
	}
	au := len(a.name) - len(strings.TrimLeft(a.name, "_"))
	bu := len(b.name) - len(strings.TrimLeft(b.name, "_"))
	if au != bu {
		return au < bu
	}
	return len(a.name) >= len(b.name)
}

// loadKallsyms reads a kallsyms file; nil when it cannot be read or
// hides its addresses.
func loadKallsyms(path string) *kallsymsMap {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	return parseKallsyms(f)
}

func parseKallsyms(r io.Reader) *kallsymsMap {
	k := &kallsymsMap{byName: map[string]uint64{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 || len(f[1]) != 1 {
			continue
		}
		addr, err := strconv.ParseUint(f[0], 16, 64)
		if err != nil {
			continue
		}
		if f[2] == "_text" && len(f) == 3 {
			k.text = addr
		}
		// perf's symbol_type__filter: T, W, D and B, either case.
		switch f[1][0] | 0x20 {
		case 't', 'w', 'd', 'b':
		default:
			continue
		}
		k.addrs = append(k.addrs, kallsym{addr, f[2], f[1][0]})
		if _, ok := k.byName[f[2]]; !ok {
			k.byName[f[2]] = addr
		}
	}
	if sc.Err() != nil || k.text == 0 {
		return nil
	}
	sort.SliceStable(k.addrs, func(i, j int) bool { return k.addrs[i].addr < k.addrs[j].addr })
	return k
}

// resolve turns symbol+offset (as written to kprobe_events, _text+OFF
// included) into the symbol holding that address and the offset in it,
// as perf -l shows a kprobe it finds no DWARF for. A symbol ends where
// the next begins (perf's symbols__fixup_end).
func (k *kallsymsMap) resolve(sym string, off uint64) (string, uint64, bool) {
	if k == nil {
		return "", 0, false
	}
	base, ok := k.byName[sym]
	if sym == "_text" {
		base, ok = k.text, true
	}
	if !ok {
		return "", 0, false
	}
	addr := base + off
	i := sort.Search(len(k.addrs), func(i int) bool { return k.addrs[i].addr > addr }) - 1
	if i < 0 {
		return "", 0, false
	}
	// Of several symbols at one address, perf keeps one
	// (symbols__fixup_duplicate).
	best := k.addrs[i]
	for j := i - 1; j >= 0 && k.addrs[j].addr == best.addr; j-- {
		if k.addrs[j].better(best) {
			best = k.addrs[j]
		}
	}
	return best.name, addr - best.addr, true
}

var (
	kallsymsOnce   sync.Once
	kallsymsLoaded *kallsymsMap
)

// kallsyms is /proc/kallsyms, read once; nil when unreadable.
func kallsyms() *kallsymsMap {
	kallsymsOnce.Do(func() { kallsymsLoaded = loadKallsyms("/proc/kallsyms") })
	return kallsymsLoaded
}
