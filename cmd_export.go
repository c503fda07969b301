package main

import "github.com/urfave/cli/v2"

// exportFlags are the `gperf script` options that write another format
// instead of perf script's text (pprof, folded stacks, JSON, flame graphs).
// They live in this file so that the export work and the text output can
// evolve independently.
func exportFlags() []cli.Flag {
	return nil
}

// runExport handles the export options; handled is false when none was
// given and `gperf script` should print its text output.
func runExport(c *cli.Context) (handled bool, err error) {
	return false, nil
}
