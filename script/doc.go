// Package script prints the samples of a perf.data file exactly as
// `perf script` (perf 6.1) prints them, including the evaluation of each
// trace event's print fmt and the symbolization of addresses.
//
// Run is the whole command. The parts are reusable: CompilePrintFmt
// evaluates a tracepoint's print fmt as libtraceevent does, and
// Symbolizer resolves sample and callchain addresses to symbols and DSOs
// as perf does (MMAP/MMAP2 records, ELF .symtab/.dynsym with debug files
// found by build ID, kallsyms for the kernel).
//
// # Security
//
// perf.data files, the format texts in their tracing data and the ELF
// files they name are untrusted: print fmts are parsed with bounded
// recursion and evaluated with bounds-checked reads, widths taken from
// formats or records are capped, and debug/elf panics are turned into
// missing symbols. A file owned by another user is refused unless Force
// is set, as perf does.
package script
