package perfdata

// Kernel records other than samples (include/uapi/linux/perf_event.h,
// enum perf_event_type). Each decode reads the body without the sample_id
// trailer; encodeBody writes it back. String fields are NUL-padded to a
// multiple of 8 bytes, as the kernel and perf write them.

// Mmap is PERF_RECORD_MMAP.
type Mmap struct {
	RecordCommon
	Pid, Tid         uint32
	Addr, Len, Pgoff uint64
	Filename         string
}

func (r *Mmap) Type() RecordType { return RecordMmap }
func (r *Mmap) decode(d *decoder) {
	r.Pid, r.Tid = d.u32(), d.u32()
	r.Addr, r.Len, r.Pgoff = d.u64(), d.u64(), d.u64()
	r.Filename = cstr(d.rest())
}
func (r *Mmap) encodeBody(e *encoder) {
	e.u32(r.Pid)
	e.u32(r.Tid)
	e.u64(r.Addr)
	e.u64(r.Len)
	e.u64(r.Pgoff)
	e.cstringPad(r.Filename, 8)
}

// Mmap2 is PERF_RECORD_MMAP2. When Misc has MiscMmapBuildID the record
// carries BuildID instead of Maj, Min, Ino and InoGeneration.
type Mmap2 struct {
	RecordCommon
	Pid, Tid         uint32
	Addr, Len, Pgoff uint64
	Maj, Min         uint32
	Ino, InoGen      uint64
	BuildID          []byte
	Prot, Flags      uint32
	Filename         string
}

func (r *Mmap2) Type() RecordType { return RecordMmap2 }
func (r *Mmap2) decode(d *decoder) {
	r.Pid, r.Tid = d.u32(), d.u32()
	r.Addr, r.Len, r.Pgoff = d.u64(), d.u64(), d.u64()
	r.BuildID = r.BuildID[:0]
	r.Maj, r.Min, r.Ino, r.InoGen = 0, 0, 0, 0
	if r.Misc&MiscMmapBuildID != 0 {
		n := int(d.u8())
		d.skip(3)
		b := d.bytes(20)
		if n > 20 {
			n = 20
		}
		if b != nil {
			r.BuildID = append(r.BuildID, b[:n]...)
		}
	} else {
		r.Maj, r.Min = d.u32(), d.u32()
		r.Ino, r.InoGen = d.u64(), d.u64()
	}
	r.Prot, r.Flags = d.u32(), d.u32()
	r.Filename = cstr(d.rest())
}
func (r *Mmap2) encodeBody(e *encoder) {
	e.u32(r.Pid)
	e.u32(r.Tid)
	e.u64(r.Addr)
	e.u64(r.Len)
	e.u64(r.Pgoff)
	if r.Misc&MiscMmapBuildID != 0 {
		n := len(r.BuildID)
		if n > 20 {
			n = 20
		}
		e.u8(uint8(n))
		e.zeros(3)
		e.bytes(r.BuildID[:n])
		e.zeros(20 - n)
	} else {
		e.u32(r.Maj)
		e.u32(r.Min)
		e.u64(r.Ino)
		e.u64(r.InoGen)
	}
	e.u32(r.Prot)
	e.u32(r.Flags)
	e.cstringPad(r.Filename, 8)
}

// Comm is PERF_RECORD_COMM; Misc&MiscCommExec marks an exec.
type Comm struct {
	RecordCommon
	Pid, Tid uint32
	Comm     string
}

func (r *Comm) Type() RecordType { return RecordComm }
func (r *Comm) decode(d *decoder) {
	r.Pid, r.Tid = d.u32(), d.u32()
	r.Comm = cstr(d.rest())
}
func (r *Comm) encodeBody(e *encoder) {
	e.u32(r.Pid)
	e.u32(r.Tid)
	e.cstringPad(r.Comm, 8)
}

// Fork is PERF_RECORD_FORK.
type Fork struct {
	RecordCommon
	Pid, PPid, Tid, PTid uint32
	Time                 uint64
}

func (r *Fork) Type() RecordType { return RecordFork }
func (r *Fork) decode(d *decoder) {
	r.Pid, r.PPid, r.Tid, r.PTid = d.u32(), d.u32(), d.u32(), d.u32()
	r.Time = d.u64()
}
func (r *Fork) encodeBody(e *encoder) {
	e.u32(r.Pid)
	e.u32(r.PPid)
	e.u32(r.Tid)
	e.u32(r.PTid)
	e.u64(r.Time)
}

// Exit is PERF_RECORD_EXIT (same layout as Fork).
type Exit struct {
	RecordCommon
	Pid, PPid, Tid, PTid uint32
	Time                 uint64
}

