// Package perfdata reads and writes the perf.data file format of Linux
// perf (tools/perf/util/header.c, include/uapi/linux/perf_event.h), in file
// and pipe mode, streaming records with bounded memory.
//
// # Security
//
// perf.data files may come from other users and machines: every size and
// count read from a file is checked before use, and malformed input yields a
// *FormatError naming the section and offset, never a panic.
package perfdata
