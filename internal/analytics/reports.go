package analytics

import (
	"math"
	"sort"
	"time"
)

// NoData is the message of a report with nothing in its period.
const NoData = "No data for this period"

// The event types the seeds' indicators and the outcomes read (SPEC §4:
// registration transitions enter the log under these names).
var (
	RegistrationTypes = []string{"deal.registered", "registration.submitted"}
	MeetingTypes      = []string{"meeting.first"}
	WonTypes          = []string{"deal.won"}
	TrainingTypes     = []string{"training.completed"}
)

// Head is what every report starts with: its query and whether it is
// empty.
type Head struct {
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	Cohort  string    `json:"cohort,omitempty"`
	Empty   bool      `json:"empty"`
	Message string    `json:"message,omitempty"`
}

func head(q Query) Head { return Head{From: q.From, To: q.To, Cohort: q.Cohort} }

func (h *Head) none() {
	h.Empty, h.Message = true, NoData
}

// Engagement is who was active and doing what, week by week.
type Engagement struct {
	Head
	Partners       int              `json:"partners"` // in the cohort
	Members        int              `json:"members"`
	ActivePartners int              `json:"active_partners"` // with an event in the period
	ActiveMembers  int              `json:"active_members"`
	Events         int              `json:"events"`
	ByType         []TypeCount      `json:"by_type"` // most first
	Weeks          []EngagementWeek `json:"weeks"`
}

// TypeCount is a number of events of one type.
type TypeCount struct {
	Type  string `json:"type"`
	Count int    `json:"count"`
}

// EngagementWeek is one week of engagement.
type EngagementWeek struct {
	Start          time.Time      `json:"start"`
	ActivePartners int            `json:"active_partners"`
	ActiveMembers  int            `json:"active_members"`
	ShareActive    float64        `json:"share_partners_active"` // of the cohort's partners
	Events         map[string]int `json:"events"`                // by type
}

// EngagementOf computes the engagement report.
func EngagementOf(s *Snapshot, q Query) Engagement {
	r := Engagement{Head: head(q), ByType: []TypeCount{}, Weeks: []EngagementWeek{}}
	in := s.in(q)
	for _, ok := range in {
		if ok {
			r.Partners++
		}
	}
	for _, m := range s.Members {
		if m.Partner >= 0 && in[m.Partner] {
			r.Members++
		}
	}
	weeks := Weeks(s.Loc, q.From, q.To)
	wn := nanosOf(weeks)
	from, to := q.bounds()
	byType := make([]int, len(s.Types))
	perWeek := make([][]int, len(weeks))
	for i := range perWeek {
		perWeek[i] = make([]int, len(s.Types))
	}
	// last week seen per partner and member: counts each once a week
	pSeen := make([]int32, len(s.Partners))
	mSeen := make([]int32, len(s.Members))
	for i := range pSeen {
		pSeen[i] = -1
	}
	for i := range mSeen {
		mSeen[i] = -1
	}
	pAny := make([]bool, len(s.Partners))
	mAny := make([]bool, len(s.Members))
	wp := make([]int, len(weeks))
	wm := make([]int, len(weeks))
	cur := weekCursor{weeks: wn}
	evs := s.eventsIn(from, to)
	for i := range evs {
		ev := &evs[i]
		if !in[ev.Partner] {
			continue
		}
		w := cur.at(ev.At)
		if w < 0 {
			continue
		}
		r.Events++
		byType[ev.Type]++
		perWeek[w][ev.Type]++
		if pSeen[ev.Partner] != int32(w) {
			// events are in time order, so a partner's weeks only grow
			pSeen[ev.Partner] = int32(w)
			wp[w]++
		}
		if !pAny[ev.Partner] {
			pAny[ev.Partner] = true
			r.ActivePartners++
		}
		if ev.Member >= 0 {
			if mSeen[ev.Member] != int32(w) {
				mSeen[ev.Member] = int32(w)
				wm[w]++
			}
			if !mAny[ev.Member] {
				mAny[ev.Member] = true
				r.ActiveMembers++
			}
		}
	}
	for t, n := range byType {
		if n > 0 {
			r.ByType = append(r.ByType, TypeCount{Type: s.Types[t], Count: n})
		}
	}
	sort.SliceStable(r.ByType, func(i, j int) bool {
		if r.ByType[i].Count != r.ByType[j].Count {
			return r.ByType[i].Count > r.ByType[j].Count
		}
		return r.ByType[i].Type < r.ByType[j].Type
	})
	for i, start := range weeks {
		w := EngagementWeek{Start: start, ActivePartners: wp[i], ActiveMembers: wm[i], Events: map[string]int{}}
		if r.Partners > 0 {
			w.ShareActive = float64(wp[i]) / float64(r.Partners)
		}
		for t, n := range perWeek[i] {
			if n > 0 {
				w.Events[s.Types[t]] = n
			}
		}
		r.Weeks = append(r.Weeks, w)
	}
	if r.Events == 0 {
		r.none()
	}
	return r
}

// Points is the points issued, expired and redeemed, and how the points
// earned are spread across partners and members.
type Points struct {
	Head
	Issued   int64 `json:"issued"`
	Expired  int64 `json:"expired"`
	Redeemed int64 `json:"redeemed"`
	Deducted int64 `json:"deducted"`
	// Outstanding is the unspent, unexpired points at the period's end:
	// the liability when rewards have a point value.
	Outstanding int64        `json:"outstanding"`
	Weeks       []PointsWeek `json:"weeks"`
	Partners    Distribution `json:"partners"` // points earned in the period, per partner of the cohort
	Members     Distribution `json:"members"`  // per member
}

