package demo

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rung-dev/rung"
)

var testNow = time.Date(2026, 11, 20, 15, 4, 5, 0, time.UTC)

// defaults is the default data set, generated once for the tests that
// only read it.
var defaults = sync.OnceValues(func() (*Data, time.Duration) {
	t0 := time.Now()
	d := Generate(Options{Now: testNow})
	return d, time.Since(t0)
})

func TestSameSeedGivesSameData(t *testing.T) {
	o := Options{Seed: 7, Partners: 40, Members: 400, Months: 6, Now: testNow}
	a, b := Generate(o), Generate(o)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two runs with the same options differ")
	}
	o.Seed = 8
	if c := Generate(o); reflect.DeepEqual(a, c) {
		t.Fatal("seeds 7 and 8 give the same data")
	}
}

func TestZeroOptionsTakeTheDefaults(t *testing.T) {
	d, _ := defaults()
	explicit := Generate(Options{Seed: 1, Partners: 320, Members: 3200, Months: 12, Now: testNow})
	// Comparing every attribute map would be slow; the ids, times and
	// people carry the difference when there is one.
	same := reflect.DeepEqual(d.Partners, explicit.Partners) && reflect.DeepEqual(d.Members, explicit.Members) &&
		len(d.Events) == len(explicit.Events)
	for i := 0; same && i < len(d.Events); i++ {
		same = d.Events[i].ID == explicit.Events[i].ID && d.Events[i].OccurredAt.Equal(explicit.Events[i].OccurredAt)
	}
	if !same {
		t.Fatal("zero options differ from the documented defaults")
	}
	if len(d.Partners) != 320 || len(d.Members) != 3200 {
		t.Fatalf("partners %d, members %d; want 320 and 3200", len(d.Partners), len(d.Members))
	}
	if n := len(d.Events); n < 150_000 || n > 400_000 {
		t.Fatalf("%d events; want 150k to 400k", n)
	}
}

// BenchmarkGenerateDefaults measures generating the demo's default history
// (BENCHMARKS.md); speed is measured here, not asserted in a test.
func BenchmarkGenerateDefaults(b *testing.B) {
	for b.Loop() {
		Generate(Options{Now: testNow})
	}
}

func TestPartnersAreWellFormed(t *testing.T) {
	d, _ := defaults()
	idRe := regexp.MustCompile(`^acct-\d{4}$`)
	ids, names, domains := map[string]bool{}, map[string]bool{}, map[string]bool{}
	count := map[string]int{}
	for _, p := range d.Partners {
		if !idRe.MatchString(p.ID) || ids[p.ID] {
			t.Errorf("partner id %q is malformed or repeated", p.ID)
		}
		ids[p.ID] = true
		if p.Name == "" || names[p.Name] {
			t.Errorf("partner name %q is empty or repeated", p.Name)
		}
		names[p.Name] = true
		if len(p.Domains) == 0 {
			t.Errorf("%s has no domain", p.ID)
		}
		for _, dom := range p.Domains {
			if domains[dom] || !regexp.MustCompile(`^[a-z0-9]+\.[a-z.]+$`).MatchString(dom) {
				t.Errorf("%s: domain %q is malformed or repeated", p.ID, dom)
			}
			domains[dom] = true
		}
		if p.JoinedAt.After(testNow) || p.JoinedAt.Before(testNow.AddDate(-3, 0, -1)) {
			t.Errorf("%s joined at %v, not within the past 3 years", p.ID, p.JoinedAt)
		}
		for _, v := range []string{"type:" + p.Type, "region:" + p.Region, "size:" + p.Size, "tier:" + p.InitialTier} {
			count[v]++
		}
	}
	for v := range count {
		if !slices.Contains([]string{"type:reseller", "type:isv", "type:services", "region:emea", "region:na", "region:apac",
			"region:latam", "size:smb", "size:mid", "size:enterprise", "tier:Registered", "tier:Select", "tier:Elite"}, v) {
			t.Errorf("unexpected %s", v)
		}
	}
	share := func(v string) float64 { return float64(count[v]) / float64(len(d.Partners)) }
	for _, c := range []struct {
		v      string
		lo, hi float64
	}{
		{"type:reseller", 0.5, 0.7}, {"type:isv", 0.12, 0.28}, {"type:services", 0.12, 0.28},
		{"size:smb", 0.45, 0.65}, {"size:mid", 0.22, 0.38}, {"size:enterprise", 0.09, 0.21},
		{"tier:Select", 0.08, 0.22}, {"tier:Elite", 0.015, 0.08},
	} {
		if s := share(c.v); s < c.lo || s > c.hi {
			t.Errorf("%s share %.3f, want %.2f..%.2f", c.v, s, c.lo, c.hi)
		}
	}
}

