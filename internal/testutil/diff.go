package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Diff returns a unified diff of want and got (empty when equal), computed
// by diff(1).
func Diff(wantName, want, gotName, got string) string {
	if want == got {
		return ""
	}
	dir, err := os.MkdirTemp("", "gperf-diff-")
	if err != nil {
		return "cannot diff: " + err.Error()
	}
	defer os.RemoveAll(dir)
	a, b := filepath.Join(dir, "want"), filepath.Join(dir, "got")
	os.WriteFile(a, []byte(want), 0o644)
	os.WriteFile(b, []byte(got), 0o644)
	out, _ := exec.Command("diff", "-u", "--label", wantName, "--label", gotName, a, b).CombinedOutput()
	const max = 8000
	if len(out) > max {
		out = append(out[:max], "\n... (diff truncated)\n"...)
	}
	return string(out)
}

// Same fails the test with a unified diff when got differs from want. With
// GPERF_TEST_KEEP set, both texts are kept in files named in the failure.
func Same(tb testing.TB, what, wantName, want, gotName, got string) {
	tb.Helper()
	d := Diff(wantName, want, gotName, got)
	if d == "" {
		return
	}
	msg := what + ": outputs differ\n" + d
	if os.Getenv("GPERF_TEST_KEEP") != "" {
		if dir, err := os.MkdirTemp("", "gperf-keep-"); err == nil {
			os.WriteFile(filepath.Join(dir, "want"), []byte(want), 0o644)
			os.WriteFile(filepath.Join(dir, "got"), []byte(got), 0o644)
			msg += "\nkept in " + dir
		}
	}
	tb.Fatal(msg)
}
