package record

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/gperf-dev/gperf/perfdata"
)

// Build IDs of the code that got samples, for HEADER_BUILD_ID (perf's
// perf_session__write_buildid_table: DSOs with hits, plus the vdso
// whenever it was mapped).

// parseNotes finds the GNU build-id in a sequence of ELF notes.
func parseNotes(b []byte) []byte {
	for len(b) >= 12 {
		namesz := binary.LittleEndian.Uint32(b)
		descsz := binary.LittleEndian.Uint32(b[4:])
		typ := binary.LittleEndian.Uint32(b[8:])
		b = b[12:]
		nameEnd := align4(uint64(namesz))
		descEnd := nameEnd + align4(uint64(descsz))
		if descEnd > uint64(len(b)) {
			return nil
		}
		if typ == 3 && namesz == 4 && string(b[:3]) == "GNU" {
			return append([]byte(nil), b[nameEnd:nameEnd+uint64(descsz)]...)
		}
		b = b[descEnd:]
	}
	return nil
}

func align4(v uint64) uint64 { return (v + 3) &^ 3 }

// kernelBuildID reads the running kernel's build-id from /sys/kernel/notes.
func kernelBuildID() []byte {
	b, err := os.ReadFile("/sys/kernel/notes")
	if err != nil {
		return nil
	}
	return parseNotes(b)
}

// elfBuildID reads the build-id note of an ELF file. debug/elf is not
// hardened against malformed files, so a panic is turned into "none".
func elfBuildID(r io.ReaderAt) (id []byte) {
	defer func() {
		if recover() != nil {
			id = nil
		}
	}()
	f, err := elf.NewFile(r)
	if err != nil {
		return nil
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type != elf.PT_NOTE || p.Filesz > 1<<20 {
			continue
		}
		b := make([]byte, p.Filesz)
		if _, err := p.ReadAt(b, 0); err != nil {
			continue
		}
		if id := parseNotes(b); id != nil {
			return id
		}
	}
	for _, s := range f.Sections {
		if s.Type != elf.SHT_NOTE || s.Size > 1<<20 {
			continue
		}
		b, err := s.Data()
		if err != nil {
			continue
		}
		if id := parseNotes(b); id != nil {
			return id
		}
	}
	return nil
}

func fileBuildID(path string) []byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	return elfBuildID(f)
}

// vdsoBuildID reads the build-id of the vdso mapped in this process, the
// same image the kernel maps in every process (perf reads its own too).
func vdsoBuildID() []byte {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return nil
	}
	defer f.Close()
	var start, end uint64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		if !strings.HasSuffix(l, "[vdso]") {
			continue
		}
		a, b, _ := strings.Cut(strings.Fields(l)[0], "-")
		start, _ = strconv.ParseUint(a, 16, 64)
		end, _ = strconv.ParseUint(b, 16, 64)
		break
	}
	if end <= start || end-start > 1<<20 {
		return nil
	}
	mem, err := os.Open("/proc/self/mem")
	if err != nil {
		return nil
	}
	defer mem.Close()
	b := make([]byte, end-start)
	if _, err := mem.ReadAt(b, int64(start)); err != nil {
		return nil
	}
	return elfBuildID(bytes.NewReader(b))
}

// buildIDTable builds HEADER_BUILD_ID from the samples' hits and the maps
// seen (synthesized and recorded).
func buildIDTable(kernelHit bool, userHits map[uint64]struct{}, mmaps []mmapSeen) []perfdata.BuildID {
	var l []perfdata.BuildID
	const (
		miscKernel = 1
		miscUser   = 2
	)
	if kernelHit {
		if id := kernelBuildID(); id != nil {
			l = append(l, perfdata.BuildID{Misc: miscKernel | perfdata.MiscBuildIDSize, Pid: -1, BuildID: id, Filename: "[kernel.kallsyms]"})
		}
	}
	// Which mapped files got a user hit? Hits are (pid, page) keys.
	hitFiles := map[string]bool{}
	vdso := false
	byPid := map[uint32][]mmapSeen{}
	for _, m := range mmaps {
		if m.filename == "[vdso]" {
			vdso = true
		}
		byPid[m.pid] = append(byPid[m.pid], m)
	}
	for k := range userHits {
		pid, addr := uint32(k>>40), (k&(1<<40-1))<<12
		for _, m := range byPid[pid] {
			if addr+4096 > m.addr && addr < m.addr+m.len {
				hitFiles[m.filename] = true
			}
		}
	}
	// perf lists user DSOs in the order it created them, which is the
	// order of their first map.
	done := map[string]bool{}
	for _, m := range mmaps {
		name := m.filename
		if done[name] || !(hitFiles[name] || name == "[vdso]" && vdso) {
			continue
		}
		done[name] = true
		var id []byte
		if name == "[vdso]" {
			id = vdsoBuildID()
		} else if strings.HasPrefix(name, "/") {
			id = fileBuildID(name)
		}
		if id == nil {
			continue
		}
		l = append(l, perfdata.BuildID{Misc: miscUser | perfdata.MiscBuildIDSize, Pid: -1, BuildID: id, Filename: name})
	}
	return l
}
