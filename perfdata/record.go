package perfdata

import "fmt"

// RecordType is perf_event_header.type: PERF_RECORD_* from
// include/uapi/linux/perf_event.h (below 64) and perf's own user records
// from tools/lib/perf/include/perf/event.h (64 and up).
type RecordType uint32

// Kernel record types.
const (
	RecordMmap            RecordType = 1
	RecordLost            RecordType = 2
	RecordComm            RecordType = 3
	RecordExit            RecordType = 4
	RecordThrottle        RecordType = 5
	RecordUnthrottle      RecordType = 6
	RecordFork            RecordType = 7
	RecordRead            RecordType = 8
	RecordSample          RecordType = 9
	RecordMmap2           RecordType = 10
	RecordAux             RecordType = 11
	RecordItraceStart     RecordType = 12
	RecordLostSamples     RecordType = 13
	RecordSwitch          RecordType = 14
	RecordSwitchCPUWide   RecordType = 15
	RecordNamespaces      RecordType = 16
	RecordKsymbol         RecordType = 17
	RecordBPFEvent        RecordType = 18
	RecordCgroup          RecordType = 19
	RecordTextPoke        RecordType = 20
	RecordAuxOutputHWID   RecordType = 21
	recordKernelTypeLimit RecordType = 64 // PERF_RECORD_USER_TYPE_START
)

// User (perf-synthesized) record types.
const (
	RecordHeaderAttr        RecordType = 64
	RecordHeaderEventType   RecordType = 65 // deprecated
	RecordHeaderTracingData RecordType = 66
	RecordHeaderBuildID     RecordType = 67
	RecordFinishedRound     RecordType = 68
	RecordIDIndex           RecordType = 69
	RecordAuxtraceInfo      RecordType = 70
	RecordAuxtrace          RecordType = 71
	RecordAuxtraceError     RecordType = 72
	RecordThreadMap         RecordType = 73
	RecordCPUMap            RecordType = 74
	RecordStatConfig        RecordType = 75
	RecordStat              RecordType = 76
	RecordStatRound         RecordType = 77
	RecordEventUpdate       RecordType = 78
	RecordTimeConv          RecordType = 79
	RecordHeaderFeature     RecordType = 80
	RecordCompressed        RecordType = 81
	RecordFinishedInit      RecordType = 82
)

var recordTypeNames = map[RecordType]string{
	RecordMmap: "MMAP", RecordLost: "LOST", RecordComm: "COMM", RecordExit: "EXIT",
	RecordThrottle: "THROTTLE", RecordUnthrottle: "UNTHROTTLE", RecordFork: "FORK",
	RecordRead: "READ", RecordSample: "SAMPLE", RecordMmap2: "MMAP2", RecordAux: "AUX",
	RecordItraceStart: "ITRACE_START", RecordLostSamples: "LOST_SAMPLES",
	RecordSwitch: "SWITCH", RecordSwitchCPUWide: "SWITCH_CPU_WIDE",
	RecordNamespaces: "NAMESPACES", RecordKsymbol: "KSYMBOL", RecordBPFEvent: "BPF_EVENT",
	RecordCgroup: "CGROUP", RecordTextPoke: "TEXT_POKE", RecordAuxOutputHWID: "AUX_OUTPUT_HW_ID",
	RecordHeaderAttr: "ATTR", RecordHeaderEventType: "EVENT_TYPE",
	RecordHeaderTracingData: "TRACING_DATA", RecordHeaderBuildID: "BUILD_ID",
	RecordFinishedRound: "FINISHED_ROUND", RecordIDIndex: "ID_INDEX",
	RecordAuxtraceInfo: "AUXTRACE_INFO", RecordAuxtrace: "AUXTRACE",
	RecordAuxtraceError: "AUXTRACE_ERROR", RecordThreadMap: "THREAD_MAP",
	RecordCPUMap: "CPU_MAP", RecordStatConfig: "STAT_CONFIG", RecordStat: "STAT",
	RecordStatRound: "STAT_ROUND", RecordEventUpdate: "EVENT_UPDATE",
	RecordTimeConv: "TIME_CONV", RecordHeaderFeature: "FEATURE",
	RecordCompressed: "COMPRESSED", RecordFinishedInit: "FINISHED_INIT",
}

// String returns perf's name for the type (as in perf report --stats),
// e.g. "SAMPLE", "FINISHED_ROUND".
func (t RecordType) String() string {
	if s, ok := recordTypeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("RecordType(%d)", uint32(t))
}

