// Command gperf does what Linux `perf probe`, `perf record` and `perf script`
// do, as one static binary: it resolves DWARF into kprobe/uprobe definitions,
// records perf_event ring buffers into a perf.data that real perf reads, and
// prints samples byte-for-byte as `perf script` does.
//
// This file and the cmd_*.go files only parse flags and print; the work is
// done by the packages probe, record and script.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"
)

// version is set at link time with -ldflags "-X main.version=...".
var version = "dev"

// exitError carries an exit status without printing anything more; it is
// how `gperf record -- cmd` exits with the workload's status.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func newApp() *cli.App {
	return &cli.App{
		Name:                   "gperf",
		Usage:                  "probe, record and script Linux trace events, perf-compatible",
		Version:                version,
		HideVersion:            true,
		UseShortOptionHandling: true,
		Commands: []*cli.Command{
			probeCommand(),
			recordCommand(),
			scriptCommand(),
			versionCommand(),
		},
		// Errors are printed once, by main, in perf's style.
		ExitErrHandler: func(*cli.Context, error) {},
	}
}

func main() {
	app := newApp()
	err := app.Run(preprocessArgs(os.Args))
	if err == nil {
		return
	}
	var ee exitError
	if errors.As(err, &ee) {
		os.Exit(ee.code)
	}
	fmt.Fprintf(os.Stderr, "Error: %v\n", err)
	os.Exit(1)
}

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print gperf's version",
		Action: func(c *cli.Context) error {
			fmt.Fprintf(c.App.Writer, "gperf version %s\n", version)
			return nil
		},
	}
}

// errNotImplemented is what a subcommand returns until its package lands.
func errNotImplemented(what string) error {
	return fmt.Errorf("gperf %s: not implemented yet", what)
}