func TestMembersBelongToExistingPartners(t *testing.T) {
	d, _ := defaults()
	partners := map[string]rung.Partner{}
	for _, p := range d.Partners {
		partners[p.ID] = p
	}
	idRe := regexp.MustCompile(`^u-\d{5}$`)
	ids, emails := map[string]bool{}, map[string]bool{}
	per := map[string]int{}
	for _, m := range d.Members {
		if !idRe.MatchString(m.ID) || ids[m.ID] {
			t.Errorf("member id %q is malformed or repeated", m.ID)
		}
		ids[m.ID] = true
		p, ok := partners[m.Partner]
		if !ok {
			t.Fatalf("%s belongs to unknown partner %q", m.ID, m.Partner)
		}
		per[m.Partner]++
		at := strings.LastIndex(m.Email, "@")
		if at <= 0 || !slices.Contains(p.Domains, m.Email[at+1:]) || emails[m.Email] {
			t.Errorf("%s: e-mail %q is not a unique address at %v", m.ID, m.Email, p.Domains)
		}
		emails[m.Email] = true
		if !slices.Contains([]string{"sales", "presales", "delivery"}, m.Role) || m.Name == "" {
			t.Errorf("%s: role %q, name %q", m.ID, m.Role, m.Name)
		}
		if m.JoinedAt.Before(p.JoinedAt) || m.JoinedAt.After(testNow) {
			t.Errorf("%s joined at %v, before its partner (%v) or after now", m.ID, m.JoinedAt, p.JoinedAt)
		}
	}
	bySize, partnersBySize := map[string]int{}, map[string]int{}
	for _, p := range d.Partners {
		if per[p.ID] == 0 {
			t.Errorf("%s has no members", p.ID)
		}
		bySize[p.Size] += per[p.ID]
		partnersBySize[p.Size]++
	}
	avg := func(size string) float64 { return float64(bySize[size]) / float64(partnersBySize[size]) }
	if avg("enterprise") < 3*avg("smb") {
		t.Errorf("enterprise partners average %.1f members, smb %.1f; want enterprise far larger", avg("enterprise"), avg("smb"))
	}
}

