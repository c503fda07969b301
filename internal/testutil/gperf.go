package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	gperfOnce sync.Once
	gperfPath string
	gperfOut  []byte
	gperfErr  error
)

// Gperf returns the path of a static gperf binary built from this tree,
// once per test binary, so tests drive the command line users type. The
// binary is removed by Cleanup (Main calls it).
func Gperf(tb testing.TB) string {
	tb.Helper()
	gperfOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gperf-bin-")
		if err != nil {
			gperfErr = err
			return
		}
		gperfPath = filepath.Join(dir, "gperf")
		cmd := exec.Command("go", "build", "-tags", "urfave_cli_no_docs", "-o", gperfPath, ".")
		cmd.Dir = RepoRoot()
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		gperfOut, gperfErr = cmd.CombinedOutput()
	})
	if gperfErr != nil {
		tb.Fatalf("build gperf: %v\n%s", gperfErr, gperfOut)
	}
	return gperfPath
}

func removeGperf() {
	if gperfPath != "" && os.Getenv("GPERF_TEST_KEEP") == "" {
		os.RemoveAll(filepath.Dir(gperfPath))
	}
}
