package hugeheap

import (
	"math"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

func TestParseMode(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"always [madvise] never\n", "madvise"},
		{"[always] madvise never\n", "always"},
		{"always madvise [never]\n", "never"},
		{"always inherit madvise [never]", "never"},
		{"", ""},
		{"always madvise never", ""},
		{"] [", ""},
	} {
		if got := parseMode(c.in); got != c.want {
			t.Errorf("parseMode(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// A Go process's maps: the binary, the heap's arenas (reserved and in
// use, side by side), then the runtime's other mappings, a library and
// the stack.
const maps = `00400000-004ab000 r-xp 00000000 fe:00 9978849                            /usr/bin/rung
0058e000-00599000 rw-p 0018e000 fe:00 9978849                            /usr/bin/rung
00599000-005cf000 rw-p 00000000 00:00 0 
c000000000-c004000000 rw-p 00000000 00:00 0 
c004000000-c008000000 ---p 00000000 00:00 0 
c008000000-c010000000 rw-p 00000000 00:00 0 
c010000000-c014000000 ---p 00000000 00:00 0 
7fe6c32c8000-7fe6c3500000 rw-p 00000000 00:00 0 
7fe6c3500000-7fe6c5600000 rw-p 00000000 00:00 0 
7fe6c5600000-7fe6d902b000 ---p 00000000 00:00 0 
7fe709f00000-7fe709f4d000 r--p 00000000 fe:00 12 /usr/lib/libc.so.6
7fe709fb3000-7fe709fb5000 r-xp 00000000 00:00 0                          [vdso]
7ffc294ff000-7ffc29520000 rw-p 00000000 00:00 0                          [stack]
not a line
`

func TestHeapMappingsAreTheRunHoldingTheAddress(t *testing.T) {
	for _, c := range []struct {
		name string
		addr uintptr
		want [][2]uintptr
	}{
		{"in use", 0xc008000100, [][2]uintptr{{0xc000000000, 0xc004000000}, {0xc008000000, 0xc010000000}}},
		{"reserved", 0xc004000000, [][2]uintptr{{0xc000000000, 0xc004000000}, {0xc008000000, 0xc010000000}}},
		{"the runtime's other run", 0x7fe6c3500000, [][2]uintptr{{0x7fe6c32c8000, 0x7fe6c3500000}, {0x7fe6c3500000, 0x7fe6c5600000}}},
		{"a file", 0x400100, nil},
		{"the stack", 0x7ffc29500000, nil},
		{"nowhere", 0x1000, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got [][2]uintptr
			for _, m := range heapMappings(maps, c.addr) {
				got = append(got, [2]uintptr{m.start, m.end})
			}
			if len(got) != len(c.want) {
				t.Fatalf("heapMappings(%#x) = %x, want %x", c.addr, got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Fatalf("heapMappings(%#x) = %x, want %x", c.addr, got, c.want)
				}
			}
		})
	}
}

// vmFlags returns the VmFlags of the mapping holding addr, from
// /proc/self/smaps.
func vmFlags(t *testing.T, addr uintptr) []string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	in := false
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if m := parseMaps(line); len(m) == 1 {
			in = m[0].start <= addr && addr < m[0].end
			continue
		}
		if in && f[0] == "VmFlags:" {
			return f[1:]
		}
	}
	t.Fatalf("no mapping holds %#x", addr)
	return nil
}

// After Prepare, heap the program allocates lies in mappings the kernel
// backs with huge pages ("hg": advised), as the room did.
func TestPrepareAdvisesTheHeap(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("transparent huge pages are Linux's")
	}
	if m := Mode(); m != "madvise" {
		t.Skipf("the kernel's THP mode is %q: Prepare asks only under madvise", m)
	}
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	if got := Prepare(1 << 30); got != 0 {
		t.Fatalf("Prepare(1 GiB) without a memory limit = %d, want 0", got)
	}
	debug.SetMemoryLimit(4 << 30)
	start := time.Now()
	n := Prepare(1 << 30)
	t.Logf("Prepare(1 GiB) advised %d MiB in %v", n>>20, time.Since(start))
	if n != 1<<30 {
		t.Fatalf("Prepare(1 GiB) = %d, want all of it", n)
	}
	state := make([]byte, 256<<20)
	flags := vmFlags(t, uintptr(unsafe.Pointer(&state[len(state)/2])))
	runtime.KeepAlive(state)
	if !strings.Contains(" "+strings.Join(flags, " ")+" ", " hg ") {
		t.Fatalf("the heap's mapping has VmFlags %v, want hg among them", flags)
	}
	debug.SetMemoryLimit(1 << 30)
	if got := Prepare(4 << 30); got > 768<<20 || got%(2<<20) != 0 {
		t.Fatalf("Prepare(4 GiB) under a 1 GiB limit = %d, want whole huge pages below the limit less 256 MiB", got)
	}
	if got := Prepare(63 << 20); got != 0 {
		t.Fatalf("Prepare(63 MiB) = %d, want 0: too little to be worth a collection", got)
	}
}

// Prepare writes none of the room, even where the runtime places it over
// pages a collection freed, which the runtime clears before it hands them
// out again. It runs in a process of its own, fresh as at a program's
// start: the room, one piece apart, has to be memory the runtime never
// handed out. Room cleared 4 KiB at a time faults once a page; room
// untouched faults not at all.
func TestPrepareWritesNoneOfTheRoom(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("transparent huge pages are Linux's")
	}
	if m := Mode(); m != "madvise" {
		t.Skipf("the kernel's THP mode is %q: Prepare asks only under madvise", m)
	}
	if os.Getenv("HUGEHEAP_FRESH_PROCESS") == "1" {
		preparedOverFreedPages()
		return
	}
	const room = 1 << 30
	for round := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestPrepareWritesNoneOfTheRoom$")
		cmd.Env = append(os.Environ(), "HUGEHEAP_FRESH_PROCESS=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("the fresh process failed: %v\n%s", err, out)
		}
		var faults, advised int64
		for line := range strings.Lines(string(out)) {
			f := strings.Fields(line)
			if len(f) == 3 && f[0] == "prepared" {
				advised, _ = strconv.ParseInt(f[1], 10, 64)
				faults, _ = strconv.ParseInt(f[2], 10, 64)
			}
		}
		if advised != room {
			t.Fatalf("round %d: Prepare(1 GiB) advised %d bytes, want all of it\n%s", round, advised, out)
		}
		// Cleared, 1 GiB is 262,144 faults; a piece cleared is 16,384, and
		// the freed pages may reach into a second piece.
		if limit := int64(room / 4096 / 4); faults > limit {
			t.Fatalf("round %d: Prepare(1 GiB) took %d page faults, want at most %d: it wrote the room", round, faults, limit)
		}
		t.Logf("round %d: %d page faults", round, faults)
	}
}

// preparedOverFreedPages frees pages low in the heap, then prepares 1 GiB
// and prints what it advised and the page faults it took.
func preparedOverFreedPages() {
	debug.SetMemoryLimit(4 << 30)
	var held [][]byte
	for range 40 {
		b := make([]byte, 1<<20)
		b[0] = 1
		held = append(held, b)
	}
	for i := 1; i < len(held); i++ {
		held[i] = nil
	}
	runtime.GC()
	runtime.GC()
	var before, after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	n := Prepare(1 << 30)
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	runtime.KeepAlive(held)
	println("prepared", n, after.Minflt-before.Minflt)
}
