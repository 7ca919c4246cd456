package memhint

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"
	"unsafe"
)

// vmFlags returns the VmFlags of the mapping that holds addr, from
// /proc/self/smaps.
func vmFlags(t *testing.T, addr uintptr) string {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		var start, end uintptr
		if n, _ := fmt.Sscanf(line, "%x-%x ", &start, &end); n == 2 {
			in = start <= addr && addr < end
			continue
		}
		if flags, ok := strings.CutPrefix(line, "VmFlags:"); ok && in {
			return flags
		}
	}
	t.Fatalf("no mapping holds %#x", addr)
	return ""
}

func TestAdviseMarksTheHeapForHugePages(t *testing.T) {
	if !enabled() {
		t.Skip("transparent huge pages are not in madvise mode here, or RUNG_HUGEPAGES=off")
	}
	big := make([]byte, 64<<20) // maps fresh heap, untouched
	addr := uintptr(unsafe.Pointer(&big[len(big)/2]))
	if n := Advise(); n < len(big)/2 {
		t.Fatalf("Advise marked %d bytes, want at least %d", n, len(big)/2)
	}
	if flags := vmFlags(t, addr); !strings.Contains(flags, " hg") {
		t.Errorf("the heap's mapping is not marked: VmFlags%s", flags)
	}
	big[len(big)/2] = 1
}

func TestStartAndStopNest(t *testing.T) {
	stop1 := Start()
	stop2 := Start()
	stop1()
	stop1() // a second call changes nothing
	big := make([]byte, 64<<20)
	Advise()
	stop2()
	if enabled() {
		if flags := vmFlags(t, uintptr(unsafe.Pointer(&big[len(big)/2]))); !strings.Contains(flags, " hg") {
			t.Errorf("the heap's mapping is not marked: VmFlags%s", flags)
		}
	}
	if users != 0 {
		t.Errorf("%d users after every stop", users)
	}
}

func TestKillSwitch(t *testing.T) {
	t.Setenv("RUNG_HUGEPAGES", "off")
	if enabled() {
		t.Fatal("enabled with RUNG_HUGEPAGES=off")
	}
	if n := Advise(); n != 0 {
		t.Errorf("Advise marked %d bytes with RUNG_HUGEPAGES=off", n)
	}
	Start()()
}
