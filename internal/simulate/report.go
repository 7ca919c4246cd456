package simulate

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/program"
)

// Report is what a draft would change, compared with the active program.
type Report struct {
	Program  string `json:"program"`        // the draft's name
	Active   int    `json:"active_version"` // the active program version; 0 when none
	Baseline string `json:"baseline"`       // live (the running engine) | replay
	// From and To are the period; From zero means the whole history.
	From           time.Time `json:"from,omitzero"`
	To             time.Time `json:"to"`
	Records        int       `json:"records"`          // log records replayed
	EventsInPeriod int       `json:"events_in_period"` // event versions that occurred in the period
	// Empty says no event occurred in the period, and Message says so in
	// words.
	Empty        bool     `json:"empty"`
	Message      string   `json:"message,omitempty"`
	Leaderboards []string `json:"leaderboards"` // of either program, as in Row.Ranks
	Totals       Totals   `json:"totals"`
	// Partners and Members hold the subjects the draft changes (all of
	// them when asked), in the order Sort gave.
	Partners []Row `json:"partners"`
	Members  []Row `json:"members"`
	TookMS   int64 `json:"took_ms"`
}

// Change is a number before (active program) and after (draft).
type Change struct {
	Before int64 `json:"before"`
	After  int64 `json:"after"`
	Delta  int64 `json:"delta"`
}

func change(before, after int64) Change { return Change{before, after, after - before} }

// Money is an amount of money before and after.
type Money struct {
	Before float64 `json:"before"`
	After  float64 `json:"after"`
	Delta  float64 `json:"delta"`
}

// Move is a named step (a level or a tier) before and after; Delta counts
// steps up (positive) or down (negative) in each program's own order.
type Move struct {
	Before string `json:"before"`
	After  string `json:"after"`
	Delta  int    `json:"delta"`
}

// Place is a subject's rank on a leaderboard before and after; 0 means not
// listed. Delta is places gained (positive: moved up); moving onto a board
// counts as gaining the places below, leaving it as losing them.
type Place struct {
	Leaderboard string `json:"leaderboard"`
	Before      int    `json:"before"`
	After       int    `json:"after"`
	Delta       int    `json:"delta"`
}

// Row is what the draft changes for one member or partner.
type Row struct {
	Kind     string `json:"kind"` // member | partner
	ID       string `json:"id"`
	Name     string `json:"name"`
	Partner  string `json:"partner,omitempty"` // a member's partner
	Lifetime Change `json:"lifetime"`
	Balance  Change `json:"balance"`
	Period   Change `json:"period"` // points awarded for events in the period
	Level    Move   `json:"level"`
	// Tier is the qualified tier (partners, programs with tiers): the
	// highest tier whose criteria hold at the end of the period.
	Tier         *Move    `json:"tier,omitempty"`
	BadgesGained []string `json:"badges_gained"`
	BadgesLost   []string `json:"badges_lost"`
	Ranks        []Place  `json:"ranks"`
	Liability    *Money   `json:"liability,omitempty"`
	Changed      bool     `json:"changed"`
}

// Totals sums the changes over every subject.
type Totals struct {
	// Points over all partners (a partner's points include its members').
	PointsIssued Change `json:"points_issued"` // awarded in the period
	Lifetime     Change `json:"lifetime"`
	Balance      Change `json:"balance"`
	// Liability is the outstanding balance at the program's point value;
	// nil when the programs give none.
	Liability         *Money `json:"liability,omitempty"`
	Members           int    `json:"members"`
	Partners          int    `json:"partners"`
	MembersChanged    int    `json:"members_changed"`
	PartnersChanged   int    `json:"partners_changed"`
	MembersLevelUp    int    `json:"members_level_up"`
	MembersLevelDown  int    `json:"members_level_down"`
	PartnersLevelUp   int    `json:"partners_level_up"`
	PartnersLevelDown int    `json:"partners_level_down"`
	PartnersTierUp    int    `json:"partners_tier_up"`
	PartnersTierDown  int    `json:"partners_tier_down"`
	BadgesHeld        Change `json:"badges_held"`
	BadgesGained      int    `json:"badges_gained"`
	BadgesLost        int    `json:"badges_lost"`
	RankChanges       int    `json:"rank_changes"` // subject-board pairs whose place changed
}

// Zero reports whether the totals show no change at all.
func (t Totals) Zero() bool {
	return t.PointsIssued.Delta == 0 && t.Lifetime.Delta == 0 && t.Balance.Delta == 0 &&
		(t.Liability == nil || t.Liability.Delta == 0) && t.MembersChanged == 0 && t.PartnersChanged == 0 &&
		t.MembersLevelUp == 0 && t.MembersLevelDown == 0 && t.PartnersLevelUp == 0 && t.PartnersLevelDown == 0 && t.PartnersTierUp == 0 && t.PartnersTierDown == 0 &&
		t.BadgesHeld.Delta == 0 && t.BadgesGained == 0 && t.BadgesLost == 0 && t.RankChanges == 0
}

