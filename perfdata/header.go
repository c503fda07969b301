package perfdata

import (
	"fmt"
	"math/bits"
)

// Magic numbers (tools/perf/util/header.c): "PERFILE2" as a little-endian
// u64; a big-endian file reads as magicSwapped.
const (
	magic        = 0x32454c4946524550 // "PERFILE2"
	magicSwapped = 0x50455246494c4532
)

// Header sizes: struct perf_file_header and struct perf_pipe_file_header.
const (
	fileHeaderSize = 104
	pipeHeaderSize = 16
)

// Section is struct perf_file_section: where a part of the file lies.
type Section struct {
	Offset, Size uint64
}

// FileHeader is struct perf_file_header.
type FileHeader struct {
	Size       uint64 // header size (104)
	AttrSize   uint64 // size of one attrs entry: perf_event_attr + ids section
	Attrs      Section
	Data       Section
	EventTypes Section // unused by perf since 2012, zero
	Features   FeatureSet
}

// FeatureSet is the adds_features bitmap (HEADER_FEAT_BITS = 256 bits).
type FeatureSet [4]uint64

// Has reports whether feature f is set.
func (s FeatureSet) Has(f Feature) bool { return f < 256 && s[f/64]&(1<<(f%64)) != 0 }

// Set sets feature f.
func (s *FeatureSet) Set(f Feature) {
	if f < 256 {
		s[f/64] |= 1 << (f % 64)
	}
}

// Clear clears feature f.
func (s *FeatureSet) Clear(f Feature) {
	if f < 256 {
		s[f/64] &^= 1 << (f % 64)
	}
}

// List returns the set features in bit order (the order of the feature
// section table).
func (s FeatureSet) List() []Feature {
	var l []Feature
	for i, w := range s {
		for w != 0 {
			b := bits.TrailingZeros64(w)
			l = append(l, Feature(i*64+b))
			w &^= 1 << b
		}
	}
	return l
}

// Feature is a header feature bit (enum HEADER_* in tools/perf/util/header.h).
type Feature uint32

// Features perf 6.1 knows.
const (
	FeatureReserved       Feature = 0
	FeatureTracingData    Feature = 1
	FeatureBuildID        Feature = 2
	FeatureHostname       Feature = 3
	FeatureOSRelease      Feature = 4
	FeatureVersion        Feature = 5
	FeatureArch           Feature = 6
	FeatureNrCPUs         Feature = 7
	FeatureCPUDesc        Feature = 8
	FeatureCPUID          Feature = 9
	FeatureTotalMem       Feature = 10
	FeatureCmdline        Feature = 11
	FeatureEventDesc      Feature = 12
	FeatureCPUTopology    Feature = 13
	FeatureNUMATopology   Feature = 14
	FeatureBranchStack    Feature = 15
	FeaturePMUMappings    Feature = 16
	FeatureGroupDesc      Feature = 17
	FeatureAuxtrace       Feature = 18
	FeatureStat           Feature = 19
	FeatureCache          Feature = 20
	FeatureSampleTime     Feature = 21
	FeatureMemTopology    Feature = 22
	FeatureClockID        Feature = 23
	FeatureDirFormat      Feature = 24
	FeatureBPFProgInfo    Feature = 25
	FeatureBPFBTF         Feature = 26
	FeatureCompressed     Feature = 27
	FeatureCPUPMUCaps     Feature = 28
	FeatureClockData      Feature = 29
	FeatureHybridTopology Feature = 30
	FeaturePMUCaps        Feature = 31
	// FeatureLast is HEADER_LAST_FEATURE (perf 6.1): features are below it;
	// in pipe mode an empty HEADER_FEATURE record for it ends the features.
	FeatureLast Feature = 32
)

var featureNames = [...]string{
	"RESERVED", "TRACING_DATA", "BUILD_ID", "HOSTNAME", "OSRELEASE", "VERSION", "ARCH",
	"NRCPUS", "CPUDESC", "CPUID", "TOTAL_MEM", "CMDLINE", "EVENT_DESC", "CPU_TOPOLOGY",
	"NUMA_TOPOLOGY", "BRANCH_STACK", "PMU_MAPPINGS", "GROUP_DESC", "AUXTRACE", "STAT",
	"CACHE", "SAMPLE_TIME", "MEM_TOPOLOGY", "CLOCKID", "DIR_FORMAT", "BPF_PROG_INFO",
	"BPF_BTF", "COMPRESSED", "CPU_PMU_CAPS", "CLOCK_DATA", "HYBRID_TOPOLOGY", "PMU_CAPS",
}

// String returns perf's name of the feature, e.g. "HOSTNAME".
func (f Feature) String() string {
	if int(f) < len(featureNames) {
		return featureNames[f]
	}
	return fmt.Sprintf("FEATURE_%d", uint32(f))
}

func decodeFileHeader(d *decoder) FileHeader {
	var h FileHeader
	d.u64() // magic, checked by the caller
	h.Size = d.u64()
	h.AttrSize = d.u64()
	h.Attrs = Section{d.u64(), d.u64()}
	h.Data = Section{d.u64(), d.u64()}
	h.EventTypes = Section{d.u64(), d.u64()}
	for i := range h.Features {
		h.Features[i] = d.u64()
	}
	return h
}

func (h *FileHeader) encode(e *encoder) {
	e.u64(magic)
	e.u64(fileHeaderSize)
	e.u64(h.AttrSize)
	e.u64(h.Attrs.Offset)
	e.u64(h.Attrs.Size)
	e.u64(h.Data.Offset)
	e.u64(h.Data.Size)
	e.u64(h.EventTypes.Offset)
	e.u64(h.EventTypes.Size)
	for _, w := range h.Features {
		e.u64(w)
	}
}
