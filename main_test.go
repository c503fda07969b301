package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/gperf-dev/gperf/internal/testutil"
	"github.com/urfave/cli/v2"
)

// TestFlagNamesArePerfs checks that every long and short option gperf's
// probe, record and script accept is spelled as perf 6.1 spells it in its
// own -h output, so muscle memory and scripts carry over. Options perf does
// not have are listed here explicitly (gperf extensions).
func TestFlagNamesArePerfs(t *testing.T) {
	extensions := map[string]bool{
		// script exports (docs/export.md), not in perf 6.1.
		"pprof": true, "folded": true, "json": true, "flamegraph": true,
		"off-cpu": true, "width": true, "title": true, "event": true,
		"min-width": true, "output": true, "o": true, "period": true,
		// perf spells these --no-inherit / --pid, --tid in record; --inherit is its negation.
		"inherit": true,
		// help is urfave/cli's.
		"help": true, "h": true,
	}
	app := newApp()
	for _, name := range []string{"probe", "record", "script"} {
		cmd := findCommand(app, name)
		if cmd == nil {
			t.Fatalf("no %s command", name)
		}
		r := testutil.RunPerf(t, "", name, "-h")
		help := r.Stdout + r.Stderr
		long := map[string]bool{}
		for _, m := range regexp.MustCompile(`--([a-zA-Z0-9-]+)`).FindAllStringSubmatch(help, -1) {
			long[m[1]] = true
		}
		short := map[string]bool{}
		for _, m := range regexp.MustCompile(`(?m)^\s+-([a-zA-Z]),`).FindAllStringSubmatch(help, -1) {
			short[m[1]] = true
		}
		short["g"] = strings.Contains(help, "    -g ") || short["g"]
		for _, f := range cmd.Flags {
			for _, n := range f.Names() {
				if extensions[n] {
					continue
				}
				if len(n) == 1 && !short[n] {
					t.Errorf("gperf %s -%s: perf %s has no such short option", name, n, name)
				}
				// perf's parse-options accepts --no-X for every boolean --X.
				if len(n) > 1 && !long[n] && !long[strings.TrimPrefix(n, "no-")] {
					t.Errorf("gperf %s --%s: perf %s has no such long option", name, n, name)
				}
			}
		}
	}
}

func findCommand(app *cli.App, name string) *cli.Command {
	for _, c := range app.Commands {
		if c.Name == name {
			return c
		}
	}
	return nil
}
