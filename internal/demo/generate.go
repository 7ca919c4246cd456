package demo

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/rung-dev/rung"
)

// Options shapes the generated data. Zero fields take the defaults: 320
// partners, 3,200 members, 12 months of history, seed 1, and the current
// time for Now.
type Options struct {
	Seed     int64
	Partners int
	Members  int
	Months   int       // months of events before Now
	Now      time.Time // the end of the history; no event occurs after it
}

// Data is a generated partner base and its history, ready to load: partners
// first, then members, then events in occurred_at order.
type Data struct {
	Partners []rung.Partner
	Members  []rung.Member
	Events   []rung.Event // sorted by occurred_at, then id
}

// Generate builds partners, members and events as a real program would see
// them: activity is heavy-tailed (a few partners do most of the work, about
// 15% are dormant), the deal funnel runs registration → first meeting →
// win, and trained members of mid-size partners win more often and bigger.
// The same Options always give the same Data.
//
// Members carry no Memberships: the service opens the first one when the
// member is created.
func Generate(o Options) *Data {
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Partners <= 0 {
		o.Partners = 320
	}
	if o.Members <= 0 {
		o.Members = 3200
	}
	if o.Months <= 0 {
		o.Months = 12
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	now := o.Now.UTC().Truncate(time.Second)
	g := &gen{
		r:     rand.New(rand.NewPCG(uint64(o.Seed), 0x52554e47)),
		onb:   rand.New(rand.NewPCG(uint64(o.Seed), 0x4f4e42)),
		ref:   rand.New(rand.NewPCG(uint64(o.Seed), 0x524546)),
		now:   now,
		start: now.AddDate(0, -o.Months, 0),
		d:     &Data{},
	}
	g.partners(o.Partners)
	g.members(o.Members)
	g.events()
	return g.d
}

// gen holds the state of one generation.
type gen struct {
	r          *rand.Rand
	onb        *rand.Rand // onboarding's own draws: the rest is the same without it
	ref        *rand.Rand // vendor referrals' own draws (referrals.go)
	now, start time.Time
	d          *Data
	profiles   []*profile
	drafts     []draft
	dealCount  int
}

// profile is what the generator knows about a partner beyond its record:
// how active it is and how good at delivery.
type profile struct {
	idx      int32 // index into Data.Partners
	p        *rung.Partner
	loc      *time.Location
	activity float64 // 0 for a dormant partner
	trend    float64 // activity changes by ±trend from the start to the end
	quality  float64 // 0..1: drives CSAT and meeting rates
	members  []int   // indexes into Data.Members
}

// member is the generator's view of one member.
type member struct {
	idx      int32 // index into Data.Members
	m        *rung.Member
	activity float64
	skill    float64 // standard normal: training scores
}

// draft is an event before its id is known: record ids are numbered in
// time order once all events are drawn, as a source system would. It is
// kept small, as there are hundreds of thousands.
type draft struct {
	at      int64 // Unix seconds
	kind    kind
	partner int32 // index into Data.Partners
	member  int32 // index into Data.Members, -1 for none
	deal    int32 // the CRM opportunity of the deal events
	attrs   map[string]any
}

// kind is an event type the generator draws.
type kind uint8

// The kinds of events.
const (
	kindLogin kind = iota
	kindTraining
	kindCert
	kindRegistered
	kindMeeting
	kindWon
	kindCSAT
	kindSetup
	kindICP
	kindDemo
	kindPitch
	kindReferred // a win the vendor referred (referrals.go)
)

// kinds gives each kind its type, source system and record id format.
var kinds = [...]struct{ typ, source, record string }{
	kindLogin:      {"portal.login", "portal", "ses-%07d"},
	kindTraining:   {"training.completed", "lms", "enr-%07d"},
	kindCert:       {"certification.earned", "lms", "crt-%06d"},
	kindRegistered: {"deal.registered", "crm", "opp-%06d"},
	kindMeeting:    {"meeting.first", "crm", "opp-%06d"},
	kindWon:        {"deal.won", "crm", "opp-%06d"},
	kindCSAT:       {"survey.csat", "survey", "rsp-%06d"},
	kindSetup:      {"portal.setup", "portal", "task-%06d"},
	kindICP:        {"training.icp", "lms", "icp-%06d"},
	kindDemo:       {"demo.passed", "lms", "demo-%06d"},
	kindPitch:      {"pitch.validated", "lms", "pitch-%06d"},
	kindReferred:   {"deal.won", "field", "ref-%06d"},
}

func (g *gen) partners(n int) {
	used := map[string]bool{}
	domains := map[string]bool{}
	g.d.Partners = make([]rung.Partner, n)
	g.profiles = make([]*profile, n)
	for i := range n {
		p := &g.d.Partners[i]
		p.ID = fmt.Sprintf("acct-%04d", i+1)
		p.Type = choose(g.r, []string{"reseller", "isv", "services"}, []float64{60, 20, 20})
		p.Region = choose(g.r, []string{"emea", "na", "apac", "latam"}, []float64{40, 33, 17, 10})
		p.Size = choose(g.r, []string{"smb", "mid", "enterprise"}, []float64{55, 30, 15})
		c := pick(g.r, regions[p.Region])

		base := g.companyName(partnerSuffixes[p.Type], used)
		p.Name = base
		if g.r.Float64() < 0.5 {
			p.Name += " " + pick(g.r, c.legal)
		}
		slug := slugify(base)
		dom := slug + "." + c.tld
		for k := 2; domains[dom]; k++ {
			dom = fmt.Sprintf("%s%d.%s", slug, k, c.tld)
		}
		domains[dom] = true
		p.Domains = []string{dom}
		if alt := slug + ".com"; c.tld != "com" && !domains[alt] && g.r.Float64() < 0.3 {
			domains[alt] = true
			p.Domains = append(p.Domains, alt)
		}

		// Joined over the past three years, at a weekday business hour.
		days := g.r.IntN(3 * 365)
		j := g.now.AddDate(0, 0, -days)
		j = time.Date(j.Year(), j.Month(), j.Day(), 9+g.r.IntN(8), g.r.IntN(60), 0, 0, time.UTC)
		if j.After(g.now) {
			j = g.now
		}
		p.JoinedAt = j

		p.InitialTier = "Registered"
		switch u := g.r.Float64(); p.Size {
		case "enterprise":
			if u < 0.18 {
				p.InitialTier = "Elite"
			} else if u < 0.53 {
				p.InitialTier = "Select"
			}
		case "mid":
			if u < 0.04 {
				p.InitialTier = "Elite"
			} else if u < 0.22 {
				p.InitialTier = "Select"
			}
		default:
			if u < 0.01 {
				p.InitialTier = "Elite"
			} else if u < 0.10 {
				p.InitialTier = "Select"
			}
		}
		p.Attrs = map[string]any{"country": c.code}

		pr := &profile{idx: int32(i), p: p, loc: time.FixedZone(c.code, c.offset*3600)}
		if g.r.Float64() >= 0.15 {
			pr.activity = g.logNormal(0, 1.0) * map[string]float64{"smb": 0.8, "mid": 1, "enterprise": 1.3}[p.Size] *
				map[string]float64{"Registered": 1, "Select": 1.3, "Elite": 1.6}[p.InitialTier]
		}
		pr.trend = g.r.Float64()*1.2 - 0.6
		pr.quality = g.r.Float64()
		g.profiles[i] = pr
	}
}

// companyName draws a name not used yet from a prefix and one of suffixes.
func (g *gen) companyName(suffixes []string, used map[string]bool) string {
	for range 50 {
		name := pick(g.r, namePrefixes) + " " + pick(g.r, suffixes)
		if !used[name] {
			used[name] = true
			return name
		}
	}
	for k := 2; ; k++ {
		name := fmt.Sprintf("%s %s %d", pick(g.r, namePrefixes), pick(g.r, suffixes), k)
		if !used[name] {
			used[name] = true
			return name
		}
	}
}

func (g *gen) members(n int) {
	// Shares by size, spread further by a per-partner factor; every partner
	// gets at least one member when there are enough to go round.
	weights := make([]float64, len(g.profiles))
	sum := 0.0
	for i, pr := range g.profiles {
		w := map[string]float64{"smb": 4, "mid": 12, "enterprise": 40}[pr.p.Size] * g.logNormal(0, 0.5)
		weights[i] = w
		sum += w
	}
	counts := make([]int, len(weights))
	minEach := 0
	if n >= len(weights) {
		minEach = 1
	}
	rest := n - minEach*len(weights)
	type rem struct {
		i int
		f float64
	}
	rems := make([]rem, len(weights))
	given := 0
	for i, w := range weights {
		x := float64(rest) * w / sum
		counts[i] = minEach + int(x)
		given += int(x)
		rems[i] = rem{i, x - math.Floor(x)}
	}
	slices.SortStableFunc(rems, func(a, b rem) int { return cmp.Compare(b.f, a.f) })
	for k := 0; given < rest; k++ {
		counts[rems[k].i]++
		given++
	}

	// Contact ids are not grouped by account in a CRM: number the members
	// in a shuffled order.
	owner := make([]int, 0, n)
	for i, c := range counts {
		for range c {
			owner = append(owner, i)
		}
	}
	g.r.Shuffle(len(owner), func(a, b int) { owner[a], owner[b] = owner[b], owner[a] })

	g.d.Members = make([]rung.Member, n)
	emails := map[string]bool{}
	for k, pi := range owner {
		pr := g.profiles[pi]
		p := pr.p
		m := &g.d.Members[k]
		m.ID = fmt.Sprintf("u-%05d", k+1)
		m.Partner = p.ID
		first, last := pick(g.r, firstNames[p.Region]), pick(g.r, lastNames[p.Region])
		m.Name = first + " " + last
		local := asciiLower(first) + "." + strings.ReplaceAll(asciiLower(last), " ", "")
		email := local + "@" + p.Domains[0]
		for j := 2; emails[email]; j++ {
			email = fmt.Sprintf("%s%d@%s", local, j, p.Domains[0])
		}
		emails[email] = true
		m.Email = email
		roleW := map[string][]float64{
			"reseller": {55, 20, 25},
			"isv":      {35, 30, 35},
			"services": {20, 20, 60},
		}[p.Type]
		m.Role = choose(g.r, []string{"sales", "presales", "delivery"}, roleW)
		m.Attrs = map[string]any{"title": pick(g.r, titles[m.Role])}
		if len(pr.members) == 0 {
			// The partner's first contact joins with it.
			m.JoinedAt = p.JoinedAt.Add(time.Duration(g.r.IntN(72)) * time.Hour)
		} else {
			span := g.now.Sub(p.JoinedAt)
			m.JoinedAt = p.JoinedAt.Add(time.Duration(g.r.Float64() * float64(span))).Truncate(time.Minute)
		}
		if m.JoinedAt.After(g.now) {
			m.JoinedAt = g.now
		}
		pr.members = append(pr.members, k)
	}
}

func (g *gen) events() {
	for _, pr := range g.profiles {
		g.partnerEvents(pr)
	}
	for _, pr := range g.profiles {
		g.onboarding(pr)
	}
	for _, pr := range g.profiles {
		g.referrals(pr)
	}
	// Creation order breaks ties in time, so the order is the same on
	// every run.
	order := make([]int32, len(g.drafts))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		if c := cmp.Compare(g.drafts[a].at, g.drafts[b].at); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})

	// Number the source records in time order; a deal's events share the
	// number its registration got.
	var seq [len(kinds)]int
	opp := make([]int, g.dealCount)
	events := make([]rung.Event, len(g.drafts))
	for i, k := range order {
		d := &g.drafts[k]
		kd := kinds[d.kind]
		var n int
		switch d.kind {
		case kindRegistered, kindMeeting, kindWon:
			if opp[d.deal] == 0 {
				seq[kindRegistered]++
				opp[d.deal] = seq[kindRegistered]
			}
			n = opp[d.deal]
		default:
			seq[d.kind]++
			n = seq[d.kind]
		}
		e := rung.Event{
			ID:         kd.source + ":" + fmt.Sprintf(kd.record, n) + ":" + kd.typ,
			Type:       kd.typ,
			Partner:    g.d.Partners[d.partner].ID,
			OccurredAt: time.Unix(d.at, 0).UTC(),
			Attrs:      d.attrs,
			Source:     kd.source,
		}
		if d.member >= 0 {
			e.Member = g.d.Members[d.member].ID
		}
		events[i] = e
	}
	slices.SortFunc(events, func(a, b rung.Event) int {
		if c := a.OccurredAt.Compare(b.OccurredAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	g.d.Events = events
	g.drafts = nil
}

// loginRate is a member's portal logins a month at activity 1.
const loginRate = 4.0

// Monthly rates per member at activity 1: trainings and deal registrations
// by role, and registrations scaled by partner type.
var (
	trainingRate = map[string]float64{"sales": 0.3, "presales": 0.6, "delivery": 0.6}
	dealRate     = map[string]float64{"sales": 0.9, "presales": 0.35, "delivery": 0.1}
	dealByType   = map[string]float64{"reseller": 1, "isv": 0.6, "services": 0.7}
)

// maxActivity caps one member's activity: even the busiest rep logs in
// about once a working day.
const maxActivity = 6

func (g *gen) partnerEvents(pr *profile) {
	certified := 0
	var wins []time.Time
	for _, k := range pr.members {
		mm := &member{idx: int32(k), m: &g.d.Members[k], skill: g.r.NormFloat64()}
		mm.activity = pr.activity * g.logNormal(0, 0.9)
		if g.r.Float64() < 0.2 {
			mm.activity *= 0.05 // signed up, hardly ever back
		}
		mm.activity = min(mm.activity, maxActivity)
		lo := g.start
		if mm.m.JoinedAt.After(lo) {
			lo = mm.m.JoinedAt.Truncate(time.Second)
		}
		if !lo.Before(g.now) {
			continue
		}
		months := g.now.Sub(lo).Hours() / (24 * 30.44)

		// Portal logins: vanity, frequent. Dormant partners still show a
		// login now and then.
		la := mm.activity
		if pr.activity == 0 {
			la = 0.03
		}
		for range g.poisson(loginRate * la * months) {
			if t, ok := g.when(pr, lo, g.now, steady); ok {
				g.add(kindLogin, pr, mm, t, -1, nil)
			}
		}
		if mm.activity == 0 {
			continue
		}

		passed := g.trainings(pr, mm, lo, months)
		if g.certifications(pr, mm, passed) {
			certified++
		}
		wins = append(wins, g.deals(pr, mm, lo, months, passed)...)
	}
	g.surveys(pr, certified, wins)
}

// trainings draws a member's completed trainings and returns the times of
// those passed (score 80 or more), in order.
func (g *gen) trainings(pr *profile, mm *member, lo time.Time, months float64) []time.Time {
	var passed []time.Time
	n := g.poisson(trainingRate[mm.m.Role] * math.Pow(mm.activity, 0.8) * months)
	for range n {
		t, ok := g.when(pr, lo, g.now, learning)
		if !ok {
			continue
		}
		course := courses[g.r.IntN(len(courses))]
		if !strings.Contains(course.roles, mm.m.Role) && g.r.Float64() < 0.7 {
			course = courses[0]
		}
		score := math.Round(78 + 8*mm.skill + 9*g.r.NormFloat64())
		score = max(50, min(100, score))
		g.add(kindTraining, pr, mm, t, -1, map[string]any{"score": score, "course": course.id})
		if score >= 80 {
			passed = append(passed, t)
		}
	}
	slices.SortFunc(passed, time.Time.Compare)
	return passed
}

// certifications awards a member the certifications of its role, each at
// most once, after enough passed trainings. It reports whether the member
// earned any.
func (g *gen) certifications(pr *profile, mm *member, passed []time.Time) bool {
	earned := false
	for _, c := range certs {
		if !strings.Contains(c.roles, mm.m.Role) || len(passed) == 0 {
			continue
		}
		if g.r.Float64() >= 1-math.Exp(-0.12*float64(len(passed))) {
			continue
		}
		// The exam follows a passed training, days to weeks later.
		after := passed[g.r.IntN(len(passed))]
		t, ok := g.when(pr, after.Add(24*time.Hour), after.Add(30*24*time.Hour), steady)
		if !ok {
			continue
		}
		num := strings.TrimPrefix(mm.m.ID, "u-")
		g.add(kindCert, pr, mm, t, -1, map[string]any{"cert": c.name, "cert_id": "ACP-" + c.code + "-" + num})
		earned = true
	}
	return earned
}

// deals draws a member's deal registrations and what became of them, and
// returns the times of the deals won.
func (g *gen) deals(pr *profile, mm *member, lo time.Time, months float64, passed []time.Time) []time.Time {
	var wins []time.Time
	n := g.poisson(dealRate[mm.m.Role] * dealByType[pr.p.Type] * mm.activity * months)
	for range n {
		reg, ok := g.when(pr, lo, g.now, selling)
		if !ok {
			continue
		}
		deal := g.dealCount
		g.dealCount++
		company := g.customer()
		estimate := g.amount(pr.p.Size)
		qualified := g.r.Float64() < 0.62+0.16*pr.quality
		g.add(kindRegistered, pr, mm, reg, deal, map[string]any{"qualified": qualified, "amount": estimate, "company": company})
		if !qualified || g.r.Float64() >= 0.33+0.24*pr.quality {
			continue
		}
		meet, ok := g.when(pr, reg.Add(time.Hour), reg.Add(14*24*time.Hour), steady)
		if !ok {
			continue
		}
		g.add(kindMeeting, pr, mm, meet, deal, map[string]any{"company": company})

		// Members with two passed trainings before the meeting win more;
		// at mid-size partners, much more.
		trained := countBefore(passed, meet) >= 2
		winP, lift := 0.28, 1.0
		switch {
		case trained && pr.p.Size == "mid":
			winP, lift = 0.52, 1.6
		case trained:
			winP, lift = 0.35, 1.1
		}
		if g.r.Float64() >= winP {
			continue
		}
		days := 14 + g.logNormal(math.Log(40), 0.5)
		won, ok := g.when(pr, meet.Add(time.Duration(days*24)*time.Hour), meet.Add(time.Duration(days*24+240)*time.Hour), selling)
		if !ok {
			continue // still open
		}
		amount := max(5000, min(400000, math.Round(estimate*lift*g.logNormal(0, 0.25)/100)*100))
		g.add(kindWon, pr, mm, won, deal, map[string]any{"amount": amount, "sourced": g.r.Float64() < sourcedShare(pr.p.Region), "company": company})
		wins = append(wins, won)
	}
	return wins
}

// surveys draws the partner's customer satisfaction responses: some after
// won deals, more for services partners' delivery work. Better partners, and
// partners with certified people, score higher.
func (g *gen) surveys(pr *profile, certified int, wins []time.Time) {
	if pr.activity == 0 {
		return
	}
	q := min(1, 0.7*pr.quality+0.06*float64(certified))
	var at []time.Time
	for _, w := range wins {
		if g.r.Float64() < 0.45 {
			if t, ok := g.when(pr, w.Add(20*24*time.Hour), w.Add(75*24*time.Hour), steady); ok {
				at = append(at, t)
			}
		}
	}
	rate := 0.15
	if pr.p.Type == "services" {
		rate = 0.6
	}
	lo := g.start
	if pr.p.JoinedAt.After(lo) {
		lo = pr.p.JoinedAt
	}
	if lo.Before(g.now) {
		months := g.now.Sub(lo).Hours() / (24 * 30.44)
		for range g.poisson(rate * math.Sqrt(float64(len(pr.members))) * min(pr.activity, 3) * months) {
			if t, ok := g.when(pr, lo, g.now, steady); ok {
				at = append(at, t)
			}
		}
	}
	for _, t := range at {
		score := choose(g.r, []float64{1, 2, 3, 4, 5}, []float64{3 - 2*q, 5 - 3*q, 12 - 6*q, 35, 25 + 45*q})
		g.add(kindCSAT, pr, nil, t, -1, map[string]any{"score": score})
	}
}

// onboarding draws the onboarding tasks of a partner that joined inside
// the history: its first contact sets up the portal, takes the ICP
// training, passes the product demo and has a pitch validated, one after
// the other. Active partners are through in days, others take weeks, and
// some stop on the way.
func (g *gen) onboarding(pr *profile) {
	if pr.p.JoinedAt.Before(g.start) || len(pr.members) == 0 {
		return
	}
	r := g.onb
	mm := &member{idx: int32(pr.members[0]), m: &g.d.Members[pr.members[0]]}
	t := pr.p.JoinedAt
	if mm.m.JoinedAt.After(t) {
		t = mm.m.JoinedAt
	}
	pace := 1.5 / math.Max(0.2, math.Min(pr.activity, 2)) // median days between tasks
	for _, k := range []kind{kindSetup, kindICP, kindDemo, kindPitch} {
		if r.Float64() < 0.1 {
			return
		}
		next := t.Add(time.Duration(pace * math.Exp(0.6*r.NormFloat64()) * float64(24*time.Hour)))
		local := next.In(pr.loc)
		next = time.Date(local.Year(), local.Month(), local.Day(), 9+r.IntN(8), r.IntN(60), r.IntN(60), 0, pr.loc).UTC()
		if !next.After(t) {
			next = t.Add(time.Hour).Truncate(time.Second)
		}
		if next.After(g.now) {
			return
		}
		g.add(k, pr, mm, next, -1, nil)
		t = next
	}
}

// add records an event of kind k at t; mm is nil for partner events.
func (g *gen) add(k kind, pr *profile, mm *member, t time.Time, deal int, attrs map[string]any) {
	d := draft{at: t.Unix(), kind: k, partner: pr.idx, member: -1, deal: int32(deal), attrs: attrs}
	if mm != nil {
		d.member = mm.idx
	}
	g.drafts = append(g.drafts, d)
}

// customer draws an end customer's name.
func (g *gen) customer() string {
	name := pick(g.r, namePrefixes) + " " + pick(g.r, customerSuffixes)
	if g.r.Float64() < 0.4 {
		name += " " + pick(g.r, []string{"Inc", "GmbH", "Ltd", "SA", "BV", "AG", "LLC"})
	}
	return name
}

// amount draws a deal's value: log-normal around 40k, bigger at bigger
// partners, between 5k and 400k, in hundreds.
func (g *gen) amount(size string) float64 {
	median := map[string]float64{"smb": 25000, "mid": 40000, "enterprise": 70000}[size]
	a := math.Round(g.logNormal(math.Log(median), 0.9)/100) * 100
	return max(5000, min(400000, a))
}

// season weighs a time by how busy that part of the year is, at most 1.
type season func(t time.Time) float64

// steady is quiet in August and at the year's end.
func steady(t time.Time) float64 {
	switch {
	case t.Month() == time.August:
		return 0.7
	case t.Month() == time.December && t.Day() >= 20:
		return 0.35
	}
	return 0.9
}

// learning is steady, with a January push of new-year learning plans.
func learning(t time.Time) float64 {
	if t.Month() == time.January {
		return 1
	}
	return steady(t) * 0.85
}

// selling is steady, with the rush of the quarter's last month and a lull
// in its first.
func selling(t time.Time) float64 {
	w := steady(t)
	switch t.Month() % 3 {
	case 0:
		return w * 1.1
	case 1:
		return w * 0.75
	}
	return w * 0.85
}

// when draws a time in [lo, hi], on a weekday business hour of the
// partner's time zone (weekends now and then), weighted by s and by the
// partner's trend. ok is false when the range is empty or ends after now.
func (g *gen) when(pr *profile, lo, hi time.Time, s season) (time.Time, bool) {
	if hi.After(g.now) {
		hi = g.now
	}
	if !lo.Before(hi) {
		return time.Time{}, false
	}
	span := hi.Sub(lo)
	total := g.now.Sub(g.start)
	var t time.Time
	for range 30 {
		t = lo.Add(time.Duration(g.r.Int64N(int64(span))))
		local := t.In(pr.loc)
		if wd := local.Weekday(); (wd == time.Saturday || wd == time.Sunday) && g.r.Float64() >= 0.08 {
			continue
		}
		trend := 1 + pr.trend*(2*float64(t.Sub(g.start))/float64(total)-1)
		if g.r.Float64()*(1+math.Abs(pr.trend)) >= s(local)*trend {
			continue
		}
		// Business hours, busiest mid-morning and mid-afternoon.
		hour := 8 + g.r.IntN(5) + g.r.IntN(6)
		b := time.Date(local.Year(), local.Month(), local.Day(), hour, g.r.IntN(60), g.r.IntN(60), 0, pr.loc).UTC()
		if !b.Before(lo) && !b.After(hi) {
			return b, true
		}
	}
	// A narrow or quiet range: any second inside it will do.
	return t.Truncate(time.Second), true
}

func (g *gen) logNormal(mu, sigma float64) float64 {
	return math.Exp(mu + sigma*g.r.NormFloat64())
}

// poisson draws a count with mean lambda.
func (g *gen) poisson(lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	if lambda > 40 {
		return max(0, int(math.Round(lambda+math.Sqrt(lambda)*g.r.NormFloat64())))
	}
	limit, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= g.r.Float64()
		if p <= limit {
			return k
		}
		k++
	}
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// choose picks one of xs with the given relative weights.
func choose[T any](r *rand.Rand, xs []T, weights []float64) T {
	sum := 0.0
	for _, w := range weights {
		sum += w
	}
	u := r.Float64() * sum
	for i, w := range weights {
		if u < w {
			return xs[i]
		}
		u -= w
	}
	return xs[len(xs)-1]
}

// countBefore counts the sorted times before t.
func countBefore(ts []time.Time, t time.Time) int {
	n, _ := slices.BinarySearchFunc(ts, t, time.Time.Compare)
	return n
}

// slugify makes a domain label of a company name: lower case letters and
// digits only.
func slugify(s string) string {
	var b strings.Builder
	for _, r := range asciiLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// asciiLower lower-cases s and spells its accented letters in ASCII, for
// e-mail addresses and domains.
func asciiLower(s string) string {
	return ascii.Replace(strings.ToLower(s))
}

var ascii = strings.NewReplacer(
	"ä", "ae", "ö", "oe", "ü", "ue", "ß", "ss", "é", "e", "è", "e", "á", "a",
	"í", "i", "ó", "o", "ú", "u", "ñ", "n", "ç", "c", "ã", "a", "õ", "o", "'", "",
)
