package tracefs_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"strings"
	"testing"
)

// kernelConfig returns the running kernel's config from /proc/config.gz,
// or nil when the kernel does not expose it.
func kernelConfig(t *testing.T) map[string]bool {
	b, err := os.ReadFile("/proc/config.gz")
	if err != nil {
		return nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	text, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	cfg := map[string]bool{}
	for _, l := range strings.Split(string(text), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok && (v == "y" || v == "m") {
			cfg[k] = true
		}
	}
	return cfg
}

// kallsyms reports which of names the kernel's symbol table holds.
func kallsyms(t *testing.T, names ...string) map[string]bool {
	b, err := os.ReadFile("/proc/kallsyms")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	has := map[string]bool{}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 3 && want[f[2]] {
			has[f[2]] = true
		}
	}
	return has
}

// TestFeatures checks feature detection against the kernel's own account
// of itself: its config (/proc/config.gz) when exposed, and the symbols
// implementing each facility in /proc/kallsyms.
func TestFeatures(t *testing.T) {
	fs := open(t)
	got := fs.Features()
	syms := kallsyms(t, "trace_kprobe_create", "trace_uprobe_create", "tracing_log_err", "dyn_event_register")
	check := func(name string, got, want bool, why string) {
		t.Helper()
		if got != want {
			t.Errorf("Features().%s = %v, but %s says %v", name, got, why, want)
		}
	}
	check("KprobeEvents", got.KprobeEvents, syms["trace_kprobe_create"], "kallsyms trace_kprobe_create")
	check("UprobeEvents", got.UprobeEvents, syms["trace_uprobe_create"], "kallsyms trace_uprobe_create")
	check("ErrorLog", got.ErrorLog, syms["tracing_log_err"], "kallsyms tracing_log_err")
	check("DynamicEvents", got.DynamicEvents, syms["dyn_event_register"], "kallsyms dyn_event_register")
	if cfg := kernelConfig(t); cfg != nil {
		check("KprobeEvents", got.KprobeEvents, cfg["CONFIG_KPROBE_EVENTS"], "/proc/config.gz")
		check("UprobeEvents", got.UprobeEvents, cfg["CONFIG_UPROBE_EVENTS"], "/proc/config.gz")
		check("DynamicEvents", got.DynamicEvents, cfg["CONFIG_DYNAMIC_EVENTS"], "/proc/config.gz")
		check("BTF", got.BTF, cfg["CONFIG_DEBUG_INFO_BTF"], "/proc/config.gz")
	}
	readme, err := fs.Readme()
	if err != nil {
		t.Fatal(err)
	}
	if got.UprobeEvents != strings.Contains(readme, "uprobe_events") {
		t.Errorf("README mentions uprobe_events: %v, but Features().UprobeEvents = %v", !got.UprobeEvents, got.UprobeEvents)
	}
	for _, f := range []string{"tracing_on", "available_events"} {
		if _, err := os.Stat(fs.Dir + "/" + f); err != nil {
			t.Errorf("%s is not a tracefs: %v", fs.Dir, err)
		}
	}
}
