package perfdata

// Records perf itself synthesizes (type 64 and up; struct perf_record_* in
// tools/lib/perf/include/perf/event.h). Pipe mode carries the file header's
// contents as such records: HEADER_ATTR, HEADER_FEATURE, HEADER_TRACING_DATA.

// HeaderAttr is PERF_RECORD_HEADER_ATTR: an event attr and its sample IDs.
type HeaderAttr struct {
	RecordCommon
	Attr *EventAttr
}

func (r *HeaderAttr) Type() RecordType { return RecordHeaderAttr }
func (r *HeaderAttr) decode(d *decoder) {
	r.Attr = decodeAttr(d, d.left())
	if d.err != nil {
		return
	}
	n := d.left() / 8
	r.Attr.IDs = d.u64s(nil, n)
}
func (r *HeaderAttr) encodeBody(e *encoder) {
	if r.Attr == nil {
		return
	}
	r.Attr.encode(e)
	e.u64s(r.Attr.IDs)
}

// HeaderTracingData is PERF_RECORD_HEADER_TRACING_DATA. The 16-byte record
// (header, u32 size, u32 padding) is followed by Size bytes, the tracing
// data padded to a multiple of 8, that its header size does not count. Data
// holds those Size bytes as read; encoding pads Data to 8.
type HeaderTracingData struct {
	RecordCommon
	Size uint32
	Data []byte
}

func (r *HeaderTracingData) Type() RecordType { return RecordHeaderTracingData }
func (r *HeaderTracingData) decode(d *decoder) {
	r.Size = d.u32()
	d.rest() // u32 padding
	// Data is attached by the reader, which reads the payload.
}
func (r *HeaderTracingData) pad() int { return align8(len(r.Data)) - len(r.Data) }
func (r *HeaderTracingData) encodeBody(e *encoder) {
	e.u32(uint32(align8(len(r.Data))))
	e.u32(0)
	e.bytes(r.Data)
	e.zeros(r.pad())
}

// HeaderBuildID is PERF_RECORD_HEADER_BUILD_ID, also the entry format of
// the HEADER_BUILD_ID feature section. Misc holds the cpumode.
type HeaderBuildID struct {
	RecordCommon
	Pid      int32
	BuildID  []byte // up to 20 bytes
	Filename string
	// sized is MiscBuildIDSize: the size byte is meaningful. Without it
	// (older perf) BuildID is all 20 bytes.
}

func (r *HeaderBuildID) Type() RecordType { return RecordHeaderBuildID }
func (r *HeaderBuildID) decode(d *decoder) {
	r.Pid = int32(d.u32())
	b := d.bytes(24)
	if b == nil {
		return
	}
	n := 20
	if r.Misc&MiscBuildIDSize != 0 && int(b[20]) <= 20 {
		n = int(b[20])
	}
	r.BuildID = append(r.BuildID[:0], b[:n]...)
	r.Filename = cstr(d.rest())
}
func (r *HeaderBuildID) encodeBody(e *encoder) {
	e.u32(uint32(r.Pid))
	n := len(r.BuildID)
	if n > 20 {
		n = 20
	}
	e.bytes(r.BuildID[:n])
	e.zeros(20 - n)
	if r.Misc&MiscBuildIDSize != 0 {
		e.u8(uint8(n))
	} else {
		e.u8(0)
	}
	e.zeros(3)
	// perf aligns build-id file names to NAME_ALIGN (64).
	e.cstringPad(r.Filename, 64)
}

// FinishedRound is PERF_RECORD_FINISHED_ROUND: every event before it in
// the file with a timestamp up to the previous round's maximum may be
// delivered (see ReaderOptions.TimeOrder).
type FinishedRound struct{ RecordCommon }

func (r *FinishedRound) Type() RecordType      { return RecordFinishedRound }
func (r *FinishedRound) decode(d *decoder)     { d.rest() }
func (r *FinishedRound) encodeBody(e *encoder) {}

// FinishedInit is PERF_RECORD_FINISHED_INIT: the end of the records perf
// record synthesizes before the workload starts.
type FinishedInit struct{ RecordCommon }

func (r *FinishedInit) Type() RecordType      { return RecordFinishedInit }
func (r *FinishedInit) decode(d *decoder)     { d.rest() }
func (r *FinishedInit) encodeBody(e *encoder) {}

