package perfdata

import (
	"bytes"
	"encoding/binary"
	"strconv"
)

// tracingMagic starts tracing data: "\027\010\104tracing".
var tracingMagic = []byte("\x17\x08\x44tracing")

// TracingData is the HEADER_TRACING_DATA feature (or the payload of a
// PERF_RECORD_HEADER_TRACING_DATA in pipe mode): tracefs format files and
// kernel tables captured at record time, in the layout of perf's
// tools/perf/util/trace-event-info.c (writer) and trace-event-read.c
// (reader). Every text is kept byte-exact; parsing format files is
// tracefs.ParseFormat's job.
type TracingData struct {
	Version   string // "0.6" from perf 6.1
	BigEndian bool   // byte order of the numbers below and of the sampled data
	LongSize  uint8
	PageSize  uint32
	// HeaderPage and HeaderEvent are events/header_page and
	// events/header_event.
	HeaderPage  []byte
	HeaderEvent []byte
	// FtraceFormats are the events/ftrace/*/format files perf includes.
	FtraceFormats [][]byte
	// Systems hold the format files of the recorded tracepoint events,
	// grouped by event system.
	Systems []TraceSystem
	// Kallsyms is /proc/kallsyms as captured (often empty).
	Kallsyms []byte
	// PrintkFormats is printk_formats as captured.
	PrintkFormats []byte
	// SavedCmdlines is saved_cmdlines (version 0.6 and later).
	SavedCmdlines []byte
	// Trailing holds any bytes after the last part (kept for round trips).
	Trailing []byte
}

// TraceSystem is one event system's formats in TracingData.
type TraceSystem struct {
	Name    string
	Formats [][]byte
}

// TraceEventFormat names one format text of TracingData.
type TraceEventFormat struct {
	System, Name string
	ID           uint64 // from the "ID: n" line, 0 if absent
	Text         []byte
}

// Events lists every event format (ftrace ones under system "ftrace"),
// with the name and ID read from their "name:" and "ID:" lines.
func (t *TracingData) Events() []TraceEventFormat {
	var l []TraceEventFormat
	add := func(sys string, text []byte) {
		ev := TraceEventFormat{System: sys, Text: text}
		for _, line := range bytes.Split(text, []byte("\n")) {
			if v, ok := bytes.CutPrefix(line, []byte("name: ")); ok {
				ev.Name = string(bytes.TrimSpace(v))
			} else if v, ok := bytes.CutPrefix(line, []byte("ID: ")); ok {
				ev.ID, _ = strconv.ParseUint(string(bytes.TrimSpace(v)), 10, 64)
			}
			if ev.Name != "" && ev.ID != 0 {
				break
			}
		}
		l = append(l, ev)
	}
	for _, f := range t.FtraceFormats {
		add("ftrace", f)
	}
	for _, s := range t.Systems {
		for _, f := range s.Formats {
			add(s.Name, f)
		}
	}
	return l
}

// FormatByID returns the format of the tracepoint event with that ID
// (perf_event_attr.config of a tracepoint attr).
func (t *TracingData) FormatByID(id uint64) (TraceEventFormat, bool) {
	for _, ev := range t.Events() {
		if ev.ID == id {
			return ev, true
		}
	}
	return TraceEventFormat{}, false
}

// tdecoder reads tracing data, whose numbers follow its own endianness.
type tdecoder struct {
	*decoder
	big bool
}

