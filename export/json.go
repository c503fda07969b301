package export

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/gperf-dev/gperf/perfdata"
)

// WriteJSON writes one JSON object per line for each sample (and, with
// TaskEvents or MmapEvents, for each comm/fork/exit or mmap record), in
// time order. The schema is in docs/export.md; addresses are hex strings
// (they do not fit a double), other numbers are JSON numbers, tracepoint
// and probe fields keep their types.
func WriteJSON(w io.Writer, opts Options) error {
	s, err := openSession(opts)
	if err != nil {
		return err
	}
	defer s.close()
	bw := bufio.NewWriterSize(w, 256<<10)
	var b []byte
	var frames []Frame
	var fields []FieldValue
	h := handlers{sample: func(c *sampleCtx) error {
		r := c.s
		st := r.Attr.SampleType
		b = append(b[:0], `{"type":"sample","event":`...)
		b = appendString(b, c.ev.name)
		b = append(b, `,"comm":`...)
		b = appendString(b, c.comm)
		b = appendNum(b, "pid", int64(int32(r.Pid)))
		b = appendNum(b, "tid", int64(int32(r.Tid)))
		if st&perfdata.SampleCPU != 0 {
			b = appendNum(b, "cpu", int64(r.CPU))
		}
		if st&perfdata.SampleTime != 0 {
			b = append(b, `,"time":`...)
			b = strconv.AppendUint(b, r.Time, 10)
		}
		b = append(b, `,"period":`...)
		b = strconv.AppendUint(b, period(r), 10)
		if st&perfdata.SampleIP != 0 {
			ip := s.resolveIP(r)
			b = appendFrame(b, &ip)
		}
		if st&perfdata.SampleCallchain != 0 {
			frames = s.stack(r, frames)
			b = append(b, `,"callchain":[`...)
			for i := range frames {
				if i > 0 {
					b = append(b, ',')
				}
				b = append(b, '{')
				b = appendFrame(b, &frames[i])
				b = append(b, '}')
			}
			b = append(b, ']')
		}
		if c.ev.format != nil {
			fields = decodeFields(c.ev.format, r.Raw, s.order, fields)
			b = append(b, `,"fields":{`...)
			for i := range fields {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendField(b, &fields[i])
			}
			b = append(b, '}')
		}
		b = append(b, "}\n"...)
		_, err := bw.Write(b)
		return err
	}}
	if opts.TaskEvents || opts.MmapEvents {
		h.other = func(rec perfdata.Record) error {
			b = b[:0]
			sid := rec.Common().SampleID
			switch r := rec.(type) {
			case *perfdata.Comm:
				if !opts.TaskEvents || !s.keepTask(r.Pid, r.Tid) {
					return nil
				}
				b = append(b, `{"type":"comm","comm":`...)
				b = appendString(b, r.Comm)
				b = appendNum(b, "pid", int64(int32(r.Pid)))
				b = appendNum(b, "tid", int64(int32(r.Tid)))
				b = append(b, `,"exec":`...)
				b = strconv.AppendBool(b, r.Misc&perfdata.MiscCommExec != 0)
				b = appendTime(b, rec, sid.Time)
			case *perfdata.Fork:
				if !opts.TaskEvents || !s.keepTask(r.Pid, r.Tid) {
					return nil
				}
				b = append(b, `{"type":"fork"`...)
				b = appendTask(b, r.Pid, r.PPid, r.Tid, r.PTid)
				b = append(b, `,"time":`...)
				b = strconv.AppendUint(b, r.Time, 10)
			case *perfdata.Exit:
				if !opts.TaskEvents || !s.keepTask(r.Pid, r.Tid) {
					return nil
				}
				b = append(b, `{"type":"exit"`...)
				b = appendTask(b, r.Pid, r.PPid, r.Tid, r.PTid)
				b = append(b, `,"time":`...)
				b = strconv.AppendUint(b, r.Time, 10)
			case *perfdata.Mmap:
				if !opts.MmapEvents || !s.keepTask(r.Pid, r.Tid) {
					return nil
				}
				b = appendMmap(b, r.Pid, r.Tid, r.Addr, r.Len, r.Pgoff, r.Filename, nil)
				b = appendTime(b, rec, sid.Time)
			case *perfdata.Mmap2:
				if !opts.MmapEvents || !s.keepTask(r.Pid, r.Tid) {
					return nil
				}
				var id []byte
				if r.Misc&perfdata.MiscMmapBuildID != 0 {
					id = r.BuildID
				}
				b = appendMmap(b, r.Pid, r.Tid, r.Addr, r.Len, r.Pgoff, r.Filename, id)
				b = append(b, `,"prot":`...)
				b = strconv.AppendUint(b, uint64(r.Prot), 10)
				b = appendTime(b, rec, sid.Time)
			default:
				return nil
			}
			b = append(b, "}\n"...)
			_, err := bw.Write(b)
			return err
		}
	}
	if err := s.walk(h); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("export %s: write JSON: %w", opts.Input, err)
	}
	return nil
}