// IDIndexEntry is struct id_index_entry.
type IDIndexEntry struct {
	ID, Idx, CPU, Tid uint64
}

// IDIndex is PERF_RECORD_ID_INDEX.
type IDIndex struct {
	RecordCommon
	Entries []IDIndexEntry
}

func (r *IDIndex) Type() RecordType { return RecordIDIndex }
func (r *IDIndex) decode(d *decoder) {
	n := d.checkCount(d.u64(), 32, "id index")
	r.Entries = r.Entries[:0]
	for i := 0; i < n; i++ {
		r.Entries = append(r.Entries, IDIndexEntry{d.u64(), d.u64(), d.u64(), d.u64()})
	}
	d.rest()
}
func (r *IDIndex) encodeBody(e *encoder) {
	e.u64(uint64(len(r.Entries)))
	for _, x := range r.Entries {
		e.u64(x.ID)
		e.u64(x.Idx)
		e.u64(x.CPU)
		e.u64(x.Tid)
	}
}

// Auxtrace is PERF_RECORD_AUXTRACE: like tracing data, its Size bytes of
// AUX area data follow the record outside its header size.
type Auxtrace struct {
	RecordCommon
	Size, Offset, Reference uint64
	Idx, Tid, CPU, Reserved uint32
	Data                    []byte
}

func (r *Auxtrace) Type() RecordType { return RecordAuxtrace }
func (r *Auxtrace) decode(d *decoder) {
	r.Size, r.Offset, r.Reference = d.u64(), d.u64(), d.u64()
	r.Idx, r.Tid, r.CPU, r.Reserved = d.u32(), d.u32(), d.u32(), d.u32()
	d.rest()
}
func (r *Auxtrace) encodeBody(e *encoder) {
	e.u64(uint64(len(r.Data)))
	e.u64(r.Offset)
	e.u64(r.Reference)
	e.u32(r.Idx)
	e.u32(r.Tid)
	e.u32(r.CPU)
	e.u32(r.Reserved)
	e.bytes(r.Data)
}

// ThreadMapEntry is struct perf_record_thread_map_entry.
type ThreadMapEntry struct {
	Pid  uint64
	Comm string // up to 16 bytes
}

// ThreadMap is PERF_RECORD_THREAD_MAP.
type ThreadMap struct {
	RecordCommon
	Entries []ThreadMapEntry
}

func (r *ThreadMap) Type() RecordType { return RecordThreadMap }
func (r *ThreadMap) decode(d *decoder) {
	n := d.checkCount(d.u64(), 24, "thread map")
	r.Entries = r.Entries[:0]
	for i := 0; i < n; i++ {
		r.Entries = append(r.Entries, ThreadMapEntry{d.u64(), d.cstring(16)})
	}
	d.rest()
}
func (r *ThreadMap) encodeBody(e *encoder) {
	e.u64(uint64(len(r.Entries)))
	for _, x := range r.Entries {
		c := x.Comm
		if len(c) > 15 {
			c = c[:15]
		}
		e.u64(x.Pid)
		e.bytes([]byte(c))
		e.zeros(16 - len(c))
	}
}

// CPUMap is PERF_RECORD_CPU_MAP. Data is the perf_record_cpu_map_data
// as written (its encodings vary: CPU list, mask, range); CPUs decodes it.
type CPUMap struct {
	RecordCommon
	Data []byte
}

func (r *CPUMap) Type() RecordType      { return RecordCPUMap }
func (r *CPUMap) decode(d *decoder)     { r.Data = d.rest() }
func (r *CPUMap) encodeBody(e *encoder) { e.bytes(r.Data) }

// CPU map encodings (PERF_CPU_MAP__*).
const (
	cpuMapCPUs      = 0
	cpuMapMask      = 1
	cpuMapRangeCPUs = 2
)

