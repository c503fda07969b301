package perfdata

import (
	"fmt"
	"sort"
)

// Features holds the header feature sections (tools/perf/util/header.c
// write_*/process_* functions). Typed fields are decoded from the sections
// perf 6.1 writes; a zero field means the section is absent. Raw keeps every
// section's bytes as read (and sections without a typed decoder, such as
// BPF_PROG_INFO, BPF_BTF and AUXTRACE, only there), so a file read and
// written back keeps them all.
type Features struct {
	TracingData *TracingData
	BuildIDs    []BuildID
	Hostname    string
	OSRelease   string
	Version     string
	Arch        string
	NrCPUs      *NrCPUs
	CPUDesc     string
	CPUID       string
	TotalMem    uint64 // kB
	Cmdline     []string
	EventDesc   []EventDesc
	CPUTopology *CPUTopology
	NUMANodes   []NUMANode
	// BranchStack and Stat are flag features with empty sections.
	BranchStack    bool
	Stat           bool
	PMUMappings    []PMUMapping
	GroupDesc      []GroupDesc
	Caches         []CacheLevel
	SampleTime     *TimeRange
	MemTopology    *MemTopology
	ClockID        uint64 // clock resolution in ns (HEADER_CLOCKID)
	DirFormat      *uint64
	Compressed     *Compressed
	CPUPMUCaps     []PMUCap
	ClockData      *ClockData
	HybridTopology []HybridNode
	PMUCaps        []PMUCaps

	// Raw holds each feature section's bytes as read from the file.
	Raw map[Feature][]byte
	// Errors records feature sections that did not decode (perf warns and
	// goes on too); their bytes stay in Raw and are written back.
	Errors map[Feature]error

	// slack is the number of zero bytes between the section table and the
	// first section: perf sizes the table before dropping features that
	// fail to write, leaving 16 bytes per dropped one. Kept so a file read
	// and written back is byte-identical.
	slack int
}

// NrCPUs is HEADER_NRCPUS.
type NrCPUs struct {
	Available, Online uint32
}

// BuildID is one entry of HEADER_BUILD_ID (a perf_record_header_build_id).
type BuildID struct {
	Misc     uint16 // cpumode, and MiscBuildIDSize
	Pid      int32
	BuildID  []byte
	Filename string
}

// EventDesc is one entry of HEADER_EVENT_DESC.
type EventDesc struct {
	Attr *EventAttr
	Name string
	IDs  []uint64
}

// CPUTopology is HEADER_CPU_TOPOLOGY.
type CPUTopology struct {
	CoreSiblings   []string // package_cpus_list
	ThreadSiblings []string // core_cpus_list
	CPUs           []CPUTopo
	DieSiblings    []string // present when HasDies
	HasDies        bool
}

// CPUTopo is one CPU's place in HEADER_CPU_TOPOLOGY.
type CPUTopo struct {
	CoreID, SocketID, DieID uint32
}

// NUMANode is one entry of HEADER_NUMA_TOPOLOGY.
type NUMANode struct {
	Node              uint32
	MemTotal, MemFree uint64
	CPUs              string
}

// PMUMapping is one entry of HEADER_PMU_MAPPINGS.
type PMUMapping struct {
	Type uint32
	Name string
}

// GroupDesc is one entry of HEADER_GROUP_DESC.
type GroupDesc struct {
	Name      string
	Leader    uint32
	NrMembers uint32
}

// CacheLevel is one entry of HEADER_CACHE.
type CacheLevel struct {
	Level, LineSize, Sets, Ways uint32
	Type, Size, Map             string
}

// TimeRange is HEADER_SAMPLE_TIME: the first and last sample times.
type TimeRange struct {
	First, Last uint64
}

// MemTopology is HEADER_MEM_TOPOLOGY.
type MemTopology struct {
	Version, BlockSize uint64
	Nodes              []MemNode
}

// MemNode is one node of HEADER_MEM_TOPOLOGY; Set is its memory block bitmap
// of Bits bits.
type MemNode struct {
	Node, Size uint64
	Bits       uint64
	Set        []uint64
}

// Compressed is HEADER_COMPRESSED.
type Compressed struct {
	Version, Type, Level, Ratio, MmapLen uint32
}

// PMUCap is one name/value capability.
type PMUCap struct {
	Name, Value string
}

// PMUCaps is one PMU's entry of HEADER_PMU_CAPS.
type PMUCaps struct {
	Caps []PMUCap
	PMU  string
}

// ClockData is HEADER_CLOCK_DATA.
type ClockData struct {
	Version, ClockID     uint32
	WallClockNS, ClockNS uint64
}

