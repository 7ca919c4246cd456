package main

import (
	"strings"
	"testing"
)

func TestParseMemInfo(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"MemTotal:       24576000 kB\nMemFree:        1000 kB\n", 24576000 * 1024},
		{"MemFree:        1000 kB\nMemTotal:  2048 kB\n", 2048 * 1024},
		{"MemFree:        1000 kB\n", 0},
		{"MemTotal: lots kB\n", 0},
		{"", 0},
	}
	for _, tt := range tests {
		if got := parseMemInfo(strings.NewReader(tt.in)); got != tt.want {
			t.Errorf("parseMemInfo(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestParseCgroupMax(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"max\n", 0},
		{"8589934592\n", 8589934592},
		{"", 0},
		{"-1", 0},
	}
	for _, tt := range tests {
		if got := parseCgroupMax(tt.in); got != tt.want {
			t.Errorf("parseCgroupMax(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

// TestLimitMemoryLeavesGOMEMLIMIT checks that an operator's GOMEMLIMIT wins
// over the default.
func TestLimitMemoryLeavesGOMEMLIMIT(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "1GiB")
	// The runtime read GOMEMLIMIT at start, before t.Setenv: what matters
	// is that limitMemory does not replace the limit in force.
	before := limitMemory()
	if after := limitMemory(); after != before {
		t.Errorf("limit moved from %d to %d with GOMEMLIMIT set", before, after)
	}
}

func TestMemTotalIsThisMachines(t *testing.T) {
	if n := memTotal(); n < 64<<20 {
		t.Errorf("memTotal() = %d: this machine has more than 64 MiB", n)
	}
}
