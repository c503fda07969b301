package script

import (
	"bufio"
	"bytes"
	"cmp"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/gperf-dev/gperf/perfdata"
)

// This file resolves addresses to symbols the way perf 6.1 does
// (tools/perf/util/{machine,thread,maps,map,symbol,symbol-elf}.c): user
// addresses through the MMAP/MMAP2 records of the sample's process and the
// ELF symbol tables of the mapped files (or their debug files), kernel
// addresses through kallsyms.

// Context markers in callchains (include/uapi/linux/perf_event.h).
const (
	contextHV     = 0xffffffffffffffe0 // PERF_CONTEXT_HV: (u64)-32
	contextKernel = 0xffffffffffffff80 // PERF_CONTEXT_KERNEL: (u64)-128
	contextUser   = 0xfffffffffffffe00 // PERF_CONTEXT_USER: (u64)-512
	contextMax    = 0xfffffffffffff001 // PERF_CONTEXT_MAX: (u64)-4095
)

// CPU modes of perf_event_header.misc.
const (
	cpumodeKernel = 1
	cpumodeUser   = 2
	cpumodeHV     = 3
)

// KernelDSO is the name perf gives the kernel's map.
const KernelDSO = "[kernel.kallsyms]"

// SymbolizerOptions tunes a Symbolizer.
type SymbolizerOptions struct {
	// Kallsyms is the kallsyms file for kernel addresses; empty means
	// the file's tracing data if it holds one, else /proc/kallsyms.
	Kallsyms string
	// DebugDir is perf's build-id cache; empty means $HOME/.debug.
	DebugDir string
}

// Symbol is what an address resolves to.
type Symbol struct {
	// Name is the symbol name, "" if no symbol contains the address
	// (perf prints "[unknown]").
	Name string
	// Start is the symbol's start and Off the address's offset from it,
	// in the DSO's address space (perf's sym->start and al->addr -
	// sym->start).
	Start, Off uint64
	// Addr is the address in the DSO's space (perf's al->addr: the
	// file-relative address for user maps, the address itself for the
	// kernel and for unmapped addresses).
	Addr uint64
	// DSO is the mapped file's name ("[kernel.kallsyms]", "[vdso]", a
	// path), "" if no map contains the address (perf prints
	// "[unknown]").
	DSO string
	// Kernel is true for kernel addresses.
	Kernel bool
}

// Frame is one resolved callchain entry.
type Frame struct {
	IP uint64 // the raw address
	Symbol
}

// Symbolizer tracks the address spaces of a perf.data file's processes
// and resolves addresses. Feed it every record in time order with Update
// before resolving a sample's addresses.
type Symbolizer struct {
	opts     SymbolizerOptions
	buildIDs map[string][]byte // from HEADER_BUILD_ID
	procs    map[uint32]*addrSpace
	dsos     map[string]*dso
	kernel   *dso
	kloaded  bool
	// With a kallsyms file other than /proc/kallsyms, perf's kernel map
	// spans its symbols only (map__fixup_start/end); with /proc/kallsyms
	// it reads /proc/kcore's segments instead, which cover the kernel.
	kRestrict bool
	kLo, kHi  uint64
	// The kernel map's range from its MMAP record, which the first
	// lookup uses (perf loads the symbols, and narrows the map, only
	// after finding the map).
	kMmapLo, kMmapHi uint64
	tracingK         []byte
	// samples counts the samples given to Update. perf script has
	// loaded the kernel map (narrowing it) once the first sample is
	// done, whatever that sample's cpumode: only a lookup for the first
	// sample sees the MMAP record's range.
	samples      int
	sampleKernel bool   // the last sample's cpumode is the kernel's
	sampleIP     uint64 // and its ip
	last         *addrSpace
	lastPid      uint32
}

type addrSpace struct {
	maps []*mapping // sorted by start, non-overlapping
}

type mapping struct {
	start, end, pgoff uint64
	dso               *dso
	identity          bool // anonymous memory: map_ip is the identity
}

type dso struct {
	name    string
	path    string
	buildID []byte
	loaded  bool
	syms    []sym
}

type sym struct {
	start, end uint64
	name       string
	bind       elf.SymBind
}

