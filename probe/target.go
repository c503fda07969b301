package probe

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// target is what a command probes: a user binary (uprobes), a kernel
// module, an offline vmlinux, or the running kernel.
type target struct {
	uprobe bool
	// path is the binary read for symbols and DWARF: the -x binary, the
	// .ko, the vmlinux; "" for the running kernel without a vmlinux.
	path string
	// module is the kprobe module name written in definitions ("" for the
	// kernel itself).
	module string
	// online is set for the running kernel, whose probes are placed
	// relative to _text (from /proc/kallsyms).
	online bool
	bin    *binary
	dbg    debugInfo // nil without DWARF
	// kallsyms are the running kernel's function symbols (online only).
	kallsyms *binary
	textAddr uint64 // _text in kallsyms
}

func (t *target) Close() {
	if t.bin != nil {
		t.bin.Close()
	}
	if t.dbg != nil {
		t.dbg.Close()
	}
}

// realpath returns the absolute, symlink-free path perf uses for a target
// (nsinfo__realpath).
func realpath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(abs)
}

func pathError(p string, err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return &Error{
		Warning: fmt.Sprintf("Failed to get the absolute path of %s: %s\n", p, strerror(errnoOf(err))),
		Summary: "Failed to add events.",
		Errno:   errNoent,
		Err:     err,
	}
}

// noDebugError is perf's complaint about a binary without DWARF.
func noDebugError(path string, kernel bool) error {
	hint := "Rebuild with -g, "
	if kernel {
		hint = "Rebuild with CONFIG_DEBUG_INFO=y, "
	}
	return &Error{
		Warning: fmt.Sprintf("The %s file has no debug information.\n%sor install an appropriate debuginfo package.\n", path, hint),
		Summary: "Failed to add events.",
		Errno:   errNoent,
	}
}

func openTarget(o *Options) (*target, error) {
	t := &target{}
	switch {
	case o.Exec != "":
		p, err := realpath(o.Exec)
		if err != nil {
			return nil, pathError(o.Exec, err)
		}
		t.uprobe, t.path = true, p
	case o.Module != "" && strings.Contains(o.Module, "/"):
		p, err := realpath(o.Module)
		if err != nil {
			return nil, pathError(o.Module, err)
		}
		t.path = p
	case o.Module != "":
		p, err := loadedModulePath(o.Module)
		if err != nil {
			return nil, err
		}
		t.path, t.module = p, o.Module
	case o.Vmlinux != "":
		t.path = o.Vmlinux
	default:
		t.online = true
		t.path = findVmlinux()
	}
	if t.path != "" {
		b, err := openBinary(t.path)
		if err != nil {
			where := t.path
			if !t.uprobe && o.Module == "" {
				where = "kernel"
			}
			return nil, &Error{
				Detail:  fmt.Sprintf("Failed to load symbols from %s\nPlease ensure the file is not stripped.\ngperf: %v\n", where, err),
				Summary: "Failed to add events.",
				Errno:   errNoent,
				Err:     err,
			}
		}
		t.bin = b
		if !t.uprobe && o.Module != "" && t.module == "" {
			t.module = b.moduleName()
			if t.module == "" {
				t.module = o.Module
			}
		}
		if b.hasDebug {
			d, err := openDebugInfo(t.path)
			if err != nil {
				o.debug("Could not open debuginfo: %v\n", err)
			} else {
				t.dbg = d
			}
		}
	}
	if t.online {
		k, text, err := readKallsyms()
		if err != nil {
			t.Close()
			return nil, err
		}
		t.kallsyms, t.textAddr = k, text
	}
	return t, nil
}

// loadedModulePath finds the file of a loaded module (perf needs the
// module loaded and its file under /lib/modules/$(uname -r)).
func loadedModulePath(name string) (string, error) {
	b, err := os.ReadFile("/proc/modules")
	loaded := false
	if err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) > 0 && f[0] == name {
				loaded = true
			}
		}
	}
	notLoaded := &Error{
		Detail:  fmt.Sprintf("Module %s is not loaded, please specify its full path name.\n", name),
		Summary: "Failed to add events.",
		Errno:   errNoent,
	}
	if !loaded {
		return "", notLoaded
	}
	rel, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "", notLoaded
	}
	root := filepath.Join("/lib/modules", strings.TrimSpace(string(rel)))
	var found string
	want := map[string]bool{name + ".ko": true, strings.ReplaceAll(name, "_", "-") + ".ko": true}
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || found != "" {
			return nil
		}
		if !d.IsDir() && want[d.Name()] {
			found = p
		}
		return nil
	})
	if found == "" {
		return "", notLoaded
	}
	return found, nil
}

// findVmlinux looks for the running kernel's vmlinux where perf's
// vmlinux_path does; "" when there is none.
func findVmlinux() string {
	rel, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return ""
	}
	r := strings.TrimSpace(string(rel))
	for _, p := range []string{
		"vmlinux", "/boot/vmlinux", "/boot/vmlinux-" + r,
		"/usr/lib/debug/boot/vmlinux-" + r, "/lib/modules/" + r + "/build/vmlinux",
		"/usr/lib/debug/lib/modules/" + r + "/vmlinux", "/usr/lib/debug/boot/vmlinux-" + r + ".debug",
	} {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// readKallsyms reads the running kernel's function symbols and _text.
func readKallsyms() (*binary, uint64, error) {
	f, err := os.Open("/proc/kallsyms")
	if err != nil {
		return nil, 0, &Error{Detail: fmt.Sprintf("Failed to load symbols from /proc/kallsyms: %v\n", err), Summary: "Failed to add events.", Errno: errNoent, Err: err}
	}
	defer f.Close()
	b := &binary{path: "/proc/kallsyms"}
	var text uint64
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		fl := strings.Fields(sc.Text())
		if len(fl) < 3 {
			continue
		}
		addr, err := strconv.ParseUint(fl[0], 16, 64)
		if err != nil {
			continue
		}
		if fl[2] == "_text" {
			text = addr
		}
		if len(fl) > 3 { // [module]
			continue
		}
		switch fl[1] {
		case "T", "t", "W", "w":
			b.syms = append(b.syms, symbol{Name: fl[2], Addr: addr})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, 0, fmt.Errorf("read /proc/kallsyms: %w", err)
	}
	if text == 0 {
		return nil, 0, &Error{
			Warning: "Relocated base symbol is not found! Check /proc/sys/kernel/kptr_restrict\n" +
				"and /proc/sys/kernel/perf_event_paranoid. Or run as privileged perf user.\n\n",
			Summary: "Failed to add events.",
			Errno:   errInval,
		}
	}
	sortSymbols(b.syms)
	b.once.Do(func() {})
	return b, text, nil
}
