package probe

import (
	"debug/elf"
	"strings"
)

// textRelative places the running kernel's probes relative to _text as
// perf does (post_process_kernel_probe_trace_events and
// find_probe_trace_events_from_map in tools/perf/util/probe-event.c):
// perf writes _text+OFF for every kernel probe unless the kernel is an
// offline vmlinux, which is what -k VMLINUX is for every command but
// --add, --list and --del (builtin-probe.c sets ignore_vmlinux_buildid).
// So -k VMLINUX -a writes _text+OFF, -k VMLINUX -D writes func+off. A
// return probe keeps its symbol when the kernel cannot take an offset
// for a kretprobe (README). OFF is counted from the vmlinux's own _text:
// the kernel adds its relocation to both.
func (t *target) textRelative(evs []Event, o *Options, adding bool) {
	if t.uprobe || t.module != "" || t.bin == nil || t.bin.f.Type == elf.ET_REL {
		return
	}
	if !t.online && !adding {
		return
	}
	t.bin.symbols()
	text := t.bin.text
	if text == 0 {
		return
	}
	for _, ev := range evs {
		d := ev.Def
		if d.Uprobe || d.Path != "" || d.Symbol == "_text" || strings.HasPrefix(d.Symbol, "0x") || d.VAddr < text {
			continue
		}
		if d.Return && !strings.Contains(o.readme(), "place (kretprobe): ") {
			continue
		}
		d.Symbol, d.Offset = "_text", d.VAddr-text
	}
}