// NewSymbolizer returns a symbolizer for f's records.
func NewSymbolizer(f *perfdata.File, opts SymbolizerOptions) *Symbolizer {
	s := &Symbolizer{
		opts:     opts,
		buildIDs: map[string][]byte{},
		procs:    map[uint32]*addrSpace{},
		dsos:     map[string]*dso{},
	}
	if f != nil {
		for _, b := range f.Features.BuildIDs {
			s.buildIDs[b.Filename] = b.BuildID
		}
		if td := f.Features.TracingData; td != nil && len(td.Kallsyms) > 0 {
			s.tracingK = td.Kallsyms
		}
	}
	s.kernel = &dso{name: KernelDSO}
	return s
}

// Update applies a record that changes address spaces (MMAP, MMAP2,
// FORK); other records are ignored.
func (s *Symbolizer) Update(r perfdata.Record) {
	switch r := r.(type) {
	case *perfdata.Sample:
		s.samples++
		s.sampleKernel, s.sampleIP = r.CPUMode() == cpumodeKernel, r.IP
	case *perfdata.Mmap:
		if r.CPUMode() == cpumodeKernel && strings.HasPrefix(r.Filename, KernelDSO) {
			s.kMmapLo, s.kMmapHi = r.Addr, r.Addr+r.Len
		}
		if r.CPUMode() == cpumodeKernel || r.Pid == ^uint32(0) {
			return
		}
		prot := uint32(0)
		if r.Misc&perfdata.MiscMmapData == 0 {
			prot = protExec
		}
		s.addMap(r.Pid, r.Addr, r.Len, r.Pgoff, r.Filename, nil, prot, 0)
	case *perfdata.Mmap2:
		if r.CPUMode() == cpumodeKernel || r.Pid == ^uint32(0) {
			return
		}
		var bid []byte
		if len(r.BuildID) > 0 {
			bid = r.BuildID
		}
		s.addMap(r.Pid, r.Addr, r.Len, r.Pgoff, r.Filename, bid, r.Prot, r.Flags)
	case *perfdata.Fork:
		if r.Pid == r.PPid {
			return
		}
		parent := s.procs[r.PPid]
		as := &addrSpace{}
		if parent != nil {
			as.maps = make([]*mapping, len(parent.maps))
			for i, m := range parent.maps {
				c := *m
				as.maps[i] = &c
			}
		}
		s.procs[r.Pid] = as
		s.last = nil
	}
}

func (s *Symbolizer) space(pid uint32) *addrSpace {
	if s.last != nil && s.lastPid == pid {
		return s.last
	}
	as := s.procs[pid]
	if as == nil {
		as = &addrSpace{}
		s.procs[pid] = as
	}
	s.last, s.lastPid = as, pid
	return as
}

func (s *Symbolizer) dsoFor(name string, bid []byte) *dso {
	d := s.dsos[name]
	if d == nil {
		d = &dso{name: name, path: name}
		if b, ok := s.buildIDs[name]; ok {
			d.buildID = b
		}
		s.dsos[name] = d
	}
	if d.buildID == nil && bid != nil {
		d.buildID = append([]byte(nil), bid...)
	}
	return d
}

const (
	protExec   = 0x4     // PROT_EXEC
	mapHugeTLB = 0x40000 // MAP_HUGETLB
)

// addMap inserts a map, cutting the maps it overlaps as perf's
// maps__fixup_overlappings does. Anonymous executable memory is named
// /tmp/perf-PID.map, as perf's map__new does for JIT code.
func (s *Symbolizer) addMap(pid uint32, start, length, pgoff uint64, name string, bid []byte, prot, flags uint32) {
	if length == 0 {
		return
	}
	as := s.space(pid)
	anon := name == "//anon" || strings.HasPrefix(name, "/dev/zero") || strings.HasPrefix(name, "/anon_hugepage") || flags&mapHugeTLB != 0
	noDSO := strings.HasPrefix(name, "[stack") || strings.HasPrefix(name, "/SYSV") || name == "[heap]"
	if (anon || noDSO) && prot&protExec != 0 {
		name = "/tmp/perf-" + strconv.Itoa(int(int32(pid))) + ".map"
		bid = nil
	}
	if name == "[vdso]" {
		pgoff = 0
	}
	nm := &mapping{start: start, end: start + length, pgoff: pgoff, dso: s.dsoFor(name, bid), identity: anon || noDSO}
	if nm.end < nm.start {
		nm.end = ^uint64(0)
	}
	out := as.maps[:0:0]
	for _, m := range as.maps {
		if m.end <= nm.start || m.start >= nm.end {
			out = append(out, m)
			continue
		}
		if m.start < nm.start {
			before := *m
			before.end = nm.start
			out = append(out, &before)
		}
		if m.end > nm.end {
			after := *m
			after.pgoff += nm.end - m.start
			after.start = nm.end
			out = append(out, &after)
		}
	}
	out = append(out, nm)
	sort.Slice(out, func(i, j int) bool { return out[i].start < out[j].start })
	as.maps = out
}

