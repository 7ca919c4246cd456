package engine

import (
	"fmt"
	"testing"

	"pgregory.net/rapid"
)

// Interning gives each type one number, the same every time, whether the
// names are few (looked through) or many (looked up), and "" is 0.
func TestTypeNamesInternOnce(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var tn typeNames
		ids := map[string]uint32{"": 0}
		n := rapid.IntRange(1, 3*typeScan).Draw(t, "types")
		for _, i := range rapid.SliceOf(rapid.IntRange(0, n)).Draw(t, "seen") {
			name := ""
			if i > 0 {
				name = fmt.Sprintf("t.%d", i)
			}
			id := tn.intern(name)
			want, seen := ids[name]
			if seen && id != want {
				t.Fatalf("%q interned as %d, before as %d", name, id, want)
			}
			if !seen {
				for other, oid := range ids {
					if oid == id {
						t.Fatalf("%q interned as %d, the number of %q", name, id, other)
					}
				}
			}
			ids[name] = id
			if tn.name(id) != name {
				t.Fatalf("%d names %q, want %q", id, tn.name(id), name)
			}
		}
	})
}
