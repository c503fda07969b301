package export

import (
	"bytes"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Callchain context markers (enum perf_callchain_context in
// include/uapi/linux/perf_event.h): entries at or above contextMax are
// not addresses but switch the mode of the entries that follow.
const (
	contextHV          = ^uint64(32 - 1)   // (u64)-32
	contextKernel      = ^uint64(128 - 1)  // (u64)-128
	contextUser        = ^uint64(512 - 1)  // (u64)-512
	contextGuest       = ^uint64(2048 - 1) // (u64)-2048
	contextGuestKernel = ^uint64(2176 - 1) // (u64)-2176
	contextGuestUser   = ^uint64(2560 - 1) // (u64)-2560
	contextMax         = ^uint64(4095 - 1) // (u64)-4095
)

// Frame is one resolved address of a sample's stack.
type Frame struct {
	Addr    uint64 // the address as sampled
	Kernel  bool   // a kernel address
	Sym     string // function name, "" when unknown
	SymOff  uint64 // Addr's offset in Sym
	DSO     string // file name, "[kernel.kallsyms]", or "[unknown]"
	mapping *mapping
	vaddr   uint64 // the address in the DSO's ELF address space
}

// foldedName is the frame's name in folded stacks and flame graphs: the
// function, or "[dso basename]" when only the file is known
// (stackcollapse-perf.pl's rule), or "[unknown]".
func (f *Frame) foldedName() string {
	if f.Sym != "" {
		return f.Sym
	}
	if f.DSO != "" && f.DSO != "[unknown]" {
		if strings.HasPrefix(f.DSO, "[") {
			return f.DSO
		}
		return "[" + filepath.Base(f.DSO) + "]"
	}
	return "[unknown]"
}

// mapping is one executable mapping of a process (from MMAP/MMAP2), or of
// the kernel.
type mapping struct {
	start, end, pgoff uint64
	file              string
	buildID           string // hex, from the record or the header's build-id table
	dso               *dso
	id                uint64 // pprof mapping ID, 0 until used
}

// dso is a loaded object's symbols.
type dso struct {
	path    string
	buildID string // from the recording, else read from the file found
	syms    *symtab
	loads   []elf.ProgHeader // PT_LOAD headers: file offset -> virtual address
	loaded  bool
	// dwarfPath is the file with the DWARF line tables (debug file or
	// the binary), "" if none; lines are opened on first use.
	dwarfPath  string
	lines      *dwarfLines
	linesTried bool
}

// symbolizer resolves sampled addresses with the process mappings seen so
// far, the ELF symbols of the mapped files (or their debug files), and
// kallsyms for the kernel. It is this package's own thin resolver; see
// docs/export.md for its limits.
type symbolizer struct {
	procs    map[uint32][]*mapping // by pid, sorted by start
	kernel   []*mapping            // pid -1 mappings
	dsos     map[string]*dso       // by path + build ID
	buildIDs map[string]string     // file name -> build ID (header table)
	kallsyms *symtab
	kallErr  error
	kallPath string
	kallDone bool
	sameHost bool // the file was recorded on the running kernel
	debugDir string
}

func newSymbolizer(kallsymsPath string, buildIDs map[string]string, sameHost bool) *symbolizer {
	home, _ := os.UserHomeDir()
	return &symbolizer{
		procs:    map[uint32][]*mapping{},
		dsos:     map[string]*dso{},
		buildIDs: buildIDs,
		kallPath: kallsymsPath,
		sameHost: sameHost,
		debugDir: filepath.Join(home, ".debug"),
	}
}

// addMapping records an executable mapping of pid (pid == ^0: the
// kernel's), replacing whatever it overlaps, as perf's
// maps__fixup_overlappings does.
func (s *symbolizer) addMapping(pid uint32, m *mapping) {
	if m.end <= m.start {
		return
	}
	if m.buildID == "" {
		m.buildID = s.buildIDs[m.file]
	}
	if pid == ^uint32(0) {
		s.kernel = append(s.kernel, m)
		return
	}
	old := s.procs[pid]
	out := make([]*mapping, 0, len(old)+2)
	for _, o := range old {
		if o.end <= m.start || o.start >= m.end {
			out = append(out, o)
			continue
		}
		// Keep the parts of o outside m.
		if o.start < m.start {
			c := *o
			c.end = m.start
			c.id = 0
			out = append(out, &c)
		}
		if o.end > m.end {
			c := *o
			c.pgoff += m.end - o.start
			c.start = m.end
			c.id = 0
			out = append(out, &c)
		}
	}
	out = append(out, m)
	slices.SortFunc(out, func(a, b *mapping) int {
		if a.start < b.start {
			return -1
		}
		if a.start > b.start {
			return 1
		}
		return 0
	})
	s.procs[pid] = out
}

// fork gives a new process a copy of its parent's mappings.
func (s *symbolizer) fork(pid, ppid uint32) {
	if pid == ppid {
		return
	}
	if p, ok := s.procs[ppid]; ok {
		s.procs[pid] = slices.Clone(p)
	}
}

func (s *symbolizer) findMapping(pid uint32, addr uint64) *mapping {
	maps := s.procs[pid]
	i, _ := slices.BinarySearchFunc(maps, addr, func(m *mapping, a uint64) int {
		if m.start <= a {
			return -1
		}
		return 1
	})
	if i > 0 && addr < maps[i-1].end {
		return maps[i-1]
	}
	return nil
}

// resolve fills a frame for addr, sampled in pid, in kernel or user mode.
func (s *symbolizer) resolve(pid uint32, addr uint64, kernel bool) Frame {
	f := Frame{Addr: addr, Kernel: kernel, DSO: "[unknown]"}
	if kernel {
		f.DSO = "[kernel.kallsyms]"
		for _, m := range s.kernel {
			if addr >= m.start && addr < m.end {
				f.mapping = m
				if !strings.HasPrefix(m.file, "[kernel.kallsyms]") {
					f.DSO = m.file
				}
				break
			}
		}
		if t := s.kernelSymbols(); t != nil {
			if sy, ok := t.lookup(addr); ok {
				f.Sym, f.SymOff = sy.name, addr-sy.start
			}
		}
		return f
	}
	m := s.findMapping(pid, addr)
	if m == nil {
		return f
	}
	f.mapping = m
	f.DSO = m.file
	d := s.dso(m)
	if d.syms == nil {
		return f
	}
	off := addr - m.start + m.pgoff
	vaddr := off
	for _, p := range d.loads {
		if off >= p.Off && off < p.Off+p.Filesz {
			vaddr = p.Vaddr + off - p.Off
			break
		}
	}
	f.vaddr = vaddr
	if sy, ok := d.syms.lookup(vaddr); ok {
		f.Sym, f.SymOff = sy.name, vaddr-sy.start
	}
	return f
}

// line returns the source line of a user frame. For callers (return
// addresses) the line of the call instruction is wanted: the one of the
// byte before.
func (s *symbolizer) line(f *Frame, caller bool) (srcLine, bool) {
	if f.Kernel || f.mapping == nil || f.mapping.dso == nil || f.Sym == "" {
		return srcLine{}, false
	}
	d := f.mapping.dso
	if !d.linesTried {
		d.linesTried = true
		if d.dwarfPath != "" {
			d.lines = openLines(d.dwarfPath)
		}
	}
	pc := f.vaddr
	if caller && pc > 0 {
		pc--
	}
	return d.lines.lookup(pc)
}

// hasDWARF reports whether f carries DWARF line tables.
func hasDWARF(f *elf.File) bool {
	info, line := f.Section(".debug_info"), f.Section(".debug_line")
	return info != nil && line != nil && info.Type != elf.SHT_NOBITS && line.Type != elf.SHT_NOBITS
}

// kernelSymbols loads kallsyms once: the file given by the user, else
// perf's build-id cache copy for the recorded kernel, else /proc/kallsyms
// when the file comes from the running kernel.
func (s *symbolizer) kernelSymbols() *symtab {
	if s.kallDone {
		return s.kallsyms
	}
	s.kallDone = true
	var paths []string
	if s.kallPath != "" {
		paths = []string{s.kallPath}
	} else {
		if id := s.buildIDs["[kernel.kallsyms]"]; id != "" {
			paths = append(paths, filepath.Join(s.debugDir, "[kernel.kallsyms]", id, "kallsyms"))
		}
		if s.sameHost {
			paths = append(paths, "/proc/kallsyms")
		}
	}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			s.kallErr = err
			continue
		}
		t, nonzero, err := parseKallsyms(f)
		f.Close()
		if err != nil {
			s.kallErr = fmt.Errorf("%s: %w", p, err)
			continue
		}
		if !nonzero {
			s.kallErr = fmt.Errorf("%s: all addresses are zero (kptr_restrict; run as root)", p)
			continue
		}
		s.kallsyms = t
		return t
	}
	return nil
}

