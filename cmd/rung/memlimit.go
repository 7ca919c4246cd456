package main

import (
	"bufio"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"

	"github.com/rung-dev/rung/internal/hugeheap"
)

// limitMemory gives the Go runtime a soft memory limit of three quarters
// of the machine's memory (or of the cgroup's limit, when lower) unless
// GOMEMLIMIT is set, and returns the limit in force in bytes (0: none
// known). Rung keeps its whole state in memory and runs the collector less
// eagerly than Go's default (tuneGC; 400 % while simulating, and not at all
// while an instance loads its state at start): with a live heap of 10 GB,
// GOGC=300 alone would let the heap reach 40 GB before collecting, and a
// load with the collector paused would take what it wanted. Under the
// limit the collector runs as often as it must to stay below it instead.
func limitMemory() int64 {
	if v := os.Getenv("GOMEMLIMIT"); v != "" {
		return debug.SetMemoryLimit(-1) // the runtime read it
	}
	total := memTotal()
	if total <= 0 {
		return 0
	}
	limit := total / 4 * 3
	debug.SetMemoryLimit(limit)
	return limit
}

// memTotal returns the memory this process may use: the machine's, or its
// cgroup's (v2) limit when that is lower; 0 when neither can be read.
func memTotal() int64 {
	var total int64
	if f, err := os.Open("/proc/meminfo"); err == nil {
		total = parseMemInfo(f)
		f.Close()
	}
	if b, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if c := parseCgroupMax(string(b)); c > 0 && (total == 0 || c < total) {
			total = c
		}
	}
	return total
}

// parseMemInfo reads MemTotal from /proc/meminfo's format ("MemTotal:
// 24576000 kB"), in bytes; 0 when absent.
func parseMemInfo(r io.Reader) int64 {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "MemTotal:" {
			n, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil || n <= 0 {
				return 0
			}
			if len(f) >= 3 && f[2] == "kB" {
				n *= 1024
			}
			return n
		}
	}
	return 0
}

// parseCgroupMax reads cgroup v2's memory.max: a number of bytes, or "max"
// for no limit (0).
func parseCgroupMax(s string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

// prepareHeap asks, once, for the heap this process may grow into (up to
// its memory limit) to fault in transparent huge pages where the kernel
// gives them only on request (package hugeheap): an instance's state is
// gigabytes at scale, and loading it, rebuilding it or simulating a draft
// over it page-faults every 4 KiB otherwise (on a 10M record simulation
// here: 0.93M faults, 17 s of system time, against 17k faults and 9–11 s
// with huge pages, and ~20 % less time in all). It costs ~0.1 s at start
// for 20 GiB. RUNG_HUGE_PAGES=off leaves the heap as the runtime maps it.
func prepareHeap() {
	heapOnce.Do(func() {
		if os.Getenv("RUNG_HUGE_PAGES") == "off" {
			return
		}
		hugeheap.Prepare(debug.SetMemoryLimit(-1))
	})
}

var heapOnce sync.Once
