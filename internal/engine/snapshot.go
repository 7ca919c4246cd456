package engine

import (
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/rank"
)

// SnapshotState is one member's or partner's standing as of a time: what a
// what-if simulation compares between two engines.
type SnapshotState struct {
	ID      string
	Name    string
	Partner string // a member's partner at the time; a partner's own id
	// Lifetime and Balance are the scorecard's points as of the time;
	// InPeriod is the points awarded for events that occurred in the
	// period (adjustments not included).
	Lifetime, Balance, InPeriod int64
	Level                       string   // by lifetime points; "" without levels
	Badges                      []string // held as of the time: "id" or "id:level", sorted
	// Tier is the partner's tier at the time and Qualified the highest tier
	// whose criteria all hold over the tier window containing the time
	// (SPEC §4); both "" for members and for programs without tiers.
	Tier, Qualified string
	// Ranks is the subject's rank on each of Snapshot.Boards as of the
	// time; 0 when not listed there (or the board ranks the other kind).
	Ranks []int
}

// Snapshot is the state of every member and partner as of a time.
type Snapshot struct {
	At     time.Time
	Boards []string // the newest program's leaderboard ids, in file order
	// Members and Partners are sorted by id.
	Members, Partners []SnapshotState
}

// Snapshot returns every member's and partner's state as of t, with the
// points awarded for events that occurred in [from, t] (from zero: since
// the beginning). It reads what the scorecards read, for all subjects in one
// pass, without their challenge standings.
func (e *Engine) Snapshot(from, t time.Time) *Snapshot {
	tn := t.UnixNano()
	fromN := int64(-1 << 63)
	if !from.IsZero() {
		fromN = from.UnixNano()
	}
	s := &Snapshot{At: t}
	mranks, pranks := e.boardRanks(s, t)
	// Reads share the engine (see Engine), so the subjects are read on
	// several cores when there are many.
	s.Members = make([]SnapshotState, len(e.memberByHandle))
	inParts(len(s.Members), func(lo, hi int) {
		for i, m := range e.memberByHandle[lo:hi] {
			st := &s.Members[lo+i]
			*st = SnapshotState{ID: m.m.ID, Name: m.m.Name, Partner: m.m.PartnerAt(t)}
			if st.Partner == "" {
				st.Partner = m.m.Partner
			}
			e.fillPoints(st, &m.awards, m, fromN, tn)
			held, _ := e.badgeCards(m, m.holds, t)
			st.Badges = badgeKeys(held)
			st.Ranks = mranks[m.handle]
		}
	})
	s.Partners = make([]SnapshotState, len(e.partnerByHandle))
	inParts(len(s.Partners), func(lo, hi int) {
		for i, p := range e.partnerByHandle[lo:hi] {
			pv := &p.versions[p.at(tn)].Partner
			st := &s.Partners[lo+i]
			*st = SnapshotState{ID: p.id, Name: pv.Name, Partner: p.id}
			e.fillPoints(st, &p.awards, p, fromN, tn)
			held, _ := e.badgeCards(p, p.holds, t)
			st.Badges = badgeKeys(held)
			st.Ranks = pranks[p.handle]
			if e.cur != nil && e.cur.Tiers != nil && len(e.cur.Tiers.Levels) > 0 {
				st.Tier = e.tierAt(p, tn)
				st.Qualified = e.qualifiedTier(p, t)
			}
		}
	})
	sort.Slice(s.Members, func(i, j int) bool { return s.Members[i].ID < s.Members[j].ID })
	sort.Slice(s.Partners, func(i, j int) bool { return s.Partners[i].ID < s.Partners[j].ID })
	return s
}