// dso returns the loaded symbols of a mapping's file.
func (s *symbolizer) dso(m *mapping) *dso {
	if m.dso != nil {
		return m.dso
	}
	key := m.file + "\x00" + m.buildID
	d := s.dsos[key]
	if d == nil {
		d = &dso{path: m.file, buildID: m.buildID}
		s.load(d)
		s.dsos[key] = d
	}
	m.dso = d
	return d
}

// load finds a file's symbols the way perf looks for them: the runtime
// binary from perf's build-id cache or its path (checking the build ID
// when known), and the symbol table from a debug file when one has
// .symtab (/usr/lib/debug/.build-id, the build-id cache's "debug" copy,
// .gnu_debuglink), else the binary's own .symtab or .dynsym.
func (s *symbolizer) load(d *dso) {
	d.loaded = true
	if d.path == "[vdso]" {
		if s.sameHost {
			s.loadVDSO(d)
		}
		return
	}
	if strings.HasPrefix(d.path, "[") || strings.HasPrefix(d.path, "//anon") || strings.HasPrefix(d.path, "/memfd:") {
		return
	}
	var runtimeCandidates []string
	if d.buildID != "" {
		runtimeCandidates = append(runtimeCandidates, filepath.Join(s.debugDir, d.path, d.buildID, "elf"))
	}
	runtimeCandidates = append(runtimeCandidates, d.path)
	var rt *elf.File
	rtPath := ""
	for _, p := range runtimeCandidates {
		f, err := openELF(p)
		if err != nil {
			continue
		}
		if d.buildID != "" && p == d.path {
			if id := elfBuildID(f); id != "" && id != d.buildID {
				f.Close()
				continue // a different binary now lives at that path
			}
		}
		rt, rtPath = f, p
		break
	}
	if rt == nil {
		return
	}
	if hasDWARF(rt) {
		d.dwarfPath = rtPath
	}
	defer rt.Close()
	for _, p := range rt.Progs {
		if p.Type == elf.PT_LOAD {
			d.loads = append(d.loads, p.ProgHeader)
		}
	}
	id := d.buildID
	if id == "" {
		id = elfBuildID(rt)
		d.buildID = id
	}
	var debugCandidates []string
	if id != "" && len(id) > 2 {
		debugCandidates = append(debugCandidates,
			filepath.Join(s.debugDir, d.path, id, "debug"),
			filepath.Join("/usr/lib/debug/.build-id", id[:2], id[2:]+".debug"))
	}
	if link := debugLink(rt); link != "" {
		dir := filepath.Dir(d.path)
		debugCandidates = append(debugCandidates,
			filepath.Join(dir, link), filepath.Join(dir, ".debug", link), filepath.Join("/usr/lib/debug", dir, link))
	}
	for _, p := range debugCandidates {
		f, err := openELF(p)
		if err != nil {
			continue
		}
		if d.dwarfPath == "" && hasDWARF(f) {
			d.dwarfPath = p
		}
		syms := funcSymbols(f, false)
		f.Close()
		if len(syms) > 0 {
			d.syms = newSymtab(syms, false)
			return
		}
	}
	syms := funcSymbols(rt, false)
	if len(syms) == 0 {
		syms = funcSymbols(rt, true)
	}
	if len(syms) > 0 {
		d.syms = newSymtab(syms, false)
	}
}

