package tracefs

import (
	"errors"
	"os"
	"strings"
)

// errorLogEntries reads tracefs error_log and splits it into entries. Each
// entry starts with a "[seconds.micros] " line (kernel/trace/trace.c,
// tracing_err_log_seq_show) followed by "  Command: ..." and the caret
// line. Missing or unreadable error_log gives nil.
func (fs *FS) errorLogEntries() []string {
	b, err := os.ReadFile(fs.path("error_log"))
	if err != nil {
		return nil
	}
	var entries []string
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			entries = append(entries, strings.Join(cur, "\n"))
			cur = nil
		}
	}
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		if strings.HasPrefix(l, "[") {
			flush()
		}
		if l != "" || len(cur) > 0 {
			cur = append(cur, l)
		}
	}
	flush()
	return entries
}

// newLogEntry returns the error_log entry our failed write of def added:
// among the entries not present before the write, the last whose Command
// line is def (the kernel logs the definition's words joined by single
// spaces, trace_probe.c: trace_probe_log_err). Comparing with the entries
// before (whose timestamps make them unique) rather than clearing error_log
// keeps other users' entries and never picks up theirs. Writes the kernel
// refuses without a log entry (EBUSY, ENOENT on removal) give "".
func newLogEntry(before, after []string, def string) string {
	seen := make(map[string]bool, len(before))
	for _, e := range before {
		seen[e] = true
	}
	want := strings.Join(strings.Fields(def), " ")
	for i := len(after) - 1; i >= 0; i-- {
		if !seen[after[i]] && logCommand(after[i]) == want {
			return after[i]
		}
	}
	return ""
}

func logCommand(entry string) string {
	for _, l := range strings.Split(entry, "\n") {
		if c, ok := strings.CutPrefix(strings.TrimLeft(l, " "), "Command: "); ok {
			return strings.Join(strings.Fields(c), " ")
		}
	}
	return ""
}

// logReason extracts "Unknown type is specified" from
// "[  356.475003] trace_uprobe: error: Unknown type is specified".
func logReason(entry string) string {
	first, _, _ := strings.Cut(entry, "\n")
	if _, r, ok := strings.Cut(first, "error: "); ok {
		return strings.TrimSpace(r)
	}
	if i := strings.Index(first, "] "); i >= 0 {
		return strings.TrimSpace(first[i+2:])
	}
	return strings.TrimSpace(first)
}

// errnoOf digs the errno out of an *os.PathError from a write.
func errnoOf(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
