// Package script prints the samples of a perf.data file exactly as
// `perf script` (perf 6.1) prints them, including the evaluation of each
// trace event's print fmt and the symbolization of addresses.
package script
