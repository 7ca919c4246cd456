package analytics

import (
	"slices"
	"sort"
	"time"
)

// MinWinSample is the fewest registrations a partner needs in the period
// for its win rate to count (a rate on one or two deals says little).
const MinWinSample = 3

// Outcomes sets engagement against commercial outcomes across the
// cohort's active partners (those with an event in the period): the rank
// correlation of engagement points with sourced revenue, win rate and
// registrations, and the challenges' participants against the others.
type Outcomes struct {
	Head
	RevenueMetric string            `json:"revenue_metric,omitempty"`
	Correlations  []OutcomeCorr     `json:"correlations"`
	Partners      []PartnerOutcome  `json:"partners"` // by engagement points, most first
	Challenges    []ChallengeEffect `json:"challenges"`
	ChallengesMsg string            `json:"challenges_message,omitempty"`
}

// OutcomeCorr is the correlation of engagement points with one outcome.
type OutcomeCorr struct {
	Outcome string `json:"outcome"` // sourced_revenue | win_rate | registrations
	Label   string `json:"label"`
	Correlation
}

// PartnerOutcome is one partner's engagement and outcomes in the period.
type PartnerOutcome struct {
	Partner string `json:"partner"`
	Name    string `json:"name"`
	Points  int64  `json:"points"` // every award
	// EngagementPoints leaves out awards for outcome events (the revenue
	// metric's event types).
	EngagementPoints int64    `json:"engagement_points"`
	Revenue          float64  `json:"revenue"`
	Registrations    int      `json:"registrations"`
	Won              int      `json:"won"`
	WinRate          *float64 `json:"win_rate"` // won / registrations, with at least MinWinSample
}

// OutcomesOf computes the outcomes report; challenges come from cs (nil:
// none yet).
func OutcomesOf(s *Snapshot, q Query, cs ChallengeSource) Outcomes {
	r := Outcomes{Head: head(q), RevenueMetric: s.RevenueMetric, Correlations: []OutcomeCorr{},
		Partners: []PartnerOutcome{}, Challenges: []ChallengeEffect{}}
	in := s.in(q)
	from, to := q.bounds()
	rows := s.partnerRows(in, from, to)
	var pts, rev, regs, wrPts, wr []float64
	for _, row := range rows {
		if row == nil {
			continue
		}
		r.Partners = append(r.Partners, *row)
		pts = append(pts, float64(row.EngagementPoints))
		rev = append(rev, row.Revenue)
		regs = append(regs, float64(row.Registrations))
		if row.WinRate != nil {
			wrPts = append(wrPts, float64(row.EngagementPoints))
			wr = append(wr, *row.WinRate)
		}
	}
	sort.SliceStable(r.Partners, func(i, j int) bool {
		a, b := r.Partners[i], r.Partners[j]
		if a.EngagementPoints != b.EngagementPoints {
			return a.EngagementPoints > b.EngagementPoints
		}
		return a.Partner < b.Partner
	})
	revLabel := "Sourced revenue"
	if s.RevenueMetric == "" {
		revLabel = "Revenue (no currency metric in the program)"
	}
	r.Correlations = append(r.Correlations,
		OutcomeCorr{Outcome: "sourced_revenue", Label: revLabel, Correlation: Spearman(pts, rev)},
		OutcomeCorr{Outcome: "win_rate", Label: "Win rate", Correlation: Spearman(wrPts, wr)},
		OutcomeCorr{Outcome: "registrations", Label: "Registrations", Correlation: Spearman(pts, regs)})
	if len(r.Partners) == 0 {
		r.none()
	}
	if cs != nil {
		for _, c := range cs.Challenges(q.From, q.To) {
			r.Challenges = append(r.Challenges, s.challengeEffect(in, c))
		}
	}
	if len(r.Challenges) == 0 {
		r.ChallengesMsg = "No challenge data yet"
	}
	return r
}

// partnerRows returns, per partner index, its engagement and outcomes in
// [from, to); nil for partners outside the cohort or without events.
func (s *Snapshot) partnerRows(in []bool, from, to int64) []*PartnerOutcome {
	rows := make([]*PartnerOutcome, len(s.Partners))
	store := make([]PartnerOutcome, 0, 64)
	reg, won := s.typeSet(RegistrationTypes), s.typeSet(WonTypes)
	evs := s.eventsIn(from, to)
	for i := range evs {
		ev := &evs[i]
		if !in[ev.Partner] {
			continue
		}
		row := rows[ev.Partner]
		if row == nil {
			if len(store) == cap(store) {
				store = make([]PartnerOutcome, 0, 2*cap(store))
			}
			p := s.Partners[ev.Partner]
			store = append(store, PartnerOutcome{Partner: p.ID, Name: p.Name})
			row = &store[len(store)-1]
			rows[ev.Partner] = row
		}
		switch {
		case reg[ev.Type]:
			row.Registrations++
		case won[ev.Type]:
			row.Won++
		}
	}
	aw := s.awardsIn(from, to)
	for i := range aw {
		a := &aw[i]
		if row := rows[a.Partner]; row != nil {
			row.Points += a.Points
			if !a.Outcome {
				row.EngagementPoints += a.Points
			}
		}
	}
	for _, a := range s.revenueIn(from, to) {
		if row := rows[a.Partner]; row != nil {
			row.Revenue += a.Value
		}
	}
	for _, row := range rows {
		if row != nil && row.Registrations >= MinWinSample {
			w := float64(row.Won) / float64(row.Registrations)
			row.WinRate = &w
		}
	}
	return rows
}

