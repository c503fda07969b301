package main

import "github.com/urfave/cli/v2"

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
			&cli.BoolFlag{Name: "funcs", Aliases: []string{"F"}, Usage: "show potential probe-able functions"},
			&cli.StringFlag{Name: "vmlinux", Aliases: []string{"k"}, Usage: "vmlinux `pathname`"},
			&cli.StringFlag{Name: "line", Aliases: []string{"L"}, Usage: "show source code lines `FUNC[:RLN[+NUM|-RLN2]]|SRC:ALN[+NUM|-ALN2]`"},
			&cli.BoolFlag{Name: "list", Aliases: []string{"l"}, Usage: "list up probe events"},
			&cli.StringFlag{Name: "module", Aliases: []string{"m"}, Usage: "target module name (for online) or path (for offline) `modname|path`"},
			&cli.BoolFlag{Name: "dry-run", Aliases: []string{"n"}, Usage: "dry run"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "be quiet (do not show any warnings or messages)"},
			&cli.StringFlag{Name: "source", Aliases: []string{"s"}, Usage: "path to kernel source `directory`"},
			&cli.StringFlag{Name: "vars", Aliases: []string{"V"}, Usage: "show accessible variables on `PROBEDEF`"},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "be more verbose (show parsed arguments, etc)"},
			&cli.StringFlag{Name: "exec", Aliases: []string{"x"}, Usage: "target executable name or path `executable|path`"},
			&cli.BoolFlag{Name: "externs", Usage: "show external variables too (with --vars only)"},
			&cli.StringFlag{Name: "filter", Usage: "set a filter (with --vars/funcs only) `[!]FILTER`"},
			&cli.IntFlag{Name: "max-probes", Usage: "set how many probe points can be found for a probe `n`"},
			&cli.BoolFlag{Name: "no-inlines", Usage: "don't search inlined functions"},
			&cli.StringFlag{Name: "symfs", Usage: "look for files under `directory`"},
		},
		Action: func(c *cli.Context) error {
			return errNotImplemented("probe")
		},
	}
}