// Misc bits of perf_event_header.misc (PERF_RECORD_MISC_*).
const (
	MiscCPUModeMask      = 7
	MiscCPUModeUnknown   = 0
	MiscKernel           = 1
	MiscUser             = 2
	MiscHypervisor       = 3
	MiscGuestKernel      = 4
	MiscGuestUser        = 5
	MiscProcMapParseTime = 1 << 12 // PERF_RECORD_MISC_PROC_MAP_PARSE_TIMEOUT
	MiscMmapData         = 1 << 13
	MiscCommExec         = 1 << 13
	MiscForkExec         = 1 << 13
	MiscSwitchOut        = 1 << 13
	MiscExactIP          = 1 << 14
	MiscSwitchOutPreempt = 1 << 14
	MiscMmapBuildID      = 1 << 14
	MiscBuildIDSize      = 1 << 15 // in HEADER_BUILD_ID: the size byte is valid
)

// RecordHeader is struct perf_event_header.
type RecordHeader struct {
	Type RecordType
	Misc uint16
	Size uint16
}

// Record is one perf.data record: one of *Sample, *Mmap, *Mmap2, *Comm,
// *Fork, *Exit, *Lost, *LostSamples, *Throttle, *Read, *Aux, *ItraceStart,
// *Switch, *Namespaces, *Ksymbol, *BPFEvent, *Cgroup, *TextPoke,
// *AuxOutputHWID, *HeaderAttr, *HeaderTracingData, *HeaderBuildID,
// *FinishedRound, *FinishedInit, *IDIndex, *Auxtrace, *ThreadMap, *CPUMap,
// *EventUpdate, *TimeConv, *HeaderFeature or *Unknown.
type Record interface {
	// Type is the record's perf_event_header.type.
	Type() RecordType
	// Common returns the fields every record has.
	Common() *RecordCommon

	// decode fills the record from a body (the bytes after the header,
	// without any sample_id trailer); encodeBody appends it.
	decode(d *decoder)
	encodeBody(e *encoder)
}

// RecordCommon holds what every record carries besides its type-specific body.
type RecordCommon struct {
	// Misc is perf_event_header.misc.
	Misc uint16
	// Size is perf_event_header.size as read (EncodeRecord computes the
	// size it writes).
	Size uint16
	// Offset is the record's absolute offset in the file (or in the pipe
	// stream), -1 for records not read from a file.
	Offset int64
	// Attr is the event the record belongs to: for samples, and for other
	// kernel records when their attr has sample_id_all, the attr whose IDs
	// hold the record's sample ID (perf's evlist__event2evsel); nil if the
	// record names none.
	Attr *EventAttr
	// SampleID is the sample_id trailer of a non-sample kernel record,
	// decoded when Attr has sample_id_all. For samples it is filled from
	// the sample's own fields.
	SampleID SampleIDTrailer
}

// Common implements Record.
func (c *RecordCommon) Common() *RecordCommon { return c }

// CPUMode returns Misc & MiscCPUModeMask.
func (c *RecordCommon) CPUMode() uint16 { return c.Misc & MiscCPUModeMask }

// SampleIDTrailer is struct sample_id, the trailer the kernel appends to
// non-sample records when sample_id_all is set; which fields are present
// follows the attr's SampleType.
type SampleIDTrailer struct {
	Pid, Tid uint32
	Time     uint64
	ID       uint64 // PERF_SAMPLE_ID or PERF_SAMPLE_IDENTIFIER
	StreamID uint64
	CPU, Res uint32
}

func (s *SampleIDTrailer) decode(d *decoder, st SampleFormat) {
	if st&SampleTID != 0 {
		s.Pid, s.Tid = d.u32(), d.u32()
	}
	if st&SampleTime != 0 {
		s.Time = d.u64()
	}
	if st&SampleID != 0 {
		s.ID = d.u64()
	}
	if st&SampleStreamID != 0 {
		s.StreamID = d.u64()
	}
	if st&SampleCPU != 0 {
		s.CPU, s.Res = d.u32(), d.u32()
	}
	if st&SampleIdentifier != 0 {
		s.ID = d.u64()
	}
}