// HybridNode is one entry of HEADER_HYBRID_TOPOLOGY.
type HybridNode struct {
	PMU, CPUs string
}

// maxFeatureCount bounds element counts in feature sections before
// allocation.
const maxFeatureCount = 1 << 20

// readString reads perf's do_write_string layout: u32 len, then len bytes
// holding the NUL-terminated string padded with zeros.
func readString(d *decoder) string {
	n := d.u32()
	if uint64(n) > uint64(d.left()) {
		d.fail("string length %d exceeds the %d bytes left", n, d.left())
		return ""
	}
	return cstr(d.bytes(int(n)))
}

// writeString writes s as do_write_string does: len is strlen+1 rounded
// up to NAME_ALIGN (64).
func writeString(e *encoder, s string) {
	n := (len(s) + 1 + 63) &^ 63
	e.u32(uint32(n))
	e.bytes([]byte(s))
	e.zeros(n - len(s))
}

func readCount(d *decoder, elemMin int, what string) int {
	n := d.u32()
	return d.checkCount(uint64(n), elemMin, what)
}

func readStrings(d *decoder, what string) []string {
	n := readCount(d, 4, what)
	l := make([]string, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		l = append(l, readString(d))
	}
	return l
}

func writeStrings(e *encoder, l []string) {
	e.u32(uint32(len(l)))
	for _, s := range l {
		writeString(e, s)
	}
}

