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
// the runs of adjacent anonymous mappings that hold the addresses
// (/proc/self/maps), each mapping once.
func adviseHeap(addrs []uintptr) error {
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return err
	}
	var done []mapping
next:
	for _, addr := range addrs {
		for _, m := range done {
			if m.start <= addr && addr < m.end {
				continue next
			}
		}
		for _, m := range heapMappings(string(b), addr) {
			if _, _, e := syscall.Syscall(syscall.SYS_MADVISE, m.start, m.end-m.start, syscall.MADV_HUGEPAGE); e != 0 {
				return e
			}
			done = append(done, m)
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
