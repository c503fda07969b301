package script

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gperf-dev/gperf/perfdata"
)

// featureNames are perf 6.1's feat_ops names (tools/perf/util/header.c),
// indexed by feature bit.
var featureNames = []string{
	"", "TRACING_DATA", "BUILD_ID", "HOSTNAME", "OSRELEASE", "VERSION", "ARCH", "NRCPUS",
	"CPUDESC", "CPUID", "TOTAL_MEM", "CMDLINE", "EVENT_DESC", "CPU_TOPOLOGY", "NUMA_TOPOLOGY",
	"BRANCH_STACK", "PMU_MAPPINGS", "GROUP_DESC", "AUXTRACE", "STAT", "CACHE", "SAMPLE_TIME",
	"MEM_TOPOLOGY", "CLOCKID", "DIR_FORMAT", "BPF_PROG_INFO", "BPF_BTF", "COMPRESSED",
	"CPU_PMU_CAPS", "CLOCK_DATA", "HYBRID_TOPOLOGY", "HYBRID_CPU_PMU_CAPS",
}

// appendHeader prints the file header as perf_header__fprintf_info does
// without -I (--header, --header-only). path names the input, for the
// "captured on" time (its modification time).
func appendHeader(b []byte, f *perfdata.File, path string) []byte {
	b = append(b, "# ========\n"...)
	mtime := time.Now()
	if st, err := os.Stat(path); err == nil && path != "-" {
		mtime = st.ModTime()
	}
	b = append(b, "# captured on    : "...)
	b = append(b, mtime.Format("Mon Jan _2 15:04:05 2006")...)
	b = append(b, '\n')
	h := f.Header
	if f.Pipe {
		b = append(b, "# header version : 1\n# data offset    : 0\n# data size      : 0\n# feat offset    : 0\n"...)
		return append(b, "# ========\n#\n"...)
	}
	b = fmt.Appendf(b, "# header version : 1\n# data offset    : %d\n# data size      : %d\n# feat offset    : %d\n",
		h.Data.Offset, h.Data.Size, h.Data.Offset+h.Data.Size)
	ft := &f.Features
	for feat := 1; feat < len(featureNames); feat++ {
		if !h.Features.Has(perfdata.Feature(feat)) {
			continue
		}
		b = appendFeature(b, f, feat)
	}
	b = append(b, "# missing features: "...)
	for feat := 1; feat < len(featureNames); feat++ {
		if !h.Features.Has(perfdata.Feature(feat)) {
			b = append(b, featureNames[feat]...)
			b = append(b, ' ')
		}
	}
	_ = ft
	b = append(b, '\n')
	return append(b, "# ========\n#\n"...)
}