// decodeFeature decodes one section into f. It needs the file's earlier
// features for context (NRCPUS for CPU_TOPOLOGY).
func (f *Features) decode(feat Feature, d *decoder) {
	switch feat {
	case FeatureTracingData:
		td, err := ParseTracingData(d.rest())
		if err != nil {
			if fe, ok := err.(*FormatError); ok {
				fe.Offset += d.base
				fe.Section = d.section + ": " + fe.Section
			}
			d.err = err
			return
		}
		f.TracingData = td
	case FeatureBuildID:
		f.BuildIDs = nil
		for d.left() > 0 && d.err == nil {
			start := d.pos()
			d.u32() // type, 0 on file
			misc, size := d.u16(), d.u16()
			if size < 8+4+24 || int(size)-8 > d.left() {
				d.fail("build-id entry size %d invalid at %#x", size, start)
				return
			}
			body := d.bytes(int(size) - 8)
			var r HeaderBuildID
			r.Misc = misc
			sub := newDecoder(d.section, start+8, body, d.swap)
			r.decode(sub)
			if sub.err != nil {
				d.err = sub.err
				return
			}
			f.BuildIDs = append(f.BuildIDs, BuildID{Misc: misc, Pid: r.Pid, BuildID: r.BuildID, Filename: r.Filename})
		}
	case FeatureHostname:
		f.Hostname = readString(d)
	case FeatureOSRelease:
		f.OSRelease = readString(d)
	case FeatureVersion:
		f.Version = readString(d)
	case FeatureArch:
		f.Arch = readString(d)
	case FeatureCPUDesc:
		f.CPUDesc = readString(d)
	case FeatureCPUID:
		f.CPUID = readString(d)
	case FeatureNrCPUs:
		f.NrCPUs = &NrCPUs{Available: d.u32(), Online: d.u32()}
	case FeatureTotalMem:
		f.TotalMem = d.u64()
	case FeatureCmdline:
		f.Cmdline = readStrings(d, "cmdline")
	case FeatureEventDesc:
		nre := d.u32()
		sz := d.u32()
		if sz < AttrSizeVer0 || sz > 4096 {
			d.fail("event desc attr size %d invalid", sz)
			return
		}
		n := d.checkCount(uint64(nre), int(sz)+4+4, "event desc")
		f.EventDesc = make([]EventDesc, 0, n)
		for i := 0; i < n && d.err == nil; i++ {
			b := d.bytes(int(sz))
			sub := newDecoder(d.section, d.pos()-int64(sz), b, d.swap)
			attr := decodeAttr(sub, int(sz))
			if sub.err != nil {
				d.err = sub.err
				return
			}
			nri := d.u32()
			name := readString(d)
			ni := d.checkCount(uint64(nri), 8, "event desc ids")
			ids := d.u64s(nil, ni)
			f.EventDesc = append(f.EventDesc, EventDesc{Attr: attr, Name: name, IDs: ids})
		}
	case FeatureCPUTopology:
		t := &CPUTopology{}
		t.CoreSiblings = readStrings(d, "core siblings")
		t.ThreadSiblings = readStrings(d, "thread siblings")
		if d.err != nil {
			return
		}
		nr := 0
		if f.NrCPUs != nil {
			nr = int(f.NrCPUs.Available)
		}
		if nr > d.left()/8 {
			d.fail("cpu topology for %d cpus exceeds the %d bytes left", nr, d.left())
			return
		}
		if d.left() > 0 {
			t.CPUs = make([]CPUTopo, nr)
			for i := range t.CPUs {
				t.CPUs[i].CoreID, t.CPUs[i].SocketID = d.u32(), d.u32()
			}
		}
		if d.left() > 0 {
			t.HasDies = true
			t.DieSiblings = readStrings(d, "die siblings")
			for i := range t.CPUs {
				t.CPUs[i].DieID = d.u32()
			}
		}
		f.CPUTopology = t
	case FeatureNUMATopology:
		n := readCount(d, 24, "numa nodes")
		f.NUMANodes = make([]NUMANode, 0, n)
		for i := 0; i < n && d.err == nil; i++ {
			f.NUMANodes = append(f.NUMANodes, NUMANode{Node: d.u32(), MemTotal: d.u64(), MemFree: d.u64(), CPUs: readString(d)})
		}
	case FeatureBranchStack:
		f.BranchStack = true
	case FeatureStat:
		f.Stat = true
	case FeaturePMUMappings:
		n := readCount(d, 8, "pmu mappings")
		f.PMUMappings = make([]PMUMapping, 0, n)
		for i := 0; i < n && d.err == nil; i++ {
			f.PMUMappings = append(f.PMUMappings, PMUMapping{Type: d.u32(), Name: readString(d)})
		}
	case FeatureGroupDesc:
		n := readCount(d, 12, "groups")
		f.GroupDesc = make([]GroupDesc, 0, n)
		for i := 0; i < n && d.err == nil; i++ {
			f.GroupDesc = append(f.GroupDesc, GroupDesc{Name: readString(d), Leader: d.u32(), NrMembers: d.u32()})
		}
	case FeatureCache:
		if v := d.u32(); v != 1 && d.err == nil {
			d.fail("cache version %d unsupported", v)
			return
		}
		n := readCount(d, 28, "cache levels")
		f.Caches = make([]CacheLevel, 0, n)
		for i := 0; i < n && d.err == nil; i++ {
			c := CacheLevel{Level: d.u32(), LineSize: d.u32(), Sets: d.u32(), Ways: d.u32()}
			c.Type, c.Size, c.Map = readString(d), readString(d), readString(d)
			f.Caches = append(f.Caches, c)
		}
	case FeatureSampleTime:
		f.SampleTime = &TimeRange{First: d.u64(), Last: d.u64()}
	case FeatureMemTopology:
		m := &MemTopology{Version: d.u64(), BlockSize: d.u64()}
		n := d.checkCount(d.u64(), 24, "memory nodes")
		for i := 0; i < n && d.err == nil; i++ {
			nd := MemNode{Node: d.u64(), Size: d.u64(), Bits: d.u64()}
			words := d.checkCount((nd.Bits+63)/64, 8, "memory bitmap")
			nd.Set = d.u64s(nil, words)
			m.Nodes = append(m.Nodes, nd)
		}
		f.MemTopology = m
	case FeatureClockID:
		f.ClockID = d.u64()
	case FeatureDirFormat:
		v := d.u64()
		f.DirFormat = &v
	case FeatureCompressed:
		f.Compressed = &Compressed{d.u32(), d.u32(), d.u32(), d.u32(), d.u32()}
	case FeatureCPUPMUCaps:
		f.CPUPMUCaps = readCaps(d)
	case FeatureClockData:
		c := &ClockData{Version: d.u32()}
		if c.Version != 1 && d.err == nil {
			d.fail("clock data version %d unsupported", c.Version)
			return
		}
		c.ClockID, c.WallClockNS, c.ClockNS = d.u32(), d.u64(), d.u64()
		f.ClockData = c
	case FeatureHybridTopology:
		n := readCount(d, 8, "hybrid nodes")
		for i := 0; i < n && d.err == nil; i++ {
			f.HybridTopology = append(f.HybridTopology, HybridNode{PMU: readString(d), CPUs: readString(d)})
		}
	case FeaturePMUCaps:
		n := readCount(d, 8, "pmu caps")
		for i := 0; i < n && d.err == nil; i++ {
			caps := readCaps(d)
			f.PMUCaps = append(f.PMUCaps, PMUCaps{Caps: caps, PMU: readString(d)})
		}
	default:
		return // kept in Raw only
	}
	if d.err == nil && d.left() != 0 {
		// perf ignores trailing bytes; so do we, but they stay in Raw.
		_ = 0
	}
}

