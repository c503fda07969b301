package probe

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/gperf-dev/gperf/dwarfline"
)

// ListOptions are the options of the query commands -L, -V and --funcs.
type ListOptions struct {
	// SourceDir is -s: a prefix under which source files are looked for,
	// chopping leading directories of the DWARF path until one is found.
	SourceDir string
	// Externs is --externs (with -V): show global variables too.
	Externs bool
	// Filter is the filter: --filter for -V; for --funcs, perf ORs the
	// FILTER of --funcs=FILTER (or its default) with --filter's. ""
	// selects perf's default for the command.
	Filter string
	// NoInlines is --no-inlines.
	NoInlines bool
	// Kernel is set for a vmlinux (-k): perf lists only the symbols of
	// its .text section (the others belong to maps of their own).
	Kernel bool
	// Module is set when the binary is -m's argument: a name without a
	// '/' is then a loaded module, looked up under /lib/modules.
	Module bool
	// Warn is unused: warnings come back in the returned *Error, as perf
	// words them.
	Warn io.Writer
}

// DefaultFuncFilter and DefaultVarFilter are perf's defaults for --funcs
// and -V (builtin-probe.c).
const (
	DefaultFuncFilter = "!_* & !*@plt"
	DefaultVarFilter  = "!__k???tab_* & !__crc_*"
)

// ErrSourceMissing is returned (wrapped) by ShowLines when the source file
// cannot be read; the line numbers were printed all the same.
var ErrSourceMissing = errors.New("source file not found")

// ParseLineRange parses perf's -L argument
// (parse_line_range_desc in tools/perf/util/probe-event.c):
// FUNC[@SRC][:RLN[+NUM|-RLN2]] or SRC[:ALN[+NUM|-ALN2]].
func ParseLineRange(arg string) (dwarfline.LineRangeSpec, error) {
	lr := dwarfline.LineRangeSpec{End: math.MaxInt32}
	name, rng, hasRange := strings.Cut(arg, ":")
	if hasRange {
		n, rest, err := parseLineNum(rng, "start line")
		if err != nil {
			return lr, err
		}
		lr.Start = n
		if rest != "" && (rest[0] == '+' || rest[0] == '-') {
			c := rest[0]
			n, rest2, err := parseLineNum(rest[1:], "end line")
			if err != nil {
				return lr, err
			}
			rest = rest2
			lr.End = n
			if c == '+' {
				lr.End += lr.Start - 1
			}
		}
		if lr.Start > lr.End {
			return lr, semanticf(errInval, "Start line must be smaller than end line.")
		}
		if rest != "" {
			return lr, semanticf(errInval, "Tailing with invalid str '%s'.", rest)
		}
	}
	if fn, file, ok := strings.Cut(name, "@"); ok {
		lr.Function, lr.File = fn, file
	} else if strings.ContainsAny(name, "/.") {
		lr.File = name
	} else if isCName(name) {
		lr.Function = name
	} else {
		return lr, semanticf(errInval, "'%s' is not a valid function name.", name)
	}
	return lr, nil
}

// parseLineNum reads a decimal number like perf's parse_line_num (strtol:
// a prefix of digits).
func parseLineNum(s, what string) (int, string, error) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, s, semanticf(errInval, "'%s' is not a valid number.", s)
	}
	n, err := strconv.Atoi(s[:i])
	if err != nil || n < 0 {
		return 0, s, semanticf(errInval, "'%s' is not a valid %s.", s, what)
	}
	return n, s[i:], nil
}

// ShowLines prints what `perf probe -L SPEC` prints for the binary at bin:
// a header, then the source lines with the probeable ones numbered
// relative to the function. Without the source file, perf fails; gperf
// prints the numbered lines alone, warns, and returns an error wrapping
// ErrSourceMissing.
func ShowLines(w io.Writer, bin string, spec string, opts ListOptions) error {
	oneShot()
	lrs, err := ParseLineRange(spec)
	if err != nil {
		return err
	}
	bin, err = listBinary(bin, opts, "Failed to show lines.")
	if err != nil {
		return err
	}
	b, err := dwarfline.Open(bin)
	if err != nil {
		return listError(err, bin, "Failed to show lines.", "")
	}
	defer b.Close()
	return showLines(w, b, lrs, opts)
}

