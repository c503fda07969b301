// Package perfdata reads and writes the perf.data file format of Linux
// perf (tools/perf/util/header.c, include/uapi/linux/perf_event.h), in file
// and pipe mode, streaming records with bounded memory.
//
// Reading:
//
//	f, err := perfdata.Open("perf.data") // file or pipe mode
//	defer f.Close()
//	// f.Attrs: events with IDs and names; f.Features: header sections.
//	r := f.Records(perfdata.ReaderOptions{TimeOrder: true}) // as perf script
//	for {
//		rec, err := r.Next() // io.EOF at the end
//		...
//		switch rec := rec.(type) {
//		case *perfdata.Sample: // rec.Attr, rec.IP, rec.Callchain, rec.Raw, ...
//		case *perfdata.Comm, *perfdata.Mmap2, ...:
//		}
//	}
//
// Records returned by Next are reused by the next call. NewFile reads from
// an io.ReaderAt, NewPipe from an io.Reader (perf record -o -).
//
// Writing: Create or NewWriter write the header, IDs and attrs; records go
// through WriteRecord or, already encoded, WriteRaw; Flush makes what was
// written readable by perf should the writer die; Close writes the feature
// sections and the final header. NewPipeWriter writes pipe mode.
//
// # Security
//
// perf.data files may come from other users and machines: every size and
// count read from a file is checked before use, and malformed input yields a
// *FormatError naming the section and offset, never a panic.
package perfdata
