package api

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/rung-dev/rung/internal/service"
)

// wantResults is what writeJSON writes for an ingest answer.
func wantResults(results []service.Result) []byte {
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetEscapeHTML(false)
	enc.Encode(map[string]any{"results": results})
	return want.Bytes()
}

// The hand-written encoder writes exactly what encoding/json writes.
func TestResultsEncodeLikeEncodingJSON(t *testing.T) {
	cases := [][]service.Result{
		nil,
		{},
		{{ID: "a", Status: "accepted", Version: 1}},
		{{ID: "b", Status: "rejected", Error: "partner \"x\" does not exist: <create> it & retry\n\u2028\xff\x01"},
			{ID: "c", Status: "corrected", Version: 2, Notes: []string{"rule r: when: no such key", "metric m: value: bad"}},
			{ID: "", Status: "rejected", Error: "no id"},
			{ID: "d", Status: "duplicate", Version: 1, Notes: []string{}}},
	}
	for _, rs := range cases {
		got := appendResults(nil, rs)
		if want := wantResults(rs); !bytes.Equal(got, want) {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	}
}

func FuzzResultsEncodeLikeEncodingJSON(f *testing.F) {
	f.Add("id", "accepted", 1, "", "note")
	f.Add("x\"y", "rejected", 0, "bad\x00<&>\u2028", "")
	f.Fuzz(func(t *testing.T, id, status string, version int, errMsg, note string) {
		r := service.Result{ID: id, Status: status, Version: version, Error: errMsg}
		if note != "" {
			r.Notes = []string{note, note + "!"}
		}
		rs := []service.Result{r, {ID: "second", Status: "accepted"}}
		if got, want := appendResults(nil, rs), wantResults(rs); !bytes.Equal(got, want) {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	})
}
