package perfdata

// ReadValue is one counter of struct read_format.
type ReadValue struct {
	Value, ID, Lost uint64
}

// ReadValues is struct read_format (PERF_SAMPLE_READ, PERF_RECORD_READ):
// one value, or with PERF_FORMAT_GROUP one per group member.
type ReadValues struct {
	TimeEnabled, TimeRunning uint64
	Values                   []ReadValue
}

func (v *ReadValues) decode(d *decoder, rf ReadFormat) {
	v.Values = v.Values[:0]
	v.TimeEnabled, v.TimeRunning = 0, 0
	if rf&FormatGroup == 0 {
		var x ReadValue
		x.Value = d.u64()
		if rf&FormatTotalTimeEnabled != 0 {
			v.TimeEnabled = d.u64()
		}
		if rf&FormatTotalTimeRunning != 0 {
			v.TimeRunning = d.u64()
		}
		if rf&FormatID != 0 {
			x.ID = d.u64()
		}
		if rf&FormatLost != 0 {
			x.Lost = d.u64()
		}
		v.Values = append(v.Values, x)
		return
	}
	nr := d.u64()
	if rf&FormatTotalTimeEnabled != 0 {
		v.TimeEnabled = d.u64()
	}
	if rf&FormatTotalTimeRunning != 0 {
		v.TimeRunning = d.u64()
	}
	per := 8
	if rf&FormatID != 0 {
		per += 8
	}
	if rf&FormatLost != 0 {
		per += 8
	}
	n := d.checkCount(nr, per, "read_format group")
	for i := 0; i < n; i++ {
		var x ReadValue
		x.Value = d.u64()
		if rf&FormatID != 0 {
			x.ID = d.u64()
		}
		if rf&FormatLost != 0 {
			x.Lost = d.u64()
		}
		v.Values = append(v.Values, x)
	}
}

func (v *ReadValues) encode(e *encoder, rf ReadFormat) {
	if rf&FormatGroup == 0 {
		var x ReadValue
		if len(v.Values) > 0 {
			x = v.Values[0]
		}
		e.u64(x.Value)
		if rf&FormatTotalTimeEnabled != 0 {
			e.u64(v.TimeEnabled)
		}
		if rf&FormatTotalTimeRunning != 0 {
			e.u64(v.TimeRunning)
		}
		if rf&FormatID != 0 {
			e.u64(x.ID)
		}
		if rf&FormatLost != 0 {
			e.u64(x.Lost)
		}
		return
	}
	e.u64(uint64(len(v.Values)))
	if rf&FormatTotalTimeEnabled != 0 {
		e.u64(v.TimeEnabled)
	}
	if rf&FormatTotalTimeRunning != 0 {
		e.u64(v.TimeRunning)
	}
	for _, x := range v.Values {
		e.u64(x.Value)
		if rf&FormatID != 0 {
			e.u64(x.ID)
		}
		if rf&FormatLost != 0 {
			e.u64(x.Lost)
		}
	}
}

// BranchEntry is struct perf_branch_entry.
type BranchEntry struct {
	From, To, Flags uint64
}

// Sample is PERF_RECORD_SAMPLE, decoded according to Attr.SampleType (the
// layout in include/uapi/linux/perf_event.h; perf's evsel__parse_sample).
// Fields whose PERF_SAMPLE_* bit is not set are zero. Slices alias the
// reader's buffer: they are valid until the next Reader.Next call.
type Sample struct {
	RecordCommon
	IP               uint64
	Pid, Tid         uint32
	Time             uint64
	Addr             uint64
	ID               uint64 // PERF_SAMPLE_ID or PERF_SAMPLE_IDENTIFIER
	StreamID         uint64
	CPU, Res         uint32
	Period           uint64 // without PERF_SAMPLE_PERIOD, the attr's sample_period
	Read             ReadValues
	Callchain        []uint64
	Raw              []byte // PERF_SAMPLE_RAW data, padding included
	BranchHWIndex    uint64 // present with BranchSampleHWIndex
	Branches         []BranchEntry
	RegsUserABI      uint64
	RegsUser         []uint64
	StackUser        []byte
	StackUserDynSize uint64
	Weight           uint64 // PERF_SAMPLE_WEIGHT or the WEIGHT_STRUCT union
	DataSrc          uint64
	Transaction      uint64
	RegsIntrABI      uint64
	RegsIntr         []uint64
	PhysAddr         uint64
	Cgroup           uint64
	DataPageSize     uint64
	CodePageSize     uint64
	Aux              []byte
}

// Type implements Record.
func (s *Sample) Type() RecordType { return RecordSample }

