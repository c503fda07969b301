package tracefs_test

import (
	"testing"

	"github.com/gperf-dev/gperf/internal/testutil"
)

// TestMain fails the run if a test leaves a gperftest_ probe behind.
func TestMain(m *testing.M) { testutil.Main(m) }
