package tracefs

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// DefaultDir is where tracefs lives on current kernels, and where Open
// mounts it when it is nowhere to be found, as perf does
// (tools/lib/api/fs/tracing_path.c, tools/lib/api/fs/fs.c).
const DefaultDir = "/sys/kernel/tracing"

// debugfsDir is the tracefs automount point under debugfs of older setups.
const debugfsDir = "/sys/kernel/debug/tracing"

// FS is a tracefs mount.
type FS struct {
	// Dir is the mount point, e.g. /sys/kernel/tracing.
	Dir string
}

// New returns the tracefs at dir without checking that dir is a tracefs
// mount; it is meant for a copy of tracefs files (tests, a kernel lab) or a
// directory the caller found itself. Open is the usual entry point.
func New(dir string) *FS { return &FS{Dir: dir} }

// Open finds the tracefs mount: /sys/kernel/tracing, then
// /sys/kernel/debug/tracing, then any tracefs mount (or debugfs mount's
// tracing directory) in /proc/mounts. When there is none it mounts tracefs
// at /sys/kernel/tracing, which needs root (CAP_SYS_ADMIN). A kernel
// without tracefs gives an *UnsupportedFeatureError.
func Open() (*FS, error) {
	if dir, ok := findMount(); ok {
		return &FS{Dir: dir}, nil
	}
	if err := mountTracefs(DefaultDir); err != nil {
		return nil, err
	}
	return &FS{Dir: DefaultDir}, nil
}

// isTracefs reports whether dir is the root of a tracefs mount. The stat
// of /sys/kernel/debug/tracing triggers its automount.
func isTracefs(dir string) bool {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return false
	}
	return st.Type == unix.TRACEFS_MAGIC
}

func findMount() (string, bool) {
	for _, d := range []string{DefaultDir, debugfsDir} {
		if isTracefs(d) {
			return d, true
		}
	}
	f, err := os.Open("/proc/mounts")
	if err != nil {
		return "", false
	}
	defer f.Close()
	var debugfs []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 {
			continue
		}
		mp := unescapeMount(fields[1])
		switch fields[2] {
		case "tracefs":
			if isTracefs(mp) {
				return mp, true
			}
		case "debugfs":
			debugfs = append(debugfs, filepath.Join(mp, "tracing"))
		}
	}
	for _, d := range debugfs {
		if isTracefs(d) {
			return d, true
		}
	}
	return "", false
}

// unescapeMount undoes the octal escapes (\040 for a space) of
// /proc/mounts fields (fs/proc_namespace.c, mangle).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// kernelHasTracefs reports whether /proc/filesystems lists tracefs; it
// assumes yes when the file cannot be read.
func kernelHasTracefs() bool {
	b, err := os.ReadFile("/proc/filesystems")
	if err != nil {
		return true
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[len(f)-1] == "tracefs" {
			return true
		}
	}
	return false
}

func mountTracefs(dir string) error {
	noTracefs := &UnsupportedFeatureError{Feature: "tracefs", Config: "CONFIG_TRACING"}
	if !kernelHasTracefs() {
		return fmt.Errorf("mount tracefs at %s: %w", dir, noTracefs)
	}
	// The mount point is created by tracefs itself
	// (fs/tracefs/inode.c, tracefs_init: sysfs_create_mount_point).
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("mount tracefs at %s: %w", dir, noTracefs)
	}
	err := unix.Mount("nodev", dir, "tracefs", 0, "")
	switch {
	case err == nil:
	case errors.Is(err, unix.ENODEV):
		return fmt.Errorf("mount tracefs at %s: %w", dir, noTracefs)
	case errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES):
		return fmt.Errorf("mount tracefs at %s: %w: tracefs is not mounted and mounting it needs root (CAP_SYS_ADMIN)", dir, err)
	default:
		return fmt.Errorf("mount tracefs at %s: %w", dir, err)
	}
	if !isTracefs(dir) {
		return fmt.Errorf("mount tracefs at %s: mounted, but the directory is still not a tracefs", dir)
	}
	return nil
}

// path joins elements under the mount point.
func (fs *FS) path(elem ...string) string {
	return filepath.Join(append([]string{fs.Dir}, elem...)...)
}
