// Package record opens perf_event ring buffers for a set of events and
// targets (a workload, pids, tids or all CPUs), drains them, and writes a
// perf.data file with package perfdata that real perf reads.
package record