func (s *SampleIDTrailer) encode(e *encoder, st SampleFormat) {
	if st&SampleTID != 0 {
		e.u32(s.Pid)
		e.u32(s.Tid)
	}
	if st&SampleTime != 0 {
		e.u64(s.Time)
	}
	if st&SampleID != 0 {
		e.u64(s.ID)
	}
	if st&SampleStreamID != 0 {
		e.u64(s.StreamID)
	}
	if st&SampleCPU != 0 {
		e.u32(s.CPU)
		e.u32(s.Res)
	}
	if st&SampleIdentifier != 0 {
		e.u64(s.ID)
	}
}

// EncodeRecord appends the on-file bytes of r (header, body, and for
// kernel records other than samples the sample_id trailer of r.Common().Attr
// when it has sample_id_all) to dst.
func EncodeRecord(dst []byte, r Record) ([]byte, error) {
	e := encoder{b: dst}
	start := len(e.b)
	c := r.Common()
	e.u32(uint32(r.Type()))
	e.u16(c.Misc)
	e.u16(0)
	r.encodeBody(&e)
	if hasTrailer(r) && c.Attr != nil && c.Attr.Flags&AttrSampleIDAll != 0 {
		c.SampleID.encode(&e, c.Attr.SampleType)
	}
	n := len(e.b) - start
	if ht, ok := r.(*HeaderTracingData); ok {
		// The tracing data follows the 12-byte record, outside its size.
		n -= len(ht.Data) + ht.pad()
	}
	if a, ok := r.(*Auxtrace); ok {
		n -= len(a.Data)
	}
	if n > maxRecordSize {
		return dst, fmt.Errorf("encode %s record: size %d exceeds %d", r.Type(), n, maxRecordSize)
	}
	e.putU16(start+6, uint16(n))
	return e.b, nil
}

// newRecord returns a fresh record struct for a type.
func newRecord(t RecordType) Record {
	switch t {
	case RecordSample:
		return &Sample{}
	case RecordMmap:
		return &Mmap{}
	case RecordMmap2:
		return &Mmap2{}
	case RecordComm:
		return &Comm{}
	case RecordFork:
		return &Fork{}
	case RecordExit:
		return &Exit{}
	case RecordLost:
		return &Lost{}
	case RecordLostSamples:
		return &LostSamples{}
	case RecordThrottle:
		return &Throttle{}
	case RecordUnthrottle:
		return &Throttle{Unthrottle: true}
	case RecordRead:
		return &Read{}
	case RecordAux:
		return &Aux{}
	case RecordItraceStart:
		return &ItraceStart{}
	case RecordSwitch:
		return &Switch{}
	case RecordSwitchCPUWide:
		return &Switch{CPUWide: true}
	case RecordNamespaces:
		return &Namespaces{}
	case RecordKsymbol:
		return &Ksymbol{}
	case RecordBPFEvent:
		return &BPFEvent{}
	case RecordCgroup:
		return &Cgroup{}
	case RecordTextPoke:
		return &TextPoke{}
	case RecordAuxOutputHWID:
		return &AuxOutputHWID{}
	case RecordHeaderAttr:
		return &HeaderAttr{}
	case RecordHeaderTracingData:
		return &HeaderTracingData{}
	case RecordHeaderBuildID:
		return &HeaderBuildID{}
	case RecordFinishedRound:
		return &FinishedRound{}
	case RecordFinishedInit:
		return &FinishedInit{}
	case RecordIDIndex:
		return &IDIndex{}
	case RecordAuxtrace:
		return &Auxtrace{}
	case RecordThreadMap:
		return &ThreadMap{}
	case RecordCPUMap:
		return &CPUMap{}
	case RecordEventUpdate:
		return &EventUpdate{}
	case RecordTimeConv:
		return &TimeConv{}
	case RecordHeaderFeature:
		return &HeaderFeature{}
	}
	return &Unknown{Header: RecordHeader{Type: t}}
}

// Unknown is a record of a type this package does not decode, kept raw so
// it is written back unchanged.
type Unknown struct {
	RecordCommon
	Header RecordHeader
	Data   []byte // the bytes after the header, any trailer included
}

func (r *Unknown) Type() RecordType      { return r.Header.Type }
func (r *Unknown) decode(d *decoder)     { r.Data = d.rest() }
func (r *Unknown) encodeBody(e *encoder) { e.bytes(r.Data) }

// hasTrailer reports whether r's type carries a sample_id trailer (kernel
// records other than samples, when decoded; Unknown keeps it in Data).
func hasTrailer(r Record) bool {
	if _, ok := r.(*Unknown); ok {
		return false
	}
	t := r.Type()
	return t < recordKernelTypeLimit && t != RecordSample
}
