package tracefs_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gperf-dev/gperf/internal/testutil"
	"github.com/gperf-dev/gperf/tracefs"
	"golang.org/x/sys/unix"
)

// childEnv tells the test binary to run mountChild instead of the tests.
const childEnv = "GPERF_TRACEFS_MOUNT_CHILD"

// TestOpenMount runs tracefs.Open in private mount namespaces where
// tracefs was first unmounted, so the host's mounts are never touched:
// Open must mount it at /sys/kernel/tracing, find it under debugfs or at
// an odd place in /proc/mounts, and explain that mounting needs root.
func TestOpenMount(t *testing.T) {
	testutil.Requires(t, testutil.Root, testutil.Tracefs)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"mount", "debugfs", "elsewhere", "nonroot"} {
		t.Run(mode, func(t *testing.T) {
			cmd := exec.Command(exe)
			cmd.Env = append(os.Environ(), childEnv+"="+mode)
			cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
			out, err := cmd.CombinedOutput()
			t.Logf("child %s:\n%s", mode, out)
			if err != nil {
				t.Fatalf("child %s: %v", mode, err)
			}
		})
	}
}

// mountChild runs in a private mount namespace (the parent asked for
// CLONE_NEWNS, and Go makes / private), removes every tracefs and debugfs
// mount, and checks what Open does in the situation mode sets up. It
// returns the exit status.
func mountChild(mode string) int {
	fail := func(format string, args ...any) int {
		fmt.Printf("FAIL: "+format+"\n", args...)
		return 1
	}
	if err := unmountAll(); err != nil {
		return fail("%v", err)
	}
	if m := tracingMounts(); len(m) > 0 {
		return fail("tracefs still mounted: %v", m)
	}
	want := tracefs.DefaultDir
	switch mode {
	case "debugfs":
		if err := unix.Mount("nodev", "/sys/kernel/debug", "debugfs", 0, ""); err != nil {
			return fail("mount debugfs: %v", err)
		}
		want = "/sys/kernel/debug/tracing"
	case "elsewhere":
		dir, err := os.MkdirTemp("", "gperf tracefs ") // a space, escaped as \040 in /proc/mounts
		if err != nil {
			return fail("%v", err)
		}
		defer os.Remove(dir)
		if err := unix.Mount("nodev", dir, "tracefs", 0, ""); err != nil {
			return fail("mount tracefs at %s: %v", dir, err)
		}
		defer unix.Unmount(dir, unix.MNT_DETACH)
		want = dir
	case "nonroot":
		// syscall.Setuid changes every thread's credentials.
		if err := syscall.Setgid(65534); err != nil {
			return fail("setgid: %v", err)
		}
		if err := syscall.Setuid(65534); err != nil {
			return fail("setuid: %v", err)
		}
		fs, err := tracefs.Open()
		if err == nil {
			return fail("Open as uid 65534 without a mount = %v, want an error", fs.Dir)
		}
		if !errors.Is(err, os.ErrPermission) || !strings.Contains(err.Error(), "needs root") {
			return fail("Open as uid 65534: %v, want a permission error saying root is needed", err)
		}
		fmt.Printf("ok: %v\n", err)
		return 0
	}
	fs, err := tracefs.Open()
	if err != nil {
		return fail("Open: %v", err)
	}
	if fs.Dir != want {
		return fail("Open found %s, want %s (mounts: %v)", fs.Dir, want, tracingMounts())
	}
	if mode == "mount" {
		if m := tracingMounts(); len(m) != 1 || m[0] != "tracefs "+tracefs.DefaultDir {
			return fail("after Open, mounts are %v", m)
		}
	}
	if _, err := fs.Format("sched", "sched_switch"); err != nil {
		return fail("Format through %s: %v", fs.Dir, err)
	}
	fmt.Printf("ok: Open found %s; mounts %v\n", fs.Dir, tracingMounts())
	return 0
}

// tracingMounts lists "fstype mountpoint" for tracefs and debugfs mounts.
func tracingMounts() []string {
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		return []string{err.Error()}
	}
	defer f.Close()
	var ms []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fl := strings.Fields(sc.Text())
		if len(fl) >= 3 && (fl[2] == "tracefs" || fl[2] == "debugfs") {
			ms = append(ms, fl[2]+" "+strings.ReplaceAll(fl[1], `\040`, " "))
		}
	}
	return ms
}

// unmountAll detaches every tracefs and debugfs mount, deepest first.
func unmountAll() error {
	for i := 0; i < 64; i++ {
		ms := tracingMounts()
		if len(ms) == 0 {
			return nil
		}
		last := ms[len(ms)-1]
		_, mp, _ := strings.Cut(last, " ")
		if err := unix.Unmount(filepath.Clean(mp), unix.MNT_DETACH); err != nil {
			return fmt.Errorf("unmount %s: %w", mp, err)
		}
	}
	return fmt.Errorf("mounts remain after 64 unmounts: %v", tracingMounts())
}