// CPUs decodes the map to a CPU list; -1 stands for "any CPU".
func (r *CPUMap) CPUs() ([]int, error) {
	d := newDecoder("cpu map record", r.Offset+8, r.Data, false)
	var cpus []int
	switch d.u16() {
	case cpuMapCPUs:
		n := d.checkCount(uint64(d.u16()), 2, "cpus")
		for i := 0; i < n; i++ {
			cpus = append(cpus, int(int16(d.u16())))
		}
	case cpuMapMask:
		// struct perf_record_mask_cpu_map32/64: nr, long_size (4 or 8),
		// for 8 four bytes of padding, then nr mask words.
		nr, ls := int(d.u16()), int(d.u16())
		if ls != 4 && ls != 8 {
			d.fail("cpu mask long size %d invalid", ls)
			break
		}
		if ls == 8 {
			d.skip(4)
		}
		nr = d.checkCount(uint64(nr), ls, "cpu mask words")
		for i := 0; i < nr; i++ {
			var w uint64
			if ls == 4 {
				w = uint64(d.u32())
			} else {
				w = d.u64()
			}
			for b := 0; b < ls*8; b++ {
				if w&(1<<b) != 0 {
					cpus = append(cpus, i*ls*8+b)
				}
			}
		}
	case cpuMapRangeCPUs:
		anyCPU := d.u8()
		d.skip(1)
		start, end := int(d.u16()), int(d.u16())
		if anyCPU != 0 {
			cpus = append(cpus, -1)
		}
		for c := start; c <= end && d.err == nil; c++ {
			cpus = append(cpus, c)
		}
	default:
		d.fail("unknown cpu map encoding")
	}
	return cpus, d.err
}

// EventUpdate is PERF_RECORD_EVENT_UPDATE: Data holds the type-specific
// payload (unit, scale, name, cpus).
type EventUpdate struct {
	RecordCommon
	UpdateType uint64
	ID         uint64
	Data       []byte
}

// Event update types (PERF_EVENT_UPDATE__*).
const (
	EventUpdateUnit  = 0
	EventUpdateScale = 1
	EventUpdateName  = 2
	EventUpdateCPUs  = 3
)

func (r *EventUpdate) Type() RecordType { return RecordEventUpdate }
func (r *EventUpdate) decode(d *decoder) {
	r.UpdateType, r.ID = d.u64(), d.u64()
	r.Data = d.rest()
}
func (r *EventUpdate) encodeBody(e *encoder) {
	e.u64(r.UpdateType)
	e.u64(r.ID)
	e.bytes(r.Data)
}

// TimeConv is PERF_RECORD_TIME_CONV: how to convert TSC to perf time.
// Older files carry only the first three fields; Extended tells.
type TimeConv struct {
	RecordCommon
	TimeShift, TimeMult, TimeZero uint64
	Extended                      bool
	TimeCycles, TimeMask          uint64
	CapUserTimeZero               uint8
	CapUserTimeShort              uint8
	Reserved                      [6]byte
}

func (r *TimeConv) Type() RecordType { return RecordTimeConv }
func (r *TimeConv) decode(d *decoder) {
	r.TimeShift, r.TimeMult, r.TimeZero = d.u64(), d.u64(), d.u64()
	r.Extended = d.left() >= 24
	if r.Extended {
		r.TimeCycles, r.TimeMask = d.u64(), d.u64()
		r.CapUserTimeZero, r.CapUserTimeShort = d.u8(), d.u8()
		copy(r.Reserved[:], d.bytes(6))
	}
	d.rest()
}
func (r *TimeConv) encodeBody(e *encoder) {
	e.u64(r.TimeShift)
	e.u64(r.TimeMult)
	e.u64(r.TimeZero)
	if r.Extended {
		e.u64(r.TimeCycles)
		e.u64(r.TimeMask)
		e.u8(r.CapUserTimeZero)
		e.u8(r.CapUserTimeShort)
		e.bytes(r.Reserved[:])
	}
}

// HeaderFeature is PERF_RECORD_HEADER_FEATURE (pipe mode): one feature
// section's bytes, in the same format as in a file.
type HeaderFeature struct {
	RecordCommon
	Feature Feature
	Data    []byte
}

func (r *HeaderFeature) Type() RecordType { return RecordHeaderFeature }
func (r *HeaderFeature) decode(d *decoder) {
	r.Feature = Feature(d.u64())
	r.Data = d.rest()
}
func (r *HeaderFeature) encodeBody(e *encoder) {
	e.u64(uint64(r.Feature))
	e.bytes(r.Data)
}
