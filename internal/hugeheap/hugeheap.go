// Package hugeheap backs the heap a process may grow into with transparent
// huge pages (2 MiB) where the kernel gives them only to memory that asks
// (THP mode "madvise", the usual default). The Go runtime never asks for
// its heap, so a process that builds gigabytes of state takes a page fault
// every 4 KiB and a TLB entry for each such page: a 10M record simulation
// here took 0.93M faults and 18 s of system time, against 17k faults and
// 10 s with huge pages, and a quarter less time in all.
//
// Prepare asks the way a program outside the runtime can: it allocates the
// room, so that the runtime maps it, advises the kernel to back the whole
// heap with huge pages (its mappings, from /proc/self/maps), drops the
// room and hands the heap's free pages back (debug.FreeOSMemory). The
// advice stays on the mappings (the runtime never unmaps its heap), so
// what is allocated there afterwards faults in huge pages. The price is
// the collection FreeOSMemory runs: call Prepare at start, while the heap
// is small.
//
// The room is allocated in pieces of 64 MiB, not as one object. The
// runtime clears a large object unless all of it is memory it has never
// handed out, and an object that begins in pages a collection freed
// (which happens at start or not, as collections fall) is cleared whole:
// 18 GiB of room, written 4 KiB at a time, took 100 s and 78 s of system
// time, in one `rung rebuild` in a dozen. A piece that begins there is
// cleared alone.
package hugeheap

import (
	"math"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"unsafe"
)

const (
	// pageSize is a huge page's size; room is advised in whole pages.
	pageSize = 2 << 20
	// minRoom is the least room worth a collection.
	minRoom = 64 << 20
	// margin is what Prepare leaves below a soft memory limit.
	margin = 256 << 20
	// piece is the most room Prepare allocates as one object, and so the
	// most it can find the runtime clearing (see the package comment): a
	// heap arena.
	piece = 64 << 20
)

// Mode is the kernel's transparent huge page mode for anonymous memory:
// "always", "madvise", "never", or "" where there is none (not Linux, or
// the kernel has no THP).
func Mode() string {
	mode.once.Do(func() { mode.s = readMode() })
	return mode.s
}

var mode struct {
	once sync.Once
	s    string
}

// Prepare advises huge pages for the heap and up to n bytes of room above
// it, and returns how much room it advised. It does nothing
// (0) unless the kernel gives huge pages on request only (Mode "madvise";
// with "always" the heap has them already), nor for less than 64 MiB. The
// room is kept below the soft memory limit in force, with 256 MiB to
// spare, so that asking for it does not set off the collector, and below
// the machine's memory; without a limit Prepare does nothing. It turns
// the collector off while it takes the room and sets the collector's
// percentage back as it found it, so nothing else may change that
// percentage meanwhile: call it at start, before other goroutines do.
func Prepare(n int64) int64 {
	if Mode() != "madvise" {
		return 0
	}
	limit := debug.SetMemoryLimit(-1)
	if limit == math.MaxInt64 {
		return 0
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	// The limit counts what the runtime holds from the system less what it
	// has given back. A limit above the machine's memory is not a reason
	// to map more than the machine has.
	n = min(n, limit-int64(ms.Sys-ms.HeapReleased)-margin, physical())
	n &^= pageSize - 1
	if n < minRoom {
		return 0
	}
	// No collection while the pieces are taken: they are all live, and
	// the limit is not near.
	gc := debug.SetGCPercent(-1)
	room := make([][]byte, 0, (n+piece-1)/piece)
	at := make([]uintptr, 0, cap(room))
	for left := n; left > 0; left -= piece {
		p := make([]byte, min(left, piece))
		room = append(room, p)
		at = append(at, uintptr(unsafe.Pointer(&p[0])))
	}
	debug.SetGCPercent(gc)
	err := adviseHeap(at)
	runtime.KeepAlive(room)
	if err != nil {
		return 0
	}
	// The room is dead now: the collection frees it, and the pages go
	// back to the system, to fault in again as huge pages.
	debug.FreeOSMemory()
	return n
}

// parseMode returns the bracketed word of a THP setting, as "madvise" in
// "always [madvise] never"; "" when there is none.
func parseMode(s string) string {
	i := strings.IndexByte(s, '[')
	j := strings.IndexByte(s, ']')
	if i < 0 || j < i {
		return ""
	}
	return s[i+1 : j]
}
