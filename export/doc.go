// Package export converts the samples of a perf.data file into other
// formats: pprof's profile.proto, folded stacks and JSON lines.
package export
