// Package flamegraph draws folded stacks (CPU or off-CPU) as one
// self-contained interactive SVG, in the spirit of flamegraph.pl: frames
// sized by weight, merged by stack and sorted by name, coloured by kind
// (user, kernel, inlined), with hover details, click to zoom and a search
// box, all in inline JavaScript so nothing is fetched when it is opened.
//
// Stacks accumulates weighted stacks (Add, or ParseFolded from folded text)
// and writes them back as folded lines (WriteFolded); Render draws them.
//
// # Security
//
// Folded input is untrusted: ParseFolded reports malformed lines by number,
// and names are escaped for XML when drawn.
package flamegraph