func (r *Exit) Type() RecordType { return RecordExit }
func (r *Exit) decode(d *decoder) {
	r.Pid, r.PPid, r.Tid, r.PTid = d.u32(), d.u32(), d.u32(), d.u32()
	r.Time = d.u64()
}
func (r *Exit) encodeBody(e *encoder) {
	e.u32(r.Pid)
	e.u32(r.PPid)
	e.u32(r.Tid)
	e.u32(r.PTid)
	e.u64(r.Time)
}

// Lost is PERF_RECORD_LOST.
type Lost struct {
	RecordCommon
	ID, Lost uint64
}

func (r *Lost) Type() RecordType  { return RecordLost }
func (r *Lost) decode(d *decoder) { r.ID, r.Lost = d.u64(), d.u64() }
func (r *Lost) encodeBody(e *encoder) {
	e.u64(r.ID)
	e.u64(r.Lost)
}

// LostSamples is PERF_RECORD_LOST_SAMPLES.
type LostSamples struct {
	RecordCommon
	Lost uint64
}

func (r *LostSamples) Type() RecordType      { return RecordLostSamples }
func (r *LostSamples) decode(d *decoder)     { r.Lost = d.u64() }
func (r *LostSamples) encodeBody(e *encoder) { e.u64(r.Lost) }

// Throttle is PERF_RECORD_THROTTLE, or PERF_RECORD_UNTHROTTLE when
// Unthrottle is set.
type Throttle struct {
	RecordCommon
	Unthrottle         bool
	Time, ID, StreamID uint64
}

func (r *Throttle) Type() RecordType {
	if r.Unthrottle {
		return RecordUnthrottle
	}
	return RecordThrottle
}
func (r *Throttle) decode(d *decoder) { r.Time, r.ID, r.StreamID = d.u64(), d.u64(), d.u64() }
func (r *Throttle) encodeBody(e *encoder) {
	e.u64(r.Time)
	e.u64(r.ID)
	e.u64(r.StreamID)
}

// Read is PERF_RECORD_READ. Its Values follow the attr's ReadFormat, so it
// decodes only when Attr is known.
type Read struct {
	RecordCommon
	Pid, Tid uint32
	Values   ReadValues
}

func (r *Read) Type() RecordType { return RecordRead }
func (r *Read) decode(d *decoder) {
	r.Pid, r.Tid = d.u32(), d.u32()
	var rf ReadFormat
	if r.Attr != nil {
		rf = r.Attr.ReadFormat
	}
	r.Values.decode(d, rf)
}
func (r *Read) encodeBody(e *encoder) {
	e.u32(r.Pid)
	e.u32(r.Tid)
	var rf ReadFormat
	if r.Attr != nil {
		rf = r.Attr.ReadFormat
	}
	r.Values.encode(e, rf)
}

// Aux is PERF_RECORD_AUX.
type Aux struct {
	RecordCommon
	AuxOffset, AuxSize, Flags uint64
}

func (r *Aux) Type() RecordType { return RecordAux }
func (r *Aux) decode(d *decoder) {
	r.AuxOffset, r.AuxSize, r.Flags = d.u64(), d.u64(), d.u64()
}
func (r *Aux) encodeBody(e *encoder) {
	e.u64(r.AuxOffset)
	e.u64(r.AuxSize)
	e.u64(r.Flags)
}

// ItraceStart is PERF_RECORD_ITRACE_START.
type ItraceStart struct {
	RecordCommon
	Pid, Tid uint32
}

func (r *ItraceStart) Type() RecordType  { return RecordItraceStart }
func (r *ItraceStart) decode(d *decoder) { r.Pid, r.Tid = d.u32(), d.u32() }
func (r *ItraceStart) encodeBody(e *encoder) {
	e.u32(r.Pid)
	e.u32(r.Tid)
}

// Switch is PERF_RECORD_SWITCH, or PERF_RECORD_SWITCH_CPU_WIDE (which adds
// the other task) when CPUWide is set. Misc&MiscSwitchOut marks a switch out.
type Switch struct {
	RecordCommon
	CPUWide                  bool
	NextPrevPid, NextPrevTid uint32
}

func (r *Switch) Type() RecordType {
	if r.CPUWide {
		return RecordSwitchCPUWide
	}
	return RecordSwitch
}
func (r *Switch) decode(d *decoder) {
	if r.CPUWide {
		r.NextPrevPid, r.NextPrevTid = d.u32(), d.u32()
	}
}
func (r *Switch) encodeBody(e *encoder) {
	if r.CPUWide {
		e.u32(r.NextPrevPid)
		e.u32(r.NextPrevTid)
	}
}

