package testutil

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
)

// GroupPrefix starts the name of every probe group a test creates, so leak
// checks can find what tests left behind without touching anyone else's.
const GroupPrefix = "gperftest_"

var (
	issuedMu sync.Mutex
	issued   = map[string]bool{}
)

// Group returns a fresh probe group name for one test. Main checks the
// groups handed out here, and only those: test binaries of other packages
// may run at the same time (go test ./... runs packages in parallel) and
// their probes are not ours to report or remove.
func Group(tb testing.TB) string {
	b := make([]byte, 4)
	rand.Read(b)
	g := GroupPrefix + hex.EncodeToString(b)
	issuedMu.Lock()
	issued[g] = true
	issuedMu.Unlock()
	return g
}

// ownLeaks keeps the definitions of groups this test binary handed out.
func ownLeaks(defs []string) []string {
	issuedMu.Lock()
	defer issuedMu.Unlock()
	var own []string
	for _, d := range defs {
		_, def, _ := strings.Cut(d, ": ")
		f := strings.Fields(def)
		if len(f) == 0 {
			continue
		}
		_, ev, _ := strings.Cut(f[0], ":")
		group, _, _ := strings.Cut(ev, "/")
		if issued[group] {
			own = append(own, d)
		}
	}
	return own
}

// Main runs the tests, removes built fixtures, and fails the run if any
// probe group this binary got from Group is left in uprobe_events or
// kprobe_events (after removing them, so one leak does not poison the next
// run). Use it as: func TestMain(m *testing.M) { testutil.Main(m) }.
func Main(m *testing.M) {
	code := m.Run()
	Cleanup()
	if left := ownLeaks(LeakedProbes()); len(left) > 0 {
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
