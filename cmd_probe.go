package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/gperf-dev/gperf/probe"
	"github.com/urfave/cli/v2"
)

func probeCommand() *cli.Command {
	return &cli.Command{
		Name:      "probe",
		Usage:     "define new dynamic tracepoints (kprobes and uprobes)",
		UsageText: "gperf probe [<options>] 'PROBEDEF' ['PROBEDEF' ...]\n   gperf probe [<options>] --del '[GROUP:]EVENT' ...\n   gperf probe --list [GROUP:]EVENT ...\n   gperf probe [<options>] --line 'LINEDESC'\n   gperf probe [<options>] --vars 'PROBEPOINT'\n   gperf probe [<options>] --funcs",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "add", Aliases: []string{"a"}, Usage: "probe point definition `[EVENT=]FUNC[@SRC][+OFF|%return|:RL|;PT]|SRC:AL|SRC;PT [[NAME=]ARG ...]`"},
			&cli.StringSliceFlag{Name: "definition", Aliases: []string{"D"}, Usage: "show trace event definition of given traceevent for k/uprobe_events"},
			&cli.StringSliceFlag{Name: "del", Aliases: []string{"d"}, Usage: "delete a probe event `[GROUP:]EVENT`"},
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "forcibly add events with existing name"},
			&cli.StringSliceFlag{Name: "funcs", Aliases: []string{"F"}, Usage: "show potential probe-able functions `[FILTER]`"},
			&cli.StringFlag{Name: "vmlinux", Aliases: []string{"k"}, Usage: "vmlinux `pathname`"},
			&cli.StringFlag{Name: "line", Aliases: []string{"L"}, Usage: "show source code lines `FUNC[:RLN[+NUM|-RLN2]]|SRC:ALN[+NUM|-ALN2]`"},
			&cli.StringSliceFlag{Name: "list", Aliases: []string{"l"}, Usage: "list up probe events `[GROUP:]EVENT`"},
			&cli.StringFlag{Name: "module", Aliases: []string{"m"}, Usage: "target module name (for online) or path (for offline) `modname|path`"},
			&cli.BoolFlag{Name: "dry-run", Aliases: []string{"n"}, Usage: "dry run"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "be quiet (do not show any warnings or messages)"},
			&cli.StringFlag{Name: "source", Aliases: []string{"s"}, Usage: "path to kernel source `directory`"},
			&cli.StringSliceFlag{Name: "vars", Aliases: []string{"V"}, Usage: "show accessible variables on `PROBEDEF`"},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "be more verbose (show parsed arguments, etc)"},
			&cli.StringFlag{Name: "exec", Aliases: []string{"x"}, Usage: "target executable name or path `executable|path`"},
			&cli.BoolFlag{Name: "externs", Usage: "show external variables too (with --vars only)"},
			&cli.StringSliceFlag{Name: "filter", Usage: "set a filter (with --vars/funcs only) `[!]FILTER`"},
			&cli.IntFlag{Name: "max-probes", Usage: "set how many probe points can be found for a probe `n`"},
			&cli.BoolFlag{Name: "no-inlines", Usage: "don't search inlined functions"},
			&cli.StringFlag{Name: "symfs", Usage: "look for files under `directory`"},
		},
		Action: func(c *cli.Context) error {
			verbose := c.Count("verbose")
			o := probe.Options{
				Exec:      c.String("exec"),
				Module:    c.String("module"),
				Vmlinux:   c.String("vmlinux"),
				SourceDir: c.String("source"),
				Force:     c.Bool("force"),
				DryRun:    c.Bool("dry-run"),
				MaxProbes: c.Int("max-probes"),
				NoInlines: c.Bool("no-inlines"),
				Verbose:   verbose,
				Stdout:    c.App.Writer,
				Stderr:    c.App.ErrWriter,
			}
			if o.Stderr == nil {
				o.Stderr = os.Stderr
			}
			if c.Bool("quiet") {
				if verbose != 0 {
					fmt.Fprintln(o.Stderr, "  Error: -v and -q are exclusive.")
					return exitError{234}
				}
				o.Verbose = -1
			}
			if err := runProbe(c, o); err != nil {
				text, status := probe.Report(err, o.Verbose)
				fmt.Fprint(o.Stderr, text)
				return exitError{status}
			}
			return nil
		},
	}
}

// runProbe calls the probe function for the command the options select,
// as perf's __cmd_probe does.
func runProbe(c *cli.Context, o probe.Options) error {
	req := probe.Request{Specs: c.StringSlice("add"), Args: c.Args().Slice()}
	lo := probe.ListOptions{SourceDir: o.SourceDir, Externs: c.Bool("externs"), NoInlines: o.NoInlines, Warn: o.Stderr}
	lo.Filter = strings.Join(nonEmpty(c.StringSlice("filter")), "|")
	lo.Kernel = o.Exec == "" && o.Module == "" && o.Vmlinux != ""
	lo.Module = o.Exec == "" && o.Module != ""
	bin := o.Exec
	if bin == "" {
		bin = o.Module
	}
	if bin == "" {
		bin = o.Vmlinux
	}
	switch {
	case c.IsSet("del"):
		return probe.Delete(c.StringSlice("del"), o)
	case c.IsSet("list"):
		return probe.List(nonEmpty(c.StringSlice("list")), o)
	case c.IsSet("line"):
		return probe.ShowLines(o.Stdout, bin, c.String("line"), lo)
	case c.IsSet("vars"):
		// perf shows the variables of the last -V given.
		vs := c.StringSlice("vars")
		return probe.ShowVars(o.Stdout, bin, vs[len(vs)-1], lo)
	case c.IsSet("funcs"):
		// perf ORs -F's filter (or its default) with --filter's.
		f := nonEmpty(c.StringSlice("funcs"))
		if len(f) == 0 {
			f = []string{probe.DefaultFuncFilter}
		}
		lo.Filter = strings.Join(append(f, nonEmpty(c.StringSlice("filter"))...), "|")
		return probe.ShowFuncs(o.Stdout, bin, lo)
	case c.IsSet("definition"):
		req.Specs = append(c.StringSlice("definition"), req.Specs...)
		_, err := probe.ShowDefinitions(req, o)
		return err
	case len(req.Specs) > 0 || len(req.Args) > 0:
		_, err := probe.Add(req, o)
		return err
	}
	return cli.ShowSubcommandHelp(c)
}

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