func (as *addrSpace) find(addr uint64) *mapping {
	i := sort.Search(len(as.maps), func(i int) bool { return as.maps[i].start > addr })
	if i == 0 {
		return nil
	}
	m := as.maps[i-1]
	if addr < m.end {
		return m
	}
	return nil
}

// Resolve resolves addr in process pid for the given cpumode (the low
// bits of perf_event_header.misc: 1 kernel, 2 user).
func (s *Symbolizer) Resolve(pid uint32, cpumode uint16, addr uint64) Symbol {
	return s.resolve(pid, cpumode, addr, false)
}

func (s *Symbolizer) resolve(pid uint32, cpumode uint16, addr uint64, chain bool) Symbol {
	switch cpumode {
	case cpumodeKernel:
		if !s.kernelMapped(addr, chain) {
			return Symbol{Addr: addr, Kernel: true}
		}
		sy := Symbol{Addr: addr, DSO: KernelDSO, Kernel: true}
		if k := s.kernel.find(addr); k != nil {
			sy.Name, sy.Start, sy.Off = k.name, k.start, addr-k.start
		}
		return sy
	case cpumodeUser:
	default:
		return Symbol{Addr: addr}
	}
	m := s.space(pid).find(addr)
	if m == nil {
		return Symbol{Addr: addr}
	}
	rel := addr - m.start + m.pgoff
	if m.identity {
		rel = addr
	}
	sy := Symbol{Addr: rel, DSO: m.dso.name}
	m.dso.load(s)
	if k := m.dso.find(rel); k != nil {
		sy.Name, sy.Start = k.name, k.start
		if rel < k.end {
			sy.Off = rel - k.start
		} else {
			sy.Off = rel - m.start - k.start
		}
	}
	return sy
}

// KernelSymbol implements KernelSymbols for print fmts' %pS.
func (s *Symbolizer) KernelSymbol(addr uint64) (string, uint64, bool) {
	if !s.kernelMapped(addr, false) {
		return "", 0, false
	}
	if k := s.kernel.find(addr); k != nil {
		return k.name, k.start, true
	}
	return "", 0, false
}

// Callchain resolves a sample's callchain as perf's
// thread__resolve_callchain does: context markers switch the cpumode
// (user until the first marker) and are not frames. Frames are appended
// to dst; max bounds their number (perf script's 127 when 0).
func (s *Symbolizer) Callchain(dst []Frame, pid uint32, chain []uint64, max int) []Frame {
	if max <= 0 {
		max = 127
	}
	mode := uint16(cpumodeUser)
	n := 0
	for _, ip := range chain {
		if ip >= contextMax {
			switch ip {
			case contextHV:
				mode = cpumodeHV
			case contextKernel:
				mode = cpumodeKernel
			case contextUser:
				mode = cpumodeUser
			default:
				return dst[:len(dst)-n]
			}
			continue
		}
		if n >= max {
			break
		}
		dst = append(dst, Frame{IP: ip, Symbol: s.resolve(pid, mode, ip, true)})
		n++
	}
	return dst
}

func (d *dso) find(addr uint64) *sym {
	i := sort.Search(len(d.syms), func(i int) bool { return d.syms[i].start > addr })
	if i == 0 {
		return nil
	}
	k := &d.syms[i-1]
	if addr < k.end || addr == k.start {
		return k
	}
	return nil
}

// ---- kernel ----