// compare builds the report from the state under the active program
// (before, nil program when none) and under the draft (after). Every
// subject gets a row; Trim drops the unchanged ones.
func compare(before, after *engine.Snapshot, active, draft *program.Program, value func(*program.Program) (float64, bool)) *Report {
	r := &Report{Partners: []Row{}, Members: []Row{}}
	r.Leaderboards = unionBoards(before.Boards, after.Boards)
	var vb, va float64
	var money bool
	if value != nil {
		var okb, oka bool
		if active != nil {
			vb, okb = value(active)
		}
		va, oka = value(draft)
		money = okb || oka
	}
	t := &r.Totals
	if money {
		t.Liability = &Money{}
	}
	rows := func(bs, as []engine.SnapshotState, kind string) []Row {
		bi := index(bs)
		out := make([]Row, 0, len(as))
		for i := range as {
			a := &as[i]
			b := &engine.SnapshotState{ID: a.ID, Name: a.Name, Partner: a.Partner}
			if j, ok := bi[a.ID]; ok {
				b = &bs[j]
			}
			row := Row{Kind: kind, ID: a.ID, Name: a.Name,
				Lifetime: change(b.Lifetime, a.Lifetime), Balance: change(b.Balance, a.Balance), Period: change(b.InPeriod, a.InPeriod),
				Level: move(b.Level, a.Level, levelRank(active), levelRank(draft))}
			if kind == "member" {
				row.Partner = a.Partner
			}
			if a.Qualified != "" || b.Qualified != "" {
				m := move(b.Qualified, a.Qualified, tierRank(active), tierRank(draft))
				row.Tier = &m
			}
			row.BadgesGained, row.BadgesLost = diff(b.Badges, a.Badges)
			row.Ranks = places(r.Leaderboards, before.Boards, b.Ranks, after.Boards, a.Ranks)
			if money {
				row.Liability = &Money{Before: float64(b.Balance) * vb, After: float64(a.Balance) * va}
				row.Liability.Delta = row.Liability.After - row.Liability.Before
			}
			row.Changed = row.Lifetime.Delta != 0 || row.Balance.Delta != 0 || row.Period.Delta != 0 ||
				row.Level.Before != row.Level.After || (row.Tier != nil && row.Tier.Before != row.Tier.After) ||
				len(row.BadgesGained) > 0 || len(row.BadgesLost) > 0
			for _, p := range row.Ranks {
				if p.Before != p.After {
					row.Changed = true
					t.RankChanges++
				}
			}
			t.BadgesHeld.Before += int64(len(b.Badges))
			t.BadgesHeld.After += int64(len(a.Badges))
			t.BadgesGained += len(row.BadgesGained)
			t.BadgesLost += len(row.BadgesLost)
			out = append(out, row)
		}
		return out
	}
	r.Members = rows(before.Members, after.Members, "member")
	r.Partners = rows(before.Partners, after.Partners, "partner")
	t.Members, t.Partners = len(r.Members), len(r.Partners)
	for _, m := range r.Members {
		if m.Changed {
			t.MembersChanged++
		}
		switch {
		case m.Level.Delta > 0:
			t.MembersLevelUp++
		case m.Level.Delta < 0:
			t.MembersLevelDown++
		}
	}
	for _, p := range r.Partners {
		if p.Changed {
			t.PartnersChanged++
		}
		switch {
		case p.Level.Delta > 0:
			t.PartnersLevelUp++
		case p.Level.Delta < 0:
			t.PartnersLevelDown++
		}
		t.PointsIssued.Before += p.Period.Before
		t.PointsIssued.After += p.Period.After
		t.Lifetime.Before += p.Lifetime.Before
		t.Lifetime.After += p.Lifetime.After
		t.Balance.Before += p.Balance.Before
		t.Balance.After += p.Balance.After
		if p.Tier != nil {
			switch {
			case p.Tier.Delta > 0:
				t.PartnersTierUp++
			case p.Tier.Delta < 0:
				t.PartnersTierDown++
			}
		}
		if money {
			t.Liability.Before += p.Liability.Before
			t.Liability.After += p.Liability.After
		}
	}
	t.PointsIssued.Delta = t.PointsIssued.After - t.PointsIssued.Before
	t.Lifetime.Delta = t.Lifetime.After - t.Lifetime.Before
	t.Balance.Delta = t.Balance.After - t.Balance.Before
	t.BadgesHeld.Delta = t.BadgesHeld.After - t.BadgesHeld.Before
	if money {
		t.Liability.Delta = t.Liability.After - t.Liability.Before
	}
	return r
}

func index(ss []engine.SnapshotState) map[string]int {
	m := make(map[string]int, len(ss))
	for i := range ss {
		m[ss[i].ID] = i
	}
	return m
}

// move is a step change between two orders. A name missing from its
// order (a program without levels or tiers) counts no steps.
func move(before, after string, rb, ra func(string) int) Move {
	m := Move{Before: before, After: after}
	if i, j := rb(before), ra(after); before != after && i >= 0 && j >= 0 {
		m.Delta = j - i
	}
	return m
}