// keepTask applies the pid, tid and comm filters to a task record.
func (s *session) keepTask(pid, tid uint32) bool {
	if s.pids != nil && !s.pids[pid] || s.tids != nil && !s.tids[tid] {
		return false
	}
	return s.commSet == nil || s.commSet[s.comm(tid)]
}

func appendTime(b []byte, rec perfdata.Record, t uint64) []byte {
	a := rec.Common().Attr
	if a == nil || a.Flags&perfdata.AttrSampleIDAll == 0 || a.SampleType&perfdata.SampleTime == 0 {
		return b
	}
	b = append(b, `,"time":`...)
	return strconv.AppendUint(b, t, 10)
}

func appendTask(b []byte, pid, ppid, tid, ptid uint32) []byte {
	b = appendNum(b, "pid", int64(int32(pid)))
	b = appendNum(b, "ppid", int64(int32(ppid)))
	b = appendNum(b, "tid", int64(int32(tid)))
	return appendNum(b, "ptid", int64(int32(ptid)))
}

func appendMmap(b []byte, pid, tid uint32, addr, ln, pgoff uint64, file string, buildID []byte) []byte {
	b = append(b, `{"type":"mmap"`...)
	b = appendNum(b, "pid", int64(int32(pid)))
	b = appendNum(b, "tid", int64(int32(tid)))
	b = appendHex(b, "start", addr)
	b = appendHex(b, "len", ln)
	b = appendHex(b, "pgoff", pgoff)
	b = append(b, `,"file":`...)
	b = appendString(b, file)
	if len(buildID) > 0 {
		b = append(b, `,"build_id":"`...)
		b = hex.AppendEncode(b, buildID)
		b = append(b, '"')
	}
	return b
}

// appendFrame appends "ip", "sym", "symoff" (when the symbol is known)
// and "dso" members, each preceded by a comma except at an object's start.
func appendFrame(b []byte, f *Frame) []byte {
	first := len(b) > 0 && b[len(b)-1] == '{'
	if !first {
		b = append(b, ',')
	}
	b = append(b, `"ip":"0x`...)
	b = strconv.AppendUint(b, f.Addr, 16)
	b = append(b, '"')
	if f.Sym != "" {
		b = append(b, `,"sym":`...)
		b = appendString(b, f.Sym)
		b = appendHex(b, "symoff", f.SymOff)
	}
	b = append(b, `,"dso":`...)
	return appendString(b, f.DSO)
}

func appendField(b []byte, f *FieldValue) []byte {
	b = appendString(b, f.Name)
	b = append(b, ':')
	switch f.Kind {
	case FieldInt:
		if f.Signed {
			return strconv.AppendInt(b, f.Int, 10)
		}
		return strconv.AppendUint(b, f.Uint, 10)
	case FieldString:
		return appendString(b, f.Str)
	case FieldArray:
		b = append(b, '[')
		n := len(f.Uints)
		if f.Signed {
			n = len(f.Ints)
		}
		for i := 0; i < n; i++ {
			if i > 0 {
				b = append(b, ',')
			}
			if f.Signed {
				b = strconv.AppendInt(b, f.Ints[i], 10)
			} else {
				b = strconv.AppendUint(b, f.Uints[i], 10)
			}
		}
		return append(b, ']')
	}
	b = append(b, '"')
	b = hex.AppendEncode(b, []byte(f.Str))
	return append(b, '"')
}

func appendNum(b []byte, name string, v int64) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return strconv.AppendInt(b, v, 10)
}

func appendHex(b []byte, name string, v uint64) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, `":"0x`...)
	b = strconv.AppendUint(b, v, 16)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\t':
				b = append(b, '\\', 't')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, "\ufffd"...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