// loadVDSO reads this process's vDSO image, which is the recorded one
// when the file comes from the running kernel.
func (s *symbolizer) loadVDSO(d *dso) {
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(maps), "\n") {
		if !strings.HasSuffix(line, "[vdso]") {
			continue
		}
		rng, _, _ := strings.Cut(line, " ")
		a, b, _ := strings.Cut(rng, "-")
		start, err1 := strconv.ParseUint(a, 16, 64)
		end, err2 := strconv.ParseUint(b, 16, 64)
		if err1 != nil || err2 != nil || end <= start || end-start > 1<<20 {
			return
		}
		mem, err := os.Open("/proc/self/mem")
		if err != nil {
			return
		}
		buf := make([]byte, end-start)
		_, err = mem.ReadAt(buf, int64(start))
		mem.Close()
		if err != nil {
			return
		}
		f, err := safeELF(func() (*elf.File, error) { return elf.NewFile(bytes.NewReader(buf)) })
		if err != nil {
			return
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_LOAD {
				d.loads = append(d.loads, p.ProgHeader)
			}
		}
		syms := funcSymbols(f, true)
		if len(syms) == 0 {
			syms = funcSymbols(f, false)
		}
		if len(syms) > 0 {
			d.syms = newSymtab(syms, false)
		}
		return
	}
}

