package memhint

import (
	"bufio"
	"bytes"
	"os"
	"runtime/metrics"
	"strconv"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// hugePage is the size of a transparent huge page on the platforms Go
// runs Linux on most (amd64, arm64 with 4 KiB pages).
const hugePage = 2 << 20

// every is how often Start looks whether the runtime has mapped more.
const every = time.Millisecond

// Start marks the Go heap for huge pages now and as it grows, until stop
// is called. Calls may overlap: the heap stays marked while any runs.
func Start() (stop func()) {
	if !enabled() {
		return func() {}
	}
	mu.Lock()
	defer mu.Unlock()
	users++
	if users == 1 {
		done = make(chan struct{})
		finished = make(chan struct{})
		go watch(done, finished)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			mu.Lock()
			defer mu.Unlock()
			users--
			if users == 0 {
				close(done)
				<-finished
			}
		})
	}
}

var (
	mu             sync.Mutex
	users          int
	done, finished chan struct{}
)

// watch marks the heap whenever the memory the runtime has mapped grows.
func watch(done <-chan struct{}, finished chan<- struct{}) {
	defer close(finished)
	sample := []metrics.Sample{{Name: "/memory/classes/total:bytes"}}
	var mapped, found uint64
	var h heap
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		metrics.Read(sample)
		if v := sample[0].Value.Uint64(); v != mapped {
			mapped = v
			if mapped >= found+ahead || h.lo == 0 {
				found = mapped
				h = findHeap()
			}
			h.advise()
		}
		select {
		case <-done:
			return
		case <-t.C:
		}
	}
}

// ahead is how far past the end of the heap's address range, as last read,
// the mark reaches: the runtime reserves the heap's next arenas right
// after the last (64 MiB each), and the range is read again only after
// the heap has grown by as much. Reading /proc/self/maps costs time in
// proportion to the process's mappings, and the heap's grow in number
// with it (mappings the runtime made at different times stay apart).
const ahead = 256 << 20

// heap is the address range of the Go heap: its arenas, mapped or only
// reserved.
type heap struct{ lo, hi uintptr }

// findHeap reads the heap's address range from /proc/self/maps: the run
// of adjacent anonymous mappings holding an object on the heap (the
// reserved rest of an arena is mapped without access, and new arenas are
// reserved next to the last).
func findHeap() heap {
	ms := readMaps()
	addr := uintptr(unsafe.Pointer(anchor))
	at := -1
	for i, m := range ms {
		if m.start <= addr && addr < m.end {
			at = i
			break
		}
	}
	if at < 0 || !ms[at].anonymous {
		return heap{}
	}
	lo, hi := at, at
	for lo > 0 && ms[lo-1].anonymous && ms[lo-1].end == ms[lo].start {
		lo--
	}
	for hi+1 < len(ms) && ms[hi+1].anonymous && ms[hi+1].start == ms[hi].end {
		hi++
	}
	return heap{ms[lo].start, ms[hi].end}
}

// advise marks the heap's range and ahead past it with one madvise: the
// kernel marks the mappings in it and skips the holes (and says ENOMEM
// for them). A mapping without access gets the mark too, and loses it when
// the runtime maps it for use: the next call marks it again.
func (h heap) advise() int {
	beg := (h.lo + hugePage - 1) &^ (hugePage - 1)
	end := (h.hi + ahead) &^ (hugePage - 1)
	if h.lo == 0 || beg >= end {
		return 0
	}
	_, _, errno := syscall.Syscall(syscall.SYS_MADVISE, beg, end-beg, madvHugePage)
	if errno != 0 && errno != syscall.ENOMEM {
		return 0
	}
	return int(h.hi - beg)
}

// madvHugePage is MADV_HUGEPAGE.
const madvHugePage = 14

// anchor is an object on the Go heap.
var anchor = new([64]byte)

// Advise marks the Go heap for huge pages once, and reports the size of
// the heap's address range it marked (0 when memhint is off or the heap is
// not found).
func Advise() int {
	if !enabled() {
		return 0
	}
	return findHeap().advise()
}

// mapping is one line of /proc/self/maps.
type mapping struct {
	start, end uintptr
	anonymous  bool
}

// readMaps parses /proc/self/maps: address range, and whether
// the mapping is anonymous (no file, no name such as [stack]).
func readMaps() []mapping {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return nil
	}
	defer f.Close()
	var ms []mapping
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 7f13a0ce6000-7f13a0ce7000 rw-p 00000000 00:00 0    [path]
		fields := bytes.Fields(sc.Bytes())
		if len(fields) < 5 {
			continue
		}
		dash := bytes.IndexByte(fields[0], '-')
		if dash < 0 {
			continue
		}
		start, err1 := strconv.ParseUint(string(fields[0][:dash]), 16, 64)
		end, err2 := strconv.ParseUint(string(fields[0][dash+1:]), 16, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		ms = append(ms, mapping{
			start:     uintptr(start),
			end:       uintptr(end),
			anonymous: len(fields) == 5 && string(fields[4]) == "0",
		})
	}
	return ms
}
