// Package record opens perf_event ring buffers for a set of events and
// targets (a workload, pids, tids or all CPUs), drains them, and writes a
// perf.data file with package perfdata that real perf reads.
//
// Run takes a `perf record` command line as Options and does what perf 6.1
// does with it: the attrs (sample_type, read_format, flags, the dummy
// tracking event of CPU targets) are evsel__config's, so `perf evlist -v`
// prints the same for both files; the workload is forked and held before
// exec until its events are open (enable_on_exec); the records synthesized
// before the data (ID_INDEX, the kernel map, thread and CPU maps, COMM,
// FORK and MMAP2 of running processes) and the header features are
// perf's.
//
// Where it differs is how the rings are drained. Each CPU's ring has its
// own reader goroutine on a thread pinned to that CPU; it copies whatever
// the kernel published and hands the ring space back at once, and a writer
// goroutine writes the copies with FINISHED_ROUND markers placed so that
// perf's ordered-event queue never sees an event older than what it has
// flushed. Privileged sessions get larger rings by default. A killed gperf
// leaves a file perf reads up to the last flush (see output.provisional).
//
// # Security
//
// Run needs the privileges perf needs (CAP_PERFMON or a low
// perf_event_paranoid; tracefs access for tracepoints). What it reads from
// the kernel (rings, /proc, tracefs) is trusted to be well-formed, but ring
// records are still bounds-checked before use, and ELF files mapped by
// traced processes are parsed defensively for their build-ids.
package record
