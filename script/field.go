package script

import (
	"fmt"
	"strings"

	"github.com/gperf-dev/gperf/perfdata"
)

// field is one perf script output field (builtin-script.c's
// enum perf_output_field, in perf's order).
type field uint64

const (
	fComm field = 1 << iota
	fTid
	fPid
	fTime
	fCPU
	fEvname
	fTrace
	fIP
	fSym
	fDSO
	fAddr
	fSymOff
	fSrcline
	fPeriod
	fIregs
	fBrstack
	fBrstacksym
	fDataSrc
	fWeight
	fBPFOutput
	fCallindent
	fInsn
	fInsnlen
	fBrstackinsn
	fBrstackoff
	fSynth
	fPhysAddr
	fUregs
	fMetric
	fMisc
	fSrccode
	fIPC
	fTOD
	fDataPageSize
	fCodePageSize
	fInsLat
	fMachinePid
	fVCPU
	fCgroup
	fRetireLat
)

// fieldNames is all_output_options, in perf's order.
var fieldNames = []struct {
	name string
	f    field
}{
	{"comm", fComm}, {"tid", fTid}, {"pid", fPid}, {"time", fTime}, {"cpu", fCPU},
	{"event", fEvname}, {"trace", fTrace}, {"ip", fIP}, {"sym", fSym}, {"dso", fDSO},
	{"addr", fAddr}, {"symoff", fSymOff}, {"srcline", fSrcline}, {"period", fPeriod},
	{"iregs", fIregs}, {"uregs", fUregs}, {"brstack", fBrstack}, {"brstacksym", fBrstacksym},
	{"data_src", fDataSrc}, {"weight", fWeight}, {"bpf-output", fBPFOutput},
	{"callindent", fCallindent}, {"insn", fInsn}, {"insnlen", fInsnlen},
	{"synth", fSynth}, {"phys_addr", fPhysAddr}, {"metric", fMetric}, {"misc", fMisc},
	{"srccode", fSrccode}, {"ipc", fIPC}, {"tod", fTOD}, {"data_page_size", fDataPageSize},
	{"code_page_size", fCodePageSize}, {"ins_lat", fInsLat}, {"machine_pid", fMachinePid},
	{"vcpu", fVCPU}, {"cgroup", fCgroup}, {"retire_lat", fRetireLat},
	{"brstackinsn", fBrstackinsn}, {"brstackoff", fBrstackoff},
}

// Output types: perf_type_id values below PERF_TYPE_MAX, then synth and
// other (builtin-script.c output_type()).
const (
	typeHW = iota
	typeSW
	typeTrace
	typeHWCache
	typeRaw
	typeBreak
	typeSynth
	typeOther
	numTypes
)

var typeNames = [numTypes]string{"hardware", "software", "tracepoint", "hardware-cache", "raw", "breakpoint", "synth", "other"}

func outputType(t perfdata.EventType) int {
	switch {
	case uint32(t) == 0x80000000+1: // PERF_TYPE_SYNTH
		return typeSynth
	case t < 6:
		return int(t)
	}
	return typeOther
}

type typeOutput struct {
	userSet, wildcardSet bool
	fields, invalid      field
	userSetFields        field // fields the user named explicitly
	userUnset            field
}

// defaultOutput is builtin-script.c's output[] in perf 6.1.
func defaultOutput() [numTypes]typeOutput {
	hw := fComm | fTid | fCPU | fTime | fEvname | fIP | fSym | fSymOff | fDSO | fPeriod
	var o [numTypes]typeOutput
	o[typeHW] = typeOutput{fields: hw, invalid: fTrace | fBPFOutput}
	o[typeSW] = typeOutput{fields: hw | fBPFOutput, invalid: fTrace}
	o[typeTrace] = typeOutput{fields: fComm | fTid | fCPU | fTime | fEvname | fTrace}
	o[typeHWCache] = typeOutput{fields: hw, invalid: fTrace | fBPFOutput}
	o[typeRaw] = typeOutput{fields: hw | fAddr | fDataSrc | fWeight | fPhysAddr | fDataPageSize | fCodePageSize | fInsLat | fRetireLat, invalid: fTrace | fBPFOutput}
	o[typeBreak] = typeOutput{fields: hw, invalid: fTrace | fBPFOutput}
	o[typeSynth] = typeOutput{fields: fComm | fTid | fCPU | fTime | fEvname | fIP | fSym | fDSO | fSynth, invalid: fTrace | fBPFOutput}
	o[typeOther] = o[typeRaw]
	return o
}

