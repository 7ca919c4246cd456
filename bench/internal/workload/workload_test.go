package workload

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestGeneratedEventsAreValidAndInsideTheWindow(t *testing.T) {
	now := time.Now()
	from, to := QuarterWindow(now)
	if !from.Before(to) || to.After(now) {
		t.Fatalf("window [%s, %s) is empty or reaches past now %s", from, to, now)
	}
	g := NewGenerator("t1", 3, 10, 1000, from, to)
	ids := map[string]bool{}
	types := map[string]int{}
	for range 2000 {
		raw, ev := g.Append(nil)
		var e struct {
			ID         string         `json:"id"`
			Type       string         `json:"type"`
			Partner    string         `json:"partner"`
			Member     string         `json:"member"`
			OccurredAt time.Time      `json:"occurred_at"`
			Attrs      map[string]any `json:"attrs"`
			Source     string         `json:"source"`
		}
		if err := json.Unmarshal(raw, &e); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		if ids[e.ID] {
			t.Fatalf("id %s repeats", e.ID)
		}
		ids[e.ID] = true
		types[e.Type]++
		if e.Member != MemberID(ev.Member) || e.Partner != PartnerID(PartnerOf(ev.Member, 10)) {
			t.Fatalf("%s: member or partner differs from the generator's event %+v", raw, ev)
		}
		if e.OccurredAt.Before(from) || e.OccurredAt.After(to) {
			t.Fatalf("%s: occurred_at outside [%s, %s]", raw, from, to)
		}
		switch e.Type {
		case "training.completed":
			if _, ok := e.Attrs["score"].(float64); !ok {
				t.Fatalf("%s: no score", raw)
			}
		case "deal.registered":
			if _, ok := e.Attrs["qualified"].(bool); !ok {
				t.Fatalf("%s: no qualified", raw)
			}
		case "deal.won":
			if _, ok := e.Attrs["amount"].(float64); !ok {
				t.Fatalf("%s: no amount", raw)
			}
		default:
			t.Fatalf("%s: unexpected type", raw)
		}
	}
	if len(types) != 3 {
		t.Fatalf("types %v: want all three", types)
	}
}

func TestBudgetGrantsExactlyTheCount(t *testing.T) {
	b := NewBudget(12, time.Minute)
	got := 0
	for {
		n := b.Take(5)
		if n == 0 {
			break
		}
		got += n
	}
	if got != 12 {
		t.Fatalf("granted %d, want 12", got)
	}
	if NewBudget(0, -time.Second).Take(5) != 0 {
		t.Fatal("a budget past its deadline granted work")
	}
}

func TestSummarizeTakesNearestRankPercentiles(t *testing.T) {
	var l Latencies
	for i := 100; i >= 1; i-- {
		l.Add(time.Duration(i) * time.Millisecond)
	}
	s := l.Summarize()
	if s.P50 != 50 || s.P99 != 99 || s.Max != 100 {
		t.Fatalf("got %+v", s)
	}
}

func TestOnlyLoopbackTargetsAreAllowed(t *testing.T) {
	for _, ok := range []string{"http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:80"} {
		if err := CheckLoopbackURL(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"http://10.0.0.1:8080", "http://example.com", "127.0.0.1:8080"} {
		if err := CheckLoopbackURL(bad); err == nil {
			t.Errorf("%s: allowed", bad)
		}
	}
	if err := CheckLoopback("192.168.1.2:6379"); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("192.168.1.2:6379: %v", err)
	}
}