func TestEventsAreValid(t *testing.T) {
	d, _ := defaults()
	memberOf := map[string]string{}
	for _, m := range d.Members {
		memberOf[m.ID] = m.Partner
	}
	partners := map[string]bool{}
	joinedAt := map[string]time.Time{}
	for _, p := range d.Partners {
		partners[p.ID] = true
		joinedAt[p.ID] = p.JoinedAt
	}
	typeRe := regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)
	idRe := regexp.MustCompile(`^(crm|field|lms|portal|survey):[a-z]+-\d{6,7}:([a-z0-9_.-]+)$`)
	from := testNow.AddDate(0, -12, 0)
	ids := map[string]bool{}
	certs := map[string]bool{}
	for i, e := range d.Events {
		if ids[e.ID] {
			t.Fatalf("event id %s repeated", e.ID)
		}
		ids[e.ID] = true
		m := idRe.FindStringSubmatch(e.ID)
		if m == nil || m[1] != e.Source || m[2] != e.Type {
			t.Fatalf("event id %q does not read <source>:<record>:<type> for source %q, type %q", e.ID, e.Source, e.Type)
		}
		if !typeRe.MatchString(e.Type) {
			t.Fatalf("%s: type %q is malformed", e.ID, e.Type)
		}
		if e.OccurredAt.Before(from) || e.OccurredAt.After(testNow) || e.OccurredAt.Location() != time.UTC {
			t.Fatalf("%s occurred at %v, outside %v..%v or not UTC", e.ID, e.OccurredAt, from, testNow)
		}
		if i > 0 {
			prev := d.Events[i-1]
			if c := prev.OccurredAt.Compare(e.OccurredAt); c > 0 || c == 0 && prev.ID > e.ID {
				t.Fatalf("events out of order at %d: %s then %s", i, prev.ID, e.ID)
			}
		}
		if !partners[e.Partner] {
			t.Fatalf("%s: unknown partner %q", e.ID, e.Partner)
		}
		if (e.Member == "") != (e.Type == "survey.csat") {
			t.Fatalf("%s: member %q; only survey.csat goes without one", e.ID, e.Member)
		}
		if e.Member != "" && memberOf[e.Member] != e.Partner {
			t.Fatalf("%s: member %s belongs to %q, not %s", e.ID, e.Member, memberOf[e.Member], e.Partner)
		}
		num := func(k string) float64 {
			v, ok := e.Attrs[k].(float64)
			if !ok {
				t.Fatalf("%s: attrs.%s = %#v, want a number", e.ID, k, e.Attrs[k])
			}
			return v
		}
		flag := func(k string) {
			if _, ok := e.Attrs[k].(bool); !ok {
				t.Fatalf("%s: attrs.%s = %#v, want a bool", e.ID, k, e.Attrs[k])
			}
		}
		text := func(k string) string {
			v, _ := e.Attrs[k].(string)
			if v == "" {
				t.Fatalf("%s: attrs.%s = %#v, want a string", e.ID, k, e.Attrs[k])
			}
			return v
		}
		switch e.Type {
		case "portal.login":
		case "training.completed":
			if s := num("score"); s < 50 || s > 100 {
				t.Fatalf("%s: score %v", e.ID, s)
			}
			text("course")
		case "deal.registered":
			flag("qualified")
			num("amount")
			text("company")
		case "meeting.first":
			text("company")
		case "deal.won":
			if a := num("amount"); a < 5000 || a > 400000 {
				t.Fatalf("%s: amount %v", e.ID, a)
			}
			flag("sourced")
			text("company")
		case "certification.earned":
			cert := text("cert")
			if !slices.Contains([]string{"architect", "specialist", "sales"}, cert) {
				t.Fatalf("%s: cert %q", e.ID, cert)
			}
			key := text("cert_id")
			if certs[key] || certs[e.Member+"/"+cert] {
				t.Fatalf("%s: %s earned %s (%s) twice", e.ID, e.Member, cert, key)
			}
			certs[key], certs[e.Member+"/"+cert] = true, true
		case "survey.csat":
			if s := num("score"); s < 1 || s > 5 || s != float64(int(s)) {
				t.Fatalf("%s: score %v", e.ID, s)
			}
		case "portal.setup", "training.icp", "demo.passed", "pitch.validated":
			if j := joinedAt[e.Partner]; e.OccurredAt.Before(j) {
				t.Fatalf("%s: onboarding task before the partner joined (%v)", e.ID, j)
			}
		default:
			t.Fatalf("%s: unexpected type %s", e.ID, e.Type)
		}
	}
}

// deal is one CRM opportunity's events.
type deal struct{ registered, meeting, won *rung.Event }

func dealsOf(d *Data) map[string]*deal {
	out := map[string]*deal{}
	for i := range d.Events {
		e := &d.Events[i]
		if e.Source != "crm" {
			continue
		}
		opp := strings.Split(e.ID, ":")[1]
		if out[opp] == nil {
			out[opp] = &deal{}
		}
		switch e.Type {
		case "deal.registered":
			out[opp].registered = e
		case "meeting.first":
			out[opp].meeting = e
		case "deal.won":
			out[opp].won = e
		}
	}
	return out
}

func TestFunnelRunsRegistrationMeetingWin(t *testing.T) {
	d, _ := defaults()
	var qualified, meetings, wins, sourced int
	for opp, x := range dealsOf(d) {
		r := x.registered
		if r == nil {
			t.Fatalf("%s has no registration", opp)
		}
		if r.Attrs["qualified"] == true {
			qualified++
		}
		if x.meeting != nil {
			meetings++
			m := x.meeting
			if r.Attrs["qualified"] != true || !m.OccurredAt.After(r.OccurredAt) || m.OccurredAt.Sub(r.OccurredAt) > 14*24*time.Hour ||
				m.Partner != r.Partner || m.Member != r.Member {
				t.Fatalf("%s: meeting %v does not follow qualified registration %v within 14 days", opp, m.OccurredAt, r.OccurredAt)
			}
		}
		if x.won != nil {
			wins++
			if x.won.Attrs["sourced"] == true {
				sourced++
			}
			if x.meeting == nil || !x.won.OccurredAt.After(x.meeting.OccurredAt) || x.won.Partner != r.Partner {
				t.Fatalf("%s: win without an earlier meeting", opp)
			}
		}
	}
	regs := len(dealsOf(d))
	for _, c := range []struct {
		what     string
		num, den int
		lo, hi   float64
	}{
		{"qualified registrations", qualified, regs, 0.62, 0.78},
		{"meetings per qualified registration", meetings, qualified, 0.35, 0.55},
		{"wins per meeting", wins, meetings, 0.2, 0.4},
		{"sourced wins", sourced, wins, 0.2, 0.4}, // 60% in EMEA, 5% elsewhere (referrals.go)
	} {
		if r := float64(c.num) / float64(c.den); r < c.lo || r > c.hi {
			t.Errorf("%s: %.3f, want %.2f..%.2f", c.what, r, c.lo, c.hi)
		}
	}
}

