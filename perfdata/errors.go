package perfdata

import (
	"errors"
	"fmt"
)

// FormatError reports malformed perf.data input: which part of the file
// (Section: "file header", "attrs", "data", "feature HOSTNAME", ...) and the
// absolute byte offset at which decoding failed.
type FormatError struct {
	Section string
	Offset  int64
	Msg     string
	Err     error // underlying cause, if any (e.g. io.ErrUnexpectedEOF)
}

func (e *FormatError) Error() string {
	s := fmt.Sprintf("perf.data: %s at offset %#x: %s", e.Section, e.Offset, e.Msg)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *FormatError) Unwrap() error { return e.Err }

// ErrTruncated is wrapped by FormatErrors caused by input that ends inside
// a structure (a file cut short, e.g. by an interrupted perf record).
var ErrTruncated = errors.New("truncated input")

// ErrClosed is returned by operations on a closed Writer or File.
var ErrClosed = errors.New("perf.data: file already closed")

// maxAlloc bounds any single allocation driven by a size read from a file
// (1 GiB); larger claims are format errors, not out-of-memory crashes.
const maxAlloc = 1 << 30

// maxRecordSize is the largest record perf can represent (u16 size).
const maxRecordSize = 1<<16 - 1
