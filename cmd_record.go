package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/gperf-dev/gperf/record"
)

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
			callGraph := ""
			if c.Bool("g") {
				callGraph = "fp"
			}
			if cg := c.String("call-graph"); cg != "" {
				callGraph, _, _ = strings.Cut(cg, ",")
			}
			opts := record.Options{
				Events:    recordEventArgs(os.Args, c.StringSlice("event"), c.StringSlice("filter")),
				Count:     c.Uint64("count"),
				Freq:      c.String("freq"),
				CallGraph: callGraph,
				Command:   c.Args().Slice(),
				PIDs:      c.String("pid"),
				TIDs:      c.String("tid"),
				AllCPUs:   c.Bool("all-cpus"),
				CPUs:      c.String("cpu"),
				NoInherit: c.Bool("no-inherit") && !c.Bool("inherit"),
				MmapPages: c.String("mmap-pages"),
				Output:    c.String("output"),
				Quiet:     c.Bool("quiet"),
				Verbose:   c.Bool("verbose"),
				Cmdline:   os.Args,
				Version:   version,
				Stdout:    c.App.Writer,
				Stderr:    c.App.ErrWriter,
			}
			res, err := record.Run(opts)
			if err != nil {
				return err
			}
			if !opts.Quiet {
				fmt.Fprint(c.App.ErrWriter, res.Summary())
			}
			switch {
			case res.Signal != 0:
				return exitError{128 + int(res.Signal)}
			case res.Workload != nil && res.Workload.Code != 0:
				return exitError{res.Workload.Code}
			}
			return nil
		},
	}
}

// recordEventArgs pairs each --filter with the -e before it, as perf
// does, by walking the raw command line up to the workload. The values
// urfave/cli parsed are the fallback when the walk finds none (the command
// line came from elsewhere, as in tests); the walk is preferred because
// urfave/cli splits slice values at commas, which -e lists and filters
// may hold.
func recordEventArgs(argv []string, events, filters []string) []record.EventArg {
	valueFlags := map[string]bool{
		"-c": true, "--count": true, "-C": true, "--cpu": true, "-e": true, "--event": true,
		"-F": true, "--freq": true, "--call-graph": true, "-m": true, "--mmap-pages": true,
		"-o": true, "--output": true, "-p": true, "--pid": true, "-t": true, "--tid": true,
		"--filter": true,
	}
	var out []record.EventArg
	i := 0
	for i < len(argv) && argv[i] != "record" {
		i++
	}
	for i++; i < len(argv); i++ {
		a := argv[i]
		if a == "--" || !strings.HasPrefix(a, "-") || a == "-" {
			break
		}
		name, val, hasVal := strings.Cut(a, "=")
		if !strings.HasPrefix(a, "--") && len(a) > 2 && valueFlags[a[:2]] {
			name, val, hasVal = a[:2], a[2:], true // -eEVENT
		}
		if !valueFlags[name] {
			continue
		}
		if !hasVal {
			if i+1 >= len(argv) {
				break
			}
			i++
			val = argv[i]
		}
		switch name {
		case "-e", "--event":
			out = append(out, record.EventArg{Spec: val})
		case "--filter":
			if len(out) > 0 && out[len(out)-1].Filter == "" {
				out[len(out)-1].Filter = val
			}
		}
	}
	if len(out) == 0 {
		for i, e := range events {
			ea := record.EventArg{Spec: e}
			if i < len(filters) {
				ea.Filter = filters[i]
			}
			out = append(out, ea)
		}
	}
	return out
}
