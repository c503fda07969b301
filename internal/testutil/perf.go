package testutil

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// PerfPath is the oracle: Debian's perf 6.1 at /usr/bin/perf, or
// $GPERF_TEST_PERF.
func PerfPath() string {
	if p := os.Getenv("GPERF_TEST_PERF"); p != "" {
		return p
	}
	return "/usr/bin/perf"
}

// Result is what a command printed and how it exited.
type Result struct {
	Stdout, Stderr string
	Code           int
}

// Run runs a command and returns its output; a failure to start it fails
// the test, a non-zero exit does not (Code says it).
func Run(tb testing.TB, dir string, name string, args ...string) Result {
	tb.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	r := Result{Stdout: o.String(), Stderr: e.String()}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			tb.Fatalf("run %s %s: %v", name, strings.Join(args, " "), err)
		}
		r.Code = ee.ExitCode()
	}
	return r
}

// RunPerf runs the oracle perf with args in dir.
func RunPerf(tb testing.TB, dir string, args ...string) Result {
	tb.Helper()
	Requires(tb, Perf)
	return Run(tb, dir, PerfPath(), args...)
}
