package main

import "github.com/urfave/cli/v2"

func recordCommand() *cli.Command {
	return &cli.Command{
		Name:      "record",
		Usage:     "run a command and record its profile into perf.data",
		UsageText: "gperf record [<options>] [<command>]\n   gperf record [<options>] -- <command> [<options>]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all-cpus", Aliases: []string{"a"}, Usage: "system-wide collection from all CPUs"},
			&cli.Uint64Flag{Name: "count", Aliases: []string{"c"}, Usage: "event period to sample `n`"},
			&cli.StringFlag{Name: "cpu", Aliases: []string{"C"}, Usage: "list of cpus to monitor `cpu`"},
			&cli.StringSliceFlag{Name: "event", Aliases: []string{"e"}, Usage: "event selector `event`"},
			&cli.StringFlag{Name: "freq", Aliases: []string{"F"}, Usage: "profile at this frequency `freq or 'max'`"},
			&cli.BoolFlag{Name: "g", Usage: "enables call-graph recording"},
			&cli.StringFlag{Name: "call-graph", Usage: "setup and enables call-graph (stack chain/backtrace) `record_mode[,record_size]`"},
			&cli.BoolFlag{Name: "no-inherit", Aliases: []string{"i"}, Usage: "child tasks do not inherit counters"},
			&cli.BoolFlag{Name: "inherit", Usage: "child tasks inherit counters (default)"},
			&cli.StringFlag{Name: "mmap-pages", Aliases: []string{"m"}, Usage: "number of mmap data `pages`"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "output file `name`", Value: "perf.data"},
			&cli.StringFlag{Name: "pid", Aliases: []string{"p"}, Usage: "record events on existing process `id`"},
			&cli.StringFlag{Name: "tid", Aliases: []string{"t"}, Usage: "record events on existing thread `id`"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "don't print any warnings or messages"},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "be more verbose (show counter open errors, etc)"},
			&cli.StringSliceFlag{Name: "filter", Usage: "event `filter`"},
		},
		Action: func(c *cli.Context) error {
			return errNotImplemented("record")
		},
	}
}
