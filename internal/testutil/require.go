package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// Requirement is something a test needs from the machine.
type Requirement int

const (
	Root          Requirement = iota // running as uid 0
	Perf                             // the oracle perf binary (PerfPath)
	Tracefs                          // tracefs mounted (mounted here if needed)
	Uprobes                          // tracefs uprobe_events
	Kprobes                          // tracefs kprobe_events (CONFIG_KPROBE_EVENTS)
	Gcc                              // gcc on PATH
	Chromium                         // Debian's chromium at /usr/bin/chromium (flame graph browser tests)
	KernelHeaders                    // headers to build testdata/kmod against (KernelHeadersDir)
	VmlinuxDWARF                     // a vmlinux with DWARF (VmlinuxPath)
)

func (r Requirement) String() string {
	return [...]string{"root", "perf", "tracefs", "uprobes (CONFIG_UPROBE_EVENTS)", "kprobes (CONFIG_KPROBE_EVENTS)", "gcc", "chromium", "kernel headers (linux-headers-*)", "vmlinux with DWARF"}[r]
}

// TracingDir is where the tests expect tracefs.
const TracingDir = "/sys/kernel/tracing"

// Requires skips the test, naming the missing feature, unless every
// requirement is met. With GPERF_TEST_REQUIRE listing a requirement
// ("kprobes,uprobes"), a missing one fails the test instead: in an
// environment that is supposed to have it, a skip would hide a regression.
func Requires(tb testing.TB, reqs ...Requirement) {
	tb.Helper()
	for _, r := range reqs {
		if err := check(r); err != nil {
			if mustHave(r) {
				tb.Fatalf("requirement %s not met although GPERF_TEST_REQUIRE demands it: %v", r, err)
			}
			tb.Skipf("requirement not met: %s: %v", r, err)
		}
	}
}

func mustHave(r Requirement) bool {
	for _, w := range strings.Split(os.Getenv("GPERF_TEST_REQUIRE"), ",") {
		if w != "" && strings.HasPrefix(r.String(), strings.TrimSpace(w)) {
			return true
		}
	}
	return false
}

func check(r Requirement) error {
	switch r {
	case Root:
		if os.Geteuid() != 0 {
			return fmt.Errorf("euid is %d", os.Geteuid())
		}
	case Perf:
		if _, err := os.Stat(PerfPath()); err != nil {
			return err
		}
	case Gcc:
		_, err := exec.LookPath("gcc")
		return err
	case Chromium:
		if _, err := os.Stat("/usr/bin/chromium"); err != nil {
			return fmt.Errorf("install Debian's chromium package: %w", err)
		}
	case Tracefs:
		return ensureTracefs()
	case VmlinuxDWARF:
		if VmlinuxPath() == "" {
			return fmt.Errorf("no $GPERF_TEST_VMLINUX, /usr/lib/debug/boot/vmlinux-* or lab/cache/kernel/*/vmlinux-*")
		}
	case KernelHeaders:
		if KernelHeadersDir() == "" {
			return fmt.Errorf("no /usr/src/linux-headers-*/Module.symvers")
		}
	case Uprobes, Kprobes:
		if err := ensureTracefs(); err != nil {
			return err
		}
		f := "uprobe_events"
		if r == Kprobes {
			f = "kprobe_events"
		}
		if _, err := os.Stat(TracingDir + "/" + f); err != nil {
			return fmt.Errorf("this kernel has no %s", f)
		}
	}
	return nil
}

func ensureTracefs() error {
	if _, err := os.Stat(TracingDir + "/events"); err == nil {
		return nil
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("tracefs is not mounted at %s and we are not root", TracingDir)
	}
	if err := unix.Mount("nodev", TracingDir, "tracefs", 0, ""); err != nil && err != unix.EBUSY {
		return fmt.Errorf("mount tracefs at %s: %w", TracingDir, err)
	}
	return nil
}

// KernelHeadersDir returns a kernel build directory that out-of-tree
// modules (testdata/kmod) can be built against, or "" when there is none.
func KernelHeadersDir() string {
	m, _ := filepath.Glob("/usr/src/linux-headers-*/Module.symvers")
	if len(m) == 0 {
		return ""
	}
	return filepath.Dir(m[0])
}

// VmlinuxPath returns a vmlinux with DWARF: $GPERF_TEST_VMLINUX, Debian's
// linux-image-*-dbg file, or the one the kernel lab downloads; "" when
// there is none.
func VmlinuxPath() string {
	if p := os.Getenv("GPERF_TEST_VMLINUX"); p != "" {
		return p
	}
	for _, g := range []string{"/usr/lib/debug/boot/vmlinux-*", filepath.Join(RepoRoot(), "lab", "cache", "kernel", "*", "vmlinux-*")} {
		if m, _ := filepath.Glob(g); len(m) > 0 {
			return m[0]
		}
	}
	return ""
}