// typeSet marks the snapshot's types that are in names.
func (s *Snapshot) typeSet(names []string) []bool {
	out := make([]bool, len(s.Types))
	for i, t := range s.Types {
		out[i] = slices.Contains(names, t)
	}
	return out
}

// Indicators are the seeds' leading indicators for the period: training
// completion, qualified registrations, the first-meeting rate and the
// progression of deals through their stages, with a weekly series.
type Indicators struct {
	Head
	Members int `json:"members"` // in the cohort
	// TrainingCompletion is the share of the cohort's members who
	// completed a training in the period.
	TrainingCompletion     float64 `json:"training_completion"`
	MembersTrained         int     `json:"members_trained"`
	Registrations          int     `json:"registrations"`
	QualifiedRegistrations int     `json:"qualified_registrations"`
	FirstMeetings          int     `json:"first_meetings"`
	// FirstMeetingRate is first meetings per qualified registration; nil
	// without qualified registrations.
	FirstMeetingRate *float64        `json:"first_meeting_rate"`
	Won              int             `json:"won"`
	Stages           []Stage         `json:"stages"`
	Weeks            []IndicatorWeek `json:"weeks"`
}

// Stage is one step of the deal funnel: how many deals reached it and the
// share of the step before that did.
type Stage struct {
	Stage string   `json:"stage"`
	Count int      `json:"count"`
	Rate  *float64 `json:"rate"` // of the previous stage
}

// IndicatorWeek is one week of the indicators.
type IndicatorWeek struct {
	Start         time.Time `json:"start"`
	Trainings     int       `json:"trainings"`
	Qualified     int       `json:"qualified_registrations"`
	FirstMeetings int       `json:"first_meetings"`
	Won           int       `json:"won"`
}

// IndicatorsOf computes the leading indicators.
func IndicatorsOf(s *Snapshot, q Query) Indicators {
	r := Indicators{Head: head(q), Stages: []Stage{}, Weeks: []IndicatorWeek{}}
	in := s.in(q)
	for _, m := range s.Members {
		if m.Partner >= 0 && in[m.Partner] {
			r.Members++
		}
	}
	weeks := Weeks(s.Loc, q.From, q.To)
	wn := nanosOf(weeks)
	for _, w := range weeks {
		r.Weeks = append(r.Weeks, IndicatorWeek{Start: w})
	}
	from, to := q.bounds()
	reg, meet, won, train := s.typeSet(RegistrationTypes), s.typeSet(MeetingTypes), s.typeSet(WonTypes), s.typeSet(TrainingTypes)
	trained := make([]bool, len(s.Members))
	any := false
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
		switch {
		case train[ev.Type]:
			any = true
			r.Weeks[w].Trainings++
			if ev.Member >= 0 && !trained[ev.Member] {
				trained[ev.Member] = true
				r.MembersTrained++
			}
		case reg[ev.Type]:
			any = true
			r.Registrations++
			if ev.Qualified {
				r.QualifiedRegistrations++
				r.Weeks[w].Qualified++
			}
		case meet[ev.Type]:
			any = true
			r.FirstMeetings++
			r.Weeks[w].FirstMeetings++
		case won[ev.Type]:
			any = true
			r.Won++
			r.Weeks[w].Won++
		}
	}
	if r.Members > 0 {
		r.TrainingCompletion = float64(r.MembersTrained) / float64(r.Members)
	}
	r.FirstMeetingRate = rate(r.FirstMeetings, r.QualifiedRegistrations)
	r.Stages = []Stage{
		{Stage: "registered", Count: r.Registrations},
		{Stage: "qualified", Count: r.QualifiedRegistrations, Rate: rate(r.QualifiedRegistrations, r.Registrations)},
		{Stage: "first_meeting", Count: r.FirstMeetings, Rate: rate(r.FirstMeetings, r.QualifiedRegistrations)},
		{Stage: "won", Count: r.Won, Rate: rate(r.Won, r.FirstMeetings)},
	}
	if !any {
		r.none()
	}
	return r
}

func rate(n, d int) *float64 {
	if d == 0 {
		return nil
	}
	f := float64(n) / float64(d)
	return &f
}
