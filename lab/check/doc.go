// Command check reads what the kernel lab's guest sent back (lab/run.sh,
// lab/guest.sh) and prints the per-step PASS/FAIL table: gperf's outputs
// against perf 6.1's from the same guest, and the values both recorded
// against what the probed module itself printed.
//
// Usage: go run ./lab/check OUTDIR
//
// The exit status is 1 when any gperf check fails, 2 when the outputs
// cannot be read.
package main
