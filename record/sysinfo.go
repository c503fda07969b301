package record

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/gperf-dev/gperf/perfdata"
)

// systemFeatures collects the header features perf record describes the
// machine with (the write_* functions of tools/perf/util/header.c).
func systemFeatures(f *perfdata.Features, cmdline []string, version string) {
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		f.Hostname = unix.ByteSliceToString(u.Nodename[:])
		f.OSRelease = unix.ByteSliceToString(u.Release[:])
		f.Arch = unix.ByteSliceToString(u.Machine[:])
	}
	f.Version = version
	possible := countCPUList(readTrim("/sys/devices/system/cpu/possible"))
	online := countCPUList(readTrim("/sys/devices/system/cpu/online"))
	f.NrCPUs = &perfdata.NrCPUs{Available: uint32(possible), Online: uint32(online)}
	f.CPUDesc, f.CPUID = cpuInfo()
	f.TotalMem = memTotal("/proc/meminfo")
	exe, err := os.Executable()
	if err != nil {
		exe = cmdline[0]
	}
	f.Cmdline = append([]string{exe}, cmdline[1:]...)
	f.CPUTopology = cpuTopology(online)
	f.NUMANodes = numaNodes()
	f.PMUMappings = pmuMappings()
	f.Caches = caches(online)
	f.MemTopology = memTopology()
	// perf 6.1 writes these with no entries when it has no BPF
	// programs or PMU capabilities to describe.
	if f.Raw == nil {
		f.Raw = map[perfdata.Feature][]byte{}
	}
	f.Raw[perfdata.FeatureBPFProgInfo] = []byte{0, 0, 0, 0}
	f.Raw[perfdata.FeatureBPFBTF] = []byte{0, 0, 0, 0}
	f.Raw[perfdata.FeaturePMUCaps] = []byte{0, 0, 0, 0}
}

func readTrim(path string) string {
	b, _ := os.ReadFile(path)
	return strings.TrimSpace(string(b))
}

// parseCPUList parses a kernel CPU list such as "0-3,5".
func parseCPUList(s string) ([]int, error) {
	var cpus []int
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(strings.TrimSpace(lo))
		if err != nil || a < 0 {
			return nil, fmt.Errorf("parse cpu list %q: bad cpu %q", s, lo)
		}
		b := a
		if isRange {
			b, err = strconv.Atoi(strings.TrimSpace(hi))
			if err != nil || b < a || b-a > 1<<16 {
				return nil, fmt.Errorf("parse cpu list %q: bad range %q", s, part)
			}
		}
		for c := a; c <= b; c++ {
			cpus = append(cpus, c)
		}
	}
	sort.Ints(cpus)
	out := cpus[:0]
	for i, c := range cpus {
		if i == 0 || c != cpus[i-1] {
			out = append(out, c)
		}
	}
	return out, nil
}

func countCPUList(s string) int {
	l, _ := parseCPUList(s)
	return len(l)
}

// cpuInfo returns HEADER_CPUDESC (the model name, blanks squeezed) and
// HEADER_CPUID (x86: "vendor,family,model,stepping").
func cpuInfo() (desc, id string) {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "", ""
	}
	defer f.Close()
	kv := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		if l == "" {
			break // first CPU only
		}
		k, v, ok := strings.Cut(l, ":")
		if ok {
			kv[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	desc = strings.Join(strings.Fields(kv["model name"]), " ")
	if v := kv["vendor_id"]; v != "" {
		id = fmt.Sprintf("%s,%s,%s,%s", v, kv["cpu family"], kv["model"], kv["stepping"])
	}
	return desc, id
}

func memTotal(path string) uint64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) >= 2 && strings.HasSuffix(fs[0], "MemTotal:") {
			v, _ := strconv.ParseUint(fs[len(fs)-2], 10, 64)
			return v
		}
	}
	return 0
}

// cpuTopology is build_cpu_topology in tools/perf/util/header.c: the
// distinct sibling lists in CPU order, then each CPU's ids.
func cpuTopology(n int) *perfdata.CPUTopology {
	t := &perfdata.CPUTopology{HasDies: true}
	seen := map[string]bool{}
	addUniq := func(l *[]string, kind, s string) {
		if s != "" && !seen[kind+s] {
			seen[kind+s] = true
			*l = append(*l, s)
		}
	}
	for cpu := 0; cpu < n; cpu++ {
		dir := fmt.Sprintf("/sys/devices/system/cpu/cpu%d/topology/", cpu)
		pick := func(a, b string) string {
			if s := readTrim(dir + a); s != "" {
				return s
			}
			return readTrim(dir + b)
		}
		addUniq(&t.CoreSiblings, "core", pick("package_cpus_list", "core_siblings_list"))
		addUniq(&t.DieSiblings, "die", readTrim(dir+"die_cpus_list"))
		addUniq(&t.ThreadSiblings, "thread", pick("core_cpus_list", "thread_siblings_list"))
		atoi := func(s string) uint32 { v, _ := strconv.Atoi(s); return uint32(v) }
		t.CPUs = append(t.CPUs, perfdata.CPUTopo{
			CoreID:   atoi(readTrim(dir + "core_id")),
			SocketID: atoi(readTrim(dir + "physical_package_id")),
			DieID:    atoi(readTrim(dir + "die_id")),
		})
	}
	return t
}