func TestActivityIsSkewed(t *testing.T) {
	d, _ := defaults()
	all, scored := map[string]int{}, map[string]int{}
	for _, e := range d.Events {
		all[e.Partner]++
		if e.Type != "portal.login" && e.Attrs["referred"] != true { // a vendor referral is not the partner's doing
			scored[e.Partner]++
		}
	}
	counts := make([]int, 0, len(d.Partners))
	dormant := 0
	for _, p := range d.Partners {
		counts = append(counts, all[p.ID])
		if scored[p.ID] == 0 {
			dormant++
		}
	}
	slices.Sort(counts)
	slices.Reverse(counts)
	top := 0
	for _, c := range counts[:len(counts)/10] {
		top += c
	}
	if share := float64(top) / float64(len(d.Events)); share <= 0.4 {
		t.Errorf("the top 10%% of partners produce %.2f of events; want more than 0.40", share)
	}
	if share := float64(dormant) / float64(len(d.Partners)); share < 0.1 || share > 0.25 {
		t.Errorf("%.2f of partners are dormant; want about 0.15", share)
	}
}

func TestTrainedMembersOfMidSizePartnersWinMore(t *testing.T) {
	d, _ := defaults()
	size := map[string]string{}
	for _, p := range d.Partners {
		size[p.ID] = p.Size
	}
	passed := map[string][]time.Time{}
	for _, e := range d.Events {
		if e.Type == "training.completed" && e.Attrs["score"].(float64) >= 80 {
			passed[e.Member] = append(passed[e.Member], e.OccurredAt)
		}
	}
	type tally struct{ meetings, wins int }
	var trained, untrained tally
	for _, x := range dealsOf(d) {
		m := x.meeting
		if m == nil || size[m.Partner] != "mid" || m.OccurredAt.After(testNow.AddDate(0, -5, 0)) {
			continue // only deals old enough to have closed
		}
		n := 0
		for _, at := range passed[m.Member] {
			if at.Before(m.OccurredAt) {
				n++
			}
		}
		c := &untrained
		if n >= 2 {
			c = &trained
		}
		c.meetings++
		if x.won != nil {
			c.wins++
		}
	}
	rate := func(c tally) float64 { return float64(c.wins) / float64(c.meetings) }
	t.Logf("mid-size win rate: trained %.2f (%d meetings), untrained %.2f (%d)", rate(trained), trained.meetings, rate(untrained), untrained.meetings)
	if trained.meetings < 50 || rate(trained) < 1.4*rate(untrained) {
		t.Errorf("trained members of mid-size partners win %.2f of meetings, untrained %.2f; want a clear lift", rate(trained), rate(untrained))
	}
}

func TestSmallOptionsStayConsistent(t *testing.T) {
	for _, o := range []Options{
		{Seed: 3, Partners: 1, Members: 1, Months: 1, Now: testNow},
		{Seed: 4, Partners: 50, Members: 20, Months: 2, Now: testNow}, // fewer members than partners
		{Seed: 5, Partners: 2000, Members: 2000, Months: 1, Now: testNow},
	} {
		t.Run(fmt.Sprintf("%d-%d-%d", o.Partners, o.Members, o.Months), func(t *testing.T) {
			d := Generate(o)
			if len(d.Partners) != o.Partners || len(d.Members) != o.Members {
				t.Fatalf("partners %d, members %d", len(d.Partners), len(d.Members))
			}
			ids, names := map[string]bool{}, map[string]bool{}
			for _, p := range d.Partners {
				if names[p.Name] {
					t.Fatalf("partner name %q repeated", p.Name)
				}
				ids[p.ID], names[p.Name] = true, true
			}
			seen := map[string]bool{}
			for _, e := range d.Events {
				if seen[e.ID] || !ids[e.Partner] || e.OccurredAt.After(testNow) || e.OccurredAt.Before(testNow.AddDate(0, -o.Months, 0)) {
					t.Fatalf("bad event %+v", e)
				}
				seen[e.ID] = true
			}
		})
	}
}
