package probe_test

import (
	"io"
	"strings"
	"testing"

	"github.com/gperf-dev/gperf/internal/testutil"
	"github.com/gperf-dev/gperf/probe"
)

// TestListModuleByNameMatchesPerf: -L, -V and --funcs with -m NAME look
// the module up among the loaded ones, as adding a probe does; a module
// that is not loaded fails with perf's words and status.
func TestListModuleByNameMatchesPerf(t *testing.T) {
	testutil.Requires(t, testutil.Perf)
	const mod = "gperftest_no_such_module"
	opts := probe.ListOptions{Module: true}
	for _, c := range []struct {
		args []string
		run  func() error
	}{
		{[]string{"-L", "ldlm_res_hash_dump"}, func() error { return probe.ShowLines(io.Discard, mod, "ldlm_res_hash_dump", opts) }},
		{[]string{"-V", "ldlm_res_hash_dump:9"}, func() error { return probe.ShowVars(io.Discard, mod, "ldlm_res_hash_dump:9", opts) }},
		{[]string{"--funcs"}, func() error { return probe.ShowFuncs(io.Discard, mod, opts) }},
	} {
		pr := testutil.RunPerf(t, t.TempDir(), append([]string{"probe", "-m", mod}, c.args...)...)
		err := c.run()
		if err == nil {
			t.Errorf("%v: gperf succeeds, perf: %s", c.args, pr.Stderr)
			continue
		}
		text, status := probe.Report(err, 0)
		testutil.Same(t, strings.Join(c.args, " ")+" (stderr)", "perf", pr.Stderr, "gperf", text)
		if status != pr.Code {
			t.Errorf("%v: perf exits %d, gperf %d", c.args, pr.Code, status)
		}
	}
}
