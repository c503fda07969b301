// Package export converts the samples of a perf.data file into other
// formats: pprof's profile.proto (WritePprof), folded stacks (WriteFolded),
// JSON lines (WriteJSON) and interactive flame graphs (WriteFlameGraph, drawn
// by package flamegraph), including time off CPU computed from
// sched:sched_switch samples. docs/export.md describes the formats.
//
// Frames are named by script.Symbolizer, as gperf script (and perf script)
// name them. Samples are aggregated by raw callchain before symbolization,
// so each distinct stack is resolved once and large files stream through in
// bounded memory.
//
// # Security
//
// perf.data files, the tracepoint formats and raw data in them, and the ELF
// and DWARF files they name are untrusted: decoding errors are reported,
// field offsets and sizes are checked against the raw data, and panics in
// debug/elf and debug/dwarf are turned into missing symbols or lines.
package export