// numaNodes is write_numa_topology: each online node's memory and CPUs.
func numaNodes() []perfdata.NUMANode {
	nodes, err := parseCPUList(readTrim("/sys/devices/system/node/online"))
	if err != nil {
		return nil
	}
	var l []perfdata.NUMANode
	for _, n := range nodes {
		dir := fmt.Sprintf("/sys/devices/system/node/node%d/", n)
		node := perfdata.NUMANode{Node: uint32(n), CPUs: readTrim(dir + "cpulist")}
		b, _ := os.ReadFile(dir + "meminfo")
		for _, line := range strings.Split(string(b), "\n") {
			fs := strings.Fields(line)
			if len(fs) < 4 {
				continue
			}
			v, _ := strconv.ParseUint(fs[3], 10, 64)
			switch fs[2] {
			case "MemTotal:":
				node.MemTotal = v
			case "MemFree:":
				node.MemFree = v
			}
		}
		l = append(l, node)
	}
	return l
}

// pmuMappings is write_pmu_mappings: each event source's type, in
// directory order.
func pmuMappings() []perfdata.PMUMapping {
	d, err := os.Open("/sys/bus/event_source/devices")
	if err != nil {
		return nil
	}
	defer d.Close()
	names, _ := d.Readdirnames(-1)
	var l []perfdata.PMUMapping
	for _, n := range names {
		t, err := strconv.Atoi(readTrim(filepath.Join("/sys/bus/event_source/devices", n, "type")))
		if err != nil {
			continue
		}
		l = append(l, perfdata.PMUMapping{Type: uint32(t), Name: n})
	}
	return l
}

// caches is write_cache (build_caches): the distinct cache levels of the
// online CPUs, sorted by level then type as perf does.
func caches(n int) []perfdata.CacheLevel {
	var l []perfdata.CacheLevel
	for cpu := 0; cpu < n; cpu++ {
		for idx := 0; ; idx++ {
			dir := fmt.Sprintf("/sys/devices/system/cpu/cpu%d/cache/index%d/", cpu, idx)
			if _, err := os.Stat(dir); err != nil {
				break
			}
			atoi := func(f string) uint32 { v, _ := strconv.Atoi(readTrim(dir + f)); return uint32(v) }
			c := perfdata.CacheLevel{
				Level: atoi("level"), LineSize: atoi("coherency_line_size"),
				Sets: atoi("number_of_sets"), Ways: atoi("ways_of_associativity"),
				Type: readTrim(dir + "type"), Size: readTrim(dir + "size"), Map: readTrim(dir + "shared_cpu_list"),
			}
			dup := false
			for _, x := range l {
				if x == c {
					dup = true
					break
				}
			}
			if !dup {
				l = append(l, c)
			}
		}
	}
	// perf sorts by level only (cpu_cache_level__sort).
	sort.SliceStable(l, func(i, j int) bool { return l[i].Level < l[j].Level })
	return l
}

// memTopology is write_mem_topology: the memory block size, and per NUMA
// node a bitmap of its memory blocks (memoryN links in the node's sysfs
// directory), nodes in order.
func memTopology() *perfdata.MemTopology {
	bs, err := strconv.ParseUint(readTrim("/sys/devices/system/memory/block_size_bytes"), 16, 64)
	if err != nil {
		return nil
	}
	nodes, err := parseCPUList(readTrim("/sys/devices/system/node/online"))
	if err != nil || len(nodes) == 0 {
		return nil
	}
	m := &perfdata.MemTopology{Version: 1, BlockSize: bs}
	for _, n := range nodes {
		ents, err := os.ReadDir(fmt.Sprintf("/sys/devices/system/node/node%d", n))
		if err != nil {
			return nil
		}
		var idx []uint64
		max := uint64(0)
		for _, e := range ents {
			v, err := strconv.ParseUint(strings.TrimPrefix(e.Name(), "memory"), 10, 64)
			if err != nil || !strings.HasPrefix(e.Name(), "memory") || v > 1<<24 {
				continue
			}
			idx = append(idx, v)
			if v+1 > max {
				max = v + 1
			}
		}
		set := make([]uint64, (max+63)/64)
		for _, v := range idx {
			set[v/64] |= 1 << (v % 64)
		}
		m.Nodes = append(m.Nodes, perfdata.MemNode{Node: uint64(n), Size: max, Bits: max, Set: set})
	}
	return m
}
