package main

import "github.com/urfave/cli/v2"

func scriptCommand() *cli.Command {
	return &cli.Command{
		Name:      "script",
		Usage:     "read perf.data and display trace output",
		UsageText: "gperf script [<options>]",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "input", Aliases: []string{"i"}, Usage: "input file `name`", Value: "perf.data"},
			&cli.StringSliceFlag{Name: "fields", Aliases: []string{"F"}, Usage: "comma separated output fields prepend with 'type:'. +field to add and -field to remove `str`"},
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
		}, exportFlags()...),
		Action: func(c *cli.Context) error {
			if handled, err := runExport(c); handled {
				return err
			}
			return errNotImplemented("script")
		},
	}
}