func (s *Sample) decode(d *decoder) {
	a := s.Attr
	if a == nil {
		d.fail("sample names no known event attr")
		return
	}
	st := a.SampleType
	*s = Sample{RecordCommon: s.RecordCommon, Read: ReadValues{Values: s.Read.Values[:0]},
		Callchain: s.Callchain[:0], Branches: s.Branches[:0],
		RegsUser: s.RegsUser[:0], RegsIntr: s.RegsIntr[:0]}
	if st&SampleIdentifier != 0 {
		s.ID = d.u64()
	}
	if st&SampleIP != 0 {
		s.IP = d.u64()
	}
	if st&SampleTID != 0 {
		s.Pid, s.Tid = d.u32(), d.u32()
	}
	if st&SampleTime != 0 {
		s.Time = d.u64()
	}
	if st&SampleAddr != 0 {
		s.Addr = d.u64()
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
	if st&SamplePeriod != 0 {
		s.Period = d.u64()
	} else {
		s.Period = a.SamplePeriod // as perf's evsel__parse_sample
	}
	if st&SampleRead != 0 {
		s.Read.decode(d, a.ReadFormat)
	}
	if st&SampleCallchain != 0 {
		n := d.checkCount(d.u64(), 8, "callchain")
		s.Callchain = d.u64s(s.Callchain, n)
	}
	if st&SampleRaw != 0 {
		n := d.u32()
		if uint64(n) > uint64(d.left()) {
			d.fail("raw data size %d exceeds the %d bytes left", n, d.left())
			return
		}
		s.Raw = d.bytes(int(n))
	}
	if st&SampleBranchStack != 0 {
		nr := d.u64()
		if a.BranchSampleType&BranchSampleHWIndex != 0 {
			s.BranchHWIndex = d.u64()
		}
		n := d.checkCount(nr, 24, "branch stack")
		for i := 0; i < n; i++ {
			s.Branches = append(s.Branches, BranchEntry{d.u64(), d.u64(), d.u64()})
		}
	}
	if st&SampleRegsUser != 0 {
		s.RegsUserABI = d.u64()
		if s.RegsUserABI != 0 {
			s.RegsUser = d.u64s(s.RegsUser, weight(a.SampleRegsUser))
		}
	}
	if st&SampleStackUser != 0 {
		sz := d.u64()
		if sz > uint64(d.left()) {
			d.fail("user stack size %d exceeds the %d bytes left", sz, d.left())
			return
		}
		s.StackUser = d.bytes(int(sz))
		if sz != 0 {
			s.StackUserDynSize = d.u64()
		}
	}
	if st&sampleWeightType != 0 {
		s.Weight = d.u64()
	}
	if st&SampleDataSrc != 0 {
		s.DataSrc = d.u64()
	}
	if st&SampleTransaction != 0 {
		s.Transaction = d.u64()
	}
	if st&SampleRegsIntr != 0 {
		s.RegsIntrABI = d.u64()
		if s.RegsIntrABI != 0 {
			s.RegsIntr = d.u64s(s.RegsIntr, weight(a.SampleRegsIntr))
		}
	}
	if st&SamplePhysAddr != 0 {
		s.PhysAddr = d.u64()
	}
	if st&SampleCgroup != 0 {
		s.Cgroup = d.u64()
	}
	if st&SampleDataPageSize != 0 {
		s.DataPageSize = d.u64()
	}
	if st&SampleCodePageSize != 0 {
		s.CodePageSize = d.u64()
	}
	if st&SampleAux != 0 {
		sz := d.u64()
		if sz > uint64(d.left()) {
			d.fail("aux sample size %d exceeds the %d bytes left", sz, d.left())
			return
		}
		s.Aux = d.bytes(int(sz))
	}
	s.SampleID = SampleIDTrailer{Pid: s.Pid, Tid: s.Tid, Time: s.Time, ID: s.ID, StreamID: s.StreamID, CPU: s.CPU, Res: s.Res}
}

func (s *Sample) encodeBody(e *encoder) {
	a := s.Attr
	if a == nil {
		return
	}
	st := a.SampleType
	if st&SampleIdentifier != 0 {
		e.u64(s.ID)
	}
	if st&SampleIP != 0 {
		e.u64(s.IP)
	}
	if st&SampleTID != 0 {
		e.u32(s.Pid)
		e.u32(s.Tid)
	}
	if st&SampleTime != 0 {
		e.u64(s.Time)
	}
	if st&SampleAddr != 0 {
		e.u64(s.Addr)
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
	if st&SamplePeriod != 0 {
		e.u64(s.Period)
	}
	if st&SampleRead != 0 {
		s.Read.encode(e, a.ReadFormat)
	}
	if st&SampleCallchain != 0 {
		e.u64(uint64(len(s.Callchain)))
		e.u64s(s.Callchain)
	}
	if st&SampleRaw != 0 {
		// The kernel pads raw data so that the u32 size plus data is
		// u64-aligned; keep that invariant for data of any length.
		n := len(s.Raw)
		pad := align8(4+n) - 4 - n
		e.u32(uint32(n + pad))
		e.bytes(s.Raw)
		e.zeros(pad)
	}
	if st&SampleBranchStack != 0 {
		e.u64(uint64(len(s.Branches)))
		if a.BranchSampleType&BranchSampleHWIndex != 0 {
			e.u64(s.BranchHWIndex)
		}
		for _, b := range s.Branches {
			e.u64(b.From)
			e.u64(b.To)
			e.u64(b.Flags)
		}
	}
	if st&SampleRegsUser != 0 {
		e.u64(s.RegsUserABI)
		if s.RegsUserABI != 0 {
			e.u64s(s.RegsUser)
		}
	}
	if st&SampleStackUser != 0 {
		e.u64(uint64(len(s.StackUser)))
		e.bytes(s.StackUser)
		if len(s.StackUser) != 0 {
			e.u64(s.StackUserDynSize)
		}
	}
	if st&sampleWeightType != 0 {
		e.u64(s.Weight)
	}
	if st&SampleDataSrc != 0 {
		e.u64(s.DataSrc)
	}
	if st&SampleTransaction != 0 {
		e.u64(s.Transaction)
	}
	if st&SampleRegsIntr != 0 {
		e.u64(s.RegsIntrABI)
		if s.RegsIntrABI != 0 {
			e.u64s(s.RegsIntr)
		}
	}
	if st&SamplePhysAddr != 0 {
		e.u64(s.PhysAddr)
	}
	if st&SampleCgroup != 0 {
		e.u64(s.Cgroup)
	}
	if st&SampleDataPageSize != 0 {
		e.u64(s.DataPageSize)
	}
	if st&SampleCodePageSize != 0 {
		e.u64(s.CodePageSize)
	}
	if st&SampleAux != 0 {
		e.u64(uint64(len(s.Aux)))
		e.bytes(s.Aux)
	}
}
