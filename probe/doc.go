// Package probe turns perf probe specs (`FUNC:LINE var->field`) into
// kprobe/uprobe definitions using the DWARF resolver in dwarfline, and adds,
// lists and deletes them through tracefs.
//
// Resolving a spec is pure: it reads a binary and returns definitions,
// needing no privileges; only Add, Delete and List touch the kernel.
package probe