func readCaps(d *decoder) []PMUCap {
	n := readCount(d, 8, "capabilities")
	caps := make([]PMUCap, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		caps = append(caps, PMUCap{Name: readString(d), Value: readString(d)})
	}
	return caps
}

func writeCaps(e *encoder, caps []PMUCap) {
	e.u32(uint32(len(caps)))
	for _, c := range caps {
		writeString(e, c.Name)
		writeString(e, c.Value)
	}
}

// typed reports whether feature f has a typed value set in f.
func (f *Features) typed(feat Feature) bool {
	switch feat {
	case FeatureTracingData:
		return f.TracingData != nil
	case FeatureBuildID:
		return f.BuildIDs != nil
	case FeatureHostname:
		return f.Hostname != ""
	case FeatureOSRelease:
		return f.OSRelease != ""
	case FeatureVersion:
		return f.Version != ""
	case FeatureArch:
		return f.Arch != ""
	case FeatureNrCPUs:
		return f.NrCPUs != nil
	case FeatureCPUDesc:
		return f.CPUDesc != ""
	case FeatureCPUID:
		return f.CPUID != ""
	case FeatureTotalMem:
		return f.TotalMem != 0
	case FeatureCmdline:
		return f.Cmdline != nil
	case FeatureEventDesc:
		return f.EventDesc != nil
	case FeatureCPUTopology:
		return f.CPUTopology != nil
	case FeatureNUMATopology:
		return f.NUMANodes != nil
	case FeatureBranchStack:
		return f.BranchStack
	case FeatureStat:
		return f.Stat
	case FeaturePMUMappings:
		return f.PMUMappings != nil
	case FeatureGroupDesc:
		return f.GroupDesc != nil
	case FeatureCache:
		return f.Caches != nil
	case FeatureSampleTime:
		return f.SampleTime != nil
	case FeatureMemTopology:
		return f.MemTopology != nil
	case FeatureClockID:
		return f.ClockID != 0
	case FeatureDirFormat:
		return f.DirFormat != nil
	case FeatureCompressed:
		return f.Compressed != nil
	case FeatureCPUPMUCaps:
		return f.CPUPMUCaps != nil
	case FeatureClockData:
		return f.ClockData != nil
	case FeatureHybridTopology:
		return f.HybridTopology != nil
	case FeaturePMUCaps:
		return f.PMUCaps != nil
	}
	return false
}

// Set returns the features present: typed fields set, and Raw sections.
func (f *Features) Set() FeatureSet {
	var s FeatureSet
	for feat := Feature(1); feat < FeatureLast; feat++ {
		if f.typed(feat) {
			s.Set(feat)
		}
	}
	for feat := range f.Raw {
		s.Set(feat)
	}
	return s
}

