package probe

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// Errno values perf returns for the failures gperf reproduces; the exit
// status of a failed command is the low byte of the negated errno, as
// perf's (ENOENT exits 254, EINVAL 234).
const (
	errInval  = unix.EINVAL
	errNoent  = unix.ENOENT
	errNotsup = unix.EOPNOTSUPP
	errRange  = unix.ERANGE
	errExist  = unix.EEXIST
	err2big   = unix.E2BIG
)

// SemanticError is a probe definition perf rejects while parsing it. Msg is
// perf's wording, printed after "Semantic error :".
type SemanticError struct {
	Msg   string
	Errno unix.Errno
	// Trace and After are perf's -v output around the error line: the
	// parse trace before it ("parsing arg: ... into "), the argument
	// count after it.
	Trace, After string
}

func semanticf(errno unix.Errno, format string, args ...any) *SemanticError {
	return &SemanticError{Msg: fmt.Sprintf(format, args...), Errno: errno}
}

func (e *SemanticError) Error() string {
	return "parse probe definition: " + lowerFirst(strings.TrimSuffix(e.Msg, "."))
}

// Unwrap lets errors.Is match the errno (unix.EINVAL ...).
func (e *SemanticError) Unwrap() error { return e.Errno }

// Error is a failed probe command as perf reports it: Warning lines (perf's
// pr_warning, e.g. "Probe point 'nosuch' not found.", silenced by -q),
// Detail lines (pr_err, always shown), then the summary perf prints as
// "  Error: <Summary>" ("Failed to add events."), with the errno perf
// returns. Err is the underlying cause, when there is one beyond the errno.
type Error struct {
	Warning string // zero or more lines, each ending in '\n'
	Detail  string // zero or more lines, each ending in '\n'
	Summary string
	Errno   unix.Errno
	Err     error
	// Status, when not 0, is the exit status instead of the errno's
	// (perf exits 129 after printing its usage).
	Status int
}

func (e *Error) Error() string {
	msg := lowerFirst(strings.TrimSuffix(e.Summary, "."))
	d := strings.TrimSpace(e.Warning + e.Detail)
	if i := strings.IndexByte(d, '\n'); i >= 0 {
		d = d[:i]
	}
	switch {
	case d != "":
		msg += ": " + lowerFirst(strings.TrimSuffix(d, "."))
	case e.Err != nil:
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the cause and the errno, so errors.Is works with both.
func (e *Error) Unwrap() []error {
	var errs []error
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	if e.Errno != 0 {
		errs = append(errs, e.Errno)
	}
	return errs
}

// Report formats err as perf prints a failed `perf probe` on stderr, and
// returns the exit status perf would have. With verbose > 0 the reason and
// errno are appended to the summary line as perf -v does; with verbose < 0
// (-q) nothing is printed, as perf -q. Errors that are not from this package are
// printed as "  Error: <err>" and exit 1.
func Report(err error, verbose int) (text string, status int) {
	text, status = report(err, verbose)
	if verbose < 0 {
		// perf -q prints nothing, errors included.
		text = ""
	}
	return text, status
}

func report(err error, verbose int) (text string, status int) {
	var b strings.Builder
	var se *SemanticError
	var pe *Error
	switch {
	case errors.As(err, &pe):
		if verbose >= 0 {
			b.WriteString(pe.Warning)
		}
		b.WriteString(pe.Detail)
		errno := pe.Errno
		if errno == 0 {
			errno = errInval
		}
		if pe.Summary == "" {
			if pe.Status != 0 {
				return b.String(), pe.Status
			}
			return b.String(), exitStatus(errno)
		}
		b.WriteString("  Error: " + pe.Summary)
		if verbose > 0 {
			fmt.Fprintf(&b, " Reason: %s (Code: %d)", strerror(errno), -int(errno))
		}
		b.WriteByte('\n')
		if pe.Errno == 0 && pe.Err != nil && pe.Detail == "" && pe.Warning == "" {
			// A cause perf has no wording for: say what it was.
			b.WriteString("  " + pe.Err.Error() + "\n")
		}
		return b.String(), exitStatus(errno)
	case errors.As(err, &se):
		if verbose > 0 {
			b.WriteString(se.Trace)
		}
		b.WriteString("Semantic error :" + se.Msg + "\n")
		if verbose > 0 {
			b.WriteString(se.After)
		}
		b.WriteString("  Error: Command Parse Error.")
		if verbose > 0 {
			fmt.Fprintf(&b, " Reason: %s (Code: %d)", strerror(se.Errno), -int(se.Errno))
		}
		b.WriteByte('\n')
		return b.String(), exitStatus(se.Errno)
	}
	return "  Error: " + err.Error() + "\n", 1
}

func exitStatus(errno unix.Errno) int {
	if errno == 0 {
		return 1
	}
	return int(uint8(-int(errno)))
}

// strerror spells an errno as glibc's strerror does (Go's unix.Errno
// strings are lowercase).
func strerror(e unix.Errno) string {
	s := e.Error()
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	// Keep acronyms and identifiers ("ELF", "DWARF", "SRC@SRC") as they are.
	if len(s) > 1 && s[1] >= 'A' && s[1] <= 'Z' {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
