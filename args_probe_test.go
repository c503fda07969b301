package main

import (
	"reflect"
	"testing"
)

// TestNormalizeProbe pins how perf's parse-options reads probe options:
// clustered short options, values glued to a short option, the optional
// values of -l and -F (taken only when the next argument does not start
// with '-'), and fetch-args starting with '-' inside a definition.
func TestNormalizeProbe(t *testing.T) {
	tests := []struct {
		in, want []string
	}{
		{[]string{"-nvx/bin", "f"}, []string{"-n", "-v", "-x", "/bin", "f"}},
		{[]string{"-l"}, []string{"--list="}},
		{[]string{"-l", "grp:*"}, []string{"--list=grp:*"}},
		{[]string{"-l", "-v"}, []string{"--list=", "-v"}},
		{[]string{"-lgrp:*"}, []string{"--list=grp:*"}},
		{[]string{"--list=a", "--list", "b"}, []string{"--list=a", "--list=b"}},
		{[]string{"-x", "bin", "-F"}, []string{"-x", "bin", "--funcs="}},
		{[]string{"-x", "bin", "-F", "ldlm_*"}, []string{"-x", "bin", "--funcs=ldlm_*"}},
		{[]string{"-x", "bin", "f", "-8(%bp):s32", "-n"}, []string{"-x", "bin", "f", "-8(%bp):s32", "-n"}},
		{[]string{"-d", "-x"}, []string{"-d", "-x"}},
	}
	for _, tt := range tests {
		got := normalizeProbe(tt.in)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("normalizeProbe(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	got := preprocessArgs([]string{"gperf", "probe", "-x", "bin", "f", "-8(%bp)", "-n", "--max-probes", "3"})
	want := []string{"gperf", "probe", "-x", "bin", "-n", "--max-probes", "3", "--", "f", "-8(%bp)"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("preprocessArgs = %q, want %q", got, want)
	}
}
