package program

import (
	"strings"
	"testing"
	"time"
)

func TestChallengeValidationNamesTheLine(t *testing.T) {
	const quest = "    starts: 2026-11-01\n    ends: 2026-11-30\n    steps: [a, b]\n"
	cases := []struct {
		name   string
		src    string
		line   int
		key    string
		phrase string
	}{
		{"ends before starts", "name: T\nchallenges:\n  - id: c\n    metric: points\n    starts: 2026-11-10\n    ends: 2026-11-09\n", 6, "challenges[0].ends", "before it starts"},
		{"a quest with a goal", "name: T\nchallenges:\n  - id: q\n" + quest + "    goal: 3\n", 7, "challenges[0].goal", "only used by challenges that rank a metric"},
		{"a quest with cohorts", "name: T\ncohorts: {size: partner.size}\nchallenges:\n  - id: q\n" + quest + "    cohort: size\n", 8, "challenges[0].cohort", "only used by challenges that rank a metric"},
		{"a quest with winners", "name: T\nchallenges:\n  - id: q\n" + quest + "    winners: 2\n", 7, "challenges[0].winners", "a quest rewards everyone"},
		{"a metric challenge with a role", "name: T\nchallenges:\n  - {id: c, metric: points, starts: 2026-11-01, ends: 2026-11-30, role: sales}\n", 3, "challenges[0].role", "only used by quests"},
		{"a partner quest with a role", "name: T\nchallenges:\n  - id: q\n    for: partner\n" + quest + "    role: sales\n", 8, "challenges[0].role", "a quest for partners has no role"},
		{"a reward badge with its own rule", "name: T\nbadges:\n  - {id: b, steps: [x]}\nchallenges:\n  - {id: c, metric: points, starts: 2026-11-01, ends: 2026-11-30, reward: {badge: b}}\n", 5, "challenges[0].reward.badge", "awarded by its own rule"},
		{"reward points negative", "name: T\nchallenges:\n  - {id: c, metric: points, starts: 2026-11-01, ends: 2026-11-30, reward: {points: -5}}\n", 3, "challenges[0].reward.points", "0 or more"},
		{"reward with an unknown key", "name: T\nchallenges:\n  - {id: c, metric: points, starts: 2026-11-01, ends: 2026-11-30, reward: {cash: 5}}\n", 3, "challenges[0].reward.cash", "unknown key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := parseError(t, tc.src)
			for _, d := range err.Details {
				if d.Line == tc.line && d.Key == tc.key && strings.Contains(d.Message, tc.phrase) {
					return
				}
			}
			t.Fatalf("want line %d key %s %q; got %+v", tc.line, tc.key, tc.phrase, err.Details)
		})
	}
}

func TestQuestParses(t *testing.T) {
	p, err := Parse([]byte(`name: T
timezone: Europe/Berlin
badges:
  - {id: field-ready, name: Field-Ready}
challenges:
  - id: field
    name: Field-Ready
    starts: 2026-11-01
    ends: 2026-12-31
    role: sales
    steps: [training.sales, {type: demo.passed, where: event.attrs.score >= 80, count: 2}]
    within: 30d
    from: first_step
    ordered: true
    reward: {points: 200, badge: field-ready}
`))
	if err != nil {
		t.Fatal(err)
	}
	c := p.Challenges[0]
	if c.Role != "sales" || len(c.Steps) != 2 || c.Steps[1].Count != 2 || c.Steps[1].Where == nil || !c.Ordered ||
		c.From != "first_step" || c.Within != 30*24*time.Hour || c.Reward.Points != 200 || c.Reward.Badge != "field-ready" || c.Metric != "" {
		t.Fatalf("quest = %+v", c)
	}
	if want := time.Date(2027, 1, 1, 0, 0, 0, 0, p.Calendar.Loc); !c.Ends.Equal(want) {
		t.Fatalf("ends %v, want the midnight after the last day %v", c.Ends, want)
	}
}