// kernelMapped reports whether perf's kernel map contains addr, loading
// the kernel symbols if needed. perf loads the kernel map, narrowing it
// to the kallsyms symbols, when a lookup first finds it in the MMAP
// record's range (thread__find_map), and in any case once the first
// sample is done. It looks a sample's ip up (machine__resolve) before
// the callchain's entries; chain is true for a callchain entry.
func (s *Symbolizer) kernelMapped(addr uint64, chain bool) bool {
	if !s.kloaded {
		inMmap := func(a uint64) bool {
			return s.kMmapHi <= s.kMmapLo || a >= s.kMmapLo && a < s.kMmapHi
		}
		loaded := s.samples > 1 || chain && s.sampleKernel && inMmap(s.sampleIP)
		if !loaded {
			if !inMmap(addr) {
				return false
			}
			s.loadKernel()
			return true
		}
		s.loadKernel()
	}
	return !s.kRestrict || addr >= s.kLo && addr < s.kHi
}

func (s *Symbolizer) loadKernel() {
	if s.kloaded {
		return
	}
	s.kloaded = true
	switch {
	case s.opts.Kallsyms != "":
		s.kernel.syms = readKallsyms(s.opts.Kallsyms)
	case len(s.tracingK) > 0:
		s.kernel.syms = parseKallsyms(bytes.NewReader(s.tracingK))
	default:
		s.kernel.syms = readKallsyms("/proc/kallsyms")
	}
	s.kernel.loaded = true
	if s.opts.Kallsyms != "" && s.opts.Kallsyms != "/proc/kallsyms" {
		s.kRestrict = true
		if n := len(s.kernel.syms); n > 0 {
			s.kLo, s.kHi = s.kernel.syms[0].start, s.kernel.syms[n-1].end
		}
	}
}

// parseKallsyms reads kallsyms text as perf's dso__load_kallsyms: text,
// weak, data and bss symbols of the kernel proper (module symbols are
// left out), ends at the next symbol, then duplicates resolved by
// choose_best_symbol.
func parseKallsyms(r io.Reader) []sym {
	syms := make([]sym, 0, 1<<16)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		sp := bytes.IndexByte(line, ' ')
		if sp <= 0 || sp+3 > len(line) || line[sp+2] != ' ' {
			continue
		}
		addr, err := strconv.ParseUint(string(line[:sp]), 16, 64)
		if err != nil {
			continue
		}
		typ := line[sp+1]
		switch typ | 0x20 {
		case 't', 'w', 'd', 'b':
		default:
			continue
		}
		name := line[sp+3:]
		if bytes.IndexByte(name, '\t') >= 0 || bytes.IndexByte(name, '[') >= 0 || len(name) == 0 || name[0] == '$' {
			continue // module symbol
		}
		bind := elf.STB_GLOBAL
		switch {
		case typ == 'W' || typ == 'w':
			bind = elf.STB_WEAK
		case typ >= 'a' && typ <= 'z':
			bind = elf.STB_LOCAL
		}
		syms = append(syms, sym{start: addr, end: addr, name: string(name), bind: bind})
	}
	slices.SortStableFunc(syms, cmpSymStart)
	// __dso__load_kallsyms fixes ends first, so of symbols sharing an
	// address the last one listed gets the length and wins.
	fixupEnd(syms)
	return fixupDuplicate(syms)
}

// readKallsyms parses a kallsyms file as it streams in (/proc/kallsyms
// has no size to preallocate for).
func readKallsyms(path string) []sym {
	fh, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer fh.Close()
	return parseKallsyms(fh)
}

func cmpSymStart(a, b sym) int { return cmp.Compare(a.start, b.start) }

// fixupEnd is symbols__fixup_end: a zero-sized symbol ends where the next
// begins; the last one at the next page boundary past its start.
func fixupEnd(syms []sym) {
	for i := 0; i+1 < len(syms); i++ {
		if syms[i].end == syms[i].start {
			syms[i].end = syms[i+1].start
		}
	}
	if n := len(syms); n > 0 && syms[n-1].end == syms[n-1].start {
		syms[n-1].end = (syms[n-1].start+4095)&^4095 + 4096
	}
}

// fixupDuplicate is symbols__fixup_duplicate: of symbols starting at the
// same address only the best one is kept.
func fixupDuplicate(syms []sym) []sym {
	out := syms[:0]
	for _, s := range syms {
		if n := len(out); n > 0 && out[n-1].start == s.start {
			if !chooseA(&out[n-1], &s) {
				out[n-1] = s
			}
			continue
		}
		out = append(out, s)
	}
	return out
}

