package program

import (
	"strings"
	"testing"
)

func TestParseRewardCatalog(t *testing.T) {
	p := mustParse(t, lines(
		"name: T",
		"currency: EUR",
		"point_value: 0.01",
		"tiers: {levels: [Registered, Select]}",
		"rewards:",
		"  - {id: mug, name: Mug, cost: 500, per_member: 2, stock: 10}",
		"  - {id: mdf, cost: 5000, for: partner, tiers: [Select], description: Marketing funds}",
	))
	if p.PointValue != 0.01 {
		t.Errorf("PointValue = %v, want 0.01", p.PointValue)
	}
	mug, mdf := p.Reward("mug"), p.Reward("mdf")
	if mug == nil || mdf == nil {
		t.Fatalf("rewards = %+v", p.Rewards)
	}
	if mug.For != SubjectMember || mug.PerMember != 2 || mug.Stock == nil || *mug.Stock != 10 || mug.Cost != 500 {
		t.Errorf("mug = %+v", mug)
	}
	if mdf.For != SubjectPartner || mdf.Name != "mdf" || mdf.Stock != nil || len(mdf.Tiers) != 1 || mdf.Description != "Marketing funds" {
		t.Errorf("mdf = %+v", mdf)
	}
}

func TestParseRefusesBadRewards(t *testing.T) {
	cases := []struct {
		name, src string
		line      int
		key       string
		phrase    string
	}{
		{"without cost", "name: T\nrewards:\n  - {id: r, name: Mug}\n", 3, "rewards[0].cost", `missing required key "cost"`},
		{"cost zero", "name: T\nrewards:\n  - {id: r, cost: 0}\n", 3, "rewards[0].cost", "positive whole number"},
		{"cost as text", "name: T\nrewards:\n  - {id: r, cost: lots}\n", 3, "rewards[0].cost", "whole number"},
		{"for a team", "name: T\nrewards:\n  - {id: r, cost: 5, for: team}\n", 3, "rewards[0].for", "expected member or partner"},
		{"per_member negative", "name: T\nrewards:\n  - {id: r, cost: 5, per_member: -2}\n", 3, "rewards[0].per_member", "0 or more"},
		{"unknown key", "name: T\nrewards:\n  - {id: r, cost: 5, price: 3}\n", 3, "rewards[0].price", "price"},
		{"point_value zero", "name: T\npoint_value: 0\n", 2, "point_value", "positive number like 0.01"},
		{"point_value text", "name: T\npoint_value: a cent\n", 2, "point_value", "expected a number"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := parseError(t, tc.src)
			var found bool
			for _, d := range err.Details {
				if d.Line == tc.line && d.Key == tc.key && strings.Contains(d.Message, tc.phrase) {
					found = true
				}
			}
			if !found || len(err.Details) != 1 {
				t.Errorf("want one error on line %d, key %q, containing %q; got:\n%v", tc.line, tc.key, tc.phrase, err)
			}
		})
	}
}
