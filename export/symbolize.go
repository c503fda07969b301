package export

import (
	"bytes"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Frame is one resolved address of a sample's stack.
type Frame struct {
	Addr    uint64 // the address as sampled
	Kernel  bool   // a kernel address
	Sym     string // function name, "" when unknown
	SymOff  uint64 // Addr's offset in Sym
	DSO     string // file name, "[kernel.kallsyms]", or "[unknown]"
	mapping *mapping
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
}

// dso is what pprof needs of a mapped file.
type dso struct {
	path    string
	buildID string           // from the recording, else read from the file found
	loads   []elf.ProgHeader // PT_LOAD headers: file offset -> virtual address
	// dwarfPath is the file with the DWARF line tables (debug file or
	// the binary), "" if none; lines are opened on first use.
	dwarfPath  string
	lines      *dwarfLines
	linesTried bool
}

// symbolizer keeps what pprof needs beyond names: the executable mappings
// of each process (MMAP/MMAP2 records, replaced on overlap, copied on fork)
// and the kernel's, the build IDs of the mapped files, and their DWARF
// line tables. Names come from script.Symbolizer, the resolver behind
// gperf script's perf-compatible text.
type symbolizer struct {
	procs    map[uint32][]*mapping // by pid, sorted by start
	kernel   []*mapping            // pid -1 mappings
	dsos     map[string]*dso       // by path + build ID
	buildIDs map[string]string     // file name -> build ID (header table)
	debugDir string
}

func newSymbolizer(buildIDs map[string]string) *symbolizer {
	home, _ := os.UserHomeDir()
	return &symbolizer{
		procs:    map[uint32][]*mapping{},
		dsos:     map[string]*dso{},
		buildIDs: buildIDs,
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
			out = append(out, &c)
		}
		if o.end > m.end {
			c := *o
			c.pgoff += m.end - o.start
			c.start = m.end
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

// attach finds the mapping of a resolved frame, for pprof.
func (s *symbolizer) attach(f *Frame, pid uint32) {
	if f.Kernel {
		for _, m := range s.kernel {
			if f.Addr >= m.start && f.Addr < m.end {
				f.mapping = m
				return
			}
		}
		return
	}
	f.mapping = s.findMapping(pid, f.Addr)
}

// vaddr converts a user address in a mapping to the ELF virtual address
// of its file (through the PT_LOAD headers), for DWARF.
func (s *symbolizer) vaddr(m *mapping, addr uint64) uint64 {
	off := addr - m.start + m.pgoff
	for _, p := range s.dso(m).loads {
		if off >= p.Off && off < p.Off+p.Filesz {
			return p.Vaddr + off - p.Off
		}
	}
	return off
}

// line returns the source line of a user frame. For callers (return
// addresses) the line of the call instruction is wanted: the one of the
// byte before.
func (s *symbolizer) line(f *Frame, caller bool) (srcLine, bool) {
	if f.Kernel || f.mapping == nil || f.Sym == "" {
		return srcLine{}, false
	}
	d := s.dso(f.mapping)
	if !d.linesTried {
		d.linesTried = true
		if d.dwarfPath != "" {
			d.lines = openLines(d.dwarfPath)
		}
	}
	pc := s.vaddr(f.mapping, f.Addr)
	if caller && pc > 0 {
		pc--
	}
	return d.lines.lookup(pc)
}

// inlined returns the functions inlined at a user frame's address,
// outermost first (for callers, at the call instruction).
func (s *symbolizer) inlined(f *Frame, caller bool) []inlineFrame {
	if f.Kernel || f.mapping == nil || f.Sym == "" {
		return nil
	}
	d := s.dso(f.mapping)
	if !d.linesTried {
		d.linesTried = true
		if d.dwarfPath != "" {
			d.lines = openLines(d.dwarfPath)
		}
	}
	pc := s.vaddr(f.mapping, f.Addr)
	if caller && pc > 0 {
		pc--
	}
	return d.lines.inlined(pc)
}

// hasDWARF reports whether f carries DWARF line tables.
func hasDWARF(f *elf.File) bool {
	info, line := f.Section(".debug_info"), f.Section(".debug_line")
	return info != nil && line != nil && info.Type != elf.SHT_NOBITS && line.Type != elf.SHT_NOBITS
}

// dso returns what is known of a mapping's file, loading it once.
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

// load finds a file the way perf does: the runtime binary from perf's
// build-id cache or its path (checking the build ID when known), and the
// first file with DWARF among its debug files (the build-id cache's
// "debug" copy, /usr/lib/debug/.build-id, .gnu_debuglink) and itself.
func (s *symbolizer) load(d *dso) {
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
	defer rt.Close()
	for _, p := range rt.Progs {
		if p.Type == elf.PT_LOAD {
			d.loads = append(d.loads, p.ProgHeader)
		}
	}
	if d.buildID == "" {
		d.buildID = elfBuildID(rt)
	}
	id := d.buildID
	var debugCandidates []string
	if len(id) > 2 {
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
		ok := hasDWARF(f)
		f.Close()
		if ok {
			d.dwarfPath = p
			return
		}
	}
	if hasDWARF(rt) {
		d.dwarfPath = rtPath
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
