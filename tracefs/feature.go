package tracefs

import (
	"errors"
	"fmt"
	"os"
)

// btfPath is the kernel's own BTF (CONFIG_DEBUG_INFO_BTF).
const btfPath = "/sys/kernel/btf/vmlinux"

// Features says which tracefs facilities the running kernel has.
type Features struct {
	KprobeEvents  bool // kprobe_events: kernel probes (CONFIG_KPROBE_EVENTS)
	UprobeEvents  bool // uprobe_events: user-space probes (CONFIG_UPROBE_EVENTS)
	ErrorLog      bool // error_log: explanations of refused definitions (Linux 5.4+)
	DynamicEvents bool // dynamic_events: the unified probe interface (Linux 5.0+)
	BTF           bool // /sys/kernel/btf/vmlinux: kernel types (CONFIG_DEBUG_INFO_BTF)
}

// Features detects what the kernel offers by looking for its files.
func (fs *FS) Features() Features {
	has := func(p string) bool {
		_, err := os.Stat(p)
		return err == nil
	}
	return Features{
		KprobeEvents:  has(fs.path("kprobe_events")),
		UprobeEvents:  has(fs.path("uprobe_events")),
		ErrorLog:      has(fs.path("error_log")),
		DynamicEvents: has(fs.path("dynamic_events")),
		BTF:           has(btfPath),
	}
}

// Supports returns nil if the kernel can add probes of kind, else an
// *UnsupportedFeatureError naming the kernel option (wrapping
// ErrNotSupported).
func (fs *FS) Supports(kind ProbeKind) error {
	if !kind.valid() {
		return fmt.Errorf("probe kind %d: %w", int(kind), ErrInvalidKind)
	}
	_, err := os.Stat(fs.path(kind.File()))
	if errors.Is(err, os.ErrNotExist) {
		return &UnsupportedFeatureError{Feature: kind.File(), Config: kind.Config()}
	}
	if err != nil {
		return fmt.Errorf("stat %s: %w", fs.path(kind.File()), err)
	}
	return nil
}

// Readme returns tracefs's README, whose mini-grammar tells which probe
// syntax the kernel accepts (perf probe greps it, e.g. for "ustring" or
// "<path>:<offset>[%return]").
func (fs *FS) Readme() (string, error) {
	b, err := os.ReadFile(fs.path("README"))
	if err != nil {
		return "", fmt.Errorf("read tracefs README: %w", err)
	}
	return string(b), nil
}