// UsageError is a command-line problem; perf prints its message and the
// usage and exits with 129.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// parseFields applies one -F argument as perf's parse_output_fields.
// Warnings go to warn.
func parseFields(o *[numTypes]typeOutput, arg string, printFlags *bool, warn func(string)) error {
	typ := -1
	tok := arg
	if i := strings.IndexByte(arg, ':'); i >= 0 {
		switch arg[:i] {
		case "hw":
			typ = typeHW
		case "sw":
			typ = typeSW
		case "trace":
			typ = typeTrace
		case "raw":
			typ = typeRaw
		case "break":
			typ = typeBreak
		case "synth":
			typ = typeSynth
		default:
			return &UsageError{"Invalid event type in field string."}
		}
		tok = arg[i+1:]
		if o[typ].userSet {
			warn(fmt.Sprintf("Overriding previous field request for %s events.", typeNames[typ]))
		}
		if !strings.ContainsAny(tok, "+-") {
			o[typ].fields = 0
			o[typ].userSet = true
			o[typ].wildcardSet = false
		}
	} else {
		if arg == "" {
			return &UsageError{"Cannot set fields to 'none' for all event types."}
		}
		if !strings.ContainsAny(arg, "+-") {
			for j := range o {
				if o[j].userSet {
					warn("Overriding previous field request for all events.")
					break
				}
			}
			for j := range o {
				o[j].fields = 0
				o[j].userSet = true
				o[j].wildcardSet = true
			}
		}
	}
	const (
		chDefault = iota
		chSet
		chAdd
		chRemove
	)
	change := chDefault
	for _, t := range strings.Split(tok, ",") {
		if t == "" {
			continue
		}
		switch t[0] {
		case '+':
			if change == chSet {
				return &UsageError{"Cannot mix +-field with overridden fields"}
			}
			change = chAdd
			t = t[1:]
		case '-':
			if change == chSet {
				return &UsageError{"Cannot mix +-field with overridden fields"}
			}
			change = chRemove
			t = t[1:]
		default:
			if change != chSet && change != chDefault {
				return &UsageError{"Cannot mix +-field with overridden fields"}
			}
			change = chSet
		}
		var f field
		for _, fn := range fieldNames {
			if fn.name == t {
				f = fn.f
				break
			}
		}
		if f == 0 && t == "flags" {
			*printFlags = change != chRemove
			continue
		}
		if f == 0 {
			return &UsageError{"Invalid field requested."}
		}
		if typ == -1 {
			for j := range o {
				if o[j].invalid&f != 0 {
					warn(fmt.Sprintf("'%s' not valid for %s events. Ignoring.", t, typeNames[j]))
					continue
				}
				if change == chRemove {
					o[j].fields &^= f
					o[j].userSetFields &^= f
					o[j].userUnset |= f
				} else {
					o[j].fields |= f
					o[j].userSetFields |= f
					o[j].userUnset &^= f
				}
				o[j].userSet = true
				o[j].wildcardSet = true
			}
		} else {
			if o[typ].invalid&f != 0 {
				return &UsageError{fmt.Sprintf("'%s' not valid for %s events.", t, typeNames[typ])}
			}
			if change == chRemove {
				o[typ].fields &^= f
				o[typ].userSetFields &^= f
				o[typ].userUnset |= f
			} else {
				o[typ].fields |= f
				o[typ].userSetFields |= f
				o[typ].userUnset &^= f
			}
			o[typ].userSet = true
			o[typ].wildcardSet = true
		}
	}
	return nil
}
