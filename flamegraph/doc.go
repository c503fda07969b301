// Package flamegraph draws folded stacks (CPU or off-CPU) as one
// self-contained interactive SVG, in the spirit of flamegraph.pl.
package flamegraph
