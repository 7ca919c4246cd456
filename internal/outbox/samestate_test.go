package outbox

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/rung-dev/rung/internal/engine"
)

// TestSameStateIsTheStoredJSONs checks the field comparison against what
// it stands for: two states are the same exactly when their JSON is.
func TestSameStateIsTheStoredJSONs(t *testing.T) {
	base := engine.SubjectState{ID: "m1", Kind: "member", Name: "Ann", Partner: "p1", Balance: 10, Lifetime: 20, Level: "Pro",
		Badges: []engine.BadgeRef{{ID: "b", Name: "B", Level: "Gold"}}}
	variants := []func(s *engine.SubjectState){
		func(s *engine.SubjectState) {},
		func(s *engine.SubjectState) { s.Name = "Bob" },
		func(s *engine.SubjectState) { s.Balance++ },
		func(s *engine.SubjectState) { s.Lifetime++ },
		func(s *engine.SubjectState) { s.Level = "" },
		func(s *engine.SubjectState) { s.Tier = "Elite" },
		func(s *engine.SubjectState) { s.Partner = "p2" },
		func(s *engine.SubjectState) { s.Kind = "partner" },
		func(s *engine.SubjectState) { s.Badges = nil },
		func(s *engine.SubjectState) { s.Badges = []engine.BadgeRef{} },
		func(s *engine.SubjectState) { s.Badges = []engine.BadgeRef{{ID: "b", Name: "B", Level: "Silver"}} },
		func(s *engine.SubjectState) { s.Badges = append(s.Badges, engine.BadgeRef{ID: "c"}) },
	}
	for i, vi := range variants {
		for j, vj := range variants {
			a, b := base, base
			a.Badges, b.Badges = slices.Clone(base.Badges), slices.Clone(base.Badges)
			vi(&a)
			vj(&b)
			x, _ := json.Marshal(a)
			y, _ := json.Marshal(b)
			if got, want := sameState(a, b), string(x) == string(y); got != want {
				t.Errorf("variants %d and %d: sameState = %v, the JSON says %v (%s vs %s)", i, j, got, want, x, y)
			}
		}
	}
}
