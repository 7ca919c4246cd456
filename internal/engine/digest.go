package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"time"
)

// Dump writes a canonical text form of the derived state as of t: every
// partner's and member's ledger, points, level and badges held, and every
// leaderboard in full. (The history of revoked badges depends on the order
// records were logged in, so it is not part of it: see Revocations.) Two engines with the same facts write the same bytes, whatever
// order the facts arrived in; tests and `rung copy` compare them.
func (e *Engine) Dump(w io.Writer, t time.Time) {
	pids := e.PartnerIDs()
	for _, id := range pids {
		p := e.partners[id]
		fmt.Fprintf(w, "partner %s\n", id)
		for a := range p.awards.all() {
			dumpAward(w, a)
		}
		pts := e.points(&p.awards, p.adjusts, t.UnixNano())
		fmt.Fprintf(w, "  points %d %d %v\n", pts.Balance, pts.Lifetime, pts.Expiring)
		dumpHoldings(w, p.holds)
		e.dumpTiers(w, p)
	}
	mids := e.MemberIDs("")
	for _, id := range mids {
		m := e.members[id]
		fmt.Fprintf(w, "member %s\n", id)
		for a := range m.awards.all() {
			dumpAward(w, a)
		}
		pts := e.points(&m.awards, m.adjusts, t.UnixNano())
		fmt.Fprintf(w, "  points %d %d\n", pts.Balance, pts.Lifetime)
		dumpHoldings(w, m.holds)
	}
	e.dumpChallenges(w)
	ids := make([]string, 0, len(e.boards))
	for _, b := range e.boards {
		ids = append(ids, b.def.ID)
	}
	sort.Strings(ids)
	for _, id := range ids {
		page, err := e.Leaderboard(id, BoardQuery{Limit: 1000})
		if err != nil {
			fmt.Fprintf(w, "board %s: %v\n", id, err)
			continue
		}
		fmt.Fprintf(w, "board %s %d\n", id, page.Total)
		for _, en := range page.Entries {
			fmt.Fprintf(w, "  %d %d %s %s %g\n", en.Rank, en.CohortRank, en.Subject, en.Cohort, en.Value)
		}
	}
}

func dumpAward(w io.Writer, a *Award) {
	fmt.Fprintf(w, "  %d %s %s %d/%d %d %q\n", a.At, a.Event.id, a.Rule, a.Points, a.Requested, a.Expires, a.Note)
}

// Digest returns the SHA-256 of Dump, in hex.
func (e *Engine) Digest(t time.Time) string {
	h := sha256.New()
	e.Dump(h, t)
	return hex.EncodeToString(h.Sum(nil))
}
