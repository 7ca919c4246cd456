package hugeheap

import (
	"strconv"
	"strings"
)

// mapping is a line of /proc/PID/maps.
type mapping struct {
	start, end uintptr
	writable   bool
	anonymous  bool // no file and no name: what the Go runtime maps
}

// parseMaps reads /proc/PID/maps, skipping lines it cannot read.
func parseMaps(s string) []mapping {
	var ms []mapping
	for line := range strings.Lines(s) {
		// start-end perms offset dev inode [path]
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		ms = append(ms, mapping{
			start:     uintptr(start),
			end:       uintptr(end),
			writable:  strings.HasPrefix(f[1], "rw"),
			anonymous: f[4] == "0" && len(f) == 5,
		})
	}
	return ms
}

// heapMappings returns the writable mappings of the run of adjacent
// anonymous mappings that holds addr: the runtime reserves the heap's
// arenas next to each other (reserved ones unreadable, those in use
// writable), so the run is the heap. None when addr is in no anonymous
// mapping.
func heapMappings(maps string, addr uintptr) []mapping {
	ms := parseMaps(maps)
	at := -1
	for i, m := range ms {
		if m.start <= addr && addr < m.end {
			at = i
			break
		}
	}
	if at < 0 || !ms[at].anonymous {
		return nil
	}
	lo, hi := at, at
	for lo > 0 && ms[lo-1].anonymous && ms[lo-1].end == ms[lo].start {
		lo--
	}
	for hi+1 < len(ms) && ms[hi+1].anonymous && ms[hi+1].start == ms[hi].end {
		hi++
	}
	var heap []mapping
	for _, m := range ms[lo : hi+1] {
		if m.writable {
			heap = append(heap, m)
		}
	}
	return heap
}
