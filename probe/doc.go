// Package probe turns perf probe specs (`FUNC:LINE var->field`) into
// kprobe/uprobe definitions using the DWARF resolver in dwarfline, and adds,
// lists and deletes them through tracefs.
//
// Resolving a spec is pure: it reads a binary and returns definitions,
// needing no privileges; only Add, Delete and List touch the kernel.
//
// The pieces, as perf 6.1's tools/perf/util/probe-event.c:
//
//   - ParseSpec and ParseArg: the PROBE and ARG grammar, with perf's
//     "Semantic error :..." messages (SemanticError).
//   - Resolve, ShowDefinitions (-D) and Add: definitions from DWARF, else
//     from the symbol table, named as perf names events (FUNC_L<line>,
//     FUNC__return, _N on collisions, probe_<binary> groups), written as
//     perf writes them (Definition.String). Add removes what it added when
//     the kernel refuses a later definition.
//   - List (-l) and Delete (-d): the kernel's probes matched with perf's
//     string filters (ParseFilter), listed back as source places.
//   - Report: an error as perf prints it, and perf's exit status.
//
// # Security
//
// Binaries, their DWARF and the source files lazy patterns read are
// untrusted: malformed input is an error, never a panic. Definitions are
// written only to the tracefs given in Options (or the system's).
package probe
