// Package dwarfline resolves functions, source lines, variables and types
// in an ELF file's DWARF, and translates variable locations into
// kprobe/uprobe fetch-args, with the rules of perf 6.1's probe finder
// (tools/perf/util/probe-finder.c and dwarf-aux.c) where perf is right.
//
// The API, in the order probe uses it:
//
//	b, err := dwarfline.Open(path)            // ELF + DWARF 4/5, build-id, symbols
//	lr, err := b.FindLineRange(spec)          // perf -L: probeable lines
//	ps, err := b.Resolve(dwarfline.PointSpec{...}) // probe addresses of a point
//	vars, err := b.Vars(p, externs)           // perf -V at one address
//	names, err := b.ScopeVars(p, locals)      // $params / $vars expansion
//	fa, err := b.TranslateArg(p, dwarfline.ArgSpec{...}, opts) // var->field -> fetch-arg
//	off, err := b.FileOffset(p.Addr)          // uprobe offset
//	loc, err := b.PointAt(addr)               // address back to FUNC:LINE (perf -l)
//	syms, err := b.Symbols()                  // --funcs, SymbolAt, SymbolAddr; SymbolsIn(".text")
//	fns, err := b.FindFuncs(name, file)       // definitions and inlined instances
//
// Big files are mapped, not read; units are listed from their headers and
// decoded one by one (a debug/dwarf Data each) when a query needs them; a
// skimmer that reads only tags, names and siblings picks the units that
// define a function, in parallel, releasing the pages it read. A vmlinux
// query costs a fraction of perf's time and memory. Kernel modules
// (ET_REL) are laid out section by section and their debug sections
// relocated, as libdwfl does for perf.
//
// Errors wrap ErrNoDWARF, ErrNotFound, ErrNoLocation, ErrNotSupported or
// ErrInvalid; argument failures are *ArgError carrying perf's message,
// shared lines are *SharedLineError.
//
// Where gperf departs from perf 6.1 on purpose (docs/compat.md): computed
// locations (DW_OP_stack_value) are never loaded from memory, DWARF 5
// bitfields (DW_AT_data_bit_offset) are fetched, DWARF 4 bit offsets are
// converted to the kernel's least-significant-bit numbering, globals in
// uprobes are @+FILEOFFSET, and constants and entry values are fetched when
// they can be.
//
// # Security
//
// Input binaries are not trusted: malformed DWARF or ELF yields an error,
// never a panic.
package dwarfline
