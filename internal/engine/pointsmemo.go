package engine

import "math"

// pointsMemo is an award list's sum as of a time t: the lifetime (points
// of the awards at or before t) and the balance (those not expired at t).
// The sums stay the same for every time in [t, until()) as long as the
// list does not change; the list's insert and remove fold their award in,
// so the memo lives as long as the list.
//
// nextAt and nextExp are lower bounds, never above the truth: an award
// removed may leave them early, which costs a walk, not a wrong sum.
type pointsMemo struct {
	t        int64 // the time summed at
	nextAt   int64 // no award has At in (t, nextAt)
	nextExp  int64 // no award with At <= t has Expires in (t, nextExp)
	balance  int64
	lifetime int64
}

// until is the first time after t at which the sums may change.
func (m *pointsMemo) until() int64 { return min(m.nextAt, m.nextExp) }

// inserted folds an award just inserted into the list into the sums.
func (m *pointsMemo) inserted(a *Award) {
	if a.At > m.t {
		m.nextAt = min(m.nextAt, a.At)
		return
	}
	m.add(a, m.t)
}

// removed takes an award just removed from the list out of the sums.
func (m *pointsMemo) removed(a *Award) {
	if a.At > m.t {
		return
	}
	m.lifetime -= a.Points
	if a.Expires == 0 || a.Expires > m.t {
		m.balance -= a.Points
	}
}

// sum returns the list's balance and lifetime of awards at t (without
// redemptions and adjustments): from the memo while t is in its span,
// moving it forward over the awards after its time while none of its
// awards expires, and summing the whole list otherwise. The first call
// gives the list its memo: even a member's few awards cost a cache miss
// each to sum.
func (l *awardList) sum(t int64) (balance, lifetime int64) {
	m := l.memo
	if m == nil {
		m = &pointsMemo{}
		l.memo = m
		l.resum(t)
		return m.balance, m.lifetime
	}
	switch {
	case t >= m.t && t < m.until():
	case t >= m.t && t < m.nextExp:
		l.advance(t)
	default:
		l.resum(t)
	}
	return m.balance, m.lifetime
}

// resum sums the whole list at t into its memo.
func (l *awardList) resum(t int64) {
	m := l.memo
	*m = pointsMemo{t: t, nextAt: math.MaxInt64, nextExp: math.MaxInt64}
	for r := range l.c.all() {
		if r.at > t {
			m.nextAt = r.at
			return
		}
		m.add(r.a, t)
	}
}

// advance moves the memo forward to t, adding the awards after its time:
// none of the awards it holds expires before t.
func (l *awardList) advance(t int64) {
	m := l.memo
	from := m.t
	m.t, m.nextAt = t, math.MaxInt64
	for r := range l.c.from(func(r awardRef) bool { return r.at > from }, func(awardRef) bool { return true }) {
		if r.at > t {
			m.nextAt = r.at
			return
		}
		m.add(r.a, t)
	}
}

// add counts an award at or before t, the memo's time.
func (m *pointsMemo) add(a *Award, t int64) {
	m.lifetime += a.Points
	if a.Expires == 0 || a.Expires > t {
		m.balance += a.Points
		if a.Expires != 0 {
			m.nextExp = min(m.nextExp, a.Expires)
		}
	}
}
