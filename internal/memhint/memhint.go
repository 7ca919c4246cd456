// Package memhint asks the operating system to back the Go heap with
// transparent huge pages while a task that fills gigabytes of fresh memory
// runs (a simulation's replay): one page fault per 2 MiB instead of one
// per 4 KiB. Where a fault is expensive (a virtual machine: ~16 µs each
// here), that is most of a replay's system time.
//
// Linux backs memory with huge pages by default only when its setting
// (/sys/kernel/mm/transparent_hugepage/enabled) is "always"; under the
// common default "madvise" only ranges marked with madvise(MADV_HUGEPAGE)
// get them. The Go runtime no longer marks its heap, and it maps the heap a
// few MiB at a time as it grows, each mapping unmarked: Start marks the
// heap's mapped ranges, and marks them again whenever the runtime maps
// more, until it is stopped. Memory the heap mapped before a mark and has
// touched keeps its small pages.
//
// Huge pages cost memory where a heap is sparse (a 2 MiB page is resident
// as soon as one byte of it is written), and the kernel may merge small
// pages the runtime has returned back into huge ones (khugepaged); both
// matter little for a heap of several GiB that is filled densely, which is
// what Start is for. It does nothing elsewhere than Linux, when the system
// setting is "never" or "always", or when RUNG_HUGEPAGES is "off" (the
// kill switch).
package memhint

import (
	"os"
	"strings"
)

// Off is the value of RUNG_HUGEPAGES that turns memhint off.
const Off = "off"

// enabled reports whether marking can change anything: not turned off, and
// the system setting is "madvise".
func enabled() bool {
	if strings.EqualFold(os.Getenv("RUNG_HUGEPAGES"), Off) {
		return false
	}
	b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil {
		return false
	}
	return strings.Contains(string(b), "[madvise]")
}
