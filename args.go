package main

import "strings"

// preprocessArgs reorders a command line so that urfave/cli, which stops at
// the first positional argument, sees perf's conventions:
//
//   - `gperf probe` mixes options and probe specs freely
//     (`gperf probe -x bin func:8 var -n`): options are moved before the
//     specs, with the values of options that take one. See normalizeProbe
//     for the details.
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
		return append(args[:2:2], permute(normalizeProbe(args[2:]), probeValueFlags)...)
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
	"--symfs": true, "--target-ns": true,
}

// probeOptArgFlags are the `gperf probe` options whose value is optional:
// perf takes the next argument as the value unless it is missing or starts
// with '-' (PARSE_OPT_LASTARG_DEFAULT), so `-l 'grp:*'` filters the list and
// `-l -v` does not. They become `--list=VALUE` / `--funcs=VALUE`, with the
// value empty when none was given.
var probeOptArgFlags = map[string]string{
	"-l": "--list", "--list": "--list", "-F": "--funcs", "--funcs": "--funcs",
}

// probeBoolFlags are the `gperf probe` options without a value.
var probeBoolFlags = map[string]bool{
	"-f": true, "--force": true, "-n": true, "--dry-run": true,
	"-q": true, "--quiet": true, "-v": true, "--verbose": true,
	"--externs": true, "--no-inlines": true, "--range": true,
	"--cache": true, "--demangle": true, "--demangle-kernel": true,
	"-h": true, "--help": true,
}

// isProbeOption reports whether a looks like one of gperf probe's options
// (possibly a cluster of short ones or --name=value).
func isProbeOption(a string) bool {
	if strings.HasPrefix(a, "--") {
		name, _, _ := strings.Cut(a, "=")
		_, opt := probeOptArgFlags[name]
		return probeValueFlags[name] || probeBoolFlags[name] || opt
	}
	if len(a) < 2 || a[0] != '-' {
		return false
	}
	f := a[:2]
	_, opt := probeOptArgFlags[f]
	return probeValueFlags[f] || probeBoolFlags[f] || opt
}

// normalizeProbe rewrites perf-style probe options into forms urfave/cli
// parses as perf would:
//
//   - a cluster of short options is split, and a short option taking a
//     value takes the rest of the cluster ("-nvx/bin" is -n -v -x /bin);
//   - -l and -F, whose value is optional, become --list=V and --funcs=V;
//   - once a probe definition has started, an argument starting with '-'
//     that is not one of probe's options belongs to the definition (a
//     fetch-arg such as -8(%bp)), and `--` is kept for permute.
func normalizeProbe(args []string) []string {
	var out []string
	seenPos := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			out = append(out, args[i:]...)
			return out
		case !strings.HasPrefix(a, "-") || len(a) < 2 || isNegativeNumber(a):
			seenPos = true
			out = append(out, a)
			continue
		case seenPos && !isProbeOption(a):
			out = append(out, a)
			continue
		}
		if strings.HasPrefix(a, "--") {
			name, val, hasVal := strings.Cut(a, "=")
			if long, ok := probeOptArgFlags[name]; ok {
				if !hasVal && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
					val = args[i+1]
					i++
				}
				out = append(out, long+"="+val)
				continue
			}
			out = append(out, a)
			continue
		}
		// A cluster of short options.
		for j := 1; j < len(a); j++ {
			f := "-" + a[j:j+1]
			rest := a[j+1:]
			if long, ok := probeOptArgFlags[f]; ok {
				val := rest
				if val == "" && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
					val = args[i+1]
					i++
				}
				out = append(out, long+"="+val)
				break
			}
			if probeValueFlags[f] {
				out = append(out, f)
				if rest != "" {
					out = append(out, rest)
				} else if i+1 < len(args) {
					out = append(out, args[i+1])
					i++
				}
				break
			}
			out = append(out, f)
		}
	}
	return out
}

// permute moves options (and their values) ahead of positional arguments,
// keeping the relative order of each group. Everything after `--` is
// positional, and so is an argument starting with '-' that is not a
// known option once a positional argument was seen (normalizeProbe leaves
// only those).
func permute(args []string, valueFlags map[string]bool) []string {
	var opts, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			pos = append(pos, args[i+1:]...)
			i = len(args)
		case len(a) > 1 && strings.HasPrefix(a, "-") && !isNegativeNumber(a) && (len(pos) == 0 || isProbeOption(a)):
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