func appendFeature(b []byte, f *perfdata.File, feat int) []byte {
	ft := &f.Features
	switch perfdata.Feature(feat) {
	case perfdata.FeatureHostname:
		b = fmt.Appendf(b, "# hostname : %s\n", ft.Hostname)
	case perfdata.FeatureOSRelease:
		b = fmt.Appendf(b, "# os release : %s\n", ft.OSRelease)
	case perfdata.FeatureVersion:
		b = fmt.Appendf(b, "# perf version : %s\n", ft.Version)
	case perfdata.FeatureArch:
		b = fmt.Appendf(b, "# arch : %s\n", ft.Arch)
	case perfdata.FeatureNrCPUs:
		if ft.NrCPUs != nil {
			b = fmt.Appendf(b, "# nrcpus online : %d\n# nrcpus avail : %d\n", ft.NrCPUs.Online, ft.NrCPUs.Available)
		}
	case perfdata.FeatureCPUDesc:
		b = fmt.Appendf(b, "# cpudesc : %s\n", ft.CPUDesc)
	case perfdata.FeatureCPUID:
		b = fmt.Appendf(b, "# cpuid : %s\n", ft.CPUID)
	case perfdata.FeatureTotalMem:
		b = fmt.Appendf(b, "# total memory : %d kB\n", ft.TotalMem)
	case perfdata.FeatureCmdline:
		b = append(b, "# cmdline : "...)
		for _, a := range ft.Cmdline {
			b = append(b, strings.ReplaceAll(a, "'", `\'`)...)
			b = append(b, ' ')
		}
		b = append(b, '\n')
	case perfdata.FeatureEventDesc:
		if len(ft.EventDesc) > 0 {
			for _, d := range ft.EventDesc {
				if d.Attr != nil {
					b = appendEventDesc(b, d.Attr, d.Name, d.IDs)
				}
			}
		} else {
			for _, a := range f.Attrs {
				b = appendEventDesc(b, a, a.Name, a.IDs)
			}
		}
	case perfdata.FeatureCPUTopology, perfdata.FeatureNUMATopology, perfdata.FeatureCache, perfdata.FeatureMemTopology:
		b = fmt.Appendf(b, "# %s info available, use -I to display\n", featureNames[feat])
	case perfdata.FeatureBranchStack:
		b = append(b, "# contains samples with branch stack\n"...)
	case perfdata.FeatureAuxtrace:
		b = append(b, "# contains AUX area data (e.g. instruction trace)\n"...)
	case perfdata.FeatureStat:
		b = append(b, "# contains stat data\n"...)
	case perfdata.FeaturePMUMappings:
		if len(ft.PMUMappings) == 0 {
			return append(b, "# pmu mappings: not available\n"...)
		}
		delim := "# pmu mappings: "
		for _, m := range ft.PMUMappings {
			b = fmt.Appendf(b, "%s%s = %d", delim, m.Name, m.Type)
			delim = ", "
		}
		b = append(b, '\n')
	case perfdata.FeatureSampleTime:
		if st := ft.SampleTime; st != nil {
			b = append(b, "# time of first sample : "...)
			b = appendUsec(b, st.First)
			b = append(b, "\n# time of last sample : "...)
			b = appendUsec(b, st.Last)
			b = fmt.Appendf(b, "\n# sample duration : %10.3f ms\n", float64(st.Last-st.First)/1e6)
		}
	case perfdata.FeatureClockID:
		b = fmt.Appendf(b, "# clockid frequency: %d MHz\n", ft.ClockID*1000)
	case perfdata.FeatureDirFormat:
		if ft.DirFormat != nil {
			b = fmt.Appendf(b, "# directory data version : %d\n", *ft.DirFormat)
		}
	case perfdata.FeatureCompressed:
		if c := ft.Compressed; c != nil {
			kind := "Unknown"
			if c.Type == 1 {
				kind = "Zstd"
			}
			b = fmt.Appendf(b, "# compressed : %s, level = %d, ratio = %d\n", kind, c.Level, c.Ratio)
		}
	case perfdata.FeatureCPUPMUCaps:
		if len(ft.CPUPMUCaps) == 0 {
			return append(b, "# cpu pmu capabilities: not available\n"...)
		}
		delim := "# cpu pmu capabilities: "
		for _, c := range ft.CPUPMUCaps {
			b = fmt.Appendf(b, "%s%s=%s", delim, c.Name, c.Value)
			delim = ", "
		}
		b = append(b, '\n')
	}
	return b
}

func appendUsec(b []byte, ns uint64) []byte {
	b = strconv.AppendUint(b, ns/1e9, 10)
	b = append(b, '.')
	return appendZeroPad(b, ns%1e9/1000, 6)
}

var sampleTypeNames = []string{"IP", "TID", "TIME", "ADDR", "READ", "CALLCHAIN", "ID", "CPU", "PERIOD",
	"STREAM_ID", "RAW", "BRANCH_STACK", "REGS_USER", "STACK_USER", "WEIGHT", "DATA_SRC", "IDENTIFIER",
	"TRANSACTION", "REGS_INTR", "PHYS_ADDR", "AUX", "CGROUP", "DATA_PAGE_SIZE", "CODE_PAGE_SIZE", "WEIGHT_STRUCT"}

var readFormatNames = []string{"TOTAL_TIME_ENABLED", "TOTAL_TIME_RUNNING", "ID", "GROUP", "LOST"}

