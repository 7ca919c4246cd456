package engine

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rung-dev/rung"
)

// BenchmarkTierReview100k reviews a quarter for 100,000 partners, each
// with a few certifications and wins in the rolling window. Target: ≤ 5 s.
func BenchmarkTierReview100k(b *testing.B) {
	const partners = 100000
	h := newHarness(b, strings.ReplaceAll(tierProgram, "AUTO", "false"), time.Date(2027, 2, 1, 0, 0, 0, 0, berlin))
	h.e.BeginBulk(partners * 3)
	for i := 0; i < partners; i++ {
		p := fmt.Sprintf("bp%06d", i)
		h.e.PutPartner(rung.PartnerVersion{Version: 1, ValidFrom: time.Unix(0, 0), Partner: rung.Partner{ID: p, Name: p}})
		m := p + "-m"
		h.member(m, p)
		for j := 0; j < 3; j++ {
			h.seq++
			at := time.Date(2026, time.Month(1+(i+j*4)%12), 1+i%27, 10, 0, 0, 0, berlin)
			var e rung.Event
			if j == 0 {
				e = cert(fmt.Sprintf("%s-c%d", p, j), p, m, at)
			} else {
				e = win(fmt.Sprintf("%s-w%d", p, j), p, m, at, float64(1000*(i%200)))
			}
			h.e.Apply(&rung.Record{Seq: h.seq, Version: 1, Event: e})
		}
	}
	h.e.EndBulk(h.now)
	b.ResetTimer()
	for b.Loop() {
		ds, err := h.e.Review("2026-Q4")
		if err != nil || len(ds) < partners {
			b.Fatalf("review: %d decisions, %v", len(ds), err)
		}
	}
}