// listError words a failed -L/-V as perf does (show_line_range,
// show_available_vars in tools/perf/util/probe-event.c).
func listError(err error, bin, summary, notFound string) error {
	var sl *dwarfline.SharedLineError
	var tm *dwarfline.TooManyError
	switch {
	case errors.As(err, &tm):
		return &Error{Warning: tm.Perf() + "Debuginfo analysis failed.\n", Summary: summary, Errno: errRange, Err: err}
	case errors.Is(err, dwarfline.ErrNoDWARF):
		if abs, aerr := filepath.Abs(bin); aerr == nil {
			bin = abs
		}
		return &Error{Warning: fmt.Sprintf("The %s file has no debug information.\nRebuild with -g, or install an appropriate debuginfo package.\n", bin),
			Summary: summary, Errno: errNoent, Err: err}
	case errors.As(err, &sl):
		return &Error{Warning: sl.Perf(), Detail: notFound, Summary: summary, Errno: errNoent, Err: err}
	case errors.Is(err, dwarfline.ErrNotFound):
		if strings.HasPrefix(notFound, "Failed to find the address") {
			return &Error{Detail: notFound, Summary: summary, Errno: errNoent, Err: err}
		}
		return &Error{Warning: notFound, Summary: summary, Errno: errNoent, Err: err}
	}
	return &Error{Warning: "Debuginfo analysis failed.\n", Summary: summary, Errno: errInval, Err: err}
}

func showLines(w io.Writer, b *dwarfline.Binary, spec dwarfline.LineRangeSpec, opts ListOptions) error {
	lr, err := b.FindLineRange(spec)
	if err != nil {
		return listError(err, b.Path(), "Failed to show lines.", "Specified source line is not found.\n")
	}
	path, perr := realSourcePath(lr.Path, lr.CompDir, opts.SourceDir)
	if perr != nil {
		path = lr.Path
	}
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	if lr.Function != "" {
		fmt.Fprintf(bw, "<%s@%s:%d>\n", lr.Function, path, lr.Start-lr.Offset)
	} else {
		fmt.Fprintf(bw, "<%s:%d>\n", path, lr.Start)
	}
	if perr != nil {
		// perf stops here ("Failed to find source file path."); print
		// what the debug information alone says.
		for _, l := range lr.Lines {
			fmt.Fprintf(bw, "%7d  \n", l-lr.Offset)
		}
		return &Error{Warning: fmt.Sprintf("Failed to find source file path: %s (only the line numbers are shown).\n", lr.Path),
			Summary: "Failed to show lines.", Errno: errNoent, Err: fmt.Errorf("show lines of %s: %w", lr.Path, ErrSourceMissing)}
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("show lines: %w", err)
	}
	defer f.Close()
	src := bufio.NewReader(f)
	readLine := func() (string, bool, error) {
		s, err := src.ReadString('\n')
		if err == io.EOF {
			return s, s != "", nil
		}
		return s, err == nil, err
	}
	short := errors.New("Source file is shorter than expected.")
	show := func(l int, num bool, mustExist bool) (bool, error) {
		s, ok, err := readLine()
		if err != nil {
			return false, err
		}
		if !ok {
			if mustExist {
				return false, short
			}
			return false, nil
		}
		if num {
			fmt.Fprintf(bw, "%7d  %s", l, s)
		} else {
			fmt.Fprintf(bw, "         %s", s)
		}
		return true, nil
	}
	l := 1
	for ; l < lr.Start; l++ {
		if _, ok, err := readLine(); err != nil || !ok {
			return fmt.Errorf("show lines of %s: %w", path, short)
		}
	}
	for _, ln := range lr.Lines {
		for ; ln > l; l++ {
			if _, err := show(l-lr.Offset, false, true); err != nil {
				return fmt.Errorf("show lines of %s: %w", path, err)
			}
		}
		if _, err := show(l-lr.Offset, true, true); err != nil {
			return fmt.Errorf("show lines of %s: %w", path, err)
		}
		l++
	}
	end := lr.End
	if end == math.MaxInt32 {
		end = l + 2 // NR_ADDITIONAL_LINES
	}
	for ; l <= end; l++ {
		ok, err := show(l-lr.Offset, false, false)
		if err != nil {
			return fmt.Errorf("show lines of %s: %w", path, err)
		}
		if !ok {
			break
		}
	}
	return nil
}

