// Package tracefs finds (and mounts) the kernel's tracefs, detects its
// features, reads event formats, and adds, removes and enables kprobe and
// uprobe events, turning the kernel's refusals into errors that carry its
// error_log explanation.
package tracefs
