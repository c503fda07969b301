// Package dwarfline resolves functions, source lines, variables and types
// in an ELF file's DWARF, and translates variable locations into
// kprobe/uprobe fetch-args.
//
// # Security
//
// Input binaries are not trusted: malformed DWARF or ELF yields an error,
// never a panic.
package dwarfline