// fillPoints sets a subject's points and level. Without adjustments no
// points are spent, so balance is the unexpired awards and one pass over
// the awards does; with adjustments the scorecard's computation runs.
func (e *Engine) fillPoints(st *SnapshotState, awards *awardList, subj any, fromN, tn int64) {
	adjusts := subjectAdjusts(subj)
	for a := range awards.all() {
		if a.At > tn {
			break
		}
		if len(adjusts) == 0 {
			st.Lifetime += a.Points
			if a.Expires == 0 || a.Expires > tn {
				st.Balance += a.Points
			}
		}
		if a.At >= fromN {
			st.InPeriod += a.Points
		}
	}
	if len(adjusts) > 0 {
		pts := e.points(awards, adjusts, tn)
		st.Lifetime, st.Balance = pts.Lifetime, pts.Balance
	}
	if lc := e.level(st.Lifetime); lc != nil {
		st.Level = lc.Name
	}
}

func subjectAdjusts(subj any) []rung.Adjustment {
	switch s := subj.(type) {
	case *memberState:
		return s.adjusts
	case *partnerState:
		return s.adjusts
	}
	return nil
}

// badgeKeys names held badges as "id" or "id:level", sorted.
func badgeKeys(held []BadgeCard) []string {
	if len(held) == 0 {
		return nil
	}
	out := make([]string, len(held))
	for i, b := range held {
		out[i] = b.ID
		if b.Level != "" {
			out[i] += ":" + b.Level
		}
	}
	sort.Strings(out)
	return out
}

// qualifiedTier returns the highest tier whose criteria all hold for a
// partner over the tier window containing t. A tier above the lowest needs
// at least one criterion to be qualified for; the lowest needs none.
func (e *Engine) qualifiedTier(p *partnerState, t time.Time) string {
	levels := e.cur.Tiers.Levels
	typ := p.versions[p.at(t.UnixNano())].Partner.Type
	for i := len(levels) - 1; i > 0; i-- {
		if len(e.cur.Tiers.CriteriaFor(typ, levels[i])) == 0 {
			continue
		}
		all := true
		for _, c := range e.criteria(p, levels[i], t) {
			all = all && c.Met
		}
		if all {
			return levels[i]
		}
	}
	return levels[0]
}

// boardRanks records every subject's rank on every board as of t, by
// handle: from the live index when t is in its window, computed as the
// as_of read does otherwise.
func (e *Engine) boardRanks(s *Snapshot, t time.Time) (members, partners [][]int) {
	if e.cur == nil || len(e.boards) == 0 {
		return make([][]int, len(e.memberByHandle)), make([][]int, len(e.partnerByHandle))
	}
	e.flushBoards()
	nb := len(e.boards)
	members = rankRows(len(e.memberByHandle), nb)
	partners = rankRows(len(e.partnerByHandle), nb)
	for bi, b := range e.boards {
		s.Boards = append(s.Boards, b.def.ID)
		rows := partners
		if b.member {
			rows = members
		}
		if e.live(b, t) {
			b.idx.Range(0, b.idx.Len(), func(r, _ int, en rank.Entry) bool {
				rows[en.ID][bi] = r
				return true
			})
			continue
		}
		_, _, all, _ := e.staticBoard(b, t)
		for _, r := range all {
			rows[r.h][bi] = r.rank
		}
	}
	return members, partners
}

// rankRows makes n rows of k ranks in one block.
func rankRows(n, k int) [][]int {
	block := make([]int, n*k)
	rows := make([][]int, n)
	for i := range rows {
		rows[i] = block[i*k : (i+1)*k : (i+1)*k]
	}
	return rows
}

// partMin is the fewest items inParts gives a goroutine of its own (a
// variable for the tests).
var partMin = 4096

// inParts calls fn for [0, n) split into consecutive parts, on as many
// goroutines as there are cores (at most 4) when n is large, and returns
// when every part is done. A part's panic is raised again on the calling
// goroutine once every part is done.
func inParts(n int, fn func(lo, hi int)) {
	parts := min(runtime.GOMAXPROCS(0), 4, n/partMin)
	if parts <= 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	panics := make([]any, parts)
	for i := 1; i < parts; i++ {
		wg.Go(func() {
			defer func() { panics[i] = recover() }()
			fn(i*n/parts, (i+1)*n/parts)
		})
	}
	func() {
		defer func() { panics[0] = recover() }()
		fn(0, n/parts)
	}()
	wg.Wait()
	for _, p := range panics {
		if p != nil {
			panic(p)
		}
	}
}
