package hugeheap

import (
	"os"
	"syscall"
)

// readMode reads the mode for anonymous memory.
func readMode() string {
	b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil {
		return ""
	}
	return parseMode(string(b))
}

// adviseHeap advises huge pages for the heap's writable mappings: those of
// the run of adjacent anonymous mappings that holds addr (/proc/self/maps).
func adviseHeap(addr uintptr) error {
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return err
	}
	for _, m := range heapMappings(string(b), addr) {
		if _, _, e := syscall.Syscall(syscall.SYS_MADVISE, m.start, m.end-m.start, syscall.MADV_HUGEPAGE); e != 0 {
			return e
		}
	}
	return nil
}

// physical returns the machine's memory in bytes (0 when unknown).
func physical() int64 {
	var si syscall.Sysinfo_t
	if syscall.Sysinfo(&si) != nil {
		return 0
	}
	return int64(si.Totalram) * int64(si.Unit)
}