// Encode returns a feature section's bytes: encoded from the typed field
// when set (when it failed to decode, its Raw bytes), else Raw.
func (f *Features) Encode(feat Feature) ([]byte, error) {
	if _, bad := f.Errors[feat]; bad || !f.typed(feat) {
		if b, ok := f.Raw[feat]; ok {
			return b, nil
		}
		return nil, fmt.Errorf("encode feature %s: not present", feat)
	}
	var e encoder
	switch feat {
	case FeatureTracingData:
		return f.TracingData.Encode(), nil
	case FeatureBuildID:
		for _, b := range f.BuildIDs {
			r := HeaderBuildID{Pid: b.Pid, BuildID: b.BuildID, Filename: b.Filename}
			r.Misc = b.Misc
			start := len(e.b)
			e.u32(0)
			e.u16(b.Misc)
			e.u16(0)
			r.encodeBody(&e)
			e.putU16(start+6, uint16(len(e.b)-start))
		}
	case FeatureHostname:
		writeString(&e, f.Hostname)
	case FeatureOSRelease:
		writeString(&e, f.OSRelease)
	case FeatureVersion:
		writeString(&e, f.Version)
	case FeatureArch:
		writeString(&e, f.Arch)
	case FeatureCPUDesc:
		writeString(&e, f.CPUDesc)
	case FeatureCPUID:
		writeString(&e, f.CPUID)
	case FeatureNrCPUs:
		e.u32(f.NrCPUs.Available)
		e.u32(f.NrCPUs.Online)
	case FeatureTotalMem:
		e.u64(f.TotalMem)
	case FeatureCmdline:
		writeStrings(&e, f.Cmdline)
	case FeatureEventDesc:
		sz := AttrSizeVer7
		if len(f.EventDesc) > 0 && f.EventDesc[0].Attr != nil {
			sz = f.EventDesc[0].Attr.attrSize()
		}
		e.u32(uint32(len(f.EventDesc)))
		e.u32(uint32(sz))
		for _, ed := range f.EventDesc {
			start := len(e.b)
			if ed.Attr != nil {
				ed.Attr.encode(&e)
			}
			if n := len(e.b) - start; n < sz {
				e.zeros(sz - n)
			} else {
				e.b = e.b[:start+sz]
			}
			e.u32(uint32(len(ed.IDs)))
			writeString(&e, ed.Name)
			e.u64s(ed.IDs)
		}
	case FeatureCPUTopology:
		t := f.CPUTopology
		writeStrings(&e, t.CoreSiblings)
		writeStrings(&e, t.ThreadSiblings)
		for _, c := range t.CPUs {
			e.u32(c.CoreID)
			e.u32(c.SocketID)
		}
		if t.HasDies {
			writeStrings(&e, t.DieSiblings)
			for _, c := range t.CPUs {
				e.u32(c.DieID)
			}
		}
	case FeatureNUMATopology:
		e.u32(uint32(len(f.NUMANodes)))
		for _, n := range f.NUMANodes {
			e.u32(n.Node)
			e.u64(n.MemTotal)
			e.u64(n.MemFree)
			writeString(&e, n.CPUs)
		}
	case FeatureBranchStack, FeatureStat:
	case FeaturePMUMappings:
		e.u32(uint32(len(f.PMUMappings)))
		for _, m := range f.PMUMappings {
			e.u32(m.Type)
			writeString(&e, m.Name)
		}
	case FeatureGroupDesc:
		e.u32(uint32(len(f.GroupDesc)))
		for _, g := range f.GroupDesc {
			writeString(&e, g.Name)
			e.u32(g.Leader)
			e.u32(g.NrMembers)
		}
	case FeatureCache:
		e.u32(1)
		e.u32(uint32(len(f.Caches)))
		for _, c := range f.Caches {
			e.u32(c.Level)
			e.u32(c.LineSize)
			e.u32(c.Sets)
			e.u32(c.Ways)
			writeString(&e, c.Type)
			writeString(&e, c.Size)
			writeString(&e, c.Map)
		}
	case FeatureSampleTime:
		e.u64(f.SampleTime.First)
		e.u64(f.SampleTime.Last)
	case FeatureMemTopology:
		m := f.MemTopology
		e.u64(m.Version)
		e.u64(m.BlockSize)
		e.u64(uint64(len(m.Nodes)))
		for _, n := range m.Nodes {
			e.u64(n.Node)
			e.u64(n.Size)
			e.u64(n.Bits)
			e.u64s(n.Set)
		}
	case FeatureClockID:
		e.u64(f.ClockID)
	case FeatureDirFormat:
		e.u64(*f.DirFormat)
	case FeatureCompressed:
		c := f.Compressed
		for _, v := range []uint32{c.Version, c.Type, c.Level, c.Ratio, c.MmapLen} {
			e.u32(v)
		}
	case FeatureCPUPMUCaps:
		writeCaps(&e, f.CPUPMUCaps)
	case FeatureClockData:
		c := f.ClockData
		e.u32(c.Version)
		e.u32(c.ClockID)
		e.u64(c.WallClockNS)
		e.u64(c.ClockNS)
	case FeatureHybridTopology:
		e.u32(uint32(len(f.HybridTopology)))
		for _, h := range f.HybridTopology {
			writeString(&e, h.PMU)
			writeString(&e, h.CPUs)
		}
	case FeaturePMUCaps:
		e.u32(uint32(len(f.PMUCaps)))
		for _, p := range f.PMUCaps {
			writeCaps(&e, p.Caps)
			writeString(&e, p.PMU)
		}
	}
	return e.b, nil
}

// EventDescs builds HEADER_EVENT_DESC entries from attrs (their Name and
// IDs), as perf record writes them.
func EventDescs(attrs []*EventAttr) []EventDesc {
	l := make([]EventDesc, 0, len(attrs))
	for _, a := range attrs {
		l = append(l, EventDesc{Attr: a, Name: a.Name, IDs: a.IDs})
	}
	return l
}

// sortedFeatures returns the keys of m in order.
func sortedFeatures(m map[Feature][]byte) []Feature {
	l := make([]Feature, 0, len(m))
	for f := range m {
		l = append(l, f)
	}
	sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	return l
}
