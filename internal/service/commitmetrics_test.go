package service

import (
	"bufio"
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/opsmetrics"
)

// commitMetrics reads the commit histograms' counts and sums off the
// process's registry, by sample name.
func commitMetrics(t *testing.T) map[string]float64 {
	t.Helper()
	var buf bytes.Buffer
	if err := opsmetrics.Default.Write(&buf); err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), " ")
		if !ok || !strings.HasPrefix(name, "rung_store_commit_seconds_") && !strings.HasPrefix(name, "rung_ingest_") {
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatalf("%s: %v", sc.Text(), err)
		}
		out[name] = f
	}
	return out
}

// On a shared store a partner is committed by process and events by the
// committer: both commits are timed, the events' group is counted, and the
// applier times both groups.
func TestCommitsAreTimedOnPostgres(t *testing.T) {
	url, schema := pgSchema(t)
	ctx := context.Background()
	s := openInstance(t, url, schema)
	if _, err := s.ApplyProgram(ctx, []byte(testProgram), time.Time{}, "test"); err != nil {
		t.Fatal(err)
	}
	// The applier answers the program's group before it times it: let it
	// get past that, so the timing falls before the first reading.
	s.drain()
	before := commitMetrics(t)
	if _, err := s.PutPartner(ctx, rung.Partner{ID: "p1", Name: "Partner p1"}); err != nil {
		t.Fatal(err)
	}
	res, err := s.Ingest(ctx, []*Incoming{win("w1", "p1", "", 100), win("w2", "p1", "", 200), win("w3", "p1", "", 300)})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Status != "accepted" {
			t.Fatalf("%+v", r)
		}
	}
	after := commitMetrics(t)
	delta := func(name string) float64 { return after[name] - before[name] }
	if d := delta("rung_store_commit_seconds_count"); d != 2 {
		t.Errorf("commits timed: +%v, want +2 (the partner, the events)", d)
	}
	if d := delta("rung_store_commit_seconds_sum"); d <= 0 {
		t.Errorf("commit time: +%v s", d)
	}
	if d, n := delta("rung_ingest_group_events_sum"), delta("rung_ingest_group_events_count"); d != 3 || n != 1 {
		t.Errorf("event groups: +%v records in +%v groups, want +3 in +1", d, n)
	}
	// The applier answers a group's requests before it times the group.
	for deadline := time.Now().Add(5 * time.Second); delta("rung_ingest_apply_seconds_count") < 2 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		after = commitMetrics(t)
	}
	if d := delta("rung_ingest_apply_seconds_count"); d != 2 {
		t.Errorf("groups applied after a timed commit: +%v, want +2", d)
	}
}
