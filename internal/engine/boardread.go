package engine

import "github.com/rung-dev/rung/internal/rank"

// LeaderboardInto is Leaderboard for the API's hot read: a live page's
// entries go into buf[:0] (grown when too small) instead of a new slice, so
// a caller that reuses buf reads a top-100 page without allocating, and a
// board without cohorts skips the cohort lookups per row. The page is the
// one Leaderboard returns (a test holds them equal); reads it does not
// speed up (as_of in the past, a cohort, errors) go to Leaderboard. The
// page's Entries alias buf: the caller owns them until it reuses buf.
func (e *Engine) LeaderboardInto(id string, q BoardQuery, buf []BoardEntry) (BoardPage, error) {
	if e.cur == nil || q.Cohort != "" {
		return e.Leaderboard(id, q)
	}
	var b *board
	for _, x := range e.boards {
		if x.def.ID == id {
			b = x
		}
	}
	if b == nil || !e.live(b, q.AsOf) {
		return e.Leaderboard(id, q)
	}
	e.flushBoards()
	q.page()
	page := BoardPage{ID: b.def.ID, Name: b.def.Name, Metric: b.def.Metric, For: string(b.def.For), Window: Span{b.from, b.to}}
	idx := b.idx
	page.Total = idx.Len()
	if q.Around != "" {
		if !e.centre(b, idx, &q) {
			return e.Leaderboard(id, q) // the not-found error
		}
	}
	if n := min(q.Limit, max(0, page.Total-q.Offset)); buf == nil || cap(buf) < n {
		buf = make([]BoardEntry, 0, n)
	}
	rows := buf[:0]
	cohorts := b.def.Cohort != ""
	idx.Range(q.Offset, q.Limit, func(rk, _ int, en rank.Entry) bool {
		be := e.entry(b, en.ID, en.Value, e.now)
		be.Rank = rk
		if cohorts {
			if ci := b.cohorts[b.cohortOf[en.ID]]; ci != nil {
				be.CohortRank, _ = ci.Rank(en.ID)
			}
		}
		rows = append(rows, be)
		return true
	})
	page.Entries = rows
	return page, nil
}
