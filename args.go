package main

import "strings"

// preprocessArgs reorders a command line so that urfave/cli, which stops at
// the first positional argument, sees perf's conventions:
//
//   - `gperf probe` mixes options and probe specs freely
//     (`gperf probe -x bin func:8 var -n`): options are moved before the
//     specs, with the values of options that take one.
//   - `gperf record` stops at the first non-option (the workload, whose own
//     options are not gperf's) or at `--`; nothing after it is touched.
//
// Other subcommands are passed unchanged.
func preprocessArgs(args []string) []string {
	if len(args) < 2 {
		return args
	}
	switch args[1] {
	case "probe":
		return append(args[:2:2], permute(args[2:], probeValueFlags)...)
	}
	return args
}

// probeValueFlags lists the `gperf probe` options that consume the next
// argument as their value (perf's parse-options semantics).
var probeValueFlags = map[string]bool{
	"-a": true, "--add": true, "-D": true, "--definition": true,
	"-d": true, "--del": true, "-k": true, "--vmlinux": true,
	"-L": true, "--line": true, "-m": true, "--module": true,
	"-s": true, "--source": true, "-V": true, "--vars": true,
	"-x": true, "--exec": true, "--filter": true, "--max-probes": true,
	"--symfs": true,
}

// permute moves options (and their values) ahead of positional arguments,
// keeping the relative order of each group. Everything after `--` is
// positional.
func permute(args []string, valueFlags map[string]bool) []string {
	var opts, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			pos = append(pos, args[i+1:]...)
			i = len(args)
		case len(a) > 1 && strings.HasPrefix(a, "-") && !isNegativeNumber(a):
			opts = append(opts, a)
			if valueFlags[a] && i+1 < len(args) {
				opts = append(opts, args[i+1])
				i++
			}
		default:
			pos = append(pos, a)
		}
	}
	if len(pos) == 0 {
		return opts
	}
	return append(append(opts, "--"), pos...)
}

func isNegativeNumber(s string) bool {
	if len(s) < 2 || s[0] != '-' {
		return false
	}
	for _, c := range s[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
