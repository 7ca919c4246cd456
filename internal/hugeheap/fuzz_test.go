package hugeheap

import "testing"

// parseMaps and heapMappings read whatever the kernel writes: any text
// gives mappings that end after they start, and the heap they find is
// writable anonymous mappings side by side.
func FuzzParseMaps(f *testing.F) {
	f.Add(maps, uint64(0xc008000100))
	f.Add("c000000000-c004000000 rw-p 00000000 00:00 0\n", uint64(0xc000000000))
	f.Add("1-0 rw-p 0 0 0\nzz-1 rw-p\n", uint64(0))
	f.Fuzz(func(t *testing.T, s string, addr uint64) {
		for _, m := range parseMaps(s) {
			if m.end <= m.start {
				t.Fatalf("mapping %x-%x ends before it starts", m.start, m.end)
			}
		}
		heap := heapMappings(s, uintptr(addr))
		for i, m := range heap {
			if !m.writable || !m.anonymous {
				t.Fatalf("heap mapping %x-%x is not writable and anonymous", m.start, m.end)
			}
			if i > 0 && m.start < heap[i-1].end {
				t.Fatalf("heap mappings out of order: %x after %x", m.start, heap[i-1].end)
			}
		}
	})
}