// realSourcePath is perf's get_real_path/find_source_path.
func realSourcePath(raw, compDir, prefix string) (string, error) {
	if prefix == "" {
		if !filepath.IsAbs(raw) && compDir != "" {
			p := compDir + "/" + raw
			if _, err := os.Stat(p); err != nil {
				return "", err
			}
			return p, nil
		}
		if _, err := os.Stat(raw); err != nil {
			return "", err
		}
		return raw, nil
	}
	rp := raw
	for {
		p := prefix + "/" + rp
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		i := strings.IndexByte(rp[min(1, len(rp)):], '/')
		if i < 0 {
			return "", os.ErrNotExist
		}
		rp = rp[i+1:]
	}
}

// ShowFuncs prints what `perf probe -F [--filter F]` prints: the names of
// the binary's symbols matching the filter, sorted.
func ShowFuncs(w io.Writer, bin string, opts ListOptions) error {
	oneShot()
	if p, err := listBinary(bin, opts, ""); err != nil {
		// perf's get_target_map finds no map for a module not loaded.
		return &Error{Detail: "Failed to get a map for " + bin + "\n", Summary: "Failed to show functions.", Errno: errInval, Err: err}
	} else {
		bin = p
	}
	b, err := dwarfline.Open(bin)
	if err != nil {
		return err
	}
	defer b.Close()
	filter := opts.Filter
	if filter == "" {
		filter = DefaultFuncFilter
	}
	flt, err := ParseFilter(filter)
	if err != nil {
		return err
	}
	// Names only, filtered before they are copied: building every
	// symbol (and sorting them by address) is work --funcs does not need.
	section := ""
	if opts.Kernel {
		section = ".text"
	}
	// The names point into the mapped string table (valid until the
	// deferred Close): no copies.
	var names []string
	err = b.SymbolNames(section, func(n []byte) {
		if s := unsafe.String(unsafe.SliceData(n), len(n)); flt.Match(s) {
			names = append(names, s)
		}
	})
	if err != nil {
		return err
	}
	slices.Sort(names)
	bw := bufio.NewWriterSize(w, 64<<10)
	for _, n := range names {
		bw.WriteString(n)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// ShowVars prints what `perf probe -V PROBEPOINT [--externs] [--filter F]`
// prints: for each address of the point, `@<func+off>` and the variables
// perf can fetch there, sorted.
func ShowVars(w io.Writer, bin string, spec string, opts ListOptions) error {
	oneShot()
	sp, err := ParseSpec(spec)
	if err != nil {
		return err
	}
	bin, err = listBinary(bin, opts, "Failed to show vars.")
	if err != nil {
		return err
	}
	b, err := dwarfline.Open(bin)
	if err != nil {
		return listError(err, bin, "Failed to show vars.", "")
	}
	defer b.Close()
	return showVars(w, b, sp.Point, opts)
}

func showVars(w io.Writer, b *dwarfline.Binary, pt Point, opts ListOptions) error {
	filter := opts.Filter
	if filter == "" {
		filter = DefaultVarFilter
	}
	flt, err := ParseFilter(filter)
	if err != nil {
		return err
	}
	probes, err := b.Resolve(dwarfline.PointSpec{
		Function:  pt.Function,
		File:      pt.File,
		Line:      pt.Line,
		Offset:    pt.Offset,
		Return:    pt.Return,
		Lazy:      pt.Lazy,
		NoInlines: opts.NoInlines,
		Uprobe:    b.Type() != 1, // not ET_REL
	})
	if err != nil {
		return listError(err, b.Path(), "Failed to show vars.", fmt.Sprintf("Failed to find the address of %s\n", pt))
	}
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	fmt.Fprintf(bw, "Available variables at %s\n", pt)
	for _, p := range probes {
		fmt.Fprintf(bw, "\t@<%s+%d>\n", p.Symbol, p.Offset)
		vars, err := b.Vars(p, opts.Externs)
		if err != nil {
			return fmt.Errorf("show variables at %s: %w", pt, err)
		}
		n := 0
		for _, v := range vars {
			if flt.Match(v.Name) {
				fmt.Fprintf(bw, "\t\t%s\t%s\n", v.Type, v.Name)
				n++
			}
		}
		if n == 0 {
			fmt.Fprintf(bw, "\t\t(No matched variables)\n")
		}
	}
	return nil
}