func levelRank(p *program.Program) func(string) int {
	return func(name string) int {
		if p == nil {
			return -1
		}
		return slices.IndexFunc(p.Levels, func(l program.Level) bool { return l.Name == name })
	}
}

func tierRank(p *program.Program) func(string) int {
	return func(name string) int {
		if p == nil || p.Tiers == nil {
			return -1
		}
		return slices.Index(p.Tiers.Levels, name)
	}
}

// diff returns what after has that before lacks, and the reverse; both
// lists are sorted.
func diff(before, after []string) (gained, lost []string) {
	gained, lost = []string{}, []string{}
	i, j := 0, 0
	for i < len(before) || j < len(after) {
		switch {
		case j == len(after) || (i < len(before) && before[i] < after[j]):
			lost = append(lost, before[i])
			i++
		case i == len(before) || after[j] < before[i]:
			gained = append(gained, after[j])
			j++
		default:
			i++
			j++
		}
	}
	return gained, lost
}

func unionBoards(a, b []string) []string {
	out := append([]string{}, a...)
	for _, id := range b {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// places lines up a subject's ranks on the union of both programs' boards.
func places(all, bBoards []string, bRanks []int, aBoards []string, aRanks []int) []Place {
	rankOn := func(boards []string, ranks []int, id string) int {
		if i := slices.Index(boards, id); i >= 0 && i < len(ranks) {
			return ranks[i]
		}
		return 0
	}
	var out []Place
	for _, id := range all {
		p := Place{Leaderboard: id, Before: rankOn(bBoards, bRanks, id), After: rankOn(aBoards, aRanks, id)}
		if p.Before == 0 && p.After == 0 {
			continue
		}
		switch {
		case p.Before == p.After:
		case p.Before == 0:
			p.Delta = 1 // appeared on the board
		case p.After == 0:
			p.Delta = -1 // dropped off the board
		default:
			p.Delta = p.Before - p.After
		}
		out = append(out, p)
	}
	if out == nil {
		out = []Place{}
	}
	return out
}

// Sort keys Sort accepts (with a leading "-" for descending order).
var SortKeys = []string{"id", "name", "lifetime", "balance", "period", "level", "tier", "badges", "liability"}

// Sort orders the partner and member rows by a key: a delta column
// (lifetime, balance, period, level, tier, badges = gained − lost,
// liability), "rank:<leaderboard>" (places gained), id or name; a leading
// "-" sorts descending. Ties go by id. An unknown key is an EINVALID error
// that lists the keys.
func (r *Report) Sort(key string) error {
	desc := strings.HasPrefix(key, "-")
	name := strings.TrimPrefix(key, "-")
	var by func(a, b *Row) int
	num := func(f func(*Row) float64) func(a, b *Row) int {
		return func(a, b *Row) int { return cmp.Compare(f(a), f(b)) }
	}
	switch name {
	case "", "id":
		by = func(a, b *Row) int { return 0 }
	case "name":
		by = func(a, b *Row) int { return strings.Compare(a.Name, b.Name) }
	case "lifetime":
		by = num(func(x *Row) float64 { return float64(x.Lifetime.Delta) })
	case "balance":
		by = num(func(x *Row) float64 { return float64(x.Balance.Delta) })
	case "period":
		by = num(func(x *Row) float64 { return float64(x.Period.Delta) })
	case "level":
		by = num(func(x *Row) float64 { return float64(x.Level.Delta) })
	case "tier":
		by = num(func(x *Row) float64 {
			if x.Tier == nil {
				return 0
			}
			return float64(x.Tier.Delta)
		})
	case "badges":
		by = num(func(x *Row) float64 { return float64(len(x.BadgesGained) - len(x.BadgesLost)) })
	case "liability":
		by = num(func(x *Row) float64 {
			if x.Liability == nil {
				return 0
			}
			return x.Liability.Delta
		})
	default:
		board, ok := strings.CutPrefix(name, "rank:")
		if !ok || !slices.Contains(r.Leaderboards, board) {
			return rung.Errorf(rung.EINVALID, "cannot sort by %q: use one of %s or rank:<leaderboard> (leaderboards: %s), with a leading - for descending",
				key, strings.Join(SortKeys, ", "), strings.Join(r.Leaderboards, ", "))
		}
		by = num(func(x *Row) float64 {
			for _, p := range x.Ranks {
				if p.Leaderboard == board {
					return float64(p.Delta)
				}
			}
			return 0
		})
	}
	order := func(a, b Row) int {
		c := by(&a, &b)
		if desc {
			c = -c
		}
		if c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	}
	slices.SortStableFunc(r.Partners, order)
	slices.SortStableFunc(r.Members, order)
	return nil
}

// Trim keeps only the rows the draft changes (unless all), then at most
// limit rows of each kind (0: no limit).
func (r *Report) Trim(all bool, limit int) {
	keep := func(rows []Row) []Row {
		out := rows[:0]
		for _, x := range rows {
			if all || x.Changed {
				out = append(out, x)
			}
		}
		if limit > 0 && len(out) > limit {
			out = out[:limit]
		}
		return out
	}
	r.Partners, r.Members = keep(r.Partners), keep(r.Members)
}
