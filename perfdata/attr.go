package perfdata

import "math/bits"

// EventType is perf_event_attr.type (enum perf_type_id in
// include/uapi/linux/perf_event.h).
type EventType uint32

// Event types (PERF_TYPE_*).
const (
	TypeHardware   EventType = 0
	TypeSoftware   EventType = 1
	TypeTracepoint EventType = 2
	TypeHWCache    EventType = 3
	TypeRaw        EventType = 4
	TypeBreakpoint EventType = 5
)

// SampleFormat is perf_event_attr.sample_type (enum perf_event_sample_format).
type SampleFormat uint64

// Sample format bits (PERF_SAMPLE_*).
const (
	SampleIP           SampleFormat = 1 << 0
	SampleTID          SampleFormat = 1 << 1
	SampleTime         SampleFormat = 1 << 2
	SampleAddr         SampleFormat = 1 << 3
	SampleRead         SampleFormat = 1 << 4
	SampleCallchain    SampleFormat = 1 << 5
	SampleID           SampleFormat = 1 << 6
	SampleCPU          SampleFormat = 1 << 7
	SamplePeriod       SampleFormat = 1 << 8
	SampleStreamID     SampleFormat = 1 << 9
	SampleRaw          SampleFormat = 1 << 10
	SampleBranchStack  SampleFormat = 1 << 11
	SampleRegsUser     SampleFormat = 1 << 12
	SampleStackUser    SampleFormat = 1 << 13
	SampleWeight       SampleFormat = 1 << 14
	SampleDataSrc      SampleFormat = 1 << 15
	SampleIdentifier   SampleFormat = 1 << 16
	SampleTransaction  SampleFormat = 1 << 17
	SampleRegsIntr     SampleFormat = 1 << 18
	SamplePhysAddr     SampleFormat = 1 << 19
	SampleAux          SampleFormat = 1 << 20
	SampleCgroup       SampleFormat = 1 << 21
	SampleDataPageSize SampleFormat = 1 << 22
	SampleCodePageSize SampleFormat = 1 << 23
	SampleWeightStruct SampleFormat = 1 << 24

	sampleWeightType = SampleWeight | SampleWeightStruct
)

// ReadFormat is perf_event_attr.read_format (enum perf_event_read_format).
type ReadFormat uint64

// Read format bits (PERF_FORMAT_*).
const (
	FormatTotalTimeEnabled ReadFormat = 1 << 0
	FormatTotalTimeRunning ReadFormat = 1 << 1
	FormatID               ReadFormat = 1 << 2
	FormatGroup            ReadFormat = 1 << 3
	FormatLost             ReadFormat = 1 << 4
)

// AttrFlags is the bitfield word of perf_event_attr (disabled, inherit, ...).
type AttrFlags uint64

// perf_event_attr flag bits, in the order of the C bitfield.
const (
	AttrDisabled               AttrFlags = 1 << 0
	AttrInherit                AttrFlags = 1 << 1
	AttrPinned                 AttrFlags = 1 << 2
	AttrExclusive              AttrFlags = 1 << 3
	AttrExcludeUser            AttrFlags = 1 << 4
	AttrExcludeKernel          AttrFlags = 1 << 5
	AttrExcludeHV              AttrFlags = 1 << 6
	AttrExcludeIdle            AttrFlags = 1 << 7
	AttrMmap                   AttrFlags = 1 << 8
	AttrComm                   AttrFlags = 1 << 9
	AttrFreq                   AttrFlags = 1 << 10
	AttrInheritStat            AttrFlags = 1 << 11
	AttrEnableOnExec           AttrFlags = 1 << 12
	AttrTask                   AttrFlags = 1 << 13
	AttrWatermark              AttrFlags = 1 << 14
	AttrPreciseIPMask          AttrFlags = 3 << 15 // two bits: precise_ip
	AttrMmapData               AttrFlags = 1 << 17
	AttrSampleIDAll            AttrFlags = 1 << 18
	AttrExcludeHost            AttrFlags = 1 << 19
	AttrExcludeGuest           AttrFlags = 1 << 20
	AttrExcludeCallchainKernel AttrFlags = 1 << 21
	AttrExcludeCallchainUser   AttrFlags = 1 << 22
	AttrMmap2                  AttrFlags = 1 << 23
	AttrCommExec               AttrFlags = 1 << 24
	AttrUseClockID             AttrFlags = 1 << 25
	AttrContextSwitch          AttrFlags = 1 << 26
	AttrWriteBackward          AttrFlags = 1 << 27
	AttrNamespaces             AttrFlags = 1 << 28
	AttrKsymbol                AttrFlags = 1 << 29
	AttrBPFEvent               AttrFlags = 1 << 30
	AttrAuxOutput              AttrFlags = 1 << 31
	AttrCgroup                 AttrFlags = 1 << 32
	AttrTextPoke               AttrFlags = 1 << 33
	AttrBuildID                AttrFlags = 1 << 34
	AttrInheritThread          AttrFlags = 1 << 35
	AttrRemoveOnExec           AttrFlags = 1 << 36
	AttrSigtrap                AttrFlags = 1 << 37
)