// chooseA is choose_best_symbol: true to keep a over b.
func chooseA(a, b *sym) bool {
	la, lb := a.end-a.start, b.end-b.start
	if lb == 0 && la > 0 {
		return true
	} else if la == 0 && lb > 0 {
		return false
	}
	wa, wb := a.bind == elf.STB_WEAK, b.bind == elf.STB_WEAK
	if wb && !wa {
		return true
	}
	if wa && !wb {
		return false
	}
	ga, gb := a.bind == elf.STB_GLOBAL, b.bind == elf.STB_GLOBAL
	if ga && !gb {
		return true
	}
	if gb && !ga {
		return false
	}
	ua, ub := underscores(a.name), underscores(b.name)
	if ub > ua {
		return true
	} else if ua > ub {
		return false
	}
	return len(a.name) >= len(b.name)
}

func underscores(s string) int {
	n := 0
	for n < len(s) && s[n] == '_' {
		n++
	}
	return n
}

// ---- user DSOs ----

func (d *dso) load(s *Symbolizer) {
	if d.loaded {
		return
	}
	d.loaded = true
	if strings.HasPrefix(d.name, "[") && d.name != "[vdso]" {
		return
	}
	if strings.HasPrefix(d.name, "/tmp/perf-") && strings.HasSuffix(d.name, ".map") {
		d.syms = loadPerfMap(d.name)
		return
	}
	if strings.HasPrefix(d.name, "//anon") || strings.HasPrefix(d.name, "/dev/") || strings.HasPrefix(d.name, "/memfd:") {
		return
	}
	runtime, symtab := s.findFiles(d)
	if runtime == nil && symtab == nil {
		return
	}
	defer func() {
		if runtime != nil {
			runtime.Close()
		}
		if symtab != nil && symtab != runtime {
			symtab.Close()
		}
	}()
	if symtab == nil {
		symtab = runtime
	}
	if runtime == nil {
		runtime = symtab
	}
	d.syms = elfSymbols(symtab, runtime)
	if len(d.syms) > 0 {
		d.syms = addPLTSymbols(d.syms, runtime)
	}
}

// findFiles opens the file whose .symtab perf would read (the first of
// perf's candidates that has one) and the runtime image, checking build
// IDs when the perf.data file names one.
func (s *Symbolizer) findFiles(d *dso) (runtime, symtab *elf.File) {
	debugDir := s.opts.DebugDir
	if debugDir == "" {
		if h, err := os.UserHomeDir(); err == nil {
			debugDir = filepath.Join(h, ".debug")
		}
	}
	var cands []string
	bidHex := ""
	if len(d.buildID) > 0 {
		bidHex = hex.EncodeToString(d.buildID)
	} else if d.name != "[vdso]" {
		// perf reads the build ID of a file the header names none for,
		// to find its debug files (dso__load).
		if f := openELF(d.path); f != nil {
			bidHex = elfBuildID(f)
			f.Close()
		}
	}
	if d.name == "[vdso]" {
		if bidHex == "" || debugDir == "" {
			return nil, nil
		}
		// perf's build-id cache: .build-id/xx/yyy links to [vdso]/<id>/.
		cands = append(cands, filepath.Join(debugDir, ".build-id", bidHex[:2], bidHex[2:], "vdso"))
	} else {
		dir, base := filepath.Split(d.path)
		if link := debugLink(d.path); link != "" && link != base {
			cands = append(cands, filepath.Join(dir, link), filepath.Join(dir, ".debug", link), filepath.Join("/usr/lib/debug", dir, link))
		}
		if bidHex != "" && debugDir != "" {
			// perf's build-id cache: .build-id/xx/yyy links to <path>/<id>/
			// holding the file as "elf" (and debug info as "debug").
			cands = append(cands, filepath.Join(debugDir, ".build-id", bidHex[:2], bidHex[2:], "elf"))
			cands = append(cands, filepath.Join(debugDir, ".build-id", bidHex[:2], bidHex[2:], "debug"))
		}
		cands = append(cands, "/usr/lib/debug"+d.path+".debug", "/usr/lib/debug"+d.path)
		if bidHex != "" {
			cands = append(cands, filepath.Join("/usr/lib/debug/.build-id", bidHex[:2], bidHex[2:]+".debug"))
		}
		cands = append(cands, d.path)
	}
	for _, c := range cands {
		f := openELF(c)
		if f == nil {
			continue
		}
		if bidHex != "" {
			if b := elfBuildID(f); b != "" && b != bidHex {
				f.Close()
				continue
			}
		} else if c != d.path {
			f.Close()
			continue
		}
		hasSymtab := f.Section(".symtab") != nil && f.Section(".symtab").Type == elf.SHT_SYMTAB
		isRuntime := f.Section(".dynsym") != nil || hasProgs(f)
		if hasSymtab && symtab == nil {
			symtab = f
		}
		if isRuntime && runtime == nil && (f != symtab || true) {
			if f.Section(".text") != nil && f.Section(".text").Type != elf.SHT_NOBITS {
				runtime = f
			}
		}
		if f != symtab && f != runtime {
			f.Close()
		}
		if symtab != nil && runtime != nil {
			break
		}
	}
	return runtime, symtab
}

