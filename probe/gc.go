package probe

import (
	"os"
	"runtime/debug"
)

// oneShot tunes the collector for a command that reads a binary once and
// exits: the heap of a query is mostly live until the end (units, lines,
// the resolved scopes), so collecting at each doubling of a small heap
// costs time (a third of a -V on a 15 MB program) and frees little. Peak
// RSS grows by a few hundred KiB on small programs and stays well under
// perf's on a vmlinux. A GOGC in the environment wins.
func oneShot() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}
