package record

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/gperf-dev/gperf/perfdata"
)

// Records perf synthesizes from /proc before the events start
// (tools/perf/util/synthetic-events.c), so that addresses recorded in code
// mapped or threads started before the session can be symbolized.

// synth accumulates encoded synthesized records.
type synth struct {
	attr *perfdata.EventAttr // the attr whose sample_id trailer they carry (zeros)
	buf  []byte
	n    int
	err  error
	// mmaps seen, for the build-id table
	mmaps []mmapSeen
}

func (s *synth) add(r perfdata.Record) {
	if s.err != nil {
		return
	}
	r.Common().Attr = s.attr
	s.buf, s.err = perfdata.EncodeRecord(s.buf, r)
	s.n++
}

// kernelMmap synthesizes the kernel's map: perf_event__synthesize_kernel_mmap
// names it "[kernel.kallsyms]_text", from _text to _etext, pid -1.
func (s *synth) kernelMmap() {
	start, end, ok := kernelText()
	if !ok {
		return
	}
	r := &perfdata.Mmap{Pid: ^uint32(0), Tid: 0, Addr: start, Len: end - start, Pgoff: start, Filename: "[kernel.kallsyms]_text"}
	r.Misc = miscKernel
	s.add(r)
}

// kernelText returns the kernel text's start (_text, from the first lines
// of /proc/kallsyms) and end (_etext: the end of the "Kernel code"
// resource in /proc/iomem, which the kernel sets to _text.._etext), as
// perf's machine__get_running_kernel_start finds them. Reading all of
// /proc/kallsyms for _etext costs tens of milliseconds; iomem is
// instantaneous, and kallsyms is the fallback. With kptr_restrict the
// addresses read as zero and nothing is synthesized.
func kernelText() (start, end uint64, ok bool) {
	f, err := os.Open("/proc/kallsyms")
	if err != nil {
		return 0, 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	size := iomemKernelCode()
	for sc.Scan() {
		line := sc.Bytes()
		// "ffffffff81000000 T _text"
		if len(line) < 19 || line[16] != ' ' {
			continue
		}
		name := line[19:]
		if !bytes.Equal(name, []byte("_text")) && !bytes.Equal(name, []byte("_etext")) {
			continue
		}
		v, err := strconv.ParseUint(string(line[:16]), 16, 64)
		if err != nil {
			continue
		}
		if name[1] == 't' {
			start = v
			if size > 0 && start != 0 {
				return start, start + size, true
			}
		} else {
			end = v
		}
		if start != 0 && end != 0 {
			break
		}
	}
	return start, end, start != 0 && end > start
}

// iomemKernelCode returns the size of the "Kernel code" resource, or 0.
func iomemKernelCode() uint64 {
	b, err := os.ReadFile("/proc/iomem")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		r, name, ok := strings.Cut(strings.TrimSpace(l), " : ")
		if !ok || name != "Kernel code" {
			continue
		}
		lo, hi, _ := strings.Cut(r, "-")
		a, err1 := strconv.ParseUint(lo, 16, 64)
		z, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || z < a || z == 0 {
			return 0
		}
		return z - a + 1
	}
	return 0
}

// modules synthesizes a kernel MMAP for each loaded module, in address
// order, as perf_event__synthesize_modules does: named by the module file
// found under /lib/modules/RELEASE (machine__set_modules_path), else
// "[name]".
func (s *synth) modules(release string) {
	b, err := os.ReadFile("/proc/modules")
	if err != nil || len(b) == 0 {
		return
	}
	type mod struct {
		name        string
		start, size uint64
	}
	var mods []mod
	for _, l := range strings.Split(string(b), "\n") {
		// "name size refcount deps state address [taint]"
		f := strings.Fields(l)
		if len(f) < 6 {
			continue
		}
		size, err1 := strconv.ParseUint(f[1], 10, 64)
		start, err2 := strconv.ParseUint(strings.TrimPrefix(f[5], "0x"), 16, 64)
		if err1 != nil || err2 != nil || start == 0 {
			continue // kptr_restrict hides the addresses
		}
		mods = append(mods, mod{f[0], start, size})
	}
	if len(mods) == 0 {
		return
	}
	sort.Slice(mods, func(i, j int) bool { return mods[i].start < mods[j].start })
	paths := modulePaths("/lib/modules/" + release)
	for _, m := range mods {
		name := "[" + m.name + "]"
		if p, ok := paths[m.name]; ok {
			name = p
		}
		r := &perfdata.Mmap{Pid: ^uint32(0), Addr: m.start, Len: m.size, Filename: name}
		r.Misc = miscKernel
		s.add(r)
	}
}

// modulePaths maps module names (with '-' read as '_') to their files
// under dir (*.ko, *.ko.xz, *.ko.zst, *.ko.gz).
func modulePaths(dir string) map[string]string {
	paths := map[string]string{}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		base := d.Name()
		i := strings.Index(base, ".ko")
		if i <= 0 || !(len(base) == i+3 || base[i+3] == '.') {
			return nil
		}
		name := strings.ReplaceAll(base[:i], "-", "_")
		if _, dup := paths[name]; !dup {
			paths[name] = p
		}
		return nil
	})
	return paths
}

// procStatus is what perf reads from /proc/PID/task/TID/status.
type procStatus struct {
	name         string
	tgid, ppid   int
	kernelThread bool
}

