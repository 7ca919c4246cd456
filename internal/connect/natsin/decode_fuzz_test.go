package natsin

import (
	"testing"

	"github.com/rung-dev/rung/internal/api"
)

// FuzzDecodeData: any message body either is refused as a whole with a
// reason, or yields between 1 and MaxBatch events, each with the bytes it
// came from, each parsed or carrying why not.
func FuzzDecodeData(f *testing.F) {
	for _, s := range []string{
		`{"id": "crm:1:deal.won", "type": "deal.won", "partner": "p1", "occurred_at": "2026-11-02T10:00:00Z", "attrs": {"amount": 5}}`,
		`{"events": [{"id": "a"}, {"id": 5}, 7]}`,
		`[{"id": "a"}, "x"]`,
		`{"events": []}`, `[]`, `{"events": [], "x": 1}`, `{"events": [{}]} trailing`,
		`not json`, ``, `{`, `[`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		events, raws, problem := decodeData(body)
		if problem != "" {
			if events != nil || raws != nil {
				t.Fatalf("a refused message still yields %d events", len(events))
			}
			return
		}
		if len(events) == 0 || len(events) > api.MaxBatch || len(raws) != len(events) {
			t.Fatalf("%d events, %d raws", len(events), len(raws))
		}
		for i, in := range events {
			if in == nil || raws[i] == nil {
				t.Fatalf("event %d: nil", i)
			}
		}
	})
}