// Sizes of perf_event_attr versions (PERF_ATTR_SIZE_VER*).
const (
	AttrSizeVer0 = 64
	AttrSizeVer7 = 128 // what perf 6.1 writes
	AttrSizeVer8 = 136 // adds config3 (Linux 6.3)
)

// BranchSampleHWIndex is PERF_SAMPLE_BRANCH_HW_INDEX in branch_sample_type:
// branch stacks in samples then carry a hw_idx word.
const BranchSampleHWIndex = 1 << 17

// EventAttr is struct perf_event_attr (include/uapi/linux/perf_event.h) as
// stored in a perf.data file, plus what the file says about the event: the
// sample IDs of its kernel events and its name (from HEADER_EVENT_DESC).
type EventAttr struct {
	Type   EventType
	Size   uint32 // perf_event_attr.size as written; 0 means PERF_ATTR_SIZE_VER0
	Config uint64
	// SamplePeriod is sample_period, or sample_freq when Flags&AttrFreq.
	SamplePeriod     uint64
	SampleType       SampleFormat
	ReadFormat       ReadFormat
	Flags            AttrFlags
	WakeupEvents     uint32 // wakeup_events, or wakeup_watermark when Flags&AttrWatermark
	BPType           uint32
	Config1          uint64 // bp_addr, kprobe_func, uprobe_path, config1
	Config2          uint64 // bp_len, kprobe_addr, probe_offset, config2
	BranchSampleType uint64
	SampleRegsUser   uint64
	SampleStackUser  uint32
	ClockID          int32
	SampleRegsIntr   uint64
	AuxWatermark     uint32
	SampleMaxStack   uint16
	Reserved2        uint16
	AuxSampleSize    uint32
	Reserved3        uint32
	SigData          uint64
	Config3          uint64 // VER8 and later
	// Extra holds attr bytes past the fields above (newer ABIs), kept so a
	// rewritten file is byte-identical.
	Extra []byte

	// IDs are the sample IDs of the kernel events this attr was opened as
	// (one per CPU/thread), from the attr's ids section.
	IDs []uint64
	// Name is the event name from HEADER_EVENT_DESC ("" if absent).
	Name string
}

// PreciseIP returns the precise_ip field (0-3).
func (a *EventAttr) PreciseIP() int { return int(a.Flags&AttrPreciseIPMask) >> 15 }

// attrSize returns the on-file size of the attr.
func (a *EventAttr) attrSize() int {
	if a.Size == 0 {
		return AttrSizeVer0
	}
	return int(a.Size)
}

// decodeAttr reads a perf_event_attr of the size the attr declares (perf's
// read_attr in tools/perf/util/header.c: size 0 means VER0). maxSize bounds
// the declared size.
func decodeAttr(d *decoder, maxSize int) *EventAttr {
	a := &EventAttr{}
	start := d.off
	if d.left() < AttrSizeVer0 {
		d.underflow(AttrSizeVer0)
		return a
	}
	a.Type = EventType(d.u32())
	a.Size = d.u32()
	sz := a.attrSize()
	if sz < AttrSizeVer0 || sz > maxSize || sz%8 != 0 {
		d.off = start + 4
		d.fail("perf_event_attr size %d invalid (want a multiple of 8 in [%d, %d])", a.Size, AttrSizeVer0, maxSize)
		return a
	}
	if d.left() < sz-8 {
		d.underflow(sz - 8)
		return a
	}
	end := start + sz
	a.Config = d.u64()
	a.SamplePeriod = d.u64()
	a.SampleType = SampleFormat(d.u64())
	a.ReadFormat = ReadFormat(d.u64())
	a.Flags = AttrFlags(d.u64())
	a.WakeupEvents = d.u32()
	a.BPType = d.u32()
	a.Config1 = d.u64() // 64: VER0 ends here
	if d.off < end {
		a.Config2 = d.u64() // 72: VER1
	}
	if d.off < end {
		a.BranchSampleType = d.u64() // 80: VER2
	}
	if d.off < end {
		a.SampleRegsUser = d.u64()
		a.SampleStackUser = d.u32()
		a.ClockID = int32(d.u32()) // 96: VER3
	}
	if d.off < end {
		a.SampleRegsIntr = d.u64() // 104: VER4
	}
	if d.off < end {
		a.AuxWatermark = d.u32()
		a.SampleMaxStack = d.u16()
		a.Reserved2 = d.u16() // 112: VER5
	}
	if d.off < end {
		a.AuxSampleSize = d.u32()
		a.Reserved3 = d.u32() // 120: VER6
	}
	if d.off < end {
		a.SigData = d.u64() // 128: VER7, what perf 6.1 writes
	}
	// Keep whatever lies past sig_data verbatim (config3 and newer).
	if d.off < end {
		a.Extra = append([]byte(nil), d.bytes(end-d.off)...)
		if len(a.Extra) >= 8 {
			a.Config3 = leU64(a.Extra[:8], d.swap)
		}
	}
	return a
}

