package perfdata

import "slices"

// Clone returns a deep copy of r that later Reader.Next calls leave alone
// (records from Next share the reader's buffers). Attr pointers are shared:
// attrs belong to the File.
func Clone(r Record) Record {
	switch r := r.(type) {
	case *Sample:
		c := *r
		c.Read.Values = slices.Clone(r.Read.Values)
		c.Callchain = slices.Clone(r.Callchain)
		c.Raw = slices.Clone(r.Raw)
		c.Branches = slices.Clone(r.Branches)
		c.RegsUser = slices.Clone(r.RegsUser)
		c.StackUser = slices.Clone(r.StackUser)
		c.RegsIntr = slices.Clone(r.RegsIntr)
		c.Aux = slices.Clone(r.Aux)
		return &c
	case *Mmap:
		c := *r
		return &c
	case *Mmap2:
		c := *r
		c.BuildID = slices.Clone(r.BuildID)
		return &c
	case *Comm:
		c := *r
		return &c
	case *Fork:
		c := *r
		return &c
	case *Exit:
		c := *r
		return &c
	case *Lost:
		c := *r
		return &c
	case *LostSamples:
		c := *r
		return &c
	case *Throttle:
		c := *r
		return &c
	case *Read:
		c := *r
		c.Values.Values = slices.Clone(r.Values.Values)
		return &c
	case *Aux:
		c := *r
		return &c
	case *ItraceStart:
		c := *r
		return &c
	case *Switch:
		c := *r
		return &c
	case *Namespaces:
		c := *r
		c.Namespaces = slices.Clone(r.Namespaces)
		return &c
	case *Ksymbol:
		c := *r
		return &c
	case *BPFEvent:
		c := *r
		return &c
	case *Cgroup:
		c := *r
		return &c
	case *TextPoke:
		c := *r
		c.Bytes = slices.Clone(r.Bytes)
		return &c
	case *AuxOutputHWID:
		c := *r
		return &c
	case *HeaderAttr:
		c := *r
		return &c
	case *HeaderTracingData:
		c := *r
		c.Data = slices.Clone(r.Data)
		return &c
	case *HeaderBuildID:
		c := *r
		c.BuildID = slices.Clone(r.BuildID)
		return &c
	case *FinishedRound:
		c := *r
		return &c
	case *FinishedInit:
		c := *r
		return &c
	case *IDIndex:
		c := *r
		c.Entries = slices.Clone(r.Entries)
		return &c
	case *Auxtrace:
		c := *r
		c.Data = slices.Clone(r.Data)
		return &c
	case *ThreadMap:
		c := *r
		c.Entries = slices.Clone(r.Entries)
		return &c
	case *CPUMap:
		c := *r
		c.Data = slices.Clone(r.Data)
		return &c
	case *EventUpdate:
		c := *r
		c.Data = slices.Clone(r.Data)
		return &c
	case *TimeConv:
		c := *r
		return &c
	case *HeaderFeature:
		c := *r
		c.Data = slices.Clone(r.Data)
		return &c
	case *Unknown:
		c := *r
		c.Data = slices.Clone(r.Data)
		return &c
	}
	return r
}
