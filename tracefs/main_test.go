package tracefs_test

import (
	"os"
	"testing"

	"github.com/gperf-dev/gperf/internal/testutil"
)

// TestMain fails the run if a test leaves a gperftest_ probe behind. Run
// with childEnv set, the test binary is instead a child of TestOpenMount in
// a private mount namespace.
func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		os.Exit(mountChild(mode))
	}
	testutil.Main(m)
}