func (d tdecoder) n32() uint32 {
	b := d.bytes(4)
	if b == nil {
		return 0
	}
	if d.big {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (d tdecoder) n64() uint64 {
	b := d.bytes(8)
	if b == nil {
		return 0
	}
	if d.big {
		return binary.BigEndian.Uint64(b)
	}
	return binary.LittleEndian.Uint64(b)
}

// blob reads a size (u32 or u64) then that many bytes, copied.
func (d tdecoder) blob(size uint64, what string) []byte {
	if size > uint64(d.left()) {
		d.fail("%s size %d exceeds the %d bytes left", what, size, d.left())
		return nil
	}
	return append([]byte{}, d.bytes(int(size))...)
}

func (d tdecoder) cstring(what string) string {
	i := bytes.IndexByte(d.data[d.off:], 0)
	if i < 0 {
		d.fail("%s: unterminated string", what)
		return ""
	}
	s := string(d.data[d.off : d.off+i])
	d.off += i + 1
	return s
}

// ParseTracingData decodes tracing data. Errors are *FormatError with
// Section "tracing data" and offsets relative to b.
func ParseTracingData(b []byte) (*TracingData, error) {
	d := tdecoder{decoder: newDecoder("tracing data", 0, b, false)}
	t := &TracingData{}
	if m := d.bytes(len(tracingMagic)); d.err == nil && !bytes.Equal(m, tracingMagic) {
		d.off = 0
		d.fail("bad magic %q", m)
		return nil, d.err
	}
	t.Version = d.cstring("version")
	t.BigEndian = d.u8() != 0
	d.big = t.BigEndian
	t.LongSize = d.u8()
	t.PageSize = d.n32()
	if d.err != nil {
		return nil, d.err
	}
	if s := d.bytes(12); d.err == nil && string(s) != "header_page\x00" {
		d.off -= 12
		d.fail("expected header_page")
		return nil, d.err
	}
	t.HeaderPage = d.blob(d.n64(), "header_page")
	if s := d.bytes(13); d.err == nil && string(s) != "header_event\x00" {
		d.off -= 13
		d.fail("expected header_event")
		return nil, d.err
	}
	t.HeaderEvent = d.blob(d.n64(), "header_event")
	n := d.checkCount(uint64(d.n32()), 8, "ftrace formats")
	for i := 0; i < n && d.err == nil; i++ {
		t.FtraceFormats = append(t.FtraceFormats, d.blob(d.n64(), "ftrace format"))
	}
	ns := d.checkCount(uint64(d.n32()), 5, "event systems")
	for i := 0; i < ns && d.err == nil; i++ {
		s := TraceSystem{Name: d.cstring("system name")}
		nf := d.checkCount(uint64(d.n32()), 8, "event formats")
		for j := 0; j < nf && d.err == nil; j++ {
			s.Formats = append(s.Formats, d.blob(d.n64(), "event format"))
		}
		t.Systems = append(t.Systems, s)
	}
	t.Kallsyms = d.blob(uint64(d.n32()), "kallsyms")
	t.PrintkFormats = d.blob(uint64(d.n32()), "printk formats")
	if v, err := strconv.ParseFloat(t.Version, 64); err == nil && v >= 0.6 && d.err == nil {
		t.SavedCmdlines = d.blob(d.n64(), "saved cmdlines")
	}
	if d.err != nil {
		return nil, d.err
	}
	if d.left() > 0 {
		t.Trailing = append([]byte{}, d.rest()...)
	}
	return t, nil
}

// Size returns the number of bytes Encode writes without Trailing (what
// perf's trace_report reads).
func (t *TracingData) Size() int {
	b := t.Encode()
	return len(b) - len(t.Trailing)
}

// Encode returns the tracing data in perf's layout.
func (t *TracingData) Encode() []byte {
	var e encoder
	var order binary.AppendByteOrder = binary.LittleEndian
	if t.BigEndian {
		order = binary.BigEndian
	}
	n32 := func(v uint32) { e.b = order.AppendUint32(e.b, v) }
	n64 := func(v uint64) { e.b = order.AppendUint64(e.b, v) }
	e.bytes(tracingMagic)
	e.bytes([]byte(t.Version))
	e.u8(0)
	if t.BigEndian {
		e.u8(1)
	} else {
		e.u8(0)
	}
	e.u8(t.LongSize)
	n32(t.PageSize)
	e.bytes([]byte("header_page\x00"))
	n64(uint64(len(t.HeaderPage)))
	e.bytes(t.HeaderPage)
	e.bytes([]byte("header_event\x00"))
	n64(uint64(len(t.HeaderEvent)))
	e.bytes(t.HeaderEvent)
	n32(uint32(len(t.FtraceFormats)))
	for _, f := range t.FtraceFormats {
		n64(uint64(len(f)))
		e.bytes(f)
	}
	n32(uint32(len(t.Systems)))
	for _, s := range t.Systems {
		e.bytes([]byte(s.Name))
		e.u8(0)
		n32(uint32(len(s.Formats)))
		for _, f := range s.Formats {
			n64(uint64(len(f)))
			e.bytes(f)
		}
	}
	n32(uint32(len(t.Kallsyms)))
	e.bytes(t.Kallsyms)
	n32(uint32(len(t.PrintkFormats)))
	e.bytes(t.PrintkFormats)
	if v, err := strconv.ParseFloat(t.Version, 64); err == nil && v >= 0.6 {
		n64(uint64(len(t.SavedCmdlines)))
		e.bytes(t.SavedCmdlines)
	}
	e.bytes(t.Trailing)
	return e.b
}
