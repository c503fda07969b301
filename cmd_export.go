package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/gperf-dev/gperf/export"
)

// exportFlags are the `gperf script` options that write another format
// instead of perf script's text (pprof, folded stacks, JSON, flame graphs).
// They live in this file so that the export work and the text output can
// evolve independently.
func exportFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "pprof", Usage: "write a pprof profile.proto to `file` (for go tool pprof)"},
		&cli.BoolFlag{Name: "folded", Usage: "print folded stacks (comm;caller;...;callee count), the input of flamegraph.pl"},
		&cli.BoolFlag{Name: "json", Usage: "print one JSON object per sample (and per task/mmap event with --show-task-events/--show-mmap-events)"},
		&cli.StringFlag{Name: "flamegraph", Usage: "write an interactive flame graph SVG to `file`"},
		&cli.BoolFlag{Name: "off-cpu", Usage: "with --folded/--flamegraph: time off CPU from sched:sched_switch samples (record with -a -g -e sched:sched_switch)"},
		&cli.BoolFlag{Name: "period", Usage: "with --folded/--flamegraph: weigh stacks by sample period (ns for cpu-clock) instead of counting samples"},
		&cli.StringFlag{Name: "event", Usage: "export only this `event` (needed for --folded/--flamegraph when the file has several)"},
		&cli.BoolFlag{Name: "inline", Usage: "with --folded/--flamegraph/--pprof: add the functions inlined at each user frame (from DWARF) as frames"},
		&cli.IntFlag{Name: "width", Usage: "flame graph width in `pixels`", Value: 1200},
		&cli.StringFlag{Name: "title", Usage: "flame graph `title`"},
		&cli.Float64Flag{Name: "min-width", Usage: "flame graph: leave out frames narrower than `pixels`", Value: 0.1},
	}
}

// runExport handles the export options; handled is false when none was
// given and `gperf script` should print its text output.
func runExport(c *cli.Context) (handled bool, err error) {
	n := 0
	for _, f := range []string{"pprof", "folded", "json", "flamegraph"} {
		if c.IsSet(f) {
			n++
		}
	}
	if n == 0 {
		for _, f := range []string{"off-cpu", "period", "event", "inline", "width", "title", "min-width"} {
			if c.IsSet(f) {
				return true, fmt.Errorf("--%s needs one of --pprof, --folded, --json, --flamegraph", f)
			}
		}
		return false, nil
	}
	if n > 1 {
		return true, errors.New("choose one of --pprof, --folded, --json, --flamegraph")
	}
	stacks := c.IsSet("folded") || c.IsSet("flamegraph")
	for _, f := range []string{"off-cpu", "period"} {
		if c.IsSet(f) && !stacks {
			return true, fmt.Errorf("--%s works with --folded or --flamegraph", f)
		}
	}
	if c.IsSet("inline") && c.IsSet("json") {
		return true, errors.New("--inline works with --folded, --flamegraph or --pprof")
	}
	for _, f := range []string{"width", "title", "min-width"} {
		if c.IsSet(f) && !c.IsSet("flamegraph") {
			return true, fmt.Errorf("--%s works with --flamegraph", f)
		}
	}
	opts := export.Options{
		Input:      c.String("input"),
		Event:      c.String("event"),
		Pids:       c.String("pid"),
		Tids:       c.String("tid"),
		Comms:      c.String("comms"),
		CPUs:       c.String("cpu"),
		Kallsyms:   c.String("kallsyms"),
		Period:     c.Bool("period"),
		Inline:     c.Bool("inline"),
		OffCPU:     c.Bool("off-cpu"),
		TaskEvents: c.Bool("show-task-events"),
		MmapEvents: c.Bool("show-mmap-events"),
	}
	switch {
	case c.IsSet("folded"):
		return true, export.WriteFolded(c.App.Writer, opts)
	case c.IsSet("json"):
		return true, export.WriteJSON(c.App.Writer, opts)
	case c.IsSet("pprof"):
		return true, toFile(c, c.String("pprof"), func(w io.Writer) error { return export.WritePprof(w, opts) })
	default:
		fg := export.FlameGraphOptions{Title: c.String("title"), Width: c.Int("width"), MinWidth: c.Float64("min-width")}
		return true, toFile(c, c.String("flamegraph"), func(w io.Writer) error { return export.WriteFlameGraph(w, opts, fg) })
	}
}

// toFile runs write into the named file ("-": standard output), removing
// the file when writing fails.
func toFile(c *cli.Context, name string, write func(io.Writer) error) error {
	if name == "-" {
		return write(c.App.Writer)
	}
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		os.Remove(name)
		return err
	}
	return f.Close()
}
