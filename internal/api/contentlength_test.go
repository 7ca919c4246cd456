package api

import (
	"strconv"
	"testing"
)

// TestContentLengthIsTheDecimalLength checks the shared header values
// against strconv for every length they cover and beyond.
func TestContentLengthIsTheDecimalLength(t *testing.T) {
	for n := range 2*len(shortLengths) + 10 {
		if got := contentLength(n); len(got) != 1 || got[0] != strconv.Itoa(n) {
			t.Fatalf("contentLength(%d) = %q", n, got)
		}
	}
}