// safeELF turns a panic in debug/elf (it has unfixed ones on malformed
// input) into an error.
func safeELF(open func() (*elf.File, error)) (f *elf.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("malformed ELF file: %v", r)
		}
	}()
	return open()
}

func openELF(path string) (*elf.File, error) {
	return safeELF(func() (*elf.File, error) { return elf.Open(path) })
}

// funcSymbols returns the function symbols of .symtab (or .dynsym), with
// zero sizes kept zero for newSymtab to fix up.
func funcSymbols(f *elf.File, dynamic bool) (out []sym) {
	defer func() {
		if recover() != nil {
			out = nil
		}
	}()
	var syms []elf.Symbol
	var err error
	if dynamic {
		syms, err = f.DynamicSymbols()
	} else {
		syms, err = f.Symbols()
	}
	if err != nil {
		return nil
	}
	for _, s := range syms {
		t := elf.ST_TYPE(s.Info)
		if s.Section == elf.SHN_UNDEF || s.Section == elf.SHN_ABS || s.Name == "" {
			continue
		}
		switch t {
		case elf.STT_FUNC, elf.STT_GNU_IFUNC:
		case elf.STT_NOTYPE:
			// A label in code (perf's elf_sym__is_label), such as
			// ld.so's _dl_start_user.
			if int(s.Section) >= len(f.Sections) || f.Sections[s.Section].Flags&elf.SHF_EXECINSTR == 0 {
				continue
			}
		default:
			continue
		}
		out = append(out, sym{start: s.Value, end: s.Value + s.Size, name: s.Name, bind: elf.ST_BIND(s.Info)})
	}
	return out
}

// elfBuildID returns the GNU build ID note of f in hex, or "".
func elfBuildID(f *elf.File) (id string) {
	defer func() {
		if recover() != nil {
			id = ""
		}
	}()
	for _, p := range f.Progs {
		if p.Type != elf.PT_NOTE {
			continue
		}
		b := make([]byte, min(p.Filesz, 1<<16))
		if _, err := p.ReadAt(b, 0); err != nil {
			continue
		}
		for len(b) >= 12 {
			nsz := f.ByteOrder.Uint32(b[0:])
			dsz := f.ByteOrder.Uint32(b[4:])
			typ := f.ByteOrder.Uint32(b[8:])
			b = b[12:]
			na := (uint64(nsz) + 3) &^ 3
			da := (uint64(dsz) + 3) &^ 3
			if na+da > uint64(len(b)) {
				break
			}
			if typ == 3 /* NT_GNU_BUILD_ID */ && nsz == 4 && string(b[:3]) == "GNU" {
				return hex.EncodeToString(b[na : na+uint64(dsz)])
			}
			b = b[na+da:]
		}
	}
	return ""
}

// debugLink returns the file name in .gnu_debuglink, or "".
func debugLink(f *elf.File) (name string) {
	defer func() {
		if recover() != nil {
			name = ""
		}
	}()
	sec := f.Section(".gnu_debuglink")
	if sec == nil || sec.Size > 4096 {
		return ""
	}
	b, err := sec.Data()
	if err != nil {
		return ""
	}
	if i := bytes.IndexByte(b, 0); i > 0 {
		return filepath.Base(string(b[:i]))
	}
	return ""
}