// Out reports a switch out (PERF_RECORD_MISC_SWITCH_OUT).
func (r *Switch) Out() bool { return r.Misc&MiscSwitchOut != 0 }

// NamespaceLink is struct perf_ns_link_info.
type NamespaceLink struct{ Dev, Ino uint64 }

// Namespaces is PERF_RECORD_NAMESPACES.
type Namespaces struct {
	RecordCommon
	Pid, Tid   uint32
	Namespaces []NamespaceLink
}

func (r *Namespaces) Type() RecordType { return RecordNamespaces }
func (r *Namespaces) decode(d *decoder) {
	r.Pid, r.Tid = d.u32(), d.u32()
	n := d.checkCount(d.u64(), 16, "namespaces")
	r.Namespaces = r.Namespaces[:0]
	for i := 0; i < n; i++ {
		r.Namespaces = append(r.Namespaces, NamespaceLink{d.u64(), d.u64()})
	}
}
func (r *Namespaces) encodeBody(e *encoder) {
	e.u32(r.Pid)
	e.u32(r.Tid)
	e.u64(uint64(len(r.Namespaces)))
	for _, n := range r.Namespaces {
		e.u64(n.Dev)
		e.u64(n.Ino)
	}
}

// Ksymbol is PERF_RECORD_KSYMBOL.
type Ksymbol struct {
	RecordCommon
	Addr     uint64
	Len      uint32
	KsymType uint16
	Flags    uint16
	Name     string
}

func (r *Ksymbol) Type() RecordType { return RecordKsymbol }
func (r *Ksymbol) decode(d *decoder) {
	r.Addr, r.Len, r.KsymType, r.Flags = d.u64(), d.u32(), d.u16(), d.u16()
	r.Name = cstr(d.rest())
}
func (r *Ksymbol) encodeBody(e *encoder) {
	e.u64(r.Addr)
	e.u32(r.Len)
	e.u16(r.KsymType)
	e.u16(r.Flags)
	e.cstringPad(r.Name, 8)
}

// BPFEvent is PERF_RECORD_BPF_EVENT.
type BPFEvent struct {
	RecordCommon
	EventType uint16
	Flags     uint16
	ID        uint32
	Tag       [8]byte
}

func (r *BPFEvent) Type() RecordType { return RecordBPFEvent }
func (r *BPFEvent) decode(d *decoder) {
	r.EventType, r.Flags, r.ID = d.u16(), d.u16(), d.u32()
	copy(r.Tag[:], d.bytes(8))
}
func (r *BPFEvent) encodeBody(e *encoder) {
	e.u16(r.EventType)
	e.u16(r.Flags)
	e.u32(r.ID)
	e.bytes(r.Tag[:])
}

// Cgroup is PERF_RECORD_CGROUP.
type Cgroup struct {
	RecordCommon
	ID   uint64
	Path string
}

func (r *Cgroup) Type() RecordType { return RecordCgroup }
func (r *Cgroup) decode(d *decoder) {
	r.ID = d.u64()
	r.Path = cstr(d.rest())
}
func (r *Cgroup) encodeBody(e *encoder) {
	e.u64(r.ID)
	e.cstringPad(r.Path, 8)
}

// TextPoke is PERF_RECORD_TEXT_POKE: Bytes holds the old then the new
// instruction bytes.
type TextPoke struct {
	RecordCommon
	Addr           uint64
	OldLen, NewLen uint16
	Bytes          []byte
}

func (r *TextPoke) Type() RecordType { return RecordTextPoke }
func (r *TextPoke) decode(d *decoder) {
	r.Addr, r.OldLen, r.NewLen = d.u64(), d.u16(), d.u16()
	r.Bytes = d.bytes(int(r.OldLen) + int(r.NewLen))
	d.rest() // padding
}
func (r *TextPoke) encodeBody(e *encoder) {
	e.u64(r.Addr)
	e.u16(r.OldLen)
	e.u16(r.NewLen)
	e.bytes(r.Bytes)
	// The kernel pads so that header+body is u64-aligned: 8+8+4 = 20.
	e.zeros(align8(20+len(r.Bytes)) - 20 - len(r.Bytes))
}

// AuxOutputHWID is PERF_RECORD_AUX_OUTPUT_HW_ID.
type AuxOutputHWID struct {
	RecordCommon
	HWID uint64
}

func (r *AuxOutputHWID) Type() RecordType      { return RecordAuxOutputHWID }
func (r *AuxOutputHWID) decode(d *decoder)     { r.HWID = d.u64() }
func (r *AuxOutputHWID) encodeBody(e *encoder) { e.u64(r.HWID) }
