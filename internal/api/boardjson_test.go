package api

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/rung-dev/rung/internal/engine"
)

// The hand-written encoder writes exactly what encoding/json writes.
func TestBoardPageEncodesLikeEncodingJSON(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	pages := []engine.BoardPage{
		{ID: "q", Metric: "points", For: "member", Window: engine.Span{From: time.Date(2026, 10, 1, 0, 0, 0, 0, berlin), To: time.Date(2027, 1, 1, 0, 0, 0, 0, berlin)},
			Total: 3, Entries: []engine.BoardEntry{
				{Rank: 1, Subject: "m1", Name: "Zoë \"Z\" <b>&</b>\u2028\x01\xff\b\f\x7f", Partner: "p1", Value: 1234.5},
				{Rank: 2, CohortRank: 1, Subject: "m2", Cohort: "smb", Value: 1e-7},
				{Rank: 2, Subject: "m3", Value: 1e21},
				{Rank: 4, Subject: "m4", Value: -0.000001},
				{Rank: 5, Subject: "m5", Value: math.MaxInt64},
			}},
		{ID: "c", Name: "Cohort board", Metric: "meeting_rate", For: "partner", Cohort: "smb", Entries: []engine.BoardEntry{}},
	}
	for _, p := range pages {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		enc.Encode(p)
		got := append(appendBoardPage(nil, &p), '\n')
		if !bytes.Equal(got, want.Bytes()) {
			t.Errorf("got  %s\nwant %s", got, want.Bytes())
		}
	}
}