// attrFlagNames are the perf_event_attr bitfields in perf_event_attr__fprintf's
// order with their bit positions (precise_ip is two bits at 15).
var attrFlagNames = []struct {
	name string
	bit  uint
}{
	{"disabled", 0}, {"inherit", 1}, {"pinned", 2}, {"exclusive", 3}, {"exclude_user", 4},
	{"exclude_kernel", 5}, {"exclude_hv", 6}, {"exclude_idle", 7}, {"mmap", 8}, {"comm", 9},
	{"freq", 10}, {"inherit_stat", 11}, {"enable_on_exec", 12}, {"task", 13}, {"watermark", 14},
	{"precise_ip", 15}, {"mmap_data", 17}, {"sample_id_all", 18}, {"exclude_host", 19},
	{"exclude_guest", 20}, {"exclude_callchain_kernel", 21}, {"exclude_callchain_user", 22},
	{"mmap2", 23}, {"comm_exec", 24}, {"use_clockid", 25}, {"context_switch", 26},
	{"write_backward", 27}, {"namespaces", 28}, {"ksymbol", 29}, {"bpf_event", 30},
	{"aux_output", 31}, {"cgroup", 32}, {"text_poke", 33}, {"build_id", 34},
	{"inherit_thread", 35}, {"remove_on_exec", 36}, {"sigtrap", 37},
}

func appendBits(b []byte, v uint64, names []string) []byte {
	first := true
	for i, n := range names {
		if v&(1<<uint(i)) == 0 {
			continue
		}
		if !first {
			b = append(b, '|')
		}
		b = append(b, n...)
		first = false
		v &^= 1 << uint(i)
	}
	if v != 0 {
		if !first {
			b = append(b, '|')
		}
		b = fmt.Appendf(b, "%#x", v)
	}
	return b
}

// appendEventDesc is print_event_desc's line for one event: the name,
// ids and the non-zero perf_event_attr fields (perf_event_attr__fprintf).
func appendEventDesc(b []byte, a *perfdata.EventAttr, name string, ids []uint64) []byte {
	b = fmt.Appendf(b, "# event : name = %s, ", name)
	if len(ids) > 0 {
		b = append(b, ", id = {"...)
		for i, id := range ids {
			if i > 0 {
				b = append(b, ',')
			}
			b = fmt.Appendf(b, " %d", id)
		}
		b = append(b, " }"...)
	}
	kv := func(name, val string) { b = fmt.Appendf(b, ", %s = %s", name, val) }
	u := func(name string, v uint64) {
		if v != 0 {
			kv(name, strconv.FormatUint(v, 10))
		}
	}
	x := func(name string, v uint64) {
		if v != 0 {
			kv(name, altHex(v))
		}
	}
	u("type", uint64(a.Type))
	u("size", uint64(a.Size))
	x("config", a.Config)
	u("{ sample_period, sample_freq }", a.SamplePeriod)
	if a.SampleType != 0 {
		kv("sample_type", string(appendBits(nil, uint64(a.SampleType), sampleTypeNames)))
	}
	if a.ReadFormat != 0 {
		kv("read_format", string(appendBits(nil, uint64(a.ReadFormat), readFormatNames)))
	}
	for _, fl := range attrFlagNames {
		v := uint64(a.Flags) >> fl.bit & 1
		if fl.name == "precise_ip" {
			v = uint64(a.Flags) >> fl.bit & 3
		}
		u(fl.name, v)
	}
	u("{ wakeup_events, wakeup_watermark }", uint64(a.WakeupEvents))
	u("bp_type", uint64(a.BPType))
	x("{ bp_addr, config1 }", a.Config1)
	x("{ bp_len, config2 }", a.Config2)
	if a.BranchSampleType != 0 {
		kv("branch_sample_type", altHex(a.BranchSampleType))
	}
	x("sample_regs_user", a.SampleRegsUser)
	u("sample_stack_user", uint64(a.SampleStackUser))
	if a.ClockID != 0 {
		kv("clockid", strconv.Itoa(int(a.ClockID)))
	}
	x("sample_regs_intr", a.SampleRegsIntr)
	u("aux_watermark", uint64(a.AuxWatermark))
	u("sample_max_stack", uint64(a.SampleMaxStack))
	u("aux_sample_size", uint64(a.AuxSampleSize))
	u("sig_data", a.SigData)
	return append(b, '\n')
}
