package engine

import "github.com/rung-dev/rung"

// WarmMax is the most records Warm reads ahead for at once; it reads the
// first WarmMax of a longer list.
const WarmMax = 32

// Warm reads, for each record, the first words of what applying it reads
// first: its slot in the event table, its partner's and member's states,
// their lists of series and the newest element of each list, their
// badge holdings, the partner's tier aggregates and timeline, and their
// entries in the live leaderboards. Apply reads
// them one record at a time, each read waiting for the one before it
// (a map's group, then the state, then its lists). Warm reads them a
// level at a time for every record, so that the reads of one level do not
// depend on one another and the processor has many of them in flight at
// once; Apply then finds them in its cache. Nothing is written; the sum
// kept only keeps the reads from being dropped.
func (e *Engine) Warm(recs []*rung.Record) {
	var sum uint64
	var ps [WarmMax]*partnerState
	var ms [WarmMax]*memberState
	recs = recs[:min(len(recs), WarmMax)]
	mask := uint32(len(e.events.slots) - 1)
	for i, rec := range recs {
		if len(e.events.slots) > 0 {
			sum += uint64(e.events.slots[uint32(idHash64(rec.Event.ID))&mask].h)
		}
		ps[i] = e.partners[rec.Event.Partner]
		if rec.Event.Member != "" {
			ms[i] = e.members[rec.Event.Member]
		}
	}
	// The states, then their lists, then the lists' newest elements.
	var ss [2 * WarmMax][]series
	var as [2 * WarmMax][][]awardRef
	var hs [2 * WarmMax][]*holding
	n := 0
	tf := e.tiers
	for i := range recs {
		if p := ps[i]; p != nil {
			ss[n], as[n], hs[n] = p.series, p.awards.c.chunks, p.holds
			n++
			if tf != nil {
				if c := tf.agg(p); c != nil {
					sum += uint64(c.upTo)
				}
				if tl := tf.line(p); tl != nil {
					sum += uint64(tl.lastEv)
				}
			}
		}
		if m := ms[i]; m != nil {
			ss[n], as[n], hs[n] = m.series, m.awards.c.chunks, m.holds
			n++
		}
	}
	// The live boards' entries of the subjects whose window holds the
	// event: their aggregates and their places in the rank indexes.
	if e.boardsLive {
		for _, b := range e.boards {
			for i, rec := range recs {
				at := rec.Event.OccurredAt.UnixNano()
				if at < b.fromN || at >= b.toN {
					continue
				}
				var h uint32
				switch {
				case b.member && ms[i] != nil:
					h = ms[i].handle
				case !b.member && ps[i] != nil:
					h = ps[i].handle
				default:
					continue
				}
				if int(h) < len(b.aggs) {
					sum += uint64(b.aggs[h].a.at)
				}
				sum += b.idx.Touch(h)
			}
		}
	}
	for i := range n {
		if len(hs[i]) > 0 && hs[i][0] != nil {
			sum++
		}
		for j := range ss[i] {
			if cs := ss[i][j].c.chunks; len(cs) > 0 {
				sum += uint64(len(cs[len(cs)-1]))
			}
		}
		if cs := as[i]; len(cs) > 0 {
			sum += uint64(len(cs[len(cs)-1]))
		}
	}
	for i := range n {
		for j := range ss[i] {
			if cs := ss[i][j].c.chunks; len(cs) > 0 {
				last := cs[len(cs)-1]
				sum += uint64(last[len(last)-1].at)
			}
		}
		if cs := as[i]; len(cs) > 0 {
			last := cs[len(cs)-1]
			sum += uint64(last[len(last)-1].at)
		}
	}
	e.warmed += sum
}