func hasProgs(f *elf.File) bool { return len(f.Progs) > 0 }

// openELF opens an ELF file, turning debug/elf panics into nil.
func openELF(path string) (f *elf.File) {
	defer func() {
		if recover() != nil {
			f = nil
		}
	}()
	fh, err := elf.Open(path)
	if err != nil {
		return nil
	}
	return fh
}

func debugLink(path string) string {
	f := openELF(path)
	if f == nil {
		return ""
	}
	defer f.Close()
	sec := f.Section(".gnu_debuglink")
	if sec == nil {
		return ""
	}
	b, err := sectionData(sec)
	if err != nil {
		return ""
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return string(b[:i])
	}
	return ""
}

func sectionData(sec *elf.Section) (b []byte, err error) {
	defer func() {
		if recover() != nil {
			b, err = nil, fmt.Errorf("read section %s: malformed ELF", sec.Name)
		}
	}()
	if sec.Size > 1<<30 {
		return nil, fmt.Errorf("read section %s: too large", sec.Name)
	}
	return io.ReadAll(sec.Open())
}

// elfBuildID returns the hex GNU build ID of f, "" if none.
func elfBuildID(f *elf.File) string {
	for _, sec := range f.Sections {
		if sec.Type != elf.SHT_NOTE {
			continue
		}
		b, err := sectionData(sec)
		if err != nil {
			continue
		}
		for len(b) >= 12 {
			nsz, dsz, typ := f.ByteOrder.Uint32(b), f.ByteOrder.Uint32(b[4:]), f.ByteOrder.Uint32(b[8:])
			b = b[12:]
			na, da := int((nsz+3)&^3), int((dsz+3)&^3)
			if na < 0 || da < 0 || na+da > len(b) {
				break
			}
			if typ == 3 && nsz == 4 && string(b[:3]) == "GNU" {
				return hex.EncodeToString(b[na : na+int(dsz)])
			}
			b = b[na+da:]
		}
	}
	return ""
}

// elfSymbols reads function and object symbols as perf's
// dso__load_sym_internal does.
func elfSymbols(symf, runtime *elf.File) (out []sym) {
	defer func() {
		if recover() != nil {
			out = nil
		}
	}()
	list, err := symf.Symbols()
	if err != nil || len(list) == 0 {
		list, err = symf.DynamicSymbols()
		if err != nil || len(list) == 0 {
			if symf != runtime {
				list, err = runtime.DynamicSymbols()
			}
			if err != nil {
				return nil
			}
		}
	}
	adjust := runtime.Type == elf.ET_EXEC || runtime.Type == elf.ET_REL
	for _, es := range list {
		typ := elf.ST_TYPE(es.Info)
		if es.Name == "" || es.Section == elf.SHN_UNDEF {
			continue
		}
		label := typ == elf.STT_NOTYPE && es.Section != elf.SHN_ABS && es.Section != elf.SHN_COMMON
		if !label && typ != elf.STT_FUNC && typ != elf.STT_GNU_IFUNC && typ != elf.STT_OBJECT {
			continue
		}
		if int(es.Section) >= len(symf.Sections) {
			continue
		}
		sec := symf.Sections[es.Section]
		if sec.Flags&elf.SHF_ALLOC == 0 {
			continue
		}
		if sec.Type == elf.SHT_NOBITS && int(es.Section) < len(runtime.Sections) {
			sec = runtime.Sections[es.Section]
		}
		if label && !strings.Contains(sec.Name, "text") {
			continue
		}
		v := es.Value
		if adjust {
			found := false
			for _, p := range runtime.Progs {
				if p.Type == elf.PT_LOAD && v >= p.Vaddr && v < p.Vaddr+p.Memsz {
					v -= p.Vaddr - p.Off
					found = true
					break
				}
			}
			if !found {
				continue
			}
		}
		out = append(out, sym{start: v, end: v + es.Size, name: es.Name, bind: elf.ST_BIND(es.Info)})
	}
	slices.SortStableFunc(out, cmpSymStart)
	fixupEnd(out)
	return fixupDuplicate(out)
}

