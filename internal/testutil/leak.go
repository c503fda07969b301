package testutil

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"
)

// GroupPrefix starts the name of every probe group a test creates, so leak
// checks can find what tests left behind without touching anyone else's.
const GroupPrefix = "gperftest_"

// Group returns a fresh probe group name for one test.
func Group(tb testing.TB) string {
	b := make([]byte, 4)
	rand.Read(b)
	return GroupPrefix + hex.EncodeToString(b)
}

// Main runs the tests, removes built fixtures, and fails the run if any
// probe group starting with GroupPrefix is left in uprobe_events or
// kprobe_events (after removing them, so one leak does not poison the next
// run). Use it as: func TestMain(m *testing.M) { testutil.Main(m) }.
func Main(m *testing.M) {
	code := m.Run()
	Cleanup()
	if left := LeakedProbes(); len(left) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: probes left behind by tests: %s\n", strings.Join(left, "; "))
		removeProbes(left)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// LeakedProbes lists the definitions of test groups still in the kernel.
func LeakedProbes() []string {
	var left []string
	for _, f := range []string{"uprobe_events", "kprobe_events"} {
		b, err := os.ReadFile(TracingDir + "/" + f)
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(b), "\n") {
			if i := strings.IndexByte(l, ':'); i >= 0 && strings.HasPrefix(l[i+1:], GroupPrefix) {
				left = append(left, f+": "+l)
			}
		}
	}
	return left
}

func removeProbes(defs []string) {
	for _, d := range defs {
		file, def, _ := strings.Cut(d, ": ")
		name := strings.Fields(def)[0] // p:group/event
		_, ev, _ := strings.Cut(name, ":")
		f, err := os.OpenFile(TracingDir+"/"+file, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			continue
		}
		f.WriteString("-:" + ev + "\n")
		f.Close()
	}
}