func readStatus(pid, tid int) (procStatus, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/status", pid, tid))
	if err != nil {
		return procStatus{}, err
	}
	st := procStatus{kernelThread: true}
	for _, l := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(l, ":")
		v = strings.TrimSpace(v)
		switch k {
		case "Name":
			st.name = v
		case "Tgid":
			st.tgid, _ = strconv.Atoi(v)
		case "PPid":
			st.ppid, _ = strconv.Atoi(v)
		case "VmPeak":
			st.kernelThread = false
		}
	}
	// The kernel's comm is at most 15 bytes.
	if len(st.name) > 15 {
		st.name = st.name[:15]
	}
	return st, nil
}

// comm synthesizes a COMM for tid of pid as perf_event__synthesize_comm.
func (s *synth) comm(pid, tid int, name string) {
	r := &perfdata.Comm{Pid: uint32(pid), Tid: uint32(tid), Comm: name}
	s.add(r)
}

// thread synthesizes one process as __event__synthesize_thread: with
// full, a FORK and a COMM per thread and the leader's executable maps;
// otherwise a COMM for the thread (and maps when it leads its process).
func (s *synth) thread(pid int, full bool) {
	if !full {
		// /proc/TID/task/TID/status exists for any thread id.
		st, err := readStatus(pid, pid)
		if err != nil {
			return
		}
		s.comm(st.tgid, pid, st.name)
		if st.tgid == pid && !st.kernelThread {
			s.maps(pid)
		}
		return
	}
	for _, tid := range tasks(pid) {
		st, err := readStatus(pid, tid)
		if err != nil {
			continue // gone
		}
		f := &perfdata.Fork{Pid: uint32(st.tgid), Tid: uint32(tid)}
		if st.tgid == tid {
			f.PPid, f.PTid = uint32(st.ppid), uint32(st.ppid)
		} else {
			f.PPid, f.PTid = uint32(st.tgid), uint32(st.tgid)
		}
		s.add(f)
		s.comm(st.tgid, tid, st.name)
		if tid == pid && !st.kernelThread {
			s.maps(pid)
		}
	}
}

// tasks lists the thread ids of pid in directory order.
func tasks(pid int) []int {
	d, err := os.Open(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return nil
	}
	defer d.Close()
	names, _ := d.Readdirnames(-1)
	var tids []int
	for _, n := range names {
		if t, err := strconv.Atoi(n); err == nil {
			tids = append(tids, t)
		}
	}
	sort.Ints(tids)
	return tids
}

// allPids lists the processes in /proc, in numeric order.
func allPids() []int {
	d, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	defer d.Close()
	names, _ := d.Readdirnames(-1)
	var pids []int
	for _, n := range names {
		if p, err := strconv.Atoi(n); err == nil {
			pids = append(pids, p)
		}
	}
	sort.Ints(pids)
	return pids
}

// maps synthesizes an MMAP2 for each executable mapping of pid
// (perf_event__synthesize_mmap_events).
func (s *synth) maps(pid int) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/task/%d/maps", pid, pid))
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		m, ok := parseMapsLine(sc.Text())
		if !ok || m.Prot&protExec == 0 {
			continue
		}
		m.Pid, m.Tid = uint32(pid), uint32(pid)
		m.Misc = miscUser
		s.add(m)
		s.mmaps = append(s.mmaps, mmapSeen{pid: uint32(pid), addr: m.Addr, len: m.Len, pgoff: m.Pgoff, filename: m.Filename})
	}
}

// parseMapsLine parses "start-end perms pgoff maj:min ino [path]".
func parseMapsLine(l string) (*perfdata.Mmap2, bool) {
	fs := strings.Fields(l)
	if len(fs) < 5 {
		return nil, false
	}
	se := strings.SplitN(fs[0], "-", 2)
	if len(se) != 2 || len(fs[1]) < 4 {
		return nil, false
	}
	start, err1 := strconv.ParseUint(se[0], 16, 64)
	end, err2 := strconv.ParseUint(se[1], 16, 64)
	pgoff, err3 := strconv.ParseUint(fs[2], 16, 64)
	mm := strings.SplitN(fs[3], ":", 2)
	ino, err4 := strconv.ParseUint(fs[4], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil || len(mm) != 2 || end < start {
		return nil, false
	}
	maj, _ := strconv.ParseUint(mm[0], 16, 32)
	min, _ := strconv.ParseUint(mm[1], 16, 32)
	m := &perfdata.Mmap2{Addr: start, Len: end - start, Pgoff: pgoff, Maj: uint32(maj), Min: uint32(min), Ino: ino}
	p := fs[1]
	if p[0] == 'r' {
		m.Prot |= 1
	}
	if p[1] == 'w' {
		m.Prot |= 2
	}
	if p[2] == 'x' {
		m.Prot |= 4
	}
	if p[3] == 's' {
		m.Flags = 1 // MAP_SHARED
	} else {
		m.Flags = 2 // MAP_PRIVATE
	}
	// The path is the rest of the line after the inode (it may hold
	// spaces, and " (deleted)").
	name := "//anon"
	if len(fs) > 5 {
		idx := 0
		rest := l
		for i := 0; i < 5; i++ {
			rest = strings.TrimLeft(rest, " ")
			idx = strings.IndexByte(rest, ' ')
			if idx < 0 {
				rest = ""
				break
			}
			rest = rest[idx:]
		}
		if n := strings.TrimLeft(rest, " "); n != "" {
			name = n
		}
	}
	m.Filename = name
	return m, true
}
