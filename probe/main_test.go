package probe_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/gperf-dev/gperf/internal/testutil"
)

func TestMain(m *testing.M) { testutil.Main(m) }

// gperf returns the gperf binary built from this tree (testutil.Gperf),
// so the tests exercise the command line users type.
func gperf(t testing.TB) string {
	t.Helper()
	return testutil.Gperf(t)
}

// both runs `perf probe ARGS` and `gperf probe ARGS` in dir.
func both(t *testing.T, dir string, args ...string) (perf, gp testutil.Result) {
	t.Helper()
	perf = testutil.RunPerf(t, dir, append([]string{"probe"}, args...)...)
	gp = testutil.Run(t, dir, gperf(t), append([]string{"probe"}, args...)...)
	return perf, gp
}

// sameResult compares everything two runs printed and their exit status.
func sameResult(t *testing.T, what string, perf, gp testutil.Result) {
	t.Helper()
	testutil.Same(t, what+" (stdout)", "perf", perf.Stdout, "gperf", gp.Stdout)
	testutil.Same(t, what+" (stderr)", "perf", perf.Stderr, "gperf", gp.Stderr)
	if perf.Code != gp.Code {
		t.Errorf("%s: perf exits %d, gperf %d", what, perf.Code, gp.Code)
	}
}

var writingRE = regexp.MustCompile(`(?m)^Writing event: .*$`)

// writing returns the "Writing event:" lines of a -v run.
func writing(s string) string {
	return strings.Join(writingRE.FindAllString(s, -1), "\n")
}

// uprobeEvents returns the lines of uprobe_events whose group is g.
func uprobeEvents(t *testing.T, g string) []string {
	t.Helper()
	b, err := os.ReadFile(testutil.TracingDir + "/uprobe_events")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, ":"+g+"/") {
			out = append(out, l)
		}
	}
	return out
}

// cleanupGroup removes a test's probe group when the test ends, whatever
// happened, with perf itself (the oracle's delete).
func cleanupGroup(t *testing.T, g string) {
	t.Cleanup(func() {
		if len(uprobeEvents(t, g)) > 0 {
			testutil.RunPerf(t, "", "probe", "-q", "-d", g+":*")
		}
	})
}