// loadPerfMap reads a JIT symbol map (/tmp/perf-PID.map: "START SIZE
// name" lines, hex numbers) as perf's dso__load_perf_map.
func loadPerfMap(path string) []sym {
	fh, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer fh.Close()
	var out []sym
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		f := strings.SplitN(strings.TrimSpace(sc.Text()), " ", 3)
		if len(f) < 3 {
			continue
		}
		start, err1 := strconv.ParseUint(strings.TrimPrefix(f[0], "0x"), 16, 64)
		size, err2 := strconv.ParseUint(strings.TrimPrefix(f[1], "0x"), 16, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		out = append(out, sym{start: start, end: start + size, name: f[2], bind: elf.STB_GLOBAL})
	}
	slices.SortStableFunc(out, cmpSymStart)
	fixupEnd(out)
	return fixupDuplicate(out)
}

// addPLTSymbols adds perf 6.1's synthesized PLT symbols
// (dso__synthesize_plt_symbols) to syms: the n-th relocation of .rela.plt
// (or .rel.plt), which must link to .dynsym, names the n-th .plt entry
// after the header "SYM@plt" ("@plt" for a relocation without a symbol,
// as IRELATIVE ones); entries and the header are .plt's sh_entsize long
// and counted from .plt's file offset, whatever the file type. An entry
// inside a symbol already there (as _init, stretched over .plt by
// symbols__fixup_end) is left out: which of two overlapping symbols
// perf's rb-tree lookup finds depends on the tree's shape, which is not
// emulated; the ELF symbol is what perf finds for a small .plt.
func addPLTSymbols(syms []sym, f *elf.File) (out []sym) {
	defer func() {
		if recover() != nil {
			out = syms
		}
	}()
	dynIdx := -1
	for i, sec := range f.Sections {
		if sec.Type == elf.SHT_DYNSYM {
			dynIdx = i
			break
		}
	}
	if dynIdx < 0 {
		return syms
	}
	rel := f.Section(".rela.plt")
	if rel == nil {
		rel = f.Section(".rel.plt")
	}
	plt := f.Section(".plt")
	if rel == nil || plt == nil || int(rel.Link) != dynIdx || rel.Entsize == 0 {
		return syms
	}
	data, err := rel.Data()
	if err != nil {
		return syms
	}
	dyn, err := f.DynamicSymbols() // without the null symbol 0
	if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
		return syms
	}
	is64 := f.Class == elf.ELFCLASS64
	size := plt.Entsize
	off := plt.Offset + size
	var plts []sym
	for p := uint64(0); p+rel.Entsize <= uint64(len(data)); p += rel.Entsize {
		var idx uint64
		if is64 {
			idx = f.ByteOrder.Uint64(data[p+8:]) >> 32
		} else {
			idx = uint64(f.ByteOrder.Uint32(data[p+4:]) >> 8)
		}
		name := ""
		if idx > 0 && idx <= uint64(len(dyn)) {
			name = dyn[idx-1].Name
		}
		plts = append(plts, sym{start: off, end: off + size, name: name + "@plt", bind: elf.STB_GLOBAL})
		off += size
	}
	out = syms
	for _, ps := range plts {
		if (&dso{syms: syms}).find(ps.start) != nil {
			continue
		}
		out = append(out, ps)
	}
	if len(out) == len(syms) {
		return syms
	}
	slices.SortStableFunc(out, cmpSymStart)
	return out
}