// PointsWeek is one week of points.
type PointsWeek struct {
	Start    time.Time `json:"start"`
	Issued   int64     `json:"issued"`
	Expired  int64     `json:"expired"`
	Redeemed int64     `json:"redeemed"`
}

// Distribution describes how a total is spread over a population.
type Distribution struct {
	N          int     `json:"n"`
	Total      float64 `json:"total"`
	Gini       float64 `json:"gini"`
	Top10Share float64 `json:"top10_share"`
	Histogram  []Bin   `json:"histogram"`
}

// DistributionOf describes values.
func DistributionOf(values []float64) Distribution {
	xs := make([]float64, len(values))
	for i, v := range values {
		xs[i] = max(v, 0)
	}
	sort.Float64s(xs)
	d := Distribution{N: len(values), Gini: giniSorted(xs), Top10Share: topShareSorted(xs, 0.1), Histogram: Histogram(values, 12)}
	for _, v := range values {
		d.Total += v
	}
	if d.Histogram == nil {
		d.Histogram = []Bin{}
	}
	return d
}

// PointsOf computes the points report.
func PointsOf(s *Snapshot, q Query) Points {
	r := Points{Head: head(q), Weeks: []PointsWeek{}}
	in := s.in(q)
	weeks := Weeks(s.Loc, q.From, q.To)
	wn := nanosOf(weeks)
	for _, w := range weeks {
		r.Weeks = append(r.Weeks, PointsWeek{Start: w})
	}
	from, to := q.bounds()
	byPartner := make([]float64, len(s.Partners))
	byMember := make([]float64, len(s.Members))
	cur := weekCursor{weeks: wn}
	aw := s.awardsIn(from, to)
	for i := range aw {
		a := &aw[i]
		if !in[a.Partner] {
			continue
		}
		r.Issued += a.Points
		byPartner[a.Partner] += float64(a.Points)
		if a.Member >= 0 {
			byMember[a.Member] += float64(a.Points)
		}
		if w := cur.at(a.At); w >= 0 {
			r.Weeks[w].Issued += a.Points
		}
	}
	for i := range s.Debits {
		d := &s.Debits[i]
		if d.At < from || d.At >= to || !in[d.Partner] {
			continue
		}
		if d.Redeemed {
			r.Redeemed += d.Points
			if w := weekIndex(wn, d.At); w >= 0 {
				r.Weeks[w].Redeemed += d.Points
			}
		} else {
			r.Deducted += d.Points
		}
	}
	// An award expiring at the period's end expired in it: at `to` it is
	// gone (SPEC §4: expired when expires_at <= t).
	s.lots(in, to, func(lt lot) {
		switch {
		case lt.expires == 0 || lt.expires > to:
			r.Outstanding += lt.left
		case lt.expires > from && lt.left > 0:
			r.Expired += lt.left
			if w := weekIndex(wn, lt.expires-1); w >= 0 {
				r.Weeks[w].Expired += lt.left
			}
		}
	})
	var pv, mv []float64
	for i, ok := range in {
		if ok {
			pv = append(pv, byPartner[i])
		}
	}
	for i, m := range s.Members {
		if m.Partner >= 0 && in[m.Partner] {
			mv = append(mv, byMember[i])
		}
	}
	r.Partners, r.Members = DistributionOf(pv), DistributionOf(mv)
	if r.Issued == 0 && r.Expired == 0 && r.Redeemed == 0 && r.Deducted == 0 {
		r.none()
	}
	return r
}

// lot is points that can be spent until they expire.
type lot struct {
	at, expires int64
	left        int64
}

// lots replays every selected partner's awards and debits up to end the
// way balances are kept (SPEC §4): a debit spends the oldest-expiring
// unexpired points first, points that never expire last. It calls fn with
// what was left of each award (at its expiry, for an expired one). Awards
// of partners without debits are left whole and need no replay.
func (s *Snapshot) lots(in []bool, end int64, fn func(l lot)) {
	debits := map[int32][]Debit{}
	for _, d := range s.Debits {
		if in[d.Partner] && d.At < end {
			debits[d.Partner] = append(debits[d.Partner], d)
		}
	}
	byP := make(map[int32][]lot, len(debits))
	for _, a := range s.awardsIn(math.MinInt64, end) {
		if !in[a.Partner] {
			continue
		}
		l := lot{at: a.At, expires: a.Expires, left: a.Points}
		if _, ok := debits[a.Partner]; ok {
			byP[a.Partner] = append(byP[a.Partner], l)
		} else {
			fn(l)
		}
	}
	for p, ds := range debits {
		ls := byP[p]
		sort.SliceStable(ls, func(i, j int) bool {
			ei, ej := ls[i].expires, ls[j].expires
			if ei == 0 {
				ei = math.MaxInt64
			}
			if ej == 0 {
				ej = math.MaxInt64
			}
			if ei != ej {
				return ei < ej
			}
			return ls[i].at < ls[j].at
		})
		for _, d := range ds {
			need := d.Points
			for k := range ls {
				l := &ls[k]
				if need == 0 {
					break
				}
				if l.at > d.At || (l.expires != 0 && l.expires <= d.At) || l.left == 0 {
					continue
				}
				take := min(need, l.left)
				l.left -= take
				need -= take
			}
		}
		for _, l := range ls {
			fn(l)
		}
	}
}
