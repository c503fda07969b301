package probe

import (
	"bufio"
	"errors"
	"fmt"
	"os"

	"github.com/gperf-dev/gperf/dwarfline"
)

// lazyPoints resolves a lazy pattern, FUNC;PTN or SRC;PTN, as perf's
// find_probe_point_lazy: the source file is read (from the path DWARF
// gives, under -s when set), its lines matching the pattern (LazyMatch)
// are collected, and dwarfline walks the function's or file's line table
// for them.
func (d *dwarfInfo) lazyPoints(sp *Spec, o *Options, uprobe bool) ([]*dwarfline.Probe, error) {
	p := sp.Point
	var openErr error
	lines := func(file, compDir string) (map[int]bool, error) {
		path, err := realSourcePath(file, compDir, o.SourceDir)
		if err == nil {
			var m map[int]bool
			if m, err = lazyMatchLines(path, p.Lazy); err == nil {
				return m, nil
			}
		}
		openErr = &Error{
			Warning: fmt.Sprintf("Failed to open %s: %s\n", file, strerror(errnoOr(err, errNoent))),
			Summary: "Failed to add events.",
			Errno:   errNoent,
			Err:     err,
		}
		return nil, openErr
	}
	ps, err := d.b.ResolveLazy(dwarfline.PointSpec{
		Function: p.Function, File: p.File, Lazy: p.Lazy,
		Uprobe: uprobe, NoInlines: o.NoInlines, MaxProbes: o.maxProbes(),
	}, lines)
	switch {
	case openErr != nil:
		return nil, openErr
	case errors.Is(err, dwarfline.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, resolveError(sp, err)
	}
	return ps, nil
}

// lazyMatchLines reads a source file and returns the numbers of its lines
// matching a lazy pattern (perf's find_lazy_match_lines).
func lazyMatchLines(path, pat string) (map[int]bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := map[int]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for n := 1; sc.Scan(); n++ {
		if LazyMatch(pat, sc.Text()) {
			m[n] = true
		}
	}
	return m, sc.Err()
}
