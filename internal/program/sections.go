package program

import (
	"math"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// The keys each part of the file allows.
var (
	topKeys = []string{"name", "description", "timezone", "fiscal_year_start", "currency", "activities", "cohorts",
		"metrics", "points", "levels", "badges", "tiers", "challenges", "leaderboards", "rewards", "registration", "point_value", "sources"}
	activityKeys    = []string{"label", "vanity"}
	metricKindKeys  = []string{"count", "sum", "avg", "distinct", "ratio"}
	metricKeys      = []string{"count", "sum", "avg", "distinct", "ratio", "where", "value", "min_sample", "label", "unit"}
	pointsKeys      = []string{"expire", "rules"}
	ruleKeys        = []string{"id", "label", "on", "when", "award", "to", "limit", "once_per", "multiplier"}
	limitKeys       = []string{"max", "per"}
	levelKeys       = []string{"name", "at"}
	badgeKeys       = []string{"id", "name", "description", "for", "on", "when", "evidence", "metric", "levels", "steps", "within", "from", "ordered", "role", "points"}
	stepKeys        = []string{"type", "where", "count"}
	tierKeys        = []string{"levels", "window", "decision_days", "grace", "auto_upgrade", "nudge_at", "criteria", "by_type", "benefits", "appeal_days"}
	criterionKeys   = []string{"id", "metric", "at_least", "at_most", "label"}
	challengeKeys   = []string{"id", "name", "description", "starts", "ends", "for", "metric", "goal", "cohort", "winners", "reward", "finalize_after", "steps", "within", "from", "ordered", "role"}
	rewardKeys      = []string{"points", "badge"}
	boardKeys       = []string{"id", "name", "description", "metric", "for", "window", "cohort", "challenge"}
	catalogKeys     = []string{"id", "name", "description", "cost", "tiers", "stock", "per_member", "for"}
	registrationKey = []string{"review_within", "hold", "meeting_within", "extend_on_meeting", "conflict"}
)

// program reads the top-level mapping, section by section in the order
// their dependencies need; references are checked at the end.
func (p *parser) program(root *yaml.Node) {
	m := p.fields(root, "", "a mapping", topKeys...)
	if m == nil {
		return
	}
	if n := p.require(m, "name", "the program's name"); n != nil {
		if s, ok := p.text(n, "name"); ok {
			if strings.TrimSpace(s) == "" {
				p.errorf(n, "name", "expected the program's name, got an empty string")
			}
			p.prog.Name = s
		}
	}
	if n := m.get("description"); n != nil {
		p.prog.Description, _ = p.text(n, "description")
	}
	if n := m.get("timezone"); n != nil {
		if s, ok := p.text(n, "timezone"); ok {
			if loc, err := loadLocation(s); err != nil {
				p.errorf(n, "timezone", "%v", err)
			} else {
				p.loc, p.prog.Timezone = loc, loc.String()
			}
		}
	}
	if n := m.get("fiscal_year_start"); n != nil {
		if v, ok := p.integer(n, "fiscal_year_start", math.MinInt64); ok {
			if v < 1 || v > 12 {
				p.errorf(n, "fiscal_year_start", "expected the month the fiscal year starts, 1 to 12, got %d", v)
			} else {
				p.prog.FiscalYearStart = int(v)
			}
		}
	}
	if n := m.get("currency"); n != nil {
		p.hasCurrency = true
		p.prog.Currency, _ = p.currency(n, "currency")
	}
	if n := m.get("point_value"); n != nil {
		p.prog.PointValue, _ = p.pointValue(n)
	}
	if n := m.get("activities"); n != nil {
		p.activities(n)
	}
	if n := m.get("cohorts"); n != nil {
		p.cohortSection(n)
	}
	if n := m.get("metrics"); n != nil {
		p.metrics(n)
	}
	if n := m.get("tiers"); n != nil {
		p.prog.Tiers = p.tierSection(n)
	}
	if n := m.get("levels"); n != nil {
		p.levels(n)
	}
	if n := m.get("badges"); n != nil {
		p.badgeSection(n)
	}
	if n := m.get("points"); n != nil {
		p.points(n)
	}
	if n := m.get("challenges"); n != nil {
		p.challengeSection(n)
	}
	if n := m.get("leaderboards"); n != nil {
		p.leaderboards(n)
	}
	if n := m.get("rewards"); n != nil {
		p.rewards(n)
	}
	if n := m.get("registration"); n != nil {
		p.prog.Registration = p.registration(n)
	}
	if n := m.get("sources"); n != nil {
		p.sourceSection(n) // sources.go
	}
}

func (p *parser) activities(n *yaml.Node) {
	es, _ := p.entries(n, "activities", "a mapping of event types to {label, vanity}")
	for _, e := range es {
		path := join("activities", e.key)
		t, ok := p.eventType(e.k, path)
		if !ok {
			continue
		}
		var a Activity
		if !isNull(e.v) {
			m := p.fields(e.v, path, "a mapping with label and vanity", activityKeys...)
			if m == nil {
				continue
			}
			if v := m.get("label"); v != nil {
				a.Label, _ = p.text(v, m.at("label"))
			}
			if v := m.get("vanity"); v != nil {
				a.Vanity, _ = p.boolean(v, m.at("vanity"))
			}
		}
		p.prog.Activities[t] = a
	}
}

func (p *parser) cohortSection(n *yaml.Node) {
	es, _ := p.entries(n, "cohorts", "a mapping of cohort names to CEL over partner, like size: partner.size")
	for _, e := range es {
		path := join("cohorts", e.key)
		name, ok := p.id(e.k, path)
		if !ok {
			continue
		}
		p.cohorts[name] = true
		if x := p.expr(e.v, path, partnerEnv, wantString); x != nil {
			p.prog.Cohorts = append(p.prog.Cohorts, Cohort{Name: name, Expr: x, Line: e.k.Line})
		}
	}
}

func (p *parser) rewards(n *yaml.Node) {
	items, _ := p.list(n, "rewards", "a list of rewards")
	ids := map[string]*yaml.Node{}
	for i, it := range items {
		if r := p.reward(it, index("rewards", i), ids); r != nil {
			p.prog.Rewards = append(p.prog.Rewards, r)
		}
	}
}

func (p *parser) reward(n *yaml.Node, path string, ids map[string]*yaml.Node) *Reward {
	m := p.fields(n, path, "a reward mapping with id, name and cost", catalogKeys...)
	if m == nil {
		return nil
	}
	r := &Reward{Line: m.node.Line}
	id, good := p.uniqueID(m, ids, "reward")
	r.ID, r.Name = id, id
	if v := m.get("name"); v != nil {
		r.Name, _ = p.text(v, m.at("name"))
	}
	if v := m.get("description"); v != nil {
		r.Description, _ = p.text(v, m.at("description"))
	}
	if v := p.require(m, "cost", "the points the reward costs, a positive whole number"); v != nil {
		var ok bool
		r.Cost, ok = p.integer(v, m.at("cost"), 1)
		good = good && ok
	} else {
		good = false
	}
	if v := m.get("tiers"); v != nil {
		names, ok := p.texts(v, m.at("tiers"), "a list of tier names, like [Select, Elite]")
		good = good && ok
		for _, name := range names {
			p.tierRef(name.node, name.path, name.text)
		}
		r.Tiers = textsOf(names)
	}
	if v := m.get("stock"); v != nil {
		s, ok := p.smallInt(v, m.at("stock"), 0)
		r.Stock = &s
		good = good && ok
	}
	if v := m.get("per_member"); v != nil {
		var ok bool
		r.PerMember, ok = p.smallInt(v, m.at("per_member"), 0)
		good = good && ok
	}
	r.For = SubjectMember
	if v := m.get("for"); v != nil {
		var ok bool
		r.For, ok = p.subject(v, m.at("for"))
		good = good && ok
	}
	if !good {
		return nil
	}
	return r
}

func (p *parser) registration(n *yaml.Node) *Registration {
	m := p.fields(n, "registration", "a mapping with review_within, hold, meeting_within, extend_on_meeting and conflict", registrationKey...)
	if m == nil {
		return nil
	}
	r := &Registration{
		ReviewWithin: 2 * 24 * time.Hour,
		Hold:         90 * 24 * time.Hour,
		Conflict:     "first_submitted",
		Line:         m.node.Line,
	}
	good := true
	for _, d := range []struct {
		key string
		dst *time.Duration
	}{{"review_within", &r.ReviewWithin}, {"hold", &r.Hold}, {"meeting_within", &r.MeetingWithin}, {"extend_on_meeting", &r.ExtendOnMeeting}} {
		if v := m.get(d.key); v != nil {
			var ok bool
			*d.dst, ok = p.duration(v, m.at(d.key))
			good = good && ok
		}
	}
	if v := m.get("conflict"); v != nil {
		var ok bool
		r.Conflict, ok = p.enum(v, m.at("conflict"), "first_meeting", "first_submitted", "manual")
		good = good && ok
	}
	if !good {
		return nil
	}
	return r
}