// encode appends the attr's on-file bytes.
func (a *EventAttr) encode(e *encoder) {
	start := len(e.b)
	sz := a.attrSize()
	e.u32(uint32(a.Type))
	e.u32(a.Size)
	e.u64(a.Config)
	e.u64(a.SamplePeriod)
	e.u64(uint64(a.SampleType))
	e.u64(uint64(a.ReadFormat))
	e.u64(uint64(a.Flags))
	e.u32(a.WakeupEvents)
	e.u32(a.BPType)
	e.u64(a.Config1)
	e.u64(a.Config2)
	e.u64(a.BranchSampleType)
	e.u64(a.SampleRegsUser)
	e.u32(a.SampleStackUser)
	e.u32(uint32(a.ClockID))
	e.u64(a.SampleRegsIntr)
	e.u32(a.AuxWatermark)
	e.u16(a.SampleMaxStack)
	e.u16(a.Reserved2)
	e.u32(a.AuxSampleSize)
	e.u32(a.Reserved3)
	e.u64(a.SigData)
	// Now at 128 bytes (VER7); cut to the declared size, or extend with
	// Extra (config3 first).
	if sz < AttrSizeVer7 {
		e.b = e.b[:start+sz]
		return
	}
	if sz > AttrSizeVer7 {
		extra := make([]byte, sz-AttrSizeVer7)
		copy(extra, a.Extra)
		if len(extra) >= 8 {
			putLeU64(extra[:8], a.Config3)
		}
		e.bytes(extra)
	}
	if n := len(e.b) - start; n < sz {
		e.zeros(sz - n)
	} else if n > sz {
		e.b = e.b[:start+sz]
	}
}

// weight counts the registers selected by a sample_regs mask.
func weight(mask uint64) int { return bits.OnesCount64(mask) }

func leU64(b []byte, swap bool) uint64 {
	v := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
	if swap {
		v = bits.ReverseBytes64(v)
	}
	return v
}

func putLeU64(b []byte, v uint64) {
	for i := 0; i < 8; i++ {
		b[i] = byte(v >> (8 * i))
	}
}

// idPos returns the index (in u64 words from the start) of the sample ID in a
// PERF_RECORD_SAMPLE body, or -1 (perf's evsel id_pos,
// tools/perf/util/evsel.c __evsel__calc_id_pos).
func (a *EventAttr) idPos() int {
	st := a.SampleType
	if st&SampleIdentifier != 0 {
		return 0
	}
	if st&SampleID == 0 {
		return -1
	}
	idx := 0
	for _, f := range []SampleFormat{SampleIP, SampleTID, SampleTime, SampleAddr} {
		if st&f != 0 {
			idx++
		}
	}
	return idx
}

// isPos returns the index, counted in u64 words back from the end of a
// non-sample record, of the ID in its sample_id trailer, or -1 (perf's
// evsel is_pos).
func (a *EventAttr) isPos() int {
	st := a.SampleType
	if st&SampleIdentifier != 0 {
		return 1
	}
	if st&SampleID == 0 {
		return -1
	}
	idx := 1
	for _, f := range []SampleFormat{SampleCPU, SampleStreamID} {
		if st&f != 0 {
			idx++
		}
	}
	return idx
}

// sampleIDSize is the size of the sample_id trailer of non-sample records.
func (a *EventAttr) sampleIDSize() int {
	if a.Flags&AttrSampleIDAll == 0 {
		return 0
	}
	st := a.SampleType
	n := 0
	for _, f := range []SampleFormat{SampleTID, SampleTime, SampleID, SampleStreamID, SampleCPU, SampleIdentifier} {
		if st&f != 0 {
			n += 8
		}
	}
	return n
}
