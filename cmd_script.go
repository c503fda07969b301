package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/gperf-dev/gperf/script"
)

func scriptCommand() *cli.Command {
	return &cli.Command{
		Name:      "script",
		Usage:     "read perf.data and display trace output",
		UsageText: "gperf script [<options>]",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "input", Aliases: []string{"i"}, Usage: "input file `name` (default: perf.data, or stdin when it is a pipe)"},
			&cli.GenericFlag{Name: "fields", Aliases: []string{"F"}, Value: &fieldArgs{}, Usage: "comma separated output fields prepend with 'type:'. +field to add and -field to remove `str`"},
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "don't complain, do it"},
			&cli.BoolFlag{Name: "hide-call-graph", Aliases: []string{"G"}, Usage: "when printing symbols do not display call chain"},
			&cli.StringFlag{Name: "cpu", Aliases: []string{"C"}, Usage: "list of cpus to profile `cpu`"},
			&cli.StringFlag{Name: "comms", Aliases: []string{"c"}, Usage: "only display events for these comms `comm[,comm...]`"},
			&cli.StringFlag{Name: "pid", Usage: "only show events for these process ids `pid[,pid...]`"},
			&cli.StringFlag{Name: "tid", Usage: "only show events for these thread ids `tid[,tid...]`"},
			&cli.BoolFlag{Name: "ns", Usage: "use 9 decimal places when displaying time"},
			&cli.BoolFlag{Name: "header", Usage: "show data header"},
			&cli.BoolFlag{Name: "header-only", Usage: "show only data header"},
			&cli.BoolFlag{Name: "show-task-events", Usage: "show the fork/comm/exit events"},
			&cli.BoolFlag{Name: "show-mmap-events", Usage: "show the mmap events"},
			&cli.StringFlag{Name: "kallsyms", Usage: "kallsyms `file`"},
			&cli.BoolFlag{Name: "reltime", Usage: "show time stamps relative to start"},
			&cli.BoolFlag{Name: "deltatime", Usage: "show time stamps relative to previous event"},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "be more verbose"},
			&cli.BoolFlag{Name: "no-inline", Usage: "do not show inlined frames (gperf shows none: accepted for perf compatibility)"},
		}, exportFlags()...),
		Action: func(c *cli.Context) error {
			if handled, err := runExport(c); handled {
				return err
			}
			err := script.Run(c.App.Writer, script.Options{
				Input:          c.String("input"),
				Fields:         c.Generic("fields").(*fieldArgs).list,
				Force:          c.Bool("force"),
				HideCallGraph:  c.Bool("hide-call-graph"),
				CPUs:           c.String("cpu"),
				Comms:          c.String("comms"),
				Pids:           c.String("pid"),
				Tids:           c.String("tid"),
				NS:             c.Bool("ns"),
				Header:         c.Bool("header"),
				HeaderOnly:     c.Bool("header-only"),
				ShowTaskEvents: c.Bool("show-task-events"),
				ShowMmapEvents: c.Bool("show-mmap-events"),
				Kallsyms:       c.String("kallsyms"),
				RelTime:        c.Bool("reltime"),
				DeltaTime:      c.Bool("deltatime"),
				Stderr:         c.App.ErrWriter,
			})
			var ee *script.ExitError
			if errors.As(err, &ee) {
				fmt.Fprintln(c.App.ErrWriter, ee.Msg)
				return exitError{ee.Code}
			}
			var ue *script.UsageError
			if errors.As(err, &ue) {
				fmt.Fprintf(c.App.ErrWriter, "%s\n\n Usage: gperf script [<options>]\n", ue.Msg)
				return exitError{129}
			}
			return err
		},
	}
}

// fieldArgs collects repeated -F options without splitting them at
// commas (each is one perf field string). urfave/cli copies a flag's
// value to its aliases with Set(String()), which must not add an entry.
type fieldArgs struct{ list []string }

func (f *fieldArgs) Set(v string) error {
	if f.list != nil && v == f.String() {
		return nil
	}
	f.list = append(f.list, v)
	return nil
}

func (f *fieldArgs) String() string { return strings.Join(f.list, "\x00") }
