package engine

import (
	"strings"
	"testing"

	"github.com/rung-dev/rung"
)

// FuzzReviewQuarter feeds quarter labels from outside (the API, the CLI)
// to a review: it decides for every partner or refuses with EINVALID,
// never panics, and changes nothing.
func FuzzReviewQuarter(f *testing.F) {
	for _, s := range []string{"2026-Q4", "2026-Q1", "0000-Q1", "9999-Q4", "2026Q4", "2026-Q0", "2026-Q5", "", "-Q1", "2026-q4", "2026-Q4 ", "２０２６-Q4"} {
		f.Add(s)
	}
	h := newTierHarness(f, true)
	before := h.e.Digest(h.now)
	f.Fuzz(func(t *testing.T, q string) {
		ds, err := h.e.Review(q)
		switch {
		case err != nil && rung.ErrorCode(err) != rung.EINVALID:
			t.Fatalf("Review(%q): %v, want EINVALID", q, err)
		case err != nil && !strings.Contains(err.Error(), "2026-Q4"):
			t.Fatalf("Review(%q): %q does not show the expected form", q, err)
		case err == nil && len(ds) != 3:
			t.Fatalf("Review(%q) decided for %d partners, want 3", q, len(ds))
		}
		if h.e.Digest(h.now) != before {
			t.Fatalf("Review(%q) changed the state", q)
		}
	})
}
