// Package testutil holds the helpers gperf's tests share: C fixtures
// compiled at test time, the real-perf oracle, requirement checks that skip
// with a named reason, unified diffs and leak checks for tracefs probes.
package testutil

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// BuildFlags selects how a C fixture is compiled.
type BuildFlags uint32

const (
	O2           BuildFlags = 1 << iota // -O2 (default -O0)
	DWARF4                              // -gdwarf-4 (default -gdwarf-5, gcc 12's default)
	PIE                                 // -fPIE -pie (default -no-pie)
	Shared                              // -shared -fPIC: a shared library lib<name>.so
	NoDebug                             // no -g at all
	FramePointer                        // -fno-omit-frame-pointer
)

func (f BuildFlags) gccArgs() []string {
	var a []string
	if f&O2 != 0 {
		a = append(a, "-O2")
	} else {
		a = append(a, "-O0")
	}
	if f&NoDebug == 0 {
		if f&DWARF4 != 0 {
			a = append(a, "-gdwarf-4")
		} else {
			a = append(a, "-gdwarf-5")
		}
	}
	switch {
	case f&Shared != 0:
		a = append(a, "-shared", "-fPIC")
	case f&PIE != 0:
		a = append(a, "-fPIE", "-pie")
	default:
		a = append(a, "-fno-pie", "-no-pie")
	}
	if f&FramePointer != 0 {
		a = append(a, "-fno-omit-frame-pointer")
	}
	return a
}

// String names the flags for file names and logs, e.g. "O2-dwarf4-pie".
func (f BuildFlags) String() string {
	parts := []string{"O0"}
	if f&O2 != 0 {
		parts[0] = "O2"
	}
	for _, x := range []struct {
		b BuildFlags
		s string
	}{{DWARF4, "dwarf4"}, {PIE, "pie"}, {Shared, "shared"}, {NoDebug, "nodebug"}, {FramePointer, "fp"}} {
		if f&x.b != 0 {
			parts = append(parts, x.s)
		}
	}
	return strings.Join(parts, "-")
}

var (
	fixtureMu    sync.Mutex
	fixtureDir   string
	fixtureCache = map[string]string{}
)

// RepoRoot returns the repository root (the directory holding go.mod).
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// FixtureSource returns the path of testdata/<name> at the repository root.
func FixtureSource(name string) string {
	return filepath.Join(RepoRoot(), "testdata", name)
}

// BuildC compiles testdata/<srcs[0]> (and any further sources, linked into
// the same binary) with gcc and the given flags, and returns the path of the
// result. Builds are cached per (sources, flags) for the life of the test
// binary; the files live in one temporary directory removed by Cleanup. The
// compiler version is logged once per build, for provenance.
func BuildC(tb testing.TB, flags BuildFlags, srcs ...string) string {
	tb.Helper()
	if len(srcs) == 0 {
		tb.Fatal("BuildC: no sources")
	}
	if _, err := exec.LookPath("gcc"); err != nil {
		tb.Skip("requirement not met: gcc is not installed")
	}
	fixtureMu.Lock()
	defer fixtureMu.Unlock()
	h := sha256.New()
	for _, s := range srcs {
		b, err := os.ReadFile(FixtureSource(s))
		if err != nil {
			tb.Fatalf("BuildC: %v", err)
		}
		fmt.Fprintf(h, "%s\x00%d\x00", s, len(b))
		h.Write(b)
	}
	key := fmt.Sprintf("%s|%s", hex.EncodeToString(h.Sum(nil))[:16], flags)
	if p, ok := fixtureCache[key]; ok {
		return p
	}
	if fixtureDir == "" {
		d, err := os.MkdirTemp("", "gperf-fixtures-")
		if err != nil {
			tb.Fatalf("BuildC: %v", err)
		}
		fixtureDir = d
	}
	base := strings.TrimSuffix(srcs[0], ".c")
	name := base + "-" + flags.String()
	if flags&Shared != 0 {
		name = "lib" + name + ".so"
	}
	dir := filepath.Join(fixtureDir, key[:16]+"-"+flags.String())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatalf("BuildC: %v", err)
	}
	out := filepath.Join(dir, name)
	args := flags.gccArgs()
	args = append(args, "-o", out)
	for _, s := range srcs {
		// Copy sources beside the binary so DW_AT_name paths are stable
		// and source lookups (perf probe -L) work from the build dir.
		b, _ := os.ReadFile(FixtureSource(s))
		if err := os.WriteFile(filepath.Join(dir, s), b, 0o644); err != nil {
			tb.Fatalf("BuildC: %v", err)
		}
		args = append(args, s)
	}
	cmd := exec.Command("gcc", args...)
	cmd.Dir = dir
	if msg, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("gcc %s: %v\n%s", strings.Join(args, " "), err, msg)
	}
	ver, _ := exec.Command("gcc", "--version").Output()
	tb.Logf("built %s: gcc %s (%s)", out, strings.Join(args, " "), strings.SplitN(string(ver), "\n", 2)[0])
	fixtureCache[key] = out
	return out
}

// Cleanup removes the fixtures built by BuildC and the binary built by
// Gperf. Call it from TestMain after m.Run, or use Main.
func Cleanup() {
	removeGperf()
	fixtureMu.Lock()
	defer fixtureMu.Unlock()
	if fixtureDir != "" && os.Getenv("GPERF_TEST_KEEP") == "" {
		os.RemoveAll(fixtureDir)
	}
	fixtureDir = ""
	fixtureCache = map[string]string{}
}
