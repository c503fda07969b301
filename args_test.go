package main

import (
	"reflect"
	"testing"
)

func TestPermute(t *testing.T) {
	tests := []struct {
		in, want []string
	}{
		{[]string{"-x", "bin", "f:8", "var", "-n"}, []string{"-x", "bin", "-n", "--", "f:8", "var"}},
		{[]string{"f", "-V", "f:3"}, []string{"-V", "f:3", "--", "f"}},
		{[]string{"-d", "probe:*"}, []string{"-d", "probe:*"}},
		{[]string{"-nv", "-x", "b", "f", "--", "-notaflag"}, []string{"-nv", "-x", "b", "--", "f", "-notaflag"}},
		{[]string{"f", "+16(%di):u32"}, []string{"--", "f", "+16(%di):u32"}},
		{[]string{"f", "-1"}, []string{"--", "f", "-1"}},
		{nil, nil},
	}
	for _, tt := range tests {
		got := permute(tt.in, probeValueFlags)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("permute(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
