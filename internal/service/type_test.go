package service

import (
	"regexp"
	"testing"
)

// validType agrees with the SPEC's pattern on every short string over an
// alphabet around its edges.
func TestValidTypeMatchesTheSpecPattern(t *testing.T) {
	re := regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)
	alphabet := []byte("az09_.-AZ /é\x00")
	var check func(prefix []byte, depth int)
	check = func(prefix []byte, depth int) {
		if got, want := validType(string(prefix)), re.MatchString(string(prefix)); got != want {
			t.Fatalf("validType(%q) = %v, the pattern says %v", prefix, got, want)
		}
		if depth == 0 {
			return
		}
		for _, c := range alphabet {
			check(append(prefix, c), depth-1)
		}
	}
	check(nil, 3)
	for _, s := range []string{"deal.won", "training.completed", "a", "0-x_y.z", "Deal.won", ".x", "x y", "é"} {
		if validType(s) != re.MatchString(s) {
			t.Errorf("validType(%q) disagrees with the pattern", s)
		}
	}
}
