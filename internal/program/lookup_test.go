package program

import "testing"

func TestLevelAtFindsCurrentAndNextLevel(t *testing.T) {
	p := &Program{Levels: []Level{{"Rookie", 0}, {"Pro", 1000}, {"Legend", 5000}}}
	cases := []struct {
		lifetime int64
		cur      string
		next     string
	}{
		{0, "Rookie", "Pro"},
		{999, "Rookie", "Pro"},
		{1000, "Pro", "Legend"},
		{4999, "Pro", "Legend"},
		{5000, "Legend", ""},
		{1 << 40, "Legend", ""},
	}
	for _, tc := range cases {
		cur, next := p.LevelAt(tc.lifetime)
		nextName := ""
		if next != nil {
			nextName = next.Name
		}
		if cur.Name != tc.cur || nextName != tc.next {
			t.Errorf("LevelAt(%d) = %s, %s; want %s, %s", tc.lifetime, cur.Name, nextName, tc.cur, tc.next)
		}
	}
	if cur, next := (&Program{}).LevelAt(10); cur != (Level{}) || next != nil {
		t.Errorf("no levels: %v, %v", cur, next)
	}
}

func TestTierRankWithoutTiersIsMinusOne(t *testing.T) {
	if r := (&Program{}).TierRank("Gold"); r != -1 {
		t.Errorf("TierRank = %d", r)
	}
}
